"""``manage.py generate_scale --size borough --seed 1``: seeded scale data for ``make bench``."""

from __future__ import annotations

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    requires_system_checks = []  # data only: another app's half-edited admin must not stop a bench
    help = (
        "Load seeded, deterministic scale data (benchmarks.generate): tiny, borough (one partnership "
        "of about 5,000 clients and 8,000 packages) or region (ten boroughs). Adds only the boroughs "
        "not loaded yet."
    )

    def add_arguments(self, parser):
        parser.add_argument("--size", default="borough", choices=["tiny", "borough", "region"])
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--today", help="Date the data is built around, YYYY-MM-DD (default: today)")

    def handle(self, *args, size, seed, today, **options):
        from benchmarks.generate import generate

        try:
            day = date.fromisoformat(today) if today else None
        except ValueError:
            raise CommandError("--today: give a date as YYYY-MM-DD.") from None
        result = generate(size=size, seed=seed, today=day, log=lambda m: self.stdout.write(m))
        self.stdout.write(json.dumps(result, indent=1))
