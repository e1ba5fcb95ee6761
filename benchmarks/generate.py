"""Seeded, deterministic scale data: ``tiny``, ``borough`` and ``region`` (quality.md, issue 7).

A *borough* is one partnership (a council and an NHS commissioner) with about 5,000 clients,
8,000 packages with three years of prices (an uplift every April, some mid-year changes) and
funding splits (single funder, section 117 50/50, panel splits, CHC transfers from the council to
the NHS, a few unfunded gaps), open referrals with offers for the queue, 40 budget schedules with
three years of lines and monthly positions, 30 boards with two years of monthly meetings, agenda
items and decisions, and the invoices of every month before the benchmark's period, issued and
numbered, whose lines are exactly what rule 1 says was owed (computed in the database by
``benchmarks.reference``), so a recharge run for the period bills that month alone.

A *region* is ten boroughs in one database. ``generate(size, seed, today)`` adds the boroughs
of the size that are not there yet, so a borough database grows into a region by running the region
size on it.

Everything is drawn from ``random.Random(f"{seed}:{borough}:{part}")`` and dated from ``today``:
the same seed and ``today`` give the same rows. Rows go in with ``COPY`` with every trigger and
constraint on (``benchmarks.copy``); ids come from the tables' own sequences.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from django.contrib.auth.models import Group
from django.db import connection, transaction

from brokerage.nhs_number import numbers_in_test_range
from brokerage.recharges import month_end, month_start
from commissioning import roles
from commissioning.models import Organisation, Partnership, PartnershipGrant, User

from . import reference
from .copy import copy_checked, copy_rows, immediate_constraints, reserve_ids, verify

PENNY = Decimal("0.01")


@dataclass(frozen=True)
class Size:
    boroughs: int
    clients: int
    packages: int
    open_referrals: int
    providers: int
    schedules: int  # per borough, in agreements of ten
    boards: int
    meeting_months: int = 24
    history_months: int = 36


SIZES = {
    "tiny": Size(
        boroughs=1,
        clients=40,
        packages=70,
        open_referrals=12,
        providers=6,
        schedules=2,
        boards=2,
        meeting_months=4,
        history_months=14,
    ),
    "borough": Size(
        boroughs=1, clients=5000, packages=8000, open_referrals=600, providers=40, schedules=40, boards=30
    ),
    "region": Size(
        boroughs=10, clients=5000, packages=8000, open_referrals=600, providers=40, schedules=40, boards=30
    ),
}

SERVICES = {
    # service type: (unit rate in the first year, unit, (fewest, most) units a week)
    "domiciliary": (Decimal("21.50"), "hour", (7, 28)),
    "residential": (Decimal("780.00"), "week", (1, 1)),
    "nursing": (Decimal("960.00"), "week", (1, 1)),
    "supported_living": (Decimal("19.80"), "hour", (20, 45)),
    "childrens_placement": (Decimal("3650.00"), "week", (1, 1)),
    "direct_payment": (Decimal("16.20"), "hour", (6, 20)),
    "other": (Decimal("95.00"), "night", (1, 4)),
}
COHORT_SERVICES = {
    "adult_social_care": ["domiciliary", "residential", "direct_payment"],
    "children_looked_after": ["childrens_placement"],
    "continuing_healthcare": ["nursing", "domiciliary"],
    "childrens_continuing_care": ["childrens_placement", "other"],
    "section_117": ["supported_living", "residential"],
    "other": ["other", "domiciliary"],
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
]
FAMILY = [
    "Abbott",
    "Baptiste",
    "Chowdhury",
    "Dlamini",
    "Evans",
    "Greenwood",
    "Hussain",
    "Ibekwe",
    "Mensah",
    "Patel",
    "Rahman",
]
BOARD_KINDS = [
    "Health and Wellbeing Board",
    "Joint Commissioning Board",
    "Place Partnership Board",
    "Finance and Performance Committee",
    "Quality Committee",
]


def money(value) -> Decimal:
    return Decimal(value).quantize(PENNY, rounding=ROUND_HALF_UP)


def financial_year(day: date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def period_for(today: date) -> date:
    """The month a bench run bills: the last complete month before ``today``."""
    return month_start(today) - relativedelta(months=1)


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@dataclass
class Borough:
    index: int
    seed: int
    today: date
    size: Size
    partnership: Partnership = None
    council: Organisation = None
    nhs: Organisation = None
    providers: list = field(default_factory=list)  # (provider id, organisation name, service types)
    timings: dict = field(default_factory=dict)

    def rng(self, part: str) -> random.Random:
        return random.Random(f"{self.seed}:{self.index}:{part}")

    @property
    def code(self) -> str:
        return f"B{self.index + 1:02d}"

    @property
    def name(self) -> str:
        return f"Scale borough {self.index + 1:02d}"


# --- Entry point --------------------------------------------------------------------------------


def generate(*, size: str = "borough", seed: int = 1, today: date | None = None, log=None) -> dict:
    """Add the boroughs of ``size`` missing from the database; returns what was loaded and timings."""
    spec = SIZES[size]
    today = today or date.today()
    loaded = []
    started = time.perf_counter()
    _ensure_users()
    for index in range(spec.boroughs):
        borough = Borough(index=index, seed=seed, today=today, size=spec)
        if Partnership.objects.filter(name=borough.name).exists():
            continue
        t0 = time.perf_counter()
        with transaction.atomic():
            _load_borough(borough)
        loaded.append(
            {"borough": borough.name, "seconds": round(time.perf_counter() - t0, 2), "parts": borough.timings}
        )
        if log:
            log(f"{borough.name}: {time.perf_counter() - t0:.1f} s {borough.timings}")
    with connection.cursor() as cursor:
        # Tables as autovacuum leaves them after a bulk load: fresh statistics and the visibility
        # map set, so index-only scans (the invoices list's line counts) read no table pages.
        # VACUUM cannot run in a transaction (the tests' load): statistics only there.
        cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")
    return {
        "size": size,
        "seed": seed,
        "today": today.isoformat(),
        "loaded": loaded,
        "seconds": round(time.perf_counter() - started, 2),
    }


BENCH_USERS = {
    "bench_broker": roles.BROKER,
    "bench_finance": roles.FINANCE_OFFICER,
    "bench_commissioner": roles.COMMISSIONER,
    "bench_secretary": roles.BOARD_SECRETARY,
}


def _ensure_users() -> None:
    groups = {g.name: g for g in Group.objects.filter(name__in=BENCH_USERS.values())}
    for username, role in BENCH_USERS.items():
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": "Bench", "last_name": role, "email": ""}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            user.groups.add(groups[role])


def _load_borough(b: Borough) -> None:
    steps = [
        ("core", _core),
        ("clients", _clients),
        ("packages", _packages),
        ("referrals", _referrals),
        ("governance", _governance),
        ("budgets", _budgets),
        ("invoices", _invoice_history),
    ]
    for name, step in steps:
        t0 = time.perf_counter()
        step(b)
        b.timings[name] = round(time.perf_counter() - t0, 2)


# --- Core: organisations, partnership, providers, rate cards ------------------------------------


def _core(b: Borough) -> None:
    rng = b.rng("core")
    council = Organisation.objects.create(
        code=f"{b.code}LA",
        name=f"Scale Borough {b.index + 1:02d} Council",
        kind="council",
        address=f"Town Hall\nScale Borough {b.index + 1:02d}",
        invoice_email="accounts@council.example.org",
    )
    nhs = Organisation.objects.create(
        code=f"{b.code}ICB",
        name=f"Scale Borough {b.index + 1:02d} ICB place",
        kind="nhs_commissioner",
        address=f"ICB offices\nScale Borough {b.index + 1:02d}",
        invoice_email="finance@icb.example.org",
    )
    b.council, b.nhs = council, nhs
    b.partnership = Partnership.objects.create(name=b.name, council=council, nhs_commissioner=nhs)
    for user in User.objects.filter(username__in=BENCH_USERS):
        PartnershipGrant.objects.create(user=user, partnership=b.partnership)
    kinds = list(SERVICES)
    first = reserve_ids("commissioning_organisation", b.size.providers)
    orgs, providers = [], []
    for n in range(b.size.providers):
        offered = sorted({kinds[n % len(kinds)], kinds[(n + 3) % len(kinds)]})
        name = f"{b.code} Provider {n + 1:03d} Care Ltd"
        orgs.append(
            (first + n, f"{b.code}-P{n + 1:03d}", name, "provider", f"{n + 1} High Street", "", 30, True)
        )
        cqc = f"1-{b.index + 1:02d}{n + 1:07d}"
        providers.append(
            (
                first + n,
                cqc,
                rng.choice(["good", "good", "outstanding", "requires_improvement"]),
                b.today - timedelta(days=rng.randint(30, 900)),
                offered,
                "approved",
            )
        )
        b.providers.append((first + n, name, offered))
    copy_rows(
        "commissioning_organisation",
        ["id", "code", "name", "kind", "address", "invoice_email", "payment_terms_days", "active"],
        orgs,
    )
    provider_first = reserve_ids("commissioning_provider", len(providers))
    copy_rows(
        "commissioning_provider",
        [
            "id",
            "organisation_id",
            "cqc_location_id",
            "cqc_rating",
            "cqc_rating_date",
            "service_types",
            "approved_list_status",
        ],
        [(provider_first + i, *row) for i, row in enumerate(providers)],
    )
    b.providers = [(provider_first + i, name, offered) for i, (_, name, offered) in enumerate(b.providers)]
    years = range(financial_year(period_for(b.today)) - 3, financial_year(b.today) + 1)
    cards = []
    for offset, year in enumerate(years):
        for service, (rate, unit, _units) in SERVICES.items():
            cards.append((b.partnership.pk, service, year, money(rate * Decimal("1.03") ** offset), unit))
    copy_rows("brokerage_ratecard", ["partnership_id", "service_type", "year", "unit_rate", "unit"], cards)


# --- Clients ------------------------------------------------------------------------------------

_NHS_NUMBERS: list[str] = []


def _clients(b: Borough) -> None:
    rng = b.rng("clients")
    if len(_NHS_NUMBERS) < b.size.clients:
        _NHS_NUMBERS[:] = numbers_in_test_range(b.size.clients)
    cohorts = list(COHORT_SERVICES)
    first = reserve_ids("brokerage_client", b.size.clients)
    b.clients = []  # (id, cohort, case reference, nhs number)
    rows = []
    created = _at(b.today - timedelta(days=1200))
    for n in range(b.size.clients):
        cohort = cohorts[n % len(cohorts)] if n < len(cohorts) else rng.choice(cohorts)
        child = cohort in ("children_looked_after", "childrens_continuing_care")
        born = b.today - timedelta(days=365 * (rng.randint(3, 16) if child else rng.randint(24, 96)))
        ref = f"{b.code}-{100000 + n}"
        rows.append(
            (
                first + n,
                b.partnership.pk,
                _NHS_NUMBERS[n],
                ref,
                rng.choice(GIVEN),
                rng.choice(FAMILY),
                born,
                cohort,
                "High Street Surgery",
                b.name,
                created,
            )
        )
        b.clients.append((first + n, cohort, ref, _NHS_NUMBERS[n]))
    copy_rows(
        "brokerage_client",
        [
            "id",
            "partnership_id",
            "nhs_number",
            "case_reference",
            "given_name",
            "family_name",
            "date_of_birth",
            "cohort",
            "gp_practice",
            "resident_borough",
            "created_at",
        ],
        rows,
    )


# --- Packages with their cost and funding histories ---------------------------------------------


def _april_firsts(start: date, stop: date) -> list[date]:
    out, year = [], financial_year(start) + 1
    while date(year, 4, 1) <= stop:
        out.append(date(year, 4, 1))
        year += 1
    return out


def _packages(b: Borough) -> None:
    rng = b.rng("packages")
    period = period_for(b.today)
    period_end = month_end(period)
    earliest = period - relativedelta(months=b.size.history_months - 1)
    span = (period_end - earliest).days
    council, nhs = b.council.pk, b.nhs.pk
    by_service: dict[str, list[int]] = {}
    for pid, _name, offered in b.providers:
        for s in offered:
            by_service.setdefault(s, []).append(pid)
    first = reserve_ids("brokerage_package", b.size.packages)
    packages, costs, splits, shares = [], [], [], []
    b.packages = []
    for n in range(b.size.packages):
        client = b.clients[n] if n < len(b.clients) else rng.choice(b.clients)
        service = rng.choice(COHORT_SERVICES[client[1]])
        start = earliest + timedelta(days=rng.randint(0, span))
        end = None
        if rng.random() < 0.25:
            candidate = start + timedelta(days=rng.randint(30, 700))
            end = candidate if candidate < b.today else None
        pattern = rng.choices(["single", "s117", "panel", "chc", "gap"], weights=[48, 20, 20, 10, 2])[0]
        if client[1] == "section_117" and pattern == "single":
            pattern = "s117"
        payer = council
        if pattern in ("s117", "panel") and rng.random() < 0.3 or pattern == "single" and rng.random() < 0.35:
            payer = nhs
        package_id = first + n
        status = "ended" if end is not None and end < b.today else "active"
        packages.append(
            (
                package_id,
                client[0],
                rng.choice(by_service[service]),
                service,
                start,
                end,
                payer,
                None,
                status,
                1,
                _at(start - timedelta(days=3)),
            )
        )
        b.packages.append((package_id, payer, start, end))
        # Costs: the first price, an uplift every 1 April, and a mid-year change for some.
        rate, unit, (lo, hi) = SERVICES[service]
        card = money(rate * Decimal("1.03") ** (financial_year(start) - financial_year(earliest)))
        unit_rate = money(card * Decimal(rng.randint(95, 108)) / 100)
        units = Decimal(rng.randint(lo, hi))
        stop = end or period_end
        changes = _april_firsts(start, stop)
        if rng.random() < 0.15 and (stop - start).days > 60:
            changes.append(start + timedelta(days=rng.randint(30, (stop - start).days)))
        changes = sorted(set(changes))
        rows = [(start, unit_rate, units)]
        for day in changes:
            prev_rate, prev_units = rows[-1][1], rows[-1][2]
            if day.month == 4 and day.day == 1:  # the yearly uplift
                rows.append((day, money(prev_rate * Decimal("1.03")), prev_units))
            elif unit == "week":  # a placement's weekly price renegotiated
                rows.append((day, prev_rate + Decimal("40.00"), prev_units))
            else:  # one more hour (or night) a week
                rows.append((day, prev_rate, prev_units + 1))
        for i, (day, r, u) in enumerate(rows):
            to = rows[i + 1][0] - timedelta(days=1) if i + 1 < len(rows) else end
            costs.append((package_id, day, to, r, u, unit))
        # Funding splits: adjacent splits always differ in their shares.
        plan = _split_plan(rng, pattern, payer, council, nhs, start, end)
        for s_from, s_to, basis, ref, funders in plan:
            splits.append((package_id, s_from, s_to, basis, ref, funders))
    copy_rows(
        "brokerage_package",
        [
            "id",
            "client_id",
            "provider_id",
            "service_type",
            "start",
            "end",
            "paying_organisation_id",
            "referral_id",
            "status",
            "version",
            "created_at",
        ],
        packages,
    )
    # The no-overlap triggers of costs and splits stay on (per row, as for a service's write); only
    # the shares-sum-to-100 pair, which cannot hold until the shares are in, is checked set-based.
    cost_first = reserve_ids("brokerage_packagecost", len(costs))
    copy_rows(
        "brokerage_packagecost",
        ["id", "package_id", "effective_from", "effective_to", "unit_rate", "units_per_week", "unit"],
        [(cost_first + i, *row) for i, row in enumerate(costs)],
    )
    split_first = reserve_ids("brokerage_fundingsplit", len(splits))
    split_rows = []
    for i, (package_id, s_from, s_to, basis, ref, funders) in enumerate(splits):
        split_rows.append((split_first + i, package_id, s_from, s_to, basis, ref))
        shares.extend((split_first + i, org, pct) for org, pct in funders)
    copy_checked(
        "brokerage_fundingsplit",
        ["id", "package_id", "effective_from", "effective_to", "basis", "decision_reference"],
        split_rows,
        first_id=split_first,
        checks=["brokerage_fundingsplit_shares"],
    )
    copy_checked(
        "brokerage_fundingshare",
        ["split_id", "organisation_id", "percent"],
        shares,
        first_id=split_first,
        checks=["brokerage_fundingshare"],
    )
    verify("brokerage_fundingshare", first_id=split_first)
    b.counts = {"packages": len(packages), "costs": len(costs), "splits": len(splits), "shares": len(shares)}


def _split_plan(rng, pattern, payer, council, nhs, start, end):
    """[(from, to, basis, decision reference, [(funder, percent)])] for one package."""
    hundred, zero = Decimal("100"), Decimal("0")
    other = nhs if payer == council else council
    length = ((end or start + timedelta(days=10_000)) - start).days
    if pattern == "s117":
        return [(start, end, "s117", "", [(council, Decimal("50")), (nhs, Decimal("50"))])]
    if pattern == "panel":
        mine = Decimal(rng.choice([30, 40, 60, 70]))
        ref = f"JFP-{start:%y}-{rng.randint(1, 999):03d}"
        return [(start, end, "panel_decision", ref, [(payer, mine), (other, hundred - mine)])]
    if pattern == "chc" and payer == council and length > 60:
        cut = start + timedelta(days=42)
        return [
            (start, cut - timedelta(days=1), "single_funder", "", [(council, hundred)]),
            (
                cut,
                end,
                "chc_eligibility",
                f"CHC-{rng.randint(1, 99999):05d}",
                [(council, zero), (nhs, hundred)],
            ),
        ]
    if pattern == "gap" and length > 60:
        return [
            (start, start + timedelta(days=19), "single_funder", "", [(payer, hundred)]),
            (
                start + timedelta(days=30),
                end,
                "panel_decision",
                "JFP-GAP",
                [(council, Decimal("50")), (nhs, Decimal("50"))],
            ),
        ]
    return [(start, end, "single_funder", "", [(payer, hundred)])]


# --- Open referrals with offers (the queue) -----------------------------------------------------


def _referrals(b: Borough) -> None:
    rng = b.rng("referrals")
    broker = User.objects.get(username="bench_broker")
    first = reserve_ids("brokerage_referral", b.size.open_referrals)
    referrals, activities, offers = [], [], []
    providers = [p[0] for p in b.providers]
    for n in range(b.size.open_referrals):
        client = rng.choice(b.clients)
        service = rng.choice(COHORT_SERVICES[client[1]])
        received = b.today - timedelta(days=rng.randint(0, 40), hours=rng.randint(0, 8))
        status = rng.choices(["received", "sourcing", "offered"], weights=[4, 3, 3])[0]
        urgency = rng.choices(["routine", "hospital_discharge", "at_risk"], weights=[6, 3, 1])[0]
        sourcing = _at(received + timedelta(days=1)) if status != "received" else None
        offered = _at(received + timedelta(days=3)) if status == "offered" else None
        referrals.append(
            (
                first + n,
                client[0],
                service,
                "Needs support with personal care.",
                "As assessed",
                received + timedelta(days=7),
                urgency,
                None,
                "Hospital discharge team",
                broker.pk if status != "received" else None,
                status,
                _at(received),
                sourcing,
                offered,
                None,
                None,
                None,
                "",
                1,
            )
        )
        activities.append((first + n, _at(received), None, "received", ""))
        if sourcing:
            activities.append((first + n, sourcing, broker.pk, "sourcing", ""))
        if offered:
            rate, unit, (lo, _hi) = SERVICES[service]
            for k in range(2):
                offers.append(
                    (
                        first + n,
                        rng.choice(providers),
                        money(rate * Decimal(100 + 8 * k) / 100),
                        Decimal(lo),
                        unit,
                        received + timedelta(days=10),
                        "received",
                        "",
                        "",
                        None,
                        None,
                        broker.pk,
                        offered,
                    )
                )
    copy_rows(
        "brokerage_referral",
        [
            "id",
            "client_id",
            "service_type",
            "needs_summary",
            "requirement",
            "required_start",
            "urgency",
            "proposed_funder_id",
            "requested_by",
            "assigned_to_id",
            "status",
            "received_at",
            "sourcing_at",
            "offered_at",
            "accepted_at",
            "started_at",
            "cancelled_at",
            "cancel_reason",
            "version",
        ],
        referrals,
    )
    copy_rows("brokerage_referralactivity", ["referral_id", "at", "by_id", "kind", "text"], activities)
    copy_rows(
        "brokerage_offer",
        [
            "referral_id",
            "provider_id",
            "unit_rate",
            "units_per_week",
            "unit",
            "earliest_start",
            "status",
            "notes",
            "decline_reason",
            "approved_by_id",
            "approved_at",
            "recorded_by_id",
            "created_at",
        ],
        offers,
    )


# --- Governance: boards, two years of meetings, agenda items and decisions -----------------------


def _governance(b: Borough) -> None:
    rng = b.rng("governance")
    people_first = reserve_ids("commissioning_person", 40)
    copy_rows(
        "commissioning_person",
        ["id", "name", "role_title", "organisation_id", "email", "user_id"],
        [
            (
                people_first + n,
                f"{b.code} Member {n + 1:02d}",
                "Board member",
                (b.council.pk, b.nhs.pk)[n % 2],
                "",
                None,
            )
            for n in range(40)
        ],
    )
    board_first = reserve_ids("governance_board", b.size.boards)
    boards, memberships = [], []
    for n in range(b.size.boards):
        boards.append(
            (
                board_first + n,
                b.partnership.pk,
                f"{b.code} {BOARD_KINDS[n % len(BOARD_KINDS)]} {n + 1}",
                f"{b.code}X{n + 1:02d}",
                True,
                False,
                3,
                1,
                "majority",
                False,
                None,
                None,
                None,
                "",
            )
        )
        for k in range(8):
            person = people_first + (n * 3 + k) % 40
            memberships.append(
                (
                    board_first + n,
                    person,
                    "chair" if k == 0 else "member",
                    True,
                    (b.council.pk, b.nhs.pk)[person % 2],
                    b.today - timedelta(days=900),
                    None,
                )
            )
    copy_rows(
        "governance_board",
        [
            "id",
            "partnership_id",
            "name",
            "code",
            "meets_in_public",
            "council_executive",
            "quorum_min_voting",
            "quorum_min_per_partner",
            "voting_mode",
            "chair_has_casting_vote",
            "delegated_limit",
            "key_decision_threshold",
            "parent_id",
            "terms_of_reference",
        ],
        boards,
    )
    copy_rows(
        "governance_membership",
        ["board_id", "person_id", "role", "voting", "representing_id", "start", "end"],
        memberships,
    )
    b.boards = [row[0] for row in boards]
    meetings, items, decisions = [], [], []
    months = b.size.meeting_months
    meeting_first = reserve_ids("governance_meeting", b.size.boards * months)
    item_first = reserve_ids("governance_agendaitem", b.size.boards * months * 6)
    titles = [
        "Apologies and substitutes",
        "Declarations of interest",
        "Minutes of the last meeting",
        "Better Care Fund quarterly return",
        "Pooled budget monitoring",
        "Market position statement",
    ]
    standing = ["apologies", "declarations", "previous_minutes", "none", "none", "none"]
    m_id, i_id = meeting_first, item_first
    for n, board in enumerate(b.boards):
        code = boards[n][3]
        counter: dict[int, int] = {}
        for k in range(months):
            day = month_start(b.today) - relativedelta(months=months - 3 - k) + timedelta(days=(n % 20) + 1)
            held = day < b.today
            meetings.append(
                (m_id, board, _at(day, 14), "Civic Centre", "minutes_approved" if held else "scheduled")
            )
            for order in range(6):
                exempt = order == 5 and rng.random() < 0.1
                items.append(
                    (
                        i_id,
                        m_id,
                        order + 1,
                        str(order + 1),
                        "",
                        titles[order],
                        "decision" if order >= 3 else "noting",
                        "",
                        standing[order],
                        "schedule_12a" if exempt else "none",
                        3 if exempt else None,
                        "Commercially sensitive" if exempt else "",
                        None,
                        None,
                    )
                )
                if held and order in (3, 4):
                    year = financial_year(day)
                    counter[year] = counter.get(year, 0) + 1
                    decisions.append(
                        (
                            i_id,
                            f"{code}/{year % 100:02d}/{counter[year]:03d}",
                            "",
                            f"The board approved the {titles[order].lower()}.",
                            "",
                            "",
                            rng.choice(["approved", "approved", "noted", "deferred"]),
                            True,
                            money(rng.randint(10_000, 900_000)),
                            False,
                            False,
                            "",
                            day,
                            day,
                            None,
                            None,
                            "",
                            "",
                            True,
                            "",
                            1,
                        )
                    )
                i_id += 1
            m_id += 1
    copy_rows("governance_meeting", ["id", "board_id", "starts_at", "venue", "status"], meetings)
    copy_rows(
        "governance_agendaitem",
        [
            "id",
            "meeting_id",
            "order",
            "item_number",
            "enclosure_number",
            "title",
            "purpose",
            "presenter",
            "standing_kind",
            "exemption_regime",
            "exemption_paragraph",
            "exemption_reason",
            "paper_id",
            "supplement_number",
        ],
        items,
    )
    copy_rows(
        "governance_decision",
        [
            "agenda_item_id",
            "reference",
            "minute_number",
            "resolution",
            "reasons",
            "alternatives_rejected",
            "outcome",
            "quorate",
            "financial_value",
            "key_decision",
            "urgent",
            "urgent_reason",
            "decided_on",
            "published_on",
            "call_in_ends",
            "effective_from",
            "quorum_note",
            "vote_note",
            "notice_ok",
            "notice_note",
            "version",
        ],
        decisions,
    )


# --- Budgets: agreements, 40 schedules, three years of lines and monthly positions ---------------


def _budgets(b: Borough) -> None:
    rng = b.rng("budgets")
    period = period_for(b.today)
    this_year = financial_year(period)
    years = [this_year - 2, this_year - 1, this_year]
    streams_first = reserve_ids("budgets_fundingstream", 4)
    streams = [
        (streams_first + k, b.partnership.pk, name, org)
        for k, (name, org) in enumerate(
            [
                ("Council core", b.council.pk),
                ("iBCF", b.council.pk),
                ("ICB core", b.nhs.pk),
                ("BCF NHS", b.nhs.pk),
            ]
        )
    ]
    copy_rows("budgets_fundingstream", ["id", "partnership_id", "name", "organisation_id"], streams)
    agreements = max(1, b.size.schedules // 10)
    agreement_first = reserve_ids("budgets_section75agreement", agreements)
    copy_rows(
        "budgets_section75agreement",
        [
            "id",
            "partnership_id",
            "reference",
            "title",
            "host_id",
            "start",
            "end",
            "status",
            "decision_id",
            "version",
        ],
        [
            (
                agreement_first + a,
                b.partnership.pk,
                f"S75-{b.code}-{a + 1}",
                f"Section 75 agreement {a + 1}",
                b.council.pk,
                date(years[0], 4, 1),
                date(years[-1] + 3, 3, 31),
                "signed",
                None,
                1,
            )
            for a in range(agreements)
        ],
    )
    schedule_first = reserve_ids("budgets_schedule", b.size.schedules)
    copy_rows(
        "budgets_schedule",
        [
            "id",
            "agreement_id",
            "number",
            "title",
            "arrangement",
            "integration_level",
            "pool_manager_id",
            "board_id",
            "overspend_rule",
            "underspend_rule",
            "version",
        ],
        [
            (
                schedule_first + s,
                agreement_first + s // 10,
                s % 10 + 1,
                f"Schedule {s + 1}: pooled services",
                "pooled",
                3,
                None,
                b.boards[s % len(b.boards)],
                "proportional",
                "proportional",
                1,
            )
            for s in range(b.size.schedules)
        ],
    )
    lines, positions = [], []
    line_first = reserve_ids("budgets_budgetline", b.size.schedules * len(years) * len(streams) * 2)
    line_id = line_first
    for s in range(b.size.schedules):
        for year in years:
            for stream in streams:
                for purpose in ("Placements", "Community services"):
                    amount = money(rng.randint(200_000, 4_000_000))
                    lines.append(
                        (line_id, schedule_first + s, purpose, year, stream[0], amount, "approved", None, 1)
                    )
                    for m in range(12):
                        day = date(year + (m >= 9), (m + 3) % 12 + 1, 1)
                        if day > period:
                            break
                        actual = money(amount * (m + 1) / 12 * Decimal(rng.randint(90, 110)) / 100)
                        forecast = money(amount * Decimal(rng.randint(92, 108)) / 100)
                        positions.append((line_id, day, actual, forecast, "", None, None, 1))
                    line_id += 1
    copy_rows(
        "budgets_budgetline",
        [
            "id",
            "schedule_id",
            "name",
            "year",
            "funding_stream_id",
            "amount",
            "status",
            "decision_id",
            "version",
        ],
        lines,
    )
    copy_rows(
        "budgets_monthlyposition",
        [
            "budget_line_id",
            "period",
            "actual_to_date",
            "forecast_outturn",
            "commentary",
            "submitted_by_id",
            "reported_at_id",
            "version",
        ],
        positions,
    )


# --- Invoices: every month before the period billed exactly, issued and numbered -----------------

# The lines rule 1 says every month before the period owed, computed once into a temporary table
# (the invoices and their lines are both written from it; planned twice, the segment joins were
# most of the statements' own time).
HISTORY_SEGMENTS = (  # constant SQL, values are parameters
    "CREATE TEMPORARY TABLE bench_history_line ON COMMIT DROP AS "
    + reference.SEGMENTS  # noqa: S608
    + """
