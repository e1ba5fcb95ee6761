"""Clients, packages with their cost and funding histories, and the open referrals of the queue."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from benchmarks.copy import copy_checked, copy_rows, reserve_ids, verify
from benchmarks.generate.base import (
    COHORT_SERVICES,
    FAMILY,
    GIVEN,
    SERVICES,
    Borough,
    at,
    financial_year,
    money,
    period_for,
)
from brokerage.nhs_number import numbers_in_test_range
from brokerage.recharges import month_end
from commissioning.models import User

# --- Clients ------------------------------------------------------------------------------------

_NHS_NUMBERS: list[str] = []


def clients(b: Borough) -> None:
    rng = b.rng("clients")
    if len(_NHS_NUMBERS) < b.size.clients:
        _NHS_NUMBERS[:] = numbers_in_test_range(b.size.clients)
    cohorts = list(COHORT_SERVICES)
    first = reserve_ids("brokerage_client", b.size.clients)
    b.clients = []  # (id, cohort, case reference, nhs number)
    rows = []
    created = at(b.today - timedelta(days=1200))
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


def april_firsts(start: date, stop: date) -> list[date]:
    out, year = [], financial_year(start) + 1
    while date(year, 4, 1) <= stop:
        out.append(date(year, 4, 1))
        year += 1
    return out


def packages(b: Borough) -> None:
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
    packages, costs, splits, shares, decisions = [], [], [], [], []
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
                at(start - timedelta(days=3)),
            )
        )
        b.packages.append((package_id, payer, start, end))
        # Costs: the first price, an uplift every 1 April, and a mid-year change for some.
        rate, unit, (lo, hi) = SERVICES[service]
        card = money(rate * Decimal("1.03") ** (financial_year(start) - financial_year(earliest)))
        unit_rate = money(card * Decimal(rng.randint(95, 108)) / 100)
        units = Decimal(rng.randint(lo, hi))
        stop = end or period_end
        changes = april_firsts(start, stop)
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
        plan = split_plan(rng, pattern, payer, council, nhs, start, end)
        for s_from, s_to, basis, ref, funders in plan:
            if basis == "panel_decision":  # cites the panel decision recorded for it (below)
                ref = f"JFP-{b.code}-{s_from:%y}-{n + 1:05d}"
                decisions.append((client[0], package_id, ref, s_from, s_to, funders))
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
    panel_decisions(b, decisions)
    b.counts = {
        "packages": len(packages),
        "costs": len(costs),
        "splits": len(splits),
        "shares": len(shares),
        "panel_decisions": len(decisions),
    }


def panel_decisions(b: Borough, decisions: list) -> None:
    """The joint funding panel's decisions that the panel-decision splits cite (a split on that basis
    must cite a decision recorded for the same client, as ``cited_panel_decision`` checks for a
    service's write): one per split, with its shares, met before the split starts and applied to
    the package, references unique in the partnership."""
    rng = b.rng("panel")
    first = reserve_ids("brokerage_paneldecision", len(decisions))
    rows, share_rows = [], []
    for i, (client_id, package_id, ref, s_from, s_to, funders) in enumerate(decisions):
        met = s_from - timedelta(days=rng.randint(3, 28))
        rows.append(
            (
                first + i,
                client_id,
                ref,
                met,
                s_from,
                s_to,
                met + timedelta(days=365),
                "panel_decision",
                "",
                package_id,
                at(met + timedelta(days=2)),
                at(met),
            )
        )
        share_rows.extend((first + i, org, pct) for org, pct in funders)
    copy_rows(
        "brokerage_paneldecision",
        [
            "id",
            "client_id",
            "reference",
            "meeting_date",
            "effective_from",
            "effective_to",
            "review_date",
            "basis",
            "notes",
            "package_id",
            "applied_at",
            "created_at",
        ],
        rows,
    )
    copy_rows("brokerage_paneldecisionshare", ["decision_id", "organisation_id", "percent"], share_rows)


def split_plan(rng, pattern, payer, council, nhs, start, end):
    """[(from, to, basis, decision reference, [(funder, percent)])] for one package. A panel-decision
    split's reference is left blank here: ``packages`` records the decision it cites."""
    hundred, zero = Decimal("100"), Decimal("0")
    other = nhs if payer == council else council
    length = ((end or start + timedelta(days=10_000)) - start).days
    if pattern == "s117":
        return [(start, end, "s117", "", [(council, Decimal("50")), (nhs, Decimal("50"))])]
    if pattern == "panel":
        mine = Decimal(rng.choice([30, 40, 60, 70]))
        rng.randint(1, 999)  # once the reference's number: still drawn, so the data after it stays as it was
        return [(start, end, "panel_decision", "", [(payer, mine), (other, hundred - mine)])]
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
                "",
                [(council, Decimal("50")), (nhs, Decimal("50"))],
            ),
        ]
    return [(start, end, "single_funder", "", [(payer, hundred)])]


# --- Open referrals with offers (the queue) -----------------------------------------------------


def referrals(b: Borough) -> None:
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
        sourcing = at(received + timedelta(days=1)) if status != "received" else None
        offered = at(received + timedelta(days=3)) if status == "offered" else None
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
                at(received),
                sourcing,
                offered,
                None,
                None,
                None,
                "",
                1,
            )
        )
        activities.append((first + n, at(received), None, "received", ""))
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
