"""Demo data for the shared core: the reference data in ``fixtures/core.json`` plus a seeded generator.

``load_demo(seed=..., today=...)`` fills an empty database in one transaction with the three
partnerships of the seed papers, their people (named by role), one login per role, about fifteen
invented providers and about forty contracts with reviews. Everything generated is drawn from
``random.Random`` seeded by ``seed`` and dated relative to ``today``, so the same seed and the same
``today`` always give the same rows, and "contracts ending within 6 and 12 months" stays true
whenever the demo is loaded. Contracts and reviews are written through the core's services, so
their history rows name an acting user.

Domain apps add their own demo data by adding a step (``registry.add_demo_step``) in their
``AppConfig.ready()``: each step takes the ``DemoContext`` and should draw its randomness from
``ctx.rng("<step name>")`` so that adding a step never changes the rows of another, and wrap each
service call in ``acting(user)`` so its history names that user.

Providers, services and reviews are invented; any likeness to a real business is a coincidence.
"""

from __future__ import annotations

import json
import random
from calendar import monthrange
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pghistory
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from commissioning import choices, registry, roles
from commissioning.models import (
    Contract,
    Organisation,
    Partnership,
    PartnershipGrant,
    Person,
    Provider,
    User,
)
from commissioning.services import contract_create, contract_review_add

FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "core.json"
DEFAULT_SEED = 2021
DEMO_PASSWORD = "pooled-budget-demo"  # published on purpose: demo databases only, never production

# Steps domain apps register (AppConfig.ready) to add their own demo data after the core's.
# Each domain app adds its step in AppConfig.ready (``registry.add_demo_step``), in app order.
DEMO_STEPS: list[Callable[[DemoContext], None]] = registry.DEMO_STEPS


class DemoAlreadyLoaded(Exception):
    """The database already has partnerships; the demo fills only an empty database."""


@dataclass
class DemoContext:
    """What the core step made, for the steps of the domain apps to build on."""

    seed: int
    today: date
    reference: dict[str, Any]
    organisations: dict[str, Organisation] = field(default_factory=dict)  # by code
    partnerships: dict[str, Partnership] = field(default_factory=dict)  # by name
    people: dict[str, Person] = field(default_factory=dict)  # by name
    users: dict[str, User] = field(default_factory=dict)  # by username
    providers: list[Provider] = field(default_factory=list)
    provider_areas: dict[int, str] = field(default_factory=dict)  # provider pk -> partnership name
    contracts: list[Contract] = field(default_factory=list)

    def rng(self, name: str) -> random.Random:
        """A generator of its own for one step, seeded by the demo seed and the step's name."""
        return random.Random(f"{self.seed}:{name}")

    def commissioner_for(self, partnership: Partnership) -> User:
        """The demo commissioner who keeps the contract register of a partnership."""
        for spec in self.reference["users"]:
            if spec["role"] == roles.COMMISSIONER and spec["partnerships"] == [partnership.name]:
                return self.users[spec["username"]]
        raise LookupError(f"no demo commissioner for {partnership}")


def read_reference(path: Path = FIXTURE) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


@transaction.atomic
def load_demo(*, seed: int = DEFAULT_SEED, today: date | None = None) -> DemoContext:
    """Load the reference data and generate the demo around ``today``. One transaction."""
    if Partnership.objects.exists():
        raise DemoAlreadyLoaded("The database already has partnerships.")
    ctx = DemoContext(seed=seed, today=today or timezone.localdate(), reference=read_reference())
    with pghistory.context(source="load_demo", demo_seed=seed):
        _load_organisations(ctx)
        _load_partnerships(ctx)
        _load_people(ctx)
        _load_users(ctx)
        _generate_providers(ctx)
    # Not inside the block above: pghistory merges nested contexts into one row whose metadata the
    # last writer wins, so every contract would name the last acting user. Each service call gets
    # a context of its own instead (``acting``).
    _generate_contracts(ctx)
    _generate_reviews(ctx)
    for step in DEMO_STEPS:
        step(ctx)
    return ctx


def acting(user: User):
    """History context for one service call of the loader: names the acting user and the source."""
    return pghistory.context(source="load_demo", user=user.pk)


# --- Reference data -----------------------------------------------------------------------------