SELECT partnership_id, payer, recipient, month, package_id, lo, hi, days, weekly_cost, percent, amount
FROM line WHERE month < %(period)s
"""
)

HISTORY_INVOICES = """
WITH doc AS (
    SELECT partnership_id, payer, recipient, month, SUM(amount) AS total
    FROM bench_history_line GROUP BY partnership_id, payer, recipient, month
    HAVING SUM(amount) > 0
)
INSERT INTO brokerage_invoice (partnership_id, kind, issuer_id, recipient_id, period, number, issue_date,
    due_date, status, total, amount_paid, amount_credited, issuer_address, recipient_address, pdf_path,
    pdf_checksum, run_id, credit_note_for_id, created_at, issued_by_id)
SELECT doc.partnership_id, 'invoice', doc.payer, doc.recipient, doc.month, NULL, NULL, NULL, 'draft',
       doc.total, 0, 0, i.address, r.address, '', '', NULL, NULL,
       (doc.month + interval '1 month' + interval '3 days')::timestamptz, NULL
FROM doc JOIN commissioning_organisation i ON i.id = doc.payer
JOIN commissioning_organisation r ON r.id = doc.recipient
ORDER BY doc.month, doc.payer, doc.recipient
"""

# Written in invoice and position order (the order the ids and the invoice index want).
HISTORY_LINES = """
INSERT INTO brokerage_invoiceline (invoice_id, package_id, client_reference, nhs_number, provider,
    service_type, month, start, "end", days, weekly_cost, percent, amount, adjustment, corrects_month,
    previously_billed, position)
