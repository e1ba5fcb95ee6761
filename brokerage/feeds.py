"""What packages cost, month by month, for a budget line fed by packages (rules.md, rule 2: "pool
actuals fed by packages"). Budgets asks through ``commissioning.registry.cost_feed`` (it does not
import brokerage); the arithmetic is rule 1's own (``brokerage.recharges``): the same segments,
and each funder's share of a segment is ``recharges.amount`` rounded at the share, so a month's
cost to the paying partner (every funder's share, before recharges) agrees to the penny with what
the recharge engine bills and bears.

A package's **committed** cost is what its weekly cost, as it stands on the day after the period,
runs to until the year's end or the package's end, rounded half up per package."""

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
from commissioning.money import round_half_up

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
    committed: Decimal = ZERO  # the weekly cost from the day after the period to the year's end

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
    """The package's weekly cost on ``since`` (or when it starts, if later) to ``last`` or its end."""
    begin = max(since, facts.start)
    stop = last if facts.end is None else min(last, facts.end)
    if stop < begin:
        return ZERO
    covering = [c for c in facts.costs if c.start <= begin and (c.end is None or begin <= c.end)]
    if not covering:
        return ZERO
    days = (stop - begin).days + 1
    return round_half_up(covering[-1].weekly_cost * Decimal(days) / Decimal(7))
