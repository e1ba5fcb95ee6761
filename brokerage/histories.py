"""Effective-dated histories (package costs and funding splits), as pure functions.

A history is a list of rows, each valid from ``start`` to ``end`` inclusive (``end`` None: open).
Rows never overlap. A change from a date (past dates allowed, domain.md):

- ends the row covering that date on the day before,
- drops the rows that start later (when the change is open-ended), or, with an end date, only the
  rows inside the changed period, resuming the arrangement that was in force the day after it,
- and opens the new row.

The functions take and return plain values; the services turn the plan into database writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Row:
    start: date
    end: date | None
    key: Any = None  # the database id of an existing row (None: a new row)
    payload: Any = None

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass
class Plan:
    """What to write: rows to delete, rows to shorten or move, rows to add (in that order)."""

    delete: list[Row] = field(default_factory=list)
    update: list[tuple[Row, date, date | None]] = field(default_factory=list)  # row, new start, new end
    add: list[Row] = field(default_factory=list)
    result: list[Row] = field(default_factory=list)


def day_text(day: date | None) -> str:
    """``1 April 2024``."""
    return "open" if day is None else f"{day.day} {day:%B %Y}"


_fmt = day_text


def describe(start: date, end: date | None) -> str:
    """``1 April 2024 to 30 June 2024``; ``1 April 2024 onwards``."""
    if end is None:
        return f"{_fmt(start)} onwards"
    if start == end:
        return _fmt(start)
    return f"{_fmt(start)} to {_fmt(end)}"


def plan_change(rows: list[Row], *, start: date, payload: Any, end: date | None = None) -> Plan:
    """The rows to write for a change from ``start`` (to ``end``, inclusive, if given)."""
    if end is not None and end < start:
        raise ValueError("the end of a change cannot be before its start")
    plan = Plan()
    kept: list[Row] = []
    resumed: Row | None = None
    for row in sorted(rows, key=lambda r: r.start):
        before = row.start < start
        after = end is not None and (row.end is None or row.end > end)
        if before and after:
            # The change falls inside this row: shorten it and resume it the day after the change.
            shortened = Row(row.start, start - ONE_DAY, row.key, row.payload)
            plan.update.append((row, shortened.start, shortened.end))
            kept.append(shortened)
            resumed = Row(end + ONE_DAY, row.end, None, row.payload)
        elif before:
            if row.end is not None and row.end < start:
                kept.append(row)
            else:
                shortened = Row(row.start, start - ONE_DAY, row.key, row.payload)
                plan.update.append((row, shortened.start, shortened.end))
                kept.append(shortened)
        elif after:
            # Starts inside the changed period (or after it) and runs beyond its end.
            if row.start > end:
                kept.append(row)
            else:
                moved = Row(end + ONE_DAY, row.end, row.key, row.payload)
                plan.update.append((row, moved.start, moved.end))
                kept.append(moved)
        else:
            plan.delete.append(row)
    new = Row(start, end, None, payload)
    plan.add.append(new)
    if resumed is not None:
        plan.add.append(resumed)
    plan.result = sorted([*kept, *plan.add], key=lambda r: r.start)
    return plan


def overlaps(rows: list[Row]) -> list[tuple[Row, Row]]:
    """Pairs of rows that share at least one day."""
    ordered = sorted(rows, key=lambda r: r.start)
    clashes = []
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if a.end is not None and b.start > a.end:
                break
            clashes.append((a, b))
    return clashes


def gaps(rows: list[Row], *, start: date, end: date | None) -> list[tuple[date, date | None]]:
    """Periods of ``start``..``end`` (inclusive; None: open) that no row covers."""
    found: list[tuple[date, date | None]] = []
    cursor: date | None = start
    for row in sorted(rows, key=lambda r: r.start):
        if cursor is None:
            break
        if end is not None and row.start > end:
            break
        if row.start > cursor:
            found.append((cursor, row.start - ONE_DAY))
        cursor = None if row.end is None else max(cursor, row.end + ONE_DAY)
    if cursor is not None and (end is None or cursor <= end):
        found.append((cursor, end))
    return found


def overlap_message(new_start: date, new_end: date | None, clashes: list[Row], noun: str) -> str:
    periods = "; ".join(describe(r.start, r.end) for r in sorted(clashes, key=lambda r: r.start))
    return f"The {noun} for {describe(new_start, new_end)} overlaps the existing {noun} for {periods}"


def gap_message(found: list[tuple[date, date | None]], noun: str) -> str:
    periods = "; ".join(describe(a, b) for a, b in found)
    return f"This would leave the package without a {noun} for {periods}"