def _load_organisations(ctx: DemoContext) -> None:
    for spec in ctx.reference["organisations"]:
        organisation = Organisation(
            code=spec["code"],
            name=spec["name"],
            kind=spec["kind"],
            address=spec["address"],
            invoice_email=spec["invoice_email"],
            payment_terms_days=spec["payment_terms_days"],
        )
        organisation.full_clean()
        organisation.save()
        ctx.organisations[organisation.code] = organisation


def _load_partnerships(ctx: DemoContext) -> None:
    for spec in ctx.reference["partnerships"]:
        partnership = Partnership(
            name=spec["name"],
            council=ctx.organisations[spec["council"]],
            nhs_commissioner=ctx.organisations[spec["nhs_commissioner"]],
        )
        partnership.full_clean()
        partnership.save()
        ctx.partnerships[partnership.name] = partnership


def _load_people(ctx: DemoContext) -> None:
    for spec in ctx.reference["people"]:
        code = spec["organisation"]
        person = Person.objects.create(
            name=spec["name"],
            role_title=spec["role"],
            organisation=ctx.organisations[code] if code else None,
            email=f"{slugify(spec['name'])}@example.org",
        )
        ctx.people[person.name] = person


def _load_users(ctx: DemoContext) -> None:
    # Hash once: the hasher is slow on purpose, and every demo login shares the one password.
    password = make_password(DEMO_PASSWORD)
    groups = {group.name: group for group in Group.objects.filter(name__in=roles.ROLES)}
    for spec in ctx.reference["users"]:
        superuser = spec.get("superuser", False)
        places = spec["partnerships"]
        last_name = (
            spec["role"] if len(places) != 1 or places == ["Bromley"] else f"{spec['role']} ({places[0]})"
        )
        user = User.objects.create(
            username=spec["username"],
            password=password,
            first_name="Demo",
            last_name=last_name,
            email=f"{spec['username']}@example.org",
            job_title=spec["job_title"],
            organisation=ctx.organisations[spec["organisation"]],
            is_staff=superuser,
            is_superuser=superuser,
        )
        user.groups.add(groups[spec["role"]])
        for name in places:
            PartnershipGrant.objects.create(user=user, partnership=ctx.partnerships[name])
        if spec.get("person"):
            person = ctx.people[spec["person"]]
            person.user = user
            person.save(update_fields=["user"])
        ctx.users[user.username] = user


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, role, partnerships) of the demo users present in the database, in fixture order."""
    specs = read_reference()["users"]
    present = set(
        User.objects.filter(username__in=[s["username"] for s in specs]).values_list("username", flat=True)
    )
    rows = []
    for spec in specs:
        if spec["username"] in present:
            role = spec["role"] + (" (superuser)" if spec.get("superuser") else "")
            rows.append((spec["username"], role, ", ".join(spec["partnerships"])))
    return rows


def print_logins(stdout) -> None:
    """Write the table of demo logins to ``stdout`` (a stream or a command's OutputWrapper)."""
    rows = demo_logins()
    if not rows:
        stdout.write("No demo logins in this database.\n")
        return
    width_user = max(len("Username"), *(len(r[0]) for r in rows))
    width_role = max(len("Role"), *(len(r[1]) for r in rows))
    stdout.write(f"Demo logins (every account's password: {DEMO_PASSWORD})\n")
    stdout.write(f"  {'Username':<{width_user}}  {'Role':<{width_role}}  Partnerships\n")
    for username, role, partnerships in rows:
        stdout.write(f"  {username:<{width_user}}  {role:<{width_role}}  {partnerships}\n")


# --- Providers ----------------------------------------------------------------------------------

# Places of each partnership's area: (place, post town, postcode district).
PLACES = {
    "Bromley": [
        ("Ravensbourne", "Bromley", "BR1"),
        ("Shortlands", "Bromley", "BR2"),
        ("Beckenham", "Beckenham", "BR3"),
        ("Petts Wood", "Orpington", "BR5"),
        ("Orpington", "Orpington", "BR6"),
        ("Chislehurst", "Chislehurst", "BR7"),
        ("Biggin Hill", "Westerham", "TN16"),
        ("Crystal Palace", "London", "SE19"),
        ("Penge", "London", "SE20"),
        ("Hayes", "Bromley", "BR2"),
    ],
    "City of London": [
        ("Aldgate", "London", "EC3N"),
        ("Barbican", "London", "EC2Y"),
        ("Smithfield", "London", "EC1A"),
        ("Portsoken", "London", "EC3N"),
        ("Golden Lane", "London", "EC1Y"),
    ],
    "Barking & Dagenham": [
        ("Becontree", "Dagenham", "RM8"),
        ("Chadwell Heath", "Romford", "RM6"),
        ("Eastbrook", "Dagenham", "RM10"),
        ("Mayesbrook", "Barking", "IG11"),
        ("Castle Green", "Barking", "IG11"),
        ("Valence", "Dagenham", "RM8"),
        ("Thames View", "Barking", "IG11"),
    ],
}
PROVIDERS_PER_AREA = {"Bromley": 7, "City of London": 3, "Barking & Dagenham": 5}

S = choices.ServiceType
# (name pattern, code suffix, services offered, kind of organisation)
PROVIDER_KINDS = [
    ("{place} Home Care Ltd", "HC", [S.DOMICILIARY], choices.OrganisationKind.PROVIDER),
    (
        "{place} Care at Home Ltd",
        "CAH",
        [S.DOMICILIARY, S.SUPPORTED_LIVING],
        choices.OrganisationKind.PROVIDER,
    ),
    ("{place} Care Home Ltd", "CH", [S.RESIDENTIAL], choices.OrganisationKind.PROVIDER),
    ("{place} Nursing Home Ltd", "NH", [S.NURSING, S.RESIDENTIAL], choices.OrganisationKind.PROVIDER),
    (
        "{place} Lodge Nursing and Residential Care",
        "LNR",
        [S.NURSING, S.RESIDENTIAL],
        choices.OrganisationKind.PROVIDER,
    ),
    ("{place} Supported Living Ltd", "SL", [S.SUPPORTED_LIVING], choices.OrganisationKind.PROVIDER),
    ("{place} Housing and Support", "HS", [S.SUPPORTED_LIVING, S.OTHER], choices.OrganisationKind.VOLUNTARY),
    ("{place} Children's Homes Ltd", "CHL", [S.CHILDRENS_PLACEMENT], choices.OrganisationKind.PROVIDER),
    ("{place} Fostering Partnership", "FP", [S.CHILDRENS_PLACEMENT], choices.OrganisationKind.PROVIDER),
    (
        "{place} Independent Living Centre",
        "ILC",
        [S.DIRECT_PAYMENT, S.OTHER],
        choices.OrganisationKind.VOLUNTARY,
    ),
    ("{place} Carers Network", "CN", [S.OTHER], choices.OrganisationKind.VOLUNTARY),
]
# Every service type has at least one provider whatever the seed: these kinds always appear once.
ALWAYS = ["HC", "CH", "NH", "SL", "CHL", "ILC", "CN"]

STREETS = [
    "High Street",
    "Station Road",
    "Church Lane",
    "Park Avenue",
    "London Road",
    "Mill Lane",
    "The Parade",
    "Victoria Road",
    "Manor Way",
    "Queens Road",
]
CQC_RATING_WEIGHTS = {
    choices.CQCRating.OUTSTANDING: 2,
    choices.CQCRating.GOOD: 10,
    choices.CQCRating.REQUIRES_IMPROVEMENT: 3,
    choices.CQCRating.INADEQUATE: 1,
}
CQC_REGULATED = {S.DOMICILIARY, S.RESIDENTIAL, S.NURSING, S.SUPPORTED_LIVING}
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # letters used in the inward part of a postcode


def _choose(rng: random.Random, weights: dict) -> Any:
    options = list(weights)
    return rng.choices(options, weights=[weights[o] for o in options])[0]


def _generate_providers(ctx: DemoContext) -> None:
    rng = ctx.rng("providers")
    kinds = {kind[1]: kind for kind in PROVIDER_KINDS}
    total = sum(PROVIDERS_PER_AREA.values())
    plan = ALWAYS + rng.choices([k[1] for k in PROVIDER_KINDS], k=total - len(ALWAYS))
    rng.shuffle(plan)
    places = []
    for area, count in PROVIDERS_PER_AREA.items():
        places.extend((area, place) for place in rng.sample(PLACES[area], count))
    used_cqc_ids: set[str] = set()
    inadequate_seen = False
    for (area, (place, town, district)), kind_code in zip(places, plan, strict=True):
        pattern, suffix, services, org_kind = kinds[kind_code]
        name = pattern.format(place=place)
        organisation = Organisation(
            code=f"{place.upper().replace(' ', '')}-{suffix}",
            name=name,
            kind=org_kind,
            address=(
                f"{rng.randint(1, 240)} {rng.choice(STREETS)}\n{place}\n{town}\n"
                f"{district} {rng.randint(1, 9)}{rng.choice(_INWARD_LETTERS)}{rng.choice(_INWARD_LETTERS)}"
            ),
            invoice_email=f"accounts@{slugify(name.removesuffix(' Ltd'))}.example.org",
            payment_terms_days=rng.choice([14, 30, 30, 30]),
        )
        organisation.full_clean()
        organisation.save()
        if CQC_REGULATED.intersection(services):
            cqc_id = f"1-{rng.randrange(100_000_000, 10_000_000_000)}"
            while cqc_id in used_cqc_ids:
                cqc_id = f"1-{rng.randrange(100_000_000, 10_000_000_000)}"
            used_cqc_ids.add(cqc_id)
            rating = _choose(rng, CQC_RATING_WEIGHTS)
            if rating == choices.CQCRating.INADEQUATE and inadequate_seen:
                rating = choices.CQCRating.REQUIRES_IMPROVEMENT  # one failing provider is enough
            inadequate_seen |= rating == choices.CQCRating.INADEQUATE
            rating_date = ctx.today - timedelta(days=rng.randint(45, 900))
        else:  # children's homes answer to Ofsted; advice and carers' services are not registered
            cqc_id, rating, rating_date = "", choices.CQCRating.NOT_RATED, None
        if rating == choices.CQCRating.INADEQUATE:
            status = choices.ApprovedListStatus.SUSPENDED
        else:
            status = _choose(
                rng, {choices.ApprovedListStatus.APPROVED: 12, choices.ApprovedListStatus.PENDING: 1}
            )
        provider = Provider(
            organisation=organisation,
            cqc_location_id=cqc_id,
            cqc_rating=rating,
            cqc_rating_date=rating_date,
            service_types=[str(s) for s in services],
            approved_list_status=status,
        )
        provider.full_clean()
        provider.save()
        ctx.providers.append(provider)
        ctx.provider_areas[provider.pk] = area


# --- Contracts ----------------------------------------------------------------------------------

SERVICES = {
    S.DOMICILIARY: [
        "Home care framework (north)",
        "Home care framework (south)",
        "Reablement home care",
        "Extra care housing care and support",
        "Hospital discharge home care (discharge to assess)",
    ],
    S.RESIDENTIAL: [
        "Residential care block beds (older people)",
        "Dementia residential care",
        "Respite residential beds",
    ],
    S.NURSING: [
        "Nursing home block contract (discharge to assess)",
        "Step-down nursing beds",
        "Continuing healthcare nursing beds",
    ],
    S.SUPPORTED_LIVING: [
        "Supported living for adults with learning disabilities",
        "Mental health supported accommodation",
        "Section 117 aftercare supported living",
    ],
    S.CHILDRENS_PLACEMENT: [
        "Independent fostering agency call-off",
        "Children's residential placements",
        "Short breaks for disabled children",
    ],
    S.DIRECT_PAYMENT: ["Direct payments support service", "Personal assistant payroll service"],
    S.OTHER: [
        "Carers support service",
        "Advocacy hub (Care Act and IMHA)",
        "Hospital discharge sitting service",
        "Information and advice service",
    ],
}
# Annual values in pounds: (lowest, highest) for a Bromley-sized borough.
VALUE_RANGES = {
    S.DOMICILIARY: (800_000, 4_500_000),
    S.RESIDENTIAL: (400_000, 2_500_000),
    S.NURSING: (600_000, 3_000_000),
    S.SUPPORTED_LIVING: (300_000, 2_000_000),
    S.CHILDRENS_PLACEMENT: (250_000, 1_800_000),
    S.DIRECT_PAYMENT: (60_000, 300_000),
    S.OTHER: (25_000, 400_000),
}
VALUE_SCALE = {"Bromley": 100, "City of London": 15, "Barking & Dagenham": 80}  # percent
NHS_LED = {S.NURSING: 6, S.SUPPORTED_LIVING: 3, S.CHILDRENS_PLACEMENT: 2}  # in 10: NHS commissioner leads

# How many contracts of each partnership end when. "6" ends within 6 months of today, "12" after
# 6 and within 12 months, "later" after that; "ended" is past; "pipeline" is still in procurement.
CONTRACT_PLAN = {
    "Bromley": {"6": 4, "12": 4, "later": 9, "ended": 2, "pipeline": 1},
    "City of London": {"6": 2, "12": 2, "later": 3, "ended": 1, "pipeline": 0},
    "Barking & Dagenham": {"6": 2, "12": 3, "later": 6, "ended": 1, "pipeline": 0},
}
# Months after this month in which a contract of each horizon ends (on the month's last day).
END_MONTHS = {"6": (1, 5), "12": (7, 11), "later": (13, 48), "ended": (-12, -1)}
EXTENSION_OPTIONS = [
    "",
    "One further period of 12 months",
    "Two further periods of 12 months",
    "Up to 24 months in total",
    "One further period of 6 months",
]
ROUTES = {
    choices.ProcurementRoute.OPEN: 4,
    choices.ProcurementRoute.FRAMEWORK: 3,
    choices.ProcurementRoute.COMPETITIVE_FLEXIBLE: 1,
    choices.ProcurementRoute.RESTRICTED: 1,
    choices.ProcurementRoute.DIRECT_AWARD: 1,
    choices.ProcurementRoute.SPOT: 1,
}


def _month_end(day: date, months_ahead: int) -> date:
    first = day.replace(day=1) + relativedelta(months=months_ahead)
    return first.replace(day=monthrange(first.year, first.month)[1])


def _generate_contracts(ctx: DemoContext) -> None:
    rng = ctx.rng("contracts")
    brokerage_manager = ctx.users["brokerage_manager"]
    for spec in ctx.reference["partnerships"]:
        partnership = ctx.partnerships[spec["name"]]
        commissioner = ctx.commissioner_for(partnership)
        horizons = [h for h, n in CONTRACT_PLAN[partnership.name].items() for _ in range(n)]
        rng.shuffle(horizons)
        drafts = [_draft_contract(ctx, rng, partnership, horizon) for horizon in horizons]
        drafts.sort(key=lambda d: (d["start"], d["service"]))
        for number, draft in enumerate(drafts, start=1):
            draft["reference"] = f"{spec['contract_prefix']}-{draft['start'].year}-{number:03d}"
            placement = draft["service_type"] in (S.RESIDENTIAL, S.NURSING, S.DOMICILIARY)
            if rng.random() < 0.08:
                manager = None  # a gap in the register the dashboard should show
            elif partnership.name == "Bromley" and placement and rng.random() < 0.4:
                manager = brokerage_manager
            else:
                manager = commissioner
            associates = draft.pop("associates")
            with acting(commissioner):
                contract = contract_create(
                    by=commissioner,
                    partnership=partnership,
                    contract_manager=manager,
                    associate_commissioners=associates,
                    **draft,
                )
            ctx.contracts.append(contract)


def _draft_contract(ctx: DemoContext, rng: random.Random, partnership: Partnership, horizon: str) -> dict:
    today = ctx.today
    service_type = rng.choice(list(SERVICES))
    candidates = [p for p in ctx.providers if service_type in p.service_types]
    weights = [3 if ctx.provider_areas[p.pk] == partnership.name else 1 for p in candidates]
    provider = rng.choices(candidates, weights=weights)[0]
    status = choices.ContractStatus.LIVE
    extension = rng.choice(EXTENSION_OPTIONS)
    notes = ""
    if horizon == "pipeline":
        start = today.replace(day=1) + relativedelta(months=rng.randint(2, 5))
        end = start + relativedelta(years=rng.choice([2, 3, 3, 4, 5])) - timedelta(days=1)
        status = choices.ContractStatus.PIPELINE
        notes = "Tender evaluation under way; award report due to the board."
    else:
        end = _month_end(today, rng.randint(*END_MONTHS[horizon]))
        # A term of 2 to 5 years that has already started (5 years always has: ends are <= 4 years away).
        terms = [t for t in (2, 3, 3, 4, 5) if end + timedelta(days=1) - relativedelta(years=t) <= today]
        start = end + timedelta(days=1) - relativedelta(years=rng.choice(terms))
        if horizon == "ended":
            status = choices.ContractStatus.ENDED
            notes = "Service recommissioned; final reconciliation agreed."
        elif rng.random() < 0.2:
            status = choices.ContractStatus.EXTENDED
            notes = "Extension taken by decision of the board; no further extension available."
            extension = ""
    lowest, highest = VALUE_RANGES[service_type]
    pounds = rng.randrange(lowest, highest, 100) * VALUE_SCALE[partnership.name] // 100
    value = Decimal(pounds // 100 * 100).quantize(Decimal("0.01"))
    nhs_leads = rng.randrange(10) < NHS_LED.get(service_type, 1)
    lead, other = (
        (partnership.nhs_commissioner, partnership.council)
        if nhs_leads
        else (partnership.council, partnership.nhs_commissioner)
    )
    voluntary = provider.organisation.kind == choices.OrganisationKind.VOLUNTARY
    if voluntary:
        route = choices.ProcurementRoute.GRANT
    elif nhs_leads and rng.random() < 0.5:
        route = choices.ProcurementRoute.PROVIDER_SELECTION
    else:
        route = _choose(rng, ROUTES)
    return {
        "service": rng.choice(SERVICES[service_type]),
        "service_type": service_type,
        "provider": provider,
        "lead_commissioner": lead,
        "associates": [other] if rng.random() < 0.35 else [],
        "annual_value": value,
        "start": start,
        "end": end,
        "extension_options": extension,
        "procurement_route": route,
        "status": status,
        "notes": notes,
    }


# --- Contract reviews ---------------------------------------------------------------------------

REVIEW_NOTES = {
    choices.RAG.GREEN: [
        "Performance on target; all KPIs met this quarter.",
        "Quality monitoring visit found no concerns.",
        "Spend within contract value; outcome returns on time.",
    ],
    choices.RAG.AMBER: [
        "Missed visits above threshold in two months; improvement plan agreed.",
        "Staff turnover rising; recruitment and retention plan requested.",
        "Quarterly monitoring returns submitted late.",
    ],
    choices.RAG.RED: [
        "CQC rating fell; new placements paused pending an action plan.",
        "Safeguarding concerns raised; provider under enhanced monitoring.",
        "Capacity shortfall delaying hospital discharges; escalated to the board.",
    ],
}
RAG_WEIGHTS = {choices.RAG.GREEN: 6, choices.RAG.AMBER: 3, choices.RAG.RED: 1}
RAG_WEIGHTS_POOR_PROVIDER = {choices.RAG.GREEN: 1, choices.RAG.AMBER: 3, choices.RAG.RED: 3}


def _generate_reviews(ctx: DemoContext) -> None:
    rng = ctx.rng("reviews")
    poor = {choices.CQCRating.INADEQUATE, choices.CQCRating.REQUIRES_IMPROVEMENT}
    for contract in ctx.contracts:
        if contract.status == choices.ContractStatus.PIPELINE:
            continue
        last = min(ctx.today, contract.end)
        weights = RAG_WEIGHTS_POOR_PROVIDER if contract.provider.cqc_rating in poor else RAG_WEIGHTS
        by = contract.contract_manager or ctx.commissioner_for(contract.partnership)
        dates = []
        for quarter in range(rng.randint(0, 4)):
            review_date = last - relativedelta(months=3 * quarter) - timedelta(days=rng.randint(3, 25))
            if review_date > contract.start:
                dates.append(review_date)
        for review_date in sorted(dates):
            rag = _choose(rng, weights)
            with acting(by):
                contract_review_add(
                    contract=contract,
                    by=by,
                    review_date=review_date,
                    rag_rating=rag,
                    notes=rng.choice(REVIEW_NOTES[rag]),
                )
