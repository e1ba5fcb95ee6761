"""Financial years and periods as people and the API ask for them: a financial year by its starting
year (``2022`` is 2022/23, April to March), a period by its month (``2022-05``).

One parser and one validator for the pages (the schedule page, the positions and reporting pages,
the partnership summary) and the API (a schedule's ``summary``): a bad year or period is refused
with a message naming the field, never quietly replaced by another year. Pure functions over plain
values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError

from budgets.models import financial_year_of, year_label

YEAR_FORMAT = "Give the financial year as its starting year, e.g. 2022."
PERIOD_FORMAT = "Give the period as YYYY-MM, e.g. 2022-05."
_YEAR = re.compile(r"[0-9]{4}")
_PERIOD = re.compile(r"[0-9]{4}-[0-9]{2}")


def parse_year(value: str) -> int:
    """``"2022"`` -> 2022; ValueError for anything else."""
    text = str(value).strip()
    if not _YEAR.fullmatch(text):
        raise ValueError(YEAR_FORMAT)
    return int(text)


def parse_period(value) -> date:
    """``"2022-05"`` -> 1 May 2022; ValueError for anything else."""
    text = value.strip() if isinstance(value, str) else ""
    if not _PERIOD.fullmatch(text):
        raise ValueError(PERIOD_FORMAT)
    try:
        return date.fromisoformat(f"{text}-01")
    except ValueError:
        raise ValueError(PERIOD_FORMAT) from None


@dataclass(frozen=True)
class Choice:
    """The financial year and period to show: ``period`` None means the latest reported."""

    year: int
    period: date | None = None


def choose(
    *,
    year: str | None,
    period: str | None,
    years: Sequence[int] | Callable[[], Sequence[int]],
    default: int,
    covering: str,
) -> Choice:
    """The year and period asked for (as typed: blank when not asked), among ``years``.

    - no year: ``default``, or the year of the period when one is asked for;
    - a year: one of ``years``; a period then falls within it;
    - a period alone: its financial year must be one of ``years``.

    ``covering`` names what ``years`` are ("the years of agreement BR-S75"); ``years`` may be a
    function, called only when a year or period is asked for. Raises a ``ValidationError`` naming
    ``year`` and/or ``period``."""
    errors: dict[str, list[str]] = {}
    chosen = default
    if year in (None, "") and period in (None, ""):
        return Choice(year=default)
    if callable(years):
        years = years()
    if year not in (None, ""):
        try:
            chosen = parse_year(year)
        except ValueError as error:
            errors["year"] = [str(error)]
        else:
            if chosen not in years:
                errors["year"] = [f"The financial year {chosen} is outside {covering}."]
    month = None
    if period not in (None, ""):
        try:
            month = parse_period(period)
        except ValueError as error:
            errors["period"] = [str(error)]
        else:
            if year in (None, ""):
                chosen = financial_year_of(month)
                if chosen not in years:
                    errors["period"] = [f"The period {month:%B %Y} is outside {covering}."]
            elif "year" not in errors and financial_year_of(month) != chosen:
                errors["period"] = [
                    f"The period {month:%B %Y} is outside the financial year {year_label(chosen)}."
                ]
    if errors:
        raise ValidationError(errors)
    return Choice(year=chosen, period=month)


def _today() -> date:
    from django.utils import timezone

    return timezone.localdate()


QUARTER_FORMAT = "Choose the whole year or a quarter, 1 to 4."


def parse_statement_choice(agreement, query) -> tuple[int, int | None]:
    """The year (default: this financial year, within the agreement) and quarter (blank: the whole
    year) asked for; ``ValidationError`` naming the field otherwise."""
    errors: dict[str, list[str]] = {}
    years = agreement.years
    default = min(max(financial_year_of(_today()), years[0]), years[-1])
    year, quarter = default, None
    raw_year = (query.get("year") or "").strip()
    if raw_year:
        try:
            year = parse_year(raw_year)
        except ValueError:
            errors["year"] = [YEAR_FORMAT]
        else:
            if year not in years:
                span = f"{year_label(years[0])} to {year_label(years[-1])}"
                errors["year"] = [f"Agreement {agreement.reference} covers {span}."]
    raw_quarter = (query.get("quarter") or "").strip()
    if raw_quarter:
        if raw_quarter not in ("1", "2", "3", "4"):
            errors["quarter"] = [QUARTER_FORMAT]
        else:
            quarter = int(raw_quarter)
    if errors:
        raise ValidationError(errors)
    return year, quarter