SELECT inv.id, line.package_id, c.case_reference, c.nhs_number, LEFT(po.name, 200), p.service_type,
       line.month, line.lo, line.hi, line.days, line.weekly_cost, line.percent, line.amount,
       false, NULL, false,
       ROW_NUMBER() OVER (PARTITION BY inv.id ORDER BY c.case_reference, line.package_id, line.lo) - 1
FROM bench_history_line line
JOIN brokerage_invoice inv ON inv.partnership_id = line.partnership_id AND inv.issuer_id = line.payer
     AND inv.recipient_id = line.recipient AND inv.period = line.month AND inv.kind = 'invoice'
JOIN brokerage_package p ON p.id = line.package_id
JOIN brokerage_client c ON c.id = p.client_id
JOIN commissioning_provider pr ON pr.id = p.provider_id
JOIN commissioning_organisation po ON po.id = pr.organisation_id
WHERE line.amount <> 0 AND inv.partnership_id = ANY(%(partnerships)s)
ORDER BY inv.id, c.case_reference, line.package_id, line.lo
"""

# Issue in order: numbers per issuer and financial year, dated the 5th of the following month.
HISTORY_ISSUE = """
WITH numbered AS (
    SELECT inv.id, o.code, o.id AS issuer,
           (CASE WHEN EXTRACT(MONTH FROM inv.period + interval '1 month') >= 4
                 THEN EXTRACT(YEAR FROM inv.period + interval '1 month')
                 ELSE EXTRACT(YEAR FROM inv.period + interval '1 month') - 1 END)::int AS fy,
           (inv.period + interval '1 month' + interval '4 days')::date AS issued,
           r.payment_terms_days AS terms
    FROM brokerage_invoice inv
    JOIN commissioning_organisation o ON o.id = inv.issuer_id
    JOIN commissioning_organisation r ON r.id = inv.recipient_id
    WHERE inv.partnership_id = ANY(%(partnerships)s) AND inv.status = 'draft' AND inv.run_id IS NULL
), seq AS (
    SELECT numbered.*, ROW_NUMBER() OVER (PARTITION BY issuer, fy ORDER BY issued, id) AS n FROM numbered
)
UPDATE brokerage_invoice inv
SET status = 'issued', number = seq.code || '-' || LPAD((seq.fy %% 100)::text, 2, '0')
        || LPAD(((seq.fy + 1) %% 100)::text, 2, '0') || '-' || LPAD(seq.n::text, 5, '0'),
    issue_date = seq.issued, due_date = seq.issued + seq.terms
