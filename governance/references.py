"""Decision references and minute numbers (rules.md, rule 3). Formatting is pure; allocation is in
``governance.services.next_number`` (a counter row per board, year and kind, under a row lock)."""

from __future__ import annotations

import re

REFERENCE_RE = re.compile(r"^(?P<code>[A-Z][A-Z0-9]{1,9})/(?P<year>\d{4})/(?P<n>\d{3,})$")
MINUTE_RE = re.compile(r"^(?P<n>\d+)/(?P<yy>\d{2})$")


def decision_reference(code: str, year: int, number: int) -> str:
    """``BBB/2021/007``: board code, calendar year, number within the year (three digits or more)."""
    if number < 1:
        raise ValueError("decision numbers start at 1")
    return f"{code}/{year}/{number:03d}"


def minute_number(number: int, year: int) -> str:
    """``77/21``: number within the board's calendar year, then the year's last two digits."""
    if number < 1:
        raise ValueError("minute numbers start at 1")
    return f"{number}/{year % 100:02d}"


def parse_reference(reference: str) -> tuple[str, int, int]:
    match = REFERENCE_RE.match(reference)
    if not match:
        raise ValueError(f"not a decision reference: {reference!r}")
    return match["code"], int(match["year"]), int(match["n"])
