"""Audit completeness (security.md, Audit): every model that holds money, client data or decisions
keeps history through database triggers (django-pghistory), so raw SQL is caught too; the history
tables and the access log are append-only in the database; issued invoices are read-only there.

A new model fails ``test_every_model_keeps_history_or_is_exempt_with_a_reason`` until it is tracked
with ``@pghistory.track()`` or added to ``EXEMPT`` with the reason it needs no history."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pghistory.models
import pgtrigger
import pytest
from django.apps import apps
from django.db import DatabaseError, connection, models, transaction

from brokerage.finance import services as finance_services
from brokerage.models import Invoice, InvoiceLine, Payment
from commissioning.audit import log_access
from commissioning.models import AccessLog
from governance import services as governance_services
from tests.brokerage.finance import conftest as finance_fixtures
from tests.governance import conftest as governance_fixtures

pytestmark = pytest.mark.django_db

# Fixtures of the finance and governance suites, used here by name.
broker, ccg, council = finance_fixtures.broker, finance_fixtures.ccg, finance_fixtures.council
make_package, example_one = finance_fixtures.make_package, finance_fixtures.example_one
finance, run_month, issued = finance_fixtures.finance, finance_fixtures.run_month, finance_fixtures.issued
scene = governance_fixtures.scene

# Models without history, each with the reason. Third-party bookkeeping first, then our own.
EXEMPT = {
    "admin.LogEntry": "Django admin's own action log: itself a record of changes",
    "auth.Permission": "reference data written by migrations only",
    "auth.Group": "the fixed roles, created by a migration and synced on migrate; membership is on "
    "the tracked User",
    "contenttypes.ContentType": "reference data written by migrations only",
    "sessions.Session": "transient sign-in state, expires after 30 minutes idle",
    "guardian.UserObjectPermission": "object grants derived from tracked memberships and boards by services",
    "guardian.GroupObjectPermission": "object grants derived from tracked memberships and boards by services",
    "pghistory.Context": "the history's own who-and-where rows; rows cannot be deleted (migration "
    "commissioning 0004)",
    "pghistory.Events": "an unmanaged view over the history tables",
    "pghistory.MiddlewareEvents": "an unmanaged view over the history tables",
    "axes.AccessFailureLog": "sign-in failure log kept by django-axes: security bookkeeping",
    "axes.AccessAttempt": "lockout counters kept by django-axes, reset on success by design",
    "axes.AccessAttemptExpiration": "lockout expiry kept by django-axes",
    "axes.AccessLog": "sign-in and sign-out log kept by django-axes",
    "otp_totp.TOTPDevice": "holds a second-factor secret: history would copy the secret into the "
    "audit tables; the device records its own last use",
    "commissioning.AccessLog": "the access trail itself: append-only in the database",
    "commissioning.AuditTrail": "unmanaged: holds the permission to read the trails, no rows",
    "commissioning.ApiToken": "a credential: only a digest is stored and history would copy it; "
    "creation, last use and revocation are fields of the row",
    "commissioning.DigestDelivery": "records that a weekly e-mail was sent (idempotency), no "
    "money, client data or decision",
    "governance.ReferenceCounter": "gapless counter; every reference it hands out is kept on a "
    "tracked Decision or MinuteEntry",
    "governance.BoardPack": "record of a generated PDF (path, checksum, progress); its papers and "
    "decisions are tracked",
    "brokerage.NumberSequence": "gapless counter; every number it hands out is kept on a tracked Invoice",
    "brokerage.LedgerPackage": "the recharge ledger's bookkeeping (how far a package's cached rule 1 "
    "results hold), kept by triggers on tracked facts; truncating it changes no bill",
    "brokerage.LedgerOwed": "a cache of rule 1's owed amounts, recomputed from tracked costs, splits "
    "and suspensions; every amount billed is kept on a tracked InvoiceLine",
    "brokerage.LedgerIssue": "a cache of the days rule 1 could not bill, recomputed from tracked facts; "
    "each run keeps what it reported on the tracked RechargeRun",
    "brokerage.LedgerBilled": "sums of tracked InvoiceLines and Waivers per package month, kept by "
    "triggers and rebuilt from them (migration 0015); it holds nothing of its own",
    "brokerage.InvoiceLineCount": "counts of tracked InvoiceLines per invoice, kept by triggers and "
    "rebuilt from them (migration 0017); it holds nothing of its own",
    "brokerage.LedgerUnsettled": "the package months a recharge run must compare, kept by triggers "
    "on the ledger's owed and billed rows; no amount, rebuilt by refilling (migration 0018)",
}

# Models that hold money, client data or decisions may never be exempt: checked by field, below.
SENSITIVE_TARGETS = {
    "brokerage.Client",
    "brokerage.Package",
    "brokerage.Invoice",
    "brokerage.InvoiceLine",
    "brokerage.PanelDecision",
    "governance.Decision",
    "commissioning.Person",
    "budgets.BudgetLine",
}


def _event_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if issubclass(m, pghistory.models.Event)]


def _tracked() -> set[type[models.Model]]:
    return {m.pgh_tracked_model for m in _event_models() if getattr(m, "pgh_tracked_model", None)}


def test_every_model_keeps_history_or_is_exempt_with_a_reason():
    tracked = _tracked()
    events = set(_event_models())
    untracked = {m._meta.label for m in apps.get_models() if m not in tracked and m not in events}

    assert untracked - EXEMPT.keys() == set(), "models without history: track them or exempt them"
    assert EXEMPT.keys() - untracked == set(), "exempt models that no longer exist or are now tracked"
    assert all(len(reason) > 20 for reason in EXEMPT.values())
    assert len(tracked) >= 45  # sanity: the trackers were found at all


def test_no_exempt_model_holds_money_or_points_at_client_data_or_decisions():
    for label in EXEMPT:
        model = apps.get_model(label)
        for field in model._meta.get_fields():
            assert not isinstance(field, models.DecimalField), f"{label}.{field.name} is money"
            if field.is_relation and field.concrete and field.related_model is not None:
                assert field.related_model._meta.label not in SENSITIVE_TARGETS, f"{label}.{field.name}"


def test_the_money_client_and_decision_models_are_tracked_for_insert_update_and_delete():
    expected = {
        "commissioning.Person",
        "commissioning.User",
        "commissioning.PartnershipGrant",
        "commissioning.Contract",
        "budgets.Section75Agreement",
        "budgets.BudgetLine",
        "budgets.MonthlyPosition",
        "budgets.Virement",
        "brokerage.Client",
        "brokerage.Referral",
        "brokerage.ReferralActivity",
        "brokerage.Package",
        "brokerage.PackageCost",
        "brokerage.FundingSplit",
        "brokerage.FundingShare",
        "brokerage.PanelDecision",
        "brokerage.RechargeRun",
        "brokerage.Invoice",
        "brokerage.InvoiceLine",
        "brokerage.Payment",
        "brokerage.Dispute",
        "governance.Membership",
        "governance.Decision",
        "governance.Vote",
        "governance.MinuteEntry",
    }
    operations = {}
    for event in _event_models():
        tracked = getattr(event, "pgh_tracked_model", None)
        if tracked is None:
            continue
        for model, trigger in pgtrigger.registered():
            if model is tracked and getattr(trigger, "event_model", None) is event:
                operations.setdefault(tracked._meta.label, set()).add(str(trigger.operation))
    for label in expected:
        assert {"INSERT", "UPDATE", "DELETE"} <= operations.get(label, set()), label


def test_every_database_trigger_is_installed_and_enabled():
    registered = pgtrigger.registered()
    problems = []
    for model, trigger in registered:
        if model._meta.proxy or not model._meta.managed:
            continue
        status, enabled = trigger.get_installation_status(model)
        if status != "INSTALLED" or not enabled:
            problems.append(f"{model._meta.label}: {trigger.name} is {status}, enabled={enabled}")
    assert problems == []
    assert len(registered) > 150


def test_every_history_table_and_the_access_log_are_declared_append_only():
    def protects_update_and_delete(model) -> bool:
        return any(
            isinstance(trigger, pgtrigger.Protect)
            and "UPDATE" in str(trigger.operation)
            and "DELETE" in str(trigger.operation)
            and trigger.condition is None
            for trigger in model._meta.triggers
        )

    missing = [
        m._meta.label for m in _event_models() if m._meta.managed and not protects_update_and_delete(m)
    ]
    assert missing == []
    assert protects_update_and_delete(AccessLog)


@pytest.fixture
def audit_rows(issued, scene, finance, rf):
    """Rows in many history tables and the access log: an issued invoice, a decision, a view."""
    decision = governance_services.decision_record(
        agenda_item=scene.item, resolution="Agreed.", outcome="approved", by=None
    )
    request = rf.get(f"/finance/invoices/{issued.pk}/")
    request.user = finance
    log_access(request=request, obj=issued, action=AccessLog.Action.DOWNLOAD)
    return {"invoice": issued, "decision": decision}


def _raw_fails(statement: str, params=()) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
    except DatabaseError:
        return True
    return False


def test_raw_sql_cannot_update_or_delete_any_history_row_or_access_log_row(audit_rows):
    tried = []
    with connection.cursor() as cursor:
        for event in _event_models():
            if not event._meta.managed:
                continue
            table = event._meta.db_table
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
            if not cursor.fetchone()[0]:
                continue
            tried.append(table)
            assert _raw_fails(f"UPDATE {table} SET pgh_label = 'tampered'"), table  # noqa: S608
            assert _raw_fails(f"DELETE FROM {table}"), table  # noqa: S608
        assert AccessLog.objects.count() == 1
        assert _raw_fails("UPDATE commissioning_accesslog SET ip_address = '203.0.113.9'")
        assert _raw_fails("UPDATE commissioning_accesslog SET user_id = NULL")
        assert _raw_fails("DELETE FROM commissioning_accesslog")
        assert _raw_fails("DELETE FROM pghistory_context")
        cursor.execute("SELECT count(*) FROM pghistory_context")
        assert cursor.fetchone()[0] > 0
    for table in (
        "brokerage_invoiceevent",
        "brokerage_invoicelineevent",
        "brokerage_rechargerunevent",
        "brokerage_clientevent",
        "brokerage_packageevent",
        "governance_decisionevent",
        "commissioning_userevent",
    ):
        assert table in tried
    assert len(tried) >= 20


def test_raw_sql_cannot_change_or_delete_an_issued_invoice_or_its_lines(audit_rows):
    invoice = audit_rows["invoice"]
    assert invoice.number and invoice.status != "draft"
    frozen = {
        "total": "total + 1",
        "number": "'LBB-TAMPERED'",
        "issue_date": "issue_date + 1",
        "due_date": "due_date + 30",
        "recipient_id": "issuer_id",
        "period": "period - interval '1 month'",
        "status": "'draft'",
    }
    for column, value in frozen.items():
        assert _raw_fails(f"UPDATE brokerage_invoice SET {column} = {value} WHERE id = %s", [invoice.pk]), (
            column
        )  # noqa: S608
    assert _raw_fails("DELETE FROM brokerage_invoice WHERE id = %s", [invoice.pk])
    line = invoice.lines.first()
    assert _raw_fails("UPDATE brokerage_invoiceline SET amount = amount * 2 WHERE id = %s", [line.pk])
    assert _raw_fails("DELETE FROM brokerage_invoiceline WHERE id = %s", [line.pk])
    invoice.refresh_from_db()
    assert Invoice.objects.filter(pk=invoice.pk, number=invoice.number, total=invoice.total).exists()
    assert InvoiceLine.objects.filter(pk=line.pk, amount=line.amount).exists()


def test_a_draft_invoice_can_still_be_corrected_and_payments_are_append_only(audit_rows, run_month, finance):
    """The controls: the triggers refuse changes to issued invoices only, and payments never change."""
    draft = run_month(date(2022, 6, 1)).invoices.get()
    assert draft.status == "draft"
    assert not _raw_fails("UPDATE brokerage_invoice SET due_date = '2022-08-01' WHERE id = %s", [draft.pk])
    invoice = audit_rows["invoice"]
    payment = finance_services.invoice_record_payment(
        invoice=invoice, amount=Decimal("10.00"), paid_on=date(2022, 7, 1), reference="BACS 1", by=finance
    )
    assert isinstance(payment, Payment)
    assert _raw_fails("UPDATE brokerage_payment SET amount = 1000 WHERE id = %s", [payment.pk])
    assert _raw_fails("DELETE FROM brokerage_payment WHERE id = %s", [payment.pk])
    assert payment.pgh_event_model.objects.filter(pgh_obj=payment, pgh_label="insert").count() == 1


def test_raw_sql_changes_to_tracked_rows_are_recorded_before_and_after(audit_rows):
    decision = audit_rows["decision"]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE governance_decision SET resolution = 'Changed by hand.' WHERE id = %s", [decision.pk]
        )
    events = list(decision.pgh_event_model.objects.filter(pgh_obj=decision).order_by("pgh_id"))
    assert [e.pgh_label for e in events][-1] == "update"
    assert events[-1].resolution == "Changed by hand."
    assert events[-2].resolution == "Agreed."


def test_an_invoice_line_history_is_indexed_only_where_the_audit_looks():
    """The audit finds a line's events by the line and by their context; a run adds thousands of
    lines, and each index of the history is written for every one (brokerage/models/finance.py)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey) "
            "WHERE t.relname = 'brokerage_invoicelineevent' ORDER BY 1"
        )
        assert [row[0] for row in cursor.fetchall()] == ["pgh_context_id", "pgh_id", "pgh_obj_id"]