FROM seq WHERE inv.id = seq.id
"""

HISTORY_SEQUENCES = """
INSERT INTO brokerage_numbersequence (issuer_id, year, kind, last)
SELECT issuer_id, (CASE WHEN EXTRACT(MONTH FROM issue_date) >= 4 THEN EXTRACT(YEAR FROM issue_date)
                       ELSE EXTRACT(YEAR FROM issue_date) - 1 END)::int, 'invoice', COUNT(*)
FROM brokerage_invoice WHERE partnership_id = ANY(%(partnerships)s) AND number IS NOT NULL
GROUP BY 1, 2
ON CONFLICT (issuer_id, year, kind) DO UPDATE SET last = EXCLUDED.last
"""


def _frozen_trigger() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'brokerage_invoiceline'::regclass "
            "AND tgname LIKE 'pgtrigger_issued_invoice_lines_frozen_%%'"
        )
        return cursor.fetchone()[0]


def _invoice_history(b: Borough) -> None:
    period = period_for(b.today)
    args = reference.params(partnerships=[b.partnership.pk], issuer=None, period=period)
    with connection.cursor() as cursor:
        # Fresh statistics first: planned on the empty tables' guesses, the joins take minutes.
        for table in (
            "brokerage_client",
            "brokerage_package",
            "brokerage_packagecost",
            "brokerage_fundingsplit",
            "brokerage_fundingshare",
            "brokerage_invoice",
        ):
            cursor.execute(f"ANALYZE {table}")
        cursor.execute("DROP TABLE IF EXISTS bench_history_line")
        cursor.execute(HISTORY_SEGMENTS, args)
        cursor.execute("ANALYZE bench_history_line")
        # Foreign keys checked as each statement ends (benchmarks.copy.immediate_constraints: with
        # the lines' checks queued until commit, their history triggers took a minute).
        with immediate_constraints(cursor):
            cursor.execute(HISTORY_INVOICES, args)
            cursor.execute("ANALYZE brokerage_invoice")  # else the lines' join re-reads per invoice
            # The lines go into drafts (issued just below), which is all the frozen-lines trigger
            # checks; its per-row lookup is replaced by the one set-based check after the insert.
            frozen = _frozen_trigger()
            cursor.execute(f'ALTER TABLE brokerage_invoiceline DISABLE TRIGGER "{frozen}"')
            cursor.execute(HISTORY_LINES, args)
            cursor.execute(f'ALTER TABLE brokerage_invoiceline ENABLE TRIGGER "{frozen}"')
            cursor.execute(
                "SELECT COUNT(*) FROM brokerage_invoiceline l "
                "JOIN brokerage_invoice i ON i.id = l.invoice_id "
                "WHERE i.partnership_id = ANY(%(partnerships)s) AND i.status <> 'draft'",
                args,
            )
            if cursor.fetchone()[0]:  # nothing was issued before its lines were written
                raise RuntimeError("invoice lines written to an issued invoice")
            cursor.execute(HISTORY_ISSUE, args)
            cursor.execute(HISTORY_SEQUENCES, args)
        cursor.execute("DROP TABLE bench_history_line")
