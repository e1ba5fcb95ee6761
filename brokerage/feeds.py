"""What packages cost, month by month, for a budget line fed by packages (rules.md, rule 2: "pool
actuals fed by packages"). Budgets asks through ``commissioning.registry.cost_feed`` (it does not
import brokerage); the arithmetic is rule 1's own (``brokerage.recharges``): the same segments,
and each funder's share of a segment is ``recharges.amount`` rounded at the share, so a month's
cost to the paying partner (every funder's share, before recharges) agrees to the penny with what
the recharge engine bills and bears.

A package's **committed** cost is what it will cost the paying partner from the month after the
period to the year's end (or its own end), month by month under the same segments: a future price
change or a suspension recorded for a later date counts from its day."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Q

from brokerage import recharges
from brokerage.models import FundingShare, FundingSplit, Package, PackageCost, Suspension
from brokerage.models.packages import package_reference
from commissioning.choices import ServiceType

ZERO = Decimal("0.00")


@dataclass
class PackageCosts:
    package_id: int
    reference: str
    client_reference: str
    provider: str
    service_type: str
    start: date
    end: date | None
    months: dict[date, Decimal] = field(default_factory=dict)  # cost to the payer, by month
    committed: Decimal = ZERO  # its cost from the month after the period to the year's end

    @property
    def service_label(self) -> str:
        return (
            ServiceType(self.service_type).label
            if self.service_type in ServiceType.values
            else self.service_type
        )

    @property
    def to_date(self) -> Decimal:
        return sum(self.months.values(), ZERO)

    @property
    def forecast(self) -> Decimal:
        return self.to_date + self.committed


def month_cost(segments: Iterable[recharges.Segment]) -> Decimal:
    """A month's cost to the paying partner: every funder's share of every segment, each rounded as
    rule 1 rounds it (``recharges.amount``)."""
    return sum(
        (
            recharges.amount(s.weekly_cost, s.days, percent, s.paid_percent)
            for s in segments
            for _funder, percent in s.shares
        ),
        ZERO,
    )


def package_costs(
    *,
    partnership_id: int,
    service_types: Iterable[str] = (),
    package_ids: Iterable[int] = (),
    first: date,
    last: date,
    period: date,
) -> list[PackageCosts]:
    """The packages of a partnership of the given service types or ids, live between ``first`` and
    ``last`` (a financial year), with their cost in each month from ``first`` to ``period`` and
    their committed cost from the month after ``period`` to ``last``. Five queries, whatever the
    number of packages."""
    wanted = Q(service_type__in=list(service_types)) | Q(pk__in=list(package_ids))
    rows = list(
        Package.objects.filter(wanted, client__partnership=partnership_id, start__lte=last)
        .filter(Q(end__isnull=True) | Q(end__gte=first))
        .order_by("pk")
        .values_list(
            "pk",
            "client__case_reference",
            "provider__organisation__name",
            "service_type",
            "start",
            "end",
            "paying_organisation_id",
        )
    )
    ids = [row[0] for row in rows]
    costs: dict[int, list] = defaultdict(list)
    for package_id, start, end, rate, units in PackageCost.objects.filter(package_id__in=ids).values_list(
        "package_id", "effective_from", "effective_to", "unit_rate", "units_per_week"
    ):
        costs[package_id].append(recharges.CostRow.of(start, end, rate, units))
    shares: dict[int, list] = defaultdict(list)
    for split_id, organisation_id, percent in (
        FundingShare.objects.filter(split__package_id__in=ids)
        .order_by("split_id", "organisation__code")
        .values_list("split_id", "organisation_id", "percent")
    ):
        shares[split_id].append((organisation_id, percent))
    splits: dict[int, list] = defaultdict(list)
    for split_id, package_id, start, end in FundingSplit.objects.filter(package_id__in=ids).values_list(
        "pk", "package_id", "effective_from", "effective_to"
    ):
        splits[package_id].append(recharges.SplitRow(start, end, tuple(shares[split_id]), split_id))
    suspensions: dict[int, list] = defaultdict(list)
    for package_id, start, end, paid in Suspension.objects.filter(package_id__in=ids).values_list(
        "package_id", "effective_from", "effective_to", "paid_percent"
    ):
        suspensions[package_id].append(recharges.SuspensionRow(start, end, paid))

    out = []
    after = recharges.next_month(recharges.month_start(period))
    for pk, client_reference, provider, service_type, start, end, payer in rows:
        facts = recharges.PackageFacts(
            package=pk,
            start=start,
            end=end,
            payer=payer,
            costs=tuple(sorted(costs[pk], key=lambda r: r.start)),
            splits=tuple(sorted(splits[pk], key=lambda r: r.start)),
            suspensions=tuple(sorted(suspensions[pk], key=lambda r: r.start)),
        )
        item = PackageCosts(pk, package_reference(pk), client_reference, provider, service_type, start, end)
        if first <= period:
            for month, result in recharges.segments_by_month(facts, first, min(period, last)).items():
                item.months[month] = month_cost(result.segments)
        item.committed = _committed(facts, max(after, first), last)
        out.append(item)
    return out


def _committed(facts: recharges.PackageFacts, since: date, last: date) -> Decimal:
    """What the package will cost the paying partner from ``since`` (the first day of the month after
    the period) to ``last`` (the year's last day, the end of a month) as its costs, funding splits
    and suspensions stand now: rule 1's own segments of each month to come, each funder's share
    rounded as the recharge engine rounds it. A price change or a suspension already recorded for a
    later date therefore counts from its own day, and the months to come add up to what their
    actuals will be if nothing else changes (days no split funds count nothing, as in the actuals)."""
    if last < since:
        return ZERO
    return sum(
        (month_cost(result.segments) for result in recharges.segments_by_month(facts, since, last).values()),
        ZERO,
    )
