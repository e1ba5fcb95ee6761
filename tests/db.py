"""Data made once for a whole module (a module-scoped fixture) and rolled back when the module ends."""

from __future__ import annotations

from contextlib import contextmanager

from django.db import transaction
from django.test import override_settings

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@contextmanager
def module_transaction(django_db_blocker, **settings):
    """Database access inside one transaction that is rolled back at the end, with ``settings``
    overridden (and the fast password hasher) meanwhile. The module's tests run inside it, each in
    a savepoint of its own, so they must only read what the fixture made or roll back their own."""
    with override_settings(PASSWORD_HASHERS=FAST_HASHER, **settings), django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
