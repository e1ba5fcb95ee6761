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

import time
from datetime import date

from django.contrib.auth.models import Group
from django.db import connection, transaction

from benchmarks.generate.base import BENCH_USERS, SIZES, Borough, borough_name, period_for
from benchmarks.generate.boards import governance
from benchmarks.generate.budgets import budgets
from benchmarks.generate.core import core
from benchmarks.generate.invoices import invoice_history
from benchmarks.generate.people import clients, packages, referrals
from commissioning.models import Partnership, User

__all__ = ["SIZES", "first_borough", "generate", "period_for"]


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


def first_borough() -> Partnership:
    """The first borough's partnership (the one the borough figures measure), with its partners."""
    return Partnership.objects.select_related("council", "nhs_commissioner").get(name=borough_name(0))


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
        ("core", core),
        ("clients", clients),
        ("packages", packages),
        ("referrals", referrals),
        ("governance", governance),
        ("budgets", budgets),
        ("invoices", invoice_history),
    ]
    for name, step in steps:
        t0 = time.perf_counter()
        step(b)
        b.timings[name] = round(time.perf_counter() - t0, 2)
