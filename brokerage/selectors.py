"""Reads of the brokerage app that are more than one filter: the market page, timeliness, the
unfunded days of a package, and the dashboard panels. Everything goes through the gate."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import DecimalField, F, Prefetch, Q, Value
from django.urls import reverse
from django.utils import timezone

from commissioning.choices import OrganisationKind, ServiceType
from commissioning.money import format_money, round_half_up
from commissioning.permissions import has_model_permission
from commissioning.selectors import Panel

from . import histories, rates
from .models import (
    OPEN_STATUSES,
    URGENT,
    FundingShare,
    FundingSplit,
    Offer,
    OfferStatus,
    Package,
    PackageCost,
    PanelDecision,
    PriceChange,
    RateCard,
    Referral,
    Unit,
    Urgency,
)
from .roles import is_manager

# --- Packages -------------------------------------------------------------------------------------


def unfunded_periods(package: Package, splits: list[FundingSplit], *, today: date | None = None):
    """Days of the package (to its end, or to today if open) that no funding split covers."""
    today = today or timezone.localdate()
    end = package.end or max(today, package.start)
    rows = [histories.Row(s.effective_from, s.effective_to) for s in splits]
    return histories.gaps(rows, start=package.start, end=end)


@dataclass(frozen=True)
class Recorded:
    """Who wrote a row of a package's cost or funding history, and when (from its change history)."""

    who: str
    when: object


@dataclass(frozen=True)
class RemovedRow:
    """A cost or funding row a later change removed (a backdated change replaces later rows)."""

    kind: str
    effective_from: date
    effective_to: date | None
    detail: str
    removed_by: str
    removed_at: object


def package_history(package: Package) -> tuple[dict, dict, list[RemovedRow]]:
    """Who added each cost and funding row of a package and when (by row id), and the rows later
    changes removed, newest first: one query of both change histories (and one of their users)
    whatever the length of the history."""
    from commissioning.models import User

    from .services.prices import person_name

    def events(model, kind: str, **columns):
        # Both histories as the same columns, in the same order, for one UNION ALL.
        return (
            model.pgh_event_model.objects.filter(package_id=package.pk, pgh_label__in=("insert", "delete"))
            .annotate(kind=Value(kind), metadata=F("pgh_context__metadata"), **columns)
            .values(
                "pgh_id",
                "pgh_label",
                "pgh_obj_id",
                "pgh_created_at",
                "effective_from",
                "effective_to",
                "kind",
                "metadata",
                *columns,
            )
        )

    none_money = Value(None, output_field=DecimalField())
    cost_events = events(
        PackageCost,
        "cost",
        rate=F("unit_rate"),
        units=F("units_per_week"),
        per=F("unit"),
        basis_code=Value(""),
        reference=Value(""),
    )
    split_events = events(
        FundingSplit,
        "split",
        rate=none_money,
        units=none_money,
        per=Value(""),
        basis_code=F("basis"),
        reference=F("decision_reference"),
    )
    rows = list(cost_events.union(split_events, all=True).order_by("pgh_id"))

    def user_id(row):
        return (row["metadata"] or {}).get("user")

    users = User.objects.in_bulk({user_id(row) for row in rows} - {None})

    def who(row) -> str:
        return person_name(users.get(user_id(row))) if user_id(row) else "The system"

    bases = dict(FundingSplit._meta.get_field("basis").flatchoices)
    added: dict[str, dict] = {"cost": {}, "split": {}}
    removed: list[RemovedRow] = []
    for row in rows:
        kind = row["kind"]
        if row["pgh_label"] == "insert":
            added[kind][row["pgh_obj_id"]] = Recorded(who(row), row["pgh_created_at"])
            continue
        if kind == "cost":
            detail = (
                f"{format_money(rates.weekly_cost(row['rate'], row['units']))} a week "
                f"({format_money(row['rate'])} per {row['per']} × {row['units'].normalize():f})"
            )
        else:
            basis = bases.get(row["basis_code"], row["basis_code"])
            detail = f"{basis}" + (f" ({row['reference']})" if row["reference"] else "")
        removed.append(
            RemovedRow(
                kind="Price" if kind == "cost" else "Funding",
                effective_from=row["effective_from"],
                effective_to=row["effective_to"],
                detail=detail,
                removed_by=who(row),
                removed_at=row["pgh_created_at"],
            )
        )
    removed.sort(key=lambda r: r.removed_at, reverse=True)
    return added["cost"], added["split"], removed


