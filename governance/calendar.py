"""Working days, clear days and call-in (rules.md, rule 3). English bank holidays come from the
``holidays`` package (``holidays.UK(subdiv="ENG")``), so substitute days are included."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")
CALL_IN_WORKING_DAYS = 5
CALL_IN_CLOSES_AT = time(16, 0)
KEY_DECISION_NOTICE_CLEAR_DAYS = 28


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.UK(subdiv="ENG", years=year).keys())


def is_bank_holiday(day: date) -> bool:
    return day in _bank_holidays(day.year)


def is_working_day(day: date) -> bool:
    """Monday to Friday, except English bank holidays."""
    return day.weekday() < 5 and not is_bank_holiday(day)


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself never counts)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    day = start
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def clear_days_between(earlier: date, later: date) -> int:
    """Whole days between two dates, excluding both (published Monday, meeting Wednesday: 1)."""
    return max((later - earlier).days - 1, 0)


def call_in_ends(published_on: date) -> datetime:
    """16:00 London time on the fifth working day after publication."""
    day = add_working_days(published_on, CALL_IN_WORKING_DAYS)
    return datetime.combine(day, CALL_IN_CLOSES_AT, tzinfo=LONDON)


def effective_from(
    *, council_executive: bool, urgent: bool, published_on: date | None, decided_at: datetime
) -> tuple[datetime | None, datetime | None]:
    """(call-in ends, effective from) of a decision.

    NHS-only boards have no call-in: effective when decided. Urgent decisions (reason stated) of a
    council executive body are effective at once. Other executive decisions are effective when
    call-in ends, which needs the publication date (None until published).
    """
    if not council_executive or urgent:
        return None, decided_at
    if published_on is None:
        return None, None
    ends = call_in_ends(published_on)
    return ends, ends
