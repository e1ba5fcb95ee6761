"""The suite's flush after a test that commits (tests/conftest.py ``_fast_flush``): ``DELETE`` with
triggers off instead of ``TRUNCATE``. It must leave every table empty, the frozen lines of an issued
invoice and the ledger's trigger-kept sums included, and switch the triggers back on."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from brokerage.models import InvoiceLine, LedgerBilled
from brokerage.models.finance import InvoiceStatus
from tests.conftest import bump_every_version

pytestmark = pytest.mark.django_db


def test_the_flush_empties_every_table_issued_invoices_included_and_leaves_triggers_on(issued):
    assert InvoiceLine.objects.filter(invoice__status=InvoiceStatus.ISSUED).exists()
    assert LedgerBilled.objects.exists()

    call_command("flush", verbosity=0, interactive=False, reset_sequences=False, inhibit_post_migrate=True)

    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    with connection.cursor() as cursor:
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
        cursor.execute("SHOW session_replication_role")
        role = cursor.fetchone()[0]
    assert {table: n for table, n in counts.items() if n} == {}
    assert role == "origin"


def test_the_flush_is_a_delete_with_triggers_off_for_a_superuser():
    statements = connection.ops.sql_flush(None, ["brokerage_invoiceline", "brokerage_invoice"])
    assert statements == [
        "SET LOCAL session_replication_role = replica",
        'DELETE FROM "brokerage_invoiceline"',
        'DELETE FROM "brokerage_invoice"',
        "SET LOCAL session_replication_role = origin",
        bump_every_version(),
    ]


def test_the_flush_moves_every_version_scope_on():
    """TRUNCATE fired the version counters' statement triggers; the DELETEs with triggers off do
    not, so the flush bumps every scope itself: nothing kept for the emptied tables matches again."""
    from commissioning import versions

    before = versions.current(versions.SCOPES)
    call_command("flush", verbosity=0, interactive=False, reset_sequences=False, inhibit_post_migrate=True)
    after = versions.current(versions.SCOPES)
    assert all(after[scope] > before[scope] for scope in versions.SCOPES), (before, after)