def rate_card_hint(
    referral: Referral,
    *,
    unit: str | None,
    day: date | None,
    unit_rate,
    units_per_week=None,
    price_unreadable: bool = False,
) -> rates.RateCardHint:
    day = day or referral.required_start or timezone.localdate()
    year = rates.financial_year(day)
    cards = dict(
        RateCard.objects.filter(
            partnership_id=referral.client.partnership_id, service_type=referral.service_type, year=year
        ).values_list("unit", "unit_rate")
    )
    return rates.RateCardHint(
        service=referral.get_service_type_display().lower(),
        year_label=rates.financial_year_label(year),
        cards=cards,
        unit=unit or None,
        unit_rate=unit_rate,
        units_per_week=units_per_week,
        price_unreadable=price_unreadable,
    )


# --- Market ----------------------------------------------------------------------------------------


@dataclass
class PriceSpread:
    count: int = 0
    low: Decimal | None = None
    median: Decimal | None = None
    high: Decimal | None = None

    @classmethod
    def of(cls, values: list[Decimal]) -> PriceSpread:
        if not values:
            return cls()
        ordered = sorted(values)
        return cls(
            len(ordered),
            ordered[0],
            round_half_up(statistics.median(ordered)),
            ordered[-1],
        )


@dataclass
class MarketRow:
    service_type: str
    unit: str
    provider: str
    packages: int = 0
    weekly_total: Decimal = Decimal("0")
    rates: list[Decimal] = field(default_factory=list)
    rate_card: Decimal | None = None
    above: int = 0

    @property
    def service_type_label(self) -> str:
        return ServiceType(self.service_type).label

    @property
    def average_rate(self) -> Decimal | None:
        if not self.rates:
            return None
        return round_half_up(sum(self.rates) / len(self.rates))

    @property
    def difference(self) -> Decimal | None:
        average = self.average_rate
        if average is None or self.rate_card is None:
            return None
        return average - self.rate_card


@dataclass
class Market:
    on: date
    year: int
    rows: list[MarketRow]
    above: list[tuple[Package, PackageCost, Decimal]]
    spreads: list[dict]

    @property
    def year_label(self) -> str:
        return rates.financial_year_label(self.year)


def _live_packages(user, partnership, on: date):
    return (
        Package.objects.restrict(user, "view")
        .in_partnership(partnership)
        .filter(Q(start__lte=on), Q(end__isnull=True) | Q(end__gte=on))
        .exclude(status="suspended")
    )


def market(user, partnership=None, *, on: date | None = None) -> Market:
    """Weekly cost by service type and provider against the rate card, the packages above it, and
    the spread of unit rates funded mainly by the council and mainly by the NHS for each service."""
    on = on or timezone.localdate()
    year = rates.financial_year(on)
    packages = list(
        _live_packages(user, partnership, on)
        .select_related("provider__organisation", "client")
        .prefetch_related(
            Prefetch(
                "costs",
                queryset=PackageCost.objects.filter(
                    Q(effective_from__lte=on), Q(effective_to__isnull=True) | Q(effective_to__gte=on)
                ),
                to_attr="cost_now",
            ),
            Prefetch(
                "splits",
                queryset=FundingSplit.objects.filter(
                    Q(effective_from__lte=on), Q(effective_to__isnull=True) | Q(effective_to__gte=on)
                ).prefetch_related(
                    Prefetch("shares", queryset=FundingShare.objects.select_related("organisation"))
                ),
                to_attr="split_now",
            ),
        )
    )
    cards = {
        (c.partnership_id, c.service_type, c.unit): c.unit_rate
        for c in RateCard.objects.filter(
            year=year, partnership__in={p.client.partnership_id for p in packages}
        )
    }
    rows: dict[tuple, MarketRow] = {}
    above: list[tuple[Package, PackageCost, Decimal]] = []
    by_funder: dict[tuple[str, str], dict[str, list[Decimal]]] = defaultdict(
        lambda: {"council": [], "nhs": []}
    )
    for package in packages:
        if not package.cost_now:
            continue
        cost = package.cost_now[0]
        card = cards.get((package.client.partnership_id, package.service_type, cost.unit))
        key = (package.service_type, cost.unit, package.provider.name)
        row = rows.setdefault(
            key, MarketRow(package.service_type, cost.unit, package.provider.name, rate_card=card)
        )
        row.packages += 1
        row.weekly_total += cost.weekly_cost
        row.rates.append(cost.unit_rate)
        if card is not None and cost.unit_rate > card:
            row.above += 1
            above.append((package, cost, cost.unit_rate - card))
        if package.split_now:
            shares = list(package.split_now[0].shares.all())
            main = max(shares, key=lambda s: s.percent, default=None)
            if main is not None:
                side = "nhs" if main.organisation.kind == OrganisationKind.NHS_COMMISSIONER else "council"
                by_funder[(package.service_type, cost.unit)][side].append(cost.unit_rate)
    spreads = []
    for (service_type, unit), sides in sorted(by_funder.items()):
        council, nhs = PriceSpread.of(sides["council"]), PriceSpread.of(sides["nhs"])
        gap = nhs.median - council.median if council.median is not None and nhs.median is not None else None
        spreads.append(
            {
                "service_type": ServiceType(service_type).label,
                "unit": Unit(unit).label.lower(),
                "council": council,
                "nhs": nhs,
                "gap": gap,
            }
        )
    above.sort(key=lambda item: -item[2])
    return Market(
        on=on,
        year=year,
        rows=sorted(rows.values(), key=lambda r: (r.service_type_label, r.unit, r.provider)),
        above=above,
        spreads=spreads,
    )


