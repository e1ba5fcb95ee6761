"""Budget lines fed by packages (rules.md, rule 2): a line's actual to date and committed forecast
derived from its packages under rule 1's segments. The package costs come from brokerage through
``commissioning.registry.cost_feed("packages")`` (``brokerage.feeds.package_costs``), so budgets
neither imports brokerage nor repeats its rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils import timezone

from budgets.models import BudgetLine, LineFeed, Schedule, year_bounds
from commissioning import registry

ZERO = Decimal("0.00")


@dataclass
class FedLine:
    line: BudgetLine
    feed: LineFeed
    period: date  # the figures run to the end of this month
    packages: list = field(default_factory=list)  # brokerage.feeds.PackageCosts

    @property
    def actual(self) -> Decimal:
        return sum((p.to_date for p in self.packages), ZERO)

    @property
    def month(self) -> Decimal:
        return sum((p.months.get(self.period, ZERO) for p in self.packages), ZERO)

    @property
    def committed(self) -> Decimal:
        return sum((p.committed for p in self.packages), ZERO)

    @property
    def forecast(self) -> Decimal:
        return self.actual + self.committed

    @property
    def variance(self) -> Decimal:
        return self.forecast - self.line.amount


def default_period(year: int, today: date | None = None) -> date:
    """This month, within the year (its first or last month outside it)."""
    first, last = year_bounds(year)
    today = today or timezone.localdate()
    return min(max(today.replace(day=1), first), last.replace(day=1))


def fed_lines(
    schedule: Schedule, lines: Sequence[BudgetLine], year: int, period: date | None = None
) -> dict[int, FedLine]:
    """The fed lines among ``lines`` (of ``schedule``, year ``year``), by line pk, with their
    packages' costs from April to ``period`` and committed to March. Six queries, whatever the
    number of lines and packages (one when no line is fed)."""
    lines = [line for line in lines if line.year == year]
    feeds = list(LineFeed.objects.filter(budget_line__in=[line.pk for line in lines]))
    feed = registry.cost_feed("packages")
    if not feeds or feed is None:
        return {}
    period = (period or default_period(year)).replace(day=1)
    first, last = year_bounds(year)
    costs = feed(
        partnership_id=schedule.agreement.partnership_id,
        service_types={t for f in feeds for t in f.service_types},
        package_ids={pk for f in feeds for pk in f.package_ids},
        first=first,
        last=last,
        period=period,
    )
    by_line = {line.pk: line for line in lines}
    out = {}
    for line_feed in feeds:
        types, ids = set(line_feed.service_types), set(line_feed.package_ids)
        out[line_feed.budget_line_id] = FedLine(
            line=by_line[line_feed.budget_line_id],
            feed=line_feed,
            period=period,
            packages=[p for p in costs if p.service_type in types or p.package_id in ids],
        )
    return out
