"""``manage.py load_demo [--if-empty] [--seed N] [--today YYYY-MM-DD]``: fill an empty database with
the demo data (commissioning/demo.py) in one transaction and print the demo logins."""

from __future__ import annotations

import time
from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from commissioning import demo
from commissioning.models import Contract, Organisation, Partnership, Person, Provider, User


class Command(BaseCommand):
    help = (
        "Load the demo data (fixtures/ and a seeded generator) into an empty database and print the logins."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (and succeed) when the database already has a partnership.",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=demo.DEFAULT_SEED,
            help=f"Seed of the generator; the same seed gives the same data (default {demo.DEFAULT_SEED}).",
        )
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            default=None,
            help="Generate the data around this date (YYYY-MM-DD) instead of today.",
        )

    def handle(self, *args, if_empty: bool, seed: int, today: date | None, **options):
        if settings.PRODUCTION:
            raise CommandError("Refusing to load demo data with a published password when PRODUCTION=true.")
        if Partnership.objects.exists():
            if not if_empty:
                raise CommandError(
                    "The database already has partnerships; load_demo fills an empty database. "
                    "Use --if-empty to skip quietly."
                )
            self.stdout.write("The database already has data: demo data not loaded.")
            if demo.demo_logins():
                demo.print_logins(self.stdout)
            return
        started = time.monotonic()
        try:
            ctx = demo.load_demo(seed=seed, today=today)
        except demo.DemoAlreadyLoaded as exc:  # another process loaded it since we looked
            raise CommandError(str(exc)) from exc
        elapsed = time.monotonic() - started
        counts = ", ".join(
            f"{model.objects.count()} {model._meta.verbose_name_plural}"
            for model in (Organisation, Partnership, Person, User, Provider, Contract)
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded (seed {seed}, around {ctx.today:%d %b %Y}) in {elapsed:.1f}s: {counts}."
            )
        )
        demo.print_logins(self.stdout)