# --- Timeliness --------------------------------------------------------------------------------------

AGE_BANDS = [
    (0, 2, "0 to 2 days"),
    (3, 7, "3 to 7 days"),
    (8, 14, "8 to 14 days"),
    (15, 28, "15 to 28 days"),
    (29, None, "Over 28 days"),
]


@dataclass
class TimelinessRow:
    urgency: str
    funder: str
    days: list[int]

    @property
    def count(self) -> int:
        return len(self.days)

    @property
    def median(self):
        return statistics.median(self.days) if self.days else None

    @property
    def average(self):
        return round(sum(self.days) / len(self.days), 1) if self.days else None

    @property
    def longest(self):
        return max(self.days) if self.days else None


def timeliness(user, partnership=None, *, since: date | None = None) -> list[TimelinessRow]:
    """Days from referral received to package start, by urgency and proposed funder."""
    qs = (
        Referral.objects.restrict(user, "view")
        .in_partnership(partnership)
        .filter(package__isnull=False)
        .select_related("package", "proposed_funder")
    )
    if since is not None:
        qs = qs.filter(package__start__gte=since)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for referral in qs:
        received = timezone.localtime(referral.received_at).date()
        funder = referral.proposed_funder.code if referral.proposed_funder else "Panel or none"
        groups[(referral.urgency, funder)].append(max(0, (referral.package.start - received).days))
    order = {
        value: i for i, value in enumerate([Urgency.AT_RISK, Urgency.HOSPITAL_DISCHARGE, Urgency.ROUTINE])
    }
    return [
        TimelinessRow(Urgency(urgency).label, funder, days)
        for (urgency, funder), days in sorted(
            groups.items(), key=lambda item: (order[item[0][0]], item[0][1])
        )
    ]


def open_referrals_by_age(user, partnership=None, *, today: date | None = None) -> list[dict]:
    """Open referrals counted by age band and urgency."""
    today = today or timezone.localdate()
    qs = (
        Referral.objects.restrict(user, "view")
        .in_partnership(partnership)
        .open()
        .only("urgency", "received_at")
    )
    table = {label: dict.fromkeys(Urgency.values, 0) for _a, _b, label in AGE_BANDS}
    for referral in qs:
        age = (today - timezone.localtime(referral.received_at).date()).days
        for low, high, label in AGE_BANDS:
            if age >= low and (high is None or age <= high):
                table[label][referral.urgency] += 1
                break
    return [
        {
            "band": label,
            "counts": [table[label][u] for u in Urgency.values],
            "total": sum(table[label].values()),
        }
        for _a, _b, label in AGE_BANDS
    ]


# --- Dashboard panels --------------------------------------------------------------------------------


def _queue_line(referral: Referral) -> str:
    received = timezone.localtime(referral.received_at)
    return (
        f"{referral.reference} {referral.get_urgency_display()}: "
        f"{referral.get_service_type_display()}, received {received:%d %b}"
    )


