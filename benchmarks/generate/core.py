"""Core: organisations, the partnership, providers and rate cards."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from benchmarks.copy import copy_rows, reserve_ids
from benchmarks.generate.base import (
    BENCH_USERS,
    SERVICES,
    Borough,
    financial_year,
    money,
    period_for,
)
from commissioning.models import Organisation, Partnership, PartnershipGrant, User

# --- Core: organisations, partnership, providers, rate cards ------------------------------------


def core(b: Borough) -> None:
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
