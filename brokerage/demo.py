"""The brokerage part of the demo data (demo-data.md), seeded and deterministic.

``load(partnerships=..., users=..., seed=..., today=...)`` adds, through the same services the
pages call: a rate card per partnership, year and service type; clients in every cohort with NHS
numbers from the 999 test range; referrals at every status; offers above and below the rate card
(the above ones approved by the brokerage manager); packages with price changes, 50/50 section 117
splits, CHC transfers from the council to the NHS, one backdated panel decision and one package
with an unfunded gap, so a recharge run for the latest month has lines, adjustments and a gap.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from commissioning.choices import ServiceType
from commissioning.models import Partnership, Provider, User

from . import rates, services
from .models import Cohort, Package, ReferralStatus, Unit, Urgency
from .nhs_number import numbers_in_test_range
from .services import Share

# Illustrative council prices for the first year; later years go up by 3% (rounded to pence).
BASE_PRICES: dict[str, tuple[Decimal, str, Decimal]] = {
    # service type: (unit rate, unit, units per week typically bought)
    ServiceType.DOMICILIARY: (Decimal("21.50"), Unit.HOUR, Decimal("14")),
    ServiceType.RESIDENTIAL: (Decimal("780.00"), Unit.WEEK, Decimal("1")),
    ServiceType.NURSING: (Decimal("960.00"), Unit.WEEK, Decimal("1")),
    ServiceType.SUPPORTED_LIVING: (Decimal("19.80"), Unit.HOUR, Decimal("30")),
    ServiceType.CHILDRENS_PLACEMENT: (Decimal("3650.00"), Unit.WEEK, Decimal("1")),
    ServiceType.DIRECT_PAYMENT: (Decimal("16.20"), Unit.HOUR, Decimal("10")),
    ServiceType.OTHER: (Decimal("95.00"), Unit.NIGHT, Decimal("3")),
}

COHORT_SERVICES = {
    Cohort.ADULT_SOCIAL_CARE: [ServiceType.DOMICILIARY, ServiceType.RESIDENTIAL, ServiceType.DIRECT_PAYMENT],
    Cohort.CHILDREN_LOOKED_AFTER: [ServiceType.CHILDRENS_PLACEMENT],
    Cohort.CONTINUING_HEALTHCARE: [ServiceType.NURSING, ServiceType.DOMICILIARY],
    Cohort.CHILDRENS_CONTINUING_CARE: [ServiceType.CHILDRENS_PLACEMENT, ServiceType.OTHER],
    Cohort.SECTION_117: [ServiceType.SUPPORTED_LIVING, ServiceType.RESIDENTIAL],
    Cohort.OTHER: [ServiceType.OTHER, ServiceType.DOMICILIARY],
}

GIVEN = [
    "Ada",
    "Amir",
    "Beatrice",
    "Chidi",
    "Doreen",
    "Emeka",
    "Fatima",
    "George",
    "Hana",
    "Ivan",
    "Joan",
    "Kwame",
    "Lena",
    "Malik",
    "Nora",
    "Oscar",
    "Priya",
    "Quentin",
    "Rosa",
    "Samuel",
    "Tariq",
    "Una",
    "Victor",
    "Winifred",
    "Yusuf",
    "Zofia",
]
FAMILY = [
    "Abbott",
    "Baptiste",
    "Chowdhury",
    "Dlamini",
    "Evans",
    "Fairweather",
    "Greenwood",
    "Hussain",
    "Ibekwe",
    "Jankowski",
    "Kelleher",
    "Lindqvist",
    "Mensah",
    "Nakamura",
    "O'Connor",
    "Patel",
    "Quigley",
    "Rahman",
    "Sullivan",
    "Thornton",
    "Umeh",
    "Vasquez",
    "Whitfield",
    "Yilmaz",
]
REFERRERS = [
    "Princess Royal University Hospital discharge team",
    "Adult social care assessment team",
    "Community mental health team",
    "Children's social care",
    "GP practice",
    "CHC assessment team",
]

SURGERIES = ["High Street", "Station Road", "Park View", "Elm Grove"]

# How many clients each partnership gets (Bromley is the showcase).
CLIENTS = {"Bromley": 36}
DEFAULT_CLIENTS = 12


def _user(users: dict[str, User], *names: str) -> User:
    for name in names:
        if name in users:
            return users[name]
    return next(u for u in users.values() if u.is_superuser)


def _price(base: Decimal, year_offset: int) -> Decimal:
    return rates.weekly_cost(base * Decimal("1.03") ** year_offset, Decimal("1"))


def _at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def load(*, partnerships: dict[str, Partnership], users: dict[str, User], seed: int, today: date) -> None:
    rng = random.Random(f"{seed}:brokerage")
    broker = _user(users, "broker")
    manager = _user(users, "brokerage_manager", "manager")
    admin = _user(users, "admin")
    this_year = rates.financial_year(today)
    years = [this_year - 2, this_year - 1, this_year]
    numbers = iter(numbers_in_test_range(2000, start=seed % 1000 * 100))
    providers = list(Provider.objects.select_related("organisation").order_by("pk"))

    def provider_for(service_type: str) -> Provider:
        offering = [p for p in providers if service_type in (p.service_types or [])]
        return rng.choice(offering or providers)

    for name, partnership in sorted(partnerships.items()):
        acting = broker if broker.grants.filter(partnership=partnership).exists() else admin
        approving = manager if manager.grants.filter(partnership=partnership).exists() else admin
        cards = {}
        for offset, year in enumerate(years):
            for service_type, (base, unit, _units) in BASE_PRICES.items():
                cards[(service_type, year)] = services.rate_card_save(
                    by=approving,
                    partnership=partnership,
                    service_type=service_type,
                    year=year,
                    unit_rate=_price(base, offset),
                    unit=unit,
                )
        council, nhs = partnership.council, partnership.nhs_commissioner
        cohorts = list(Cohort.values)
        count = CLIENTS.get(name, DEFAULT_CLIENTS)
        statuses = list(ReferralStatus.values)
        prefix = "".join(word[0] for word in name.split() if word[0].isalpha()).upper()
        for index in range(count):
            cohort = cohorts[index % len(cohorts)]
            client = services.client_create(
                by=acting,
                partnership=partnership,
                nhs_number=next(numbers),
                case_reference=f"{prefix}-{100000 + index * 7 + rng.randint(0, 6)}",
                given_name=rng.choice(GIVEN),
                family_name=rng.choice(FAMILY),
                date_of_birth=_birth_date(rng, cohort, today),
                cohort=cohort,
                gp_practice=f"{rng.choice(SURGERIES)} Surgery",
                resident_borough=name,
            )
            service_type = rng.choice(COHORT_SERVICES[cohort])
            # Every cohort meets every status across the clients (not cohort i always status i).
            status = statuses[(index + index // len(cohorts)) % len(statuses)]
            # Half the CHC clients are funded by the council while eligibility is assessed, then
            # transfer to the NHS (see _case); the others are NHS-funded from the start.
            transfer = cohort == Cohort.CONTINUING_HEALTHCARE and (index // len(cohorts)) % 2 == 0
            nhs_funded = (
                cohort in (Cohort.CONTINUING_HEALTHCARE, Cohort.CHILDRENS_CONTINUING_CARE) and not transfer
            )
            funder = nhs if nhs_funded else council
            _case(
                rng,
                today=today,
                client=client,
                service_type=service_type,
                status=status,
                funder=funder,
                cards=cards,
                provider_for=provider_for,
                broker=acting,
                manager=approving,
                cohort=cohort,
                council=council,
                nhs=nhs,
                index=index,
                transfer=transfer,
            )
        _special_cases(
            rng,
            partnership=partnership,
            today=today,
            broker=acting,
            manager=approving,
            cards=cards,
            provider_for=provider_for,
            numbers=numbers,
            prefix=prefix,
        )


def _birth_date(rng: random.Random, cohort: str, today: date) -> date:
    child = cohort in (Cohort.CHILDREN_LOOKED_AFTER, Cohort.CHILDRENS_CONTINUING_CARE)
    age = rng.randint(3, 16) if child else rng.randint(24, 96)
    return _born(today, years=age, days=rng.randint(0, 364))


def _born(today: date, *, years: int, days: int = 0) -> date:
    """A birth date ``years`` before the demo's day, never after the real today (a demo built
    around a future day must still pass "date of birth in the past")."""
    anchor = min(today, timezone.localdate())
    return anchor - relativedelta(years=years, days=days)


def _case(
    rng,
    *,
    today,
    client,
    service_type,
    status,
    funder,
    cards,
    provider_for,
    broker,
    manager,
    cohort,
    council,
    nhs,
    index,
    transfer,
) -> None:
    base, unit, units = BASE_PRICES[service_type]
    urgency = [Urgency.HOSPITAL_DISCHARGE, Urgency.ROUTINE, Urgency.AT_RISK][index % 3]
    received = today - timedelta(
        days=rng.randint(100, 420) if status == ReferralStatus.STARTED else rng.randint(0, 30)
    )
    if status == ReferralStatus.ACCEPTED:
        received = today - timedelta(days=rng.randint(2, 10))
    referral = services.referral_create(
        by=broker,
        client=client,
        service_type=service_type,
        urgency=urgency,
        needs_summary="Needs support with personal care, meals and medication.",
        requirement=f"{units} {unit}s a week" if unit != Unit.WEEK else "A placement",
        required_start=received + timedelta(days=rng.randint(1, 14)),
        proposed_funder=None if cohort == Cohort.SECTION_117 else funder,
        requested_by=rng.choice(REFERRERS),
        received_at=_at(received),
    )
    if status == ReferralStatus.RECEIVED:
        return
    services.referral_start_sourcing(referral=referral, by=broker)
    if status == ReferralStatus.SOURCING:
        return
    if status == ReferralStatus.CANCELLED:
        services.referral_cancel(referral=referral, by=broker, reason="The family arranged care privately")
        return
    card = cards[(service_type, rates.financial_year(referral.required_start))].unit_rate
    start = referral.required_start
    if status == ReferralStatus.ACCEPTED:
        start = today + timedelta(days=rng.randint(3, 20))
    below = services.offer_record(
        referral=referral,
        provider=provider_for(service_type),
        unit_rate=card - Decimal(rng.randint(0, 3)),
        units_per_week=units,
        unit=unit,
        earliest_start=start,
        by=broker,
    )
    above = services.offer_record(
        referral=referral,
        provider=provider_for(service_type),
        unit_rate=card + (card * Decimal("0.08")).quantize(Decimal("0.01")),
        units_per_week=units,
        unit=unit,
        earliest_start=start,
        by=broker,
    )
    if status == ReferralStatus.OFFERED:
        return
    chosen = below
    # Some placements only the dearer provider could take: approved above the card by a manager who
    # did not record the offer (nobody approves a price they recorded).
    if index % 4 == 0 and manager != broker:
        services.offer_approve(offer=above, by=manager)
        chosen = above
    if cohort == Cohort.SECTION_117:
        services.panel_decision_record(
            client=client,
            reference=f"JFP-{start:%y}-{client.pk:04d}",
            meeting_date=received + timedelta(days=1),
            effective_from=start,
            review_date=start + relativedelta(months=12),
            basis="s117",
            shares=[Share(council, Decimal("50")), Share(nhs, Decimal("50"))],
            by=manager,
        )
    package = services.offer_accept(offer=chosen, by=broker, start=start, today=today)
    if status == ReferralStatus.STARTED and (today - start).days > 90:
        # A price change after three months, and for some an uplift at the start of this year.
        change = services.price_change_propose(
            package=package,
            effective_from=start + timedelta(days=91),
            unit_rate=chosen.unit_rate + Decimal("0.75") * (1 if unit != Unit.WEEK else 40),
            units_per_week=units,
            unit=unit,
            reason="Uplift agreed with the provider after the first three months",
            by=broker,
        )
        # Above the rate card it waits for a manager (one in eight is left waiting, for the list).
        if change.is_pending and manager != broker and index % 8 != 4:
            services.price_change_approve(change=change, by=manager)
    if transfer and (today - start).days > 60:
        # Funded by the council while CHC eligibility was assessed, then transferred to the NHS.
        services.package_change_funding(
            package=package,
            effective_from=start + timedelta(days=42),
            shares=[Share(council, Decimal("0")), Share(nhs, Decimal("100"))],
            basis="chc_eligibility",
            decision_reference=f"CHC-{client.pk:05d}",
            by=broker,
        )


def _special_cases(rng, *, partnership, today, broker, manager, cards, provider_for, numbers, prefix) -> None:
    council, nhs = partnership.council, partnership.nhs_commissioner
    month_start = today.replace(day=1)
    previous_month = month_start - relativedelta(months=1)

    # A backdated panel decision: the panel met this month and moved a council-funded placement
    # to a 40/60 split from the start of last month, so the next recharge run adjusts last month.
    client = services.client_create(
        by=broker,
        partnership=partnership,
        nhs_number=next(numbers),
        case_reference=f"{prefix}-BD-001",
        given_name="Harold",
        family_name="Backdate",
        date_of_birth=_born(today, years=81),
        cohort=Cohort.ADULT_SOCIAL_CARE,
    )
    start = previous_month - relativedelta(months=4)
    package = _loaded_package(client, ServiceType.NURSING, start, cards, provider_for, broker, council)
    services.funding_split_add(
        package=package,
        effective_from=start,
        shares=[Share(council, Decimal("100"))],
        basis="single_funder",
        by=broker,
    )
    decision = services.panel_decision_record(
        client=client,
        reference=f"JFP-{today:%y}-BD01",
        meeting_date=max(month_start, today - timedelta(days=3)),
        effective_from=previous_month,
        review_date=today + relativedelta(months=6),
        shares=[Share(council, Decimal("40")), Share(nhs, Decimal("60"))],
        by=manager,
    )
    services.panel_decision_apply(decision=decision, package=package, by=manager)

    # One package with an unfunded gap: funded by the council, then nothing for two weeks of last
    # month while a panel was awaited, then 50/50 (the gap is reported, never billed).
    client = services.client_create(
        by=broker,
        partnership=partnership,
        nhs_number=next(numbers),
        case_reference=f"{prefix}-GAP-001",
        given_name="Gwen",
        family_name="Gapworth",
        date_of_birth=_born(today, years=67),
        cohort=Cohort.OTHER,
    )
    start = previous_month - relativedelta(months=2)
    package = _loaded_package(client, ServiceType.DOMICILIARY, start, cards, provider_for, broker, council)
    services.funding_split_add(
        package=package,
        effective_from=start,
        effective_to=previous_month + timedelta(days=4),
        shares=[Share(council, Decimal("100"))],
        basis="single_funder",
        by=broker,
    )
    gap_decision = services.panel_decision_record(
        client=client,
        reference=f"JFP-{today:%y}-GAP1",
        meeting_date=previous_month + timedelta(days=17),
        effective_from=previous_month + timedelta(days=19),
        review_date=today + relativedelta(months=6),
        shares=[Share(council, Decimal("50")), Share(nhs, Decimal("50"))],
        by=manager,
    )
    services.funding_split_add(
        package=package,
        effective_from=previous_month + timedelta(days=19),
        shares=[Share(council, Decimal("50")), Share(nhs, Decimal("50"))],
        basis="panel_decision",
        decision_reference=gap_decision.reference,
        by=broker,
    )
    # A panel decision due for review.
    services.panel_decision_record(
        client=client,
        reference=f"JFP-{today:%y}-RV01",
        meeting_date=today - relativedelta(months=7),
        effective_from=today - relativedelta(months=7),
        review_date=today - timedelta(days=5),
        shares=[Share(council, Decimal("50")), Share(nhs, Decimal("50"))],
        by=manager,
    )


def _loaded_package(client, service_type, start, cards, provider_for, broker, paying) -> Package:
    base, unit, units = BASE_PRICES[service_type]
    package = services.package_create(
        by=broker,
        client=client,
        provider=provider_for(service_type),
        service_type=service_type,
        start=start,
        paying_organisation=paying,
    )
    card = cards.get((service_type, rates.financial_year(start)))
    services.package_cost_add(
        package=package,
        effective_from=start,
        unit_rate=card.unit_rate if card else base,
        units_per_week=units,
        unit=unit,
        by=broker,
    )
    return package


def demo_step(ctx) -> None:
    """Adapter for ``commissioning.demo.DEMO_STEPS`` (a step takes the core's DemoContext)."""
    load(partnerships=ctx.partnerships, users=ctx.users, seed=ctx.seed, today=ctx.today)
