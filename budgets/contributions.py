"""Rule 2 of rules.md: a partner's contribution to a pooled schedule, paid to the host in instalments.

Pure functions over plain values (no ORM). Quarterly in advance by default: four equal instalments,
each rounded half up, the last taking the remainder so they sum exactly; monthly: twelve the same
way. A change to the contribution during the year changes only the instalments not yet raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from commissioning.money import round_half_up

QUARTERLY = "quarterly"
MONTHLY = "monthly"
COUNTS = {QUARTERLY: 4, MONTHLY: 12}
ZERO = Decimal("0.00")


def split(total: Decimal, count: int) -> list[Decimal]:
    """``total`` in ``count`` equal instalments rounded half up to the penny, the last taking the
    remainder: 118,341.01 in four is 29,585.25 three times and 29,585.26."""
    if count < 1:
        raise ValueError("At least one instalment.")
    each = round_half_up(Decimal(total) / count)
    return [each] * (count - 1) + [Decimal(total) - each * (count - 1)]


def periods(year: int, frequency: str) -> list[tuple[date, date]]:
    """The (first day, last day) each instalment pays for in advance, in order: the quarters (or the
    months) of the financial year starting on 1 April ``year``. An instalment is due on its first day."""
    months = 12 // COUNTS[frequency]
    out = []
    for index in range(COUNTS[frequency]):
        start = date(year, 4, 1) + relativedelta(months=index * months)
        out.append((start, start + relativedelta(months=months) - relativedelta(days=1)))
    return out


@dataclass(frozen=True)
class Instalment:
    number: int
    due: date
    end: date
    amount: Decimal
    raised: bool  # raised already: ``amount`` is what it was raised for


def instalments(
    *, total: Decimal, year: int, frequency: str, raised: Mapping[int, Decimal] | None = None
) -> list[Instalment]:
    """The plan's instalments for a contribution of ``total`` for the year. ``raised`` gives the
    amounts of instalments already raised (by number): they stand as raised. If they are what the
    rule gives for ``total``, so are the others; if the contribution has changed since, the rest of
    it (``total`` less what was raised) is split over the instalments still to raise in the same way.
    An amount of £0.00 or less is nothing to invoice (more was raised than is now due: the
    difference is settled at the year end)."""
    raised = dict(raised or {})
    dates = periods(year, frequency)
    standard = split(Decimal(total), len(dates))
    numbers = range(1, len(dates) + 1)
    if all(raised[n] == standard[n - 1] for n in raised):
        amounts = dict(zip(numbers, standard, strict=True))
    else:
        remaining = [n for n in numbers if n not in raised]
        rest = split(Decimal(total) - sum(raised.values(), ZERO), len(remaining)) if remaining else []
        amounts = dict(zip(remaining, rest, strict=True)) | raised
    return [
        Instalment(number=n, due=start, end=end, amount=amounts[n], raised=n in raised)
        for n, (start, end) in zip(numbers, dates, strict=True)
    ]


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """The first and last day of quarter 1-4 of financial year ``year`` (quarter 1 is April to June)."""
    if quarter not in (1, 2, 3, 4):
        raise ValueError("A quarter is 1, 2, 3 or 4.")
    return periods(year, QUARTERLY)[quarter - 1]


def quarter_of(day: date) -> int:
    """The financial quarter (1-4) a day falls in."""
    return (day.month - 4) % 12 // 3 + 1
