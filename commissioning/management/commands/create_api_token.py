"""``manage.py create_api_token <username> [--name NAME]``: create an API key and print it once.

Only the key goes to standard output, so a script can capture it; the notice goes to standard
error. The database keeps the key's SHA-256 digest only: a lost key cannot be shown again, only
revoked (profile page) and replaced.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from commissioning.services import api_token_create

DEFAULT_NAME = "Created on the command line"


class Command(BaseCommand):
    help = "Create an API token for a user and print its key (shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default=DEFAULT_NAME, help="What the key is for, e.g. Ledger import")

    def handle(self, *args, username: str, name: str, **options):
        User = get_user_model()
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"There is no user called {username!r}.") from None
        if not user.is_active:
            raise CommandError(f"{username!r} is not active: activate the account before giving it a key.")
        try:
            token, key = api_token_create(user=user, name=name)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(key)
        self.stderr.write(
            f"Created API token {token.name!r} ({token.prefix}…) for {user.username}. "
            "Store the key now: it is not kept and cannot be shown again."
        )