def referrals_panel(user, partnership) -> Panel | None:
    if not has_model_permission(user, Referral, "change"):
        return None
    qs = Referral.objects.restrict(user, "view").in_partnership(partnership or None).open()
    count = qs.count()
    urgent = qs.filter(urgency__in=URGENT).count()
    rows = list(qs.queue_order().select_related("client")[:5])
    return Panel(
        title="Referrals waiting",
        count=count,
        link=reverse("brokerage:index"),
        link_text=f"Open the brokerage queue ({urgent} urgent)",
        rows=[_queue_line(r) for r in rows],
        attention=urgent > 0,
    )


def panel_reviews_panel(user, partnership) -> Panel | None:
    if not has_model_permission(user, PanelDecision, "change"):
        return None
    today = timezone.localdate()
    qs = (
        PanelDecision.objects.restrict(user, "view")
        .in_partnership(partnership or None)
        .due_for_review(by=today)
    )
    count = qs.count()
    return Panel(
        title="Panel decisions due for review",
        count=count,
        link=reverse("brokerage:panel-decisions") + "?due=true",
        link_text=f"View all {count} due for review",
        rows=[f"{d.reference}: review due {d.review_date:%d %b %Y}" for d in qs.order_by("review_date")[:5]],
        attention=count > 0,
    )


def timeliness_panel(user, partnership) -> Panel | None:
    if not is_manager(user):
        return None
    rows = timeliness(user, partnership or None, since=timezone.localdate() - timedelta(days=90))
    ages = open_referrals_by_age(user, partnership or None)
    old = sum(a["total"] for a in ages[3:])
    return Panel(
        title="Brokerage timeliness (last 90 days)",
        count=old,
        link=reverse("brokerage:timeliness"),
        link_text="Timeliness by urgency and funder",
        rows=[f"Open referrals older than 14 days: {old}"]
        + [
            f"{r.urgency}, {r.funder}: median {r.median} days to start "
            f"({r.count} package{'' if r.count == 1 else 's'})"
            for r in rows
        ],
        attention=old > 0,
    )


# --- Approvals ------------------------------------------------------------------------------------


def prices_awaiting_approval(user, partnership=None):
    """Price changes waiting for a brokerage manager, oldest first."""
    return (
        PriceChange.objects.restrict(user, "view")
        .in_partnership(partnership or None)
        .pending()
        .select_related("package__client", "package__provider__organisation", "proposed_by")
        .order_by("proposed_at", "pk")
    )


def offers_awaiting_approval(user, partnership=None):
    """Offers above the rate card (or with none to compare) not yet approved, of open referrals,
    oldest first, each with ``rate_card_rate``."""
    return (
        Offer.objects.restrict(user, "view")
        .in_partnership(partnership or None)
        .with_rate_card()
        .filter(status=OfferStatus.RECEIVED, approved_at__isnull=True, referral__status__in=OPEN_STATUSES)
        .filter(Q(rate_card_rate__isnull=True) | Q(unit_rate__gt=F("rate_card_rate")))
        .select_related("referral__client", "provider__organisation", "recorded_by")
        .order_by("created_at", "pk")
    )


def approvals_panel(user, partnership) -> Panel | None:
    if not is_manager(user):
        return None
    prices = prices_awaiting_approval(user, partnership).count()
    offers = offers_awaiting_approval(user, partnership).count()
    count = prices + offers
    return Panel(
        title="Awaiting your approval",
        count=count,
        link=reverse("brokerage:approvals"),
        link_text="Prices and offers awaiting approval",
        rows=[
            f"Price changes above the rate card: {prices}",
            f"Offers above the rate card: {offers}",
        ],
        attention=count > 0,
    )


PANELS = [referrals_panel, approvals_panel, panel_reviews_panel, timeliness_panel]


def with_weekly_cost(packages, on: date):
    """Each package with ``weekly_cost_now``: the weekly cost of its cost row in force ``on`` (unit
    rate x units per week, to the penny, half up as ``rates.weekly_cost``), or None. One query."""
    from django.db.models import DecimalField, ExpressionWrapper, OuterRef, Subquery
    from django.db.models.functions import Round

    in_force = (
        PackageCost.objects.filter(package=OuterRef("pk"), effective_from__lte=on)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on))
        .order_by("-effective_from")
        .annotate(
            weekly=Round(
                ExpressionWrapper(
                    F("unit_rate") * F("units_per_week"),
                    output_field=DecimalField(max_digits=20, decimal_places=4),
                ),
                2,
            )
        )
        .values("weekly")[:1]
    )
    return packages.annotate(
        weekly_cost_now=Subquery(in_force, output_field=DecimalField(max_digits=14, decimal_places=2))
    )
