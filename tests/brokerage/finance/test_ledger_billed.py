"""The billed side of the recharge ledger (``LedgerBilled``, migration 0015): what each (issuer,
partnership, package, recipient, month) was billed and waived, kept by statement-level triggers.

Each test writes lines, invoices or waivers the way the application (or raw SQL) does, then checks
the table against the same sums taken straight from the lines and waivers (``_from_the_rows``), and
against figures worked by hand."""

from __future__ import annotations

import importlib
from datetime import date
from decimal import Decimal

import pgtrigger
import pytest
from django.db import IntegrityError, connection, transaction

from brokerage.finance import services as finance_services
from brokerage.models import Dispute, Invoice, InvoiceLine, LedgerBilled, RechargeRun, Waiver
from commissioning.bulk import copy_rows
from tests.brokerage.factories import ClientFactory, InvoiceFactory, PackageFactory

pytestmark = pytest.mark.django_db

D = Decimal
MAY = date(2022, 5, 1)
JUNE = date(2022, 6, 1)


def _ledger() -> dict:
    return {
        (b.issuer_id, b.partnership_id, b.package_id, b.recipient_id, b.month): (
            b.billed_pence,
            b.waived_pence,
            b.lines,
            b.waivers,
        )
        for b in LedgerBilled.objects.all()
    }


FROM_THE_ROWS = """
SELECT issuer_id, partnership_id, package_id, recipient_id, month,
       SUM(billed)::bigint, SUM(waived)::bigint, SUM(lines)::bigint, SUM(waivers)::bigint
FROM (
    SELECT i.issuer_id, i.partnership_id, l.package_id, i.recipient_id, l.month,
           CASE WHEN i.kind = 'credit_note' THEN -l.amount ELSE l.amount END * 100 AS billed,
           0 AS waived, 1 AS lines, 0 AS waivers
    FROM brokerage_invoiceline l JOIN brokerage_invoice i ON i.id = l.invoice_id
    WHERE l.package_id IS NOT NULL
    UNION ALL
    SELECT issuer_id, partnership_id, package_id, recipient_id, month, 0, amount * 100, 0, 1
    FROM brokerage_waiver
) AS b GROUP BY 1, 2, 3, 4, 5
"""


def _from_the_rows() -> dict:
    with connection.cursor() as cursor:
        cursor.execute(FROM_THE_ROWS)
        return {tuple(r[:5]): tuple(r[5:]) for r in cursor.fetchall()}


def _line(invoice, package, month, amount, **fields) -> InvoiceLine:
    return InvoiceLine(
        invoice=invoice,
        package=package,
        client_reference=package.client.case_reference if package else "",
        provider="Provider",
        service_type="domiciliary",
        month=month,
        start=month,
        end=month.replace(day=28),
        amount=amount,
        description="" if package else "Contribution",
        **fields,
    )


@pytest.fixture
def package(partnership, council):
    return PackageFactory(
        client=ClientFactory(partnership=partnership), paying_organisation=council, start=date(2022, 1, 10)
    )


def _key(invoice, package, month):
    return (invoice.issuer_id, invoice.partnership_id, package.pk, invoice.recipient_id, month)


def test_lines_are_summed_per_key_in_pence_and_a_credit_note_counts_against(partnership, package):
    invoice = InvoiceFactory(partnership=partnership, total=D("1.00"))
    credit = InvoiceFactory(partnership=partnership, kind="credit_note", total=D("1.00"))
    InvoiceLine.objects.bulk_create(
        [
            _line(invoice, package, MAY, D("100.10")),
            _line(invoice, package, MAY, D("-20.05")),
            _line(invoice, package, JUNE, D("7.00")),
            _line(credit, package, MAY, D("30.00")),
            _line(invoice, None, MAY, D("999.99")),  # no package: not package billing
        ]
    )

    assert _ledger() == {
        _key(invoice, package, MAY): (10010 - 2005 - 3000, 0, 3, 0),
        _key(invoice, package, JUNE): (700, 0, 1, 0),
    }
    assert _ledger() == _from_the_rows()


def test_deleting_a_draft_takes_its_lines_out_and_drops_keys_left_with_nothing(partnership, package):
    kept = InvoiceFactory(partnership=partnership, total=D("1.00"))
    draft = InvoiceFactory(partnership=partnership, total=D("1.00"))
    InvoiceLine.objects.bulk_create(
        [_line(kept, package, MAY, D("10.00")), _line(draft, package, MAY, D("5.00"))]
        + [_line(draft, package, JUNE, D("1.00"))]
    )

    draft.delete()  # the lines go with it (Django's cascade deletes them first)

    assert _ledger() == {_key(kept, package, MAY): (1000, 0, 1, 0)}
    assert _ledger() == _from_the_rows()


def test_an_invoice_cannot_be_deleted_before_its_lines_and_the_refusal_leaves_the_ledger(
    partnership, package
):
    """Raw SQL deleting the invoice first is refused (brokerage.models.line_references: the check
    is made as the statement ends, not deferred to commit), and the ledger is as it was; lines first,
    then the invoice, counts them out once."""
    draft = InvoiceFactory(partnership=partnership, total=D("1.00"))
    InvoiceLine.objects.bulk_create([_line(draft, package, MAY, D("5.00"))])
    before = _ledger()
    assert before == {_key(draft, package, MAY): (500, 0, 1, 0)}
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM brokerage_invoice WHERE id = %s", [draft.pk])
    assert _ledger() == before
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM brokerage_invoiceline WHERE invoice_id = %s", [draft.pk])
        cursor.execute("DELETE FROM brokerage_invoice WHERE id = %s", [draft.pk])

    assert _ledger() == {}


def test_a_line_updated_moves_its_amount(partnership, package):
    draft = InvoiceFactory(partnership=partnership, total=D("1.00"))
    InvoiceLine.objects.bulk_create(
        [_line(draft, package, MAY, D("5.00")), _line(draft, package, MAY, D("1.00"))]
    )

    InvoiceLine.objects.filter(invoice=draft, amount=D("5.00")).update(month=JUNE, amount=D("6.00"))
    InvoiceLine.objects.filter(invoice=draft).update(position=3)  # nothing counted changes

    assert _ledger() == {
        _key(draft, package, MAY): (100, 0, 1, 0),
        _key(draft, package, JUNE): (600, 0, 1, 0),
    }
    assert _ledger() == _from_the_rows()


def test_a_draft_whose_kind_or_recipient_changes_moves_its_lines(partnership, package):
    from tests.commissioning.factories import OrganisationFactory

    draft = InvoiceFactory(partnership=partnership, total=D("1.00"))
    InvoiceLine.objects.bulk_create([_line(draft, package, MAY, D("5.00"))])

    Invoice.objects.filter(pk=draft.pk).update(kind="credit_note")
    assert _ledger() == {_key(draft, package, MAY): (-500, 0, 1, 0)}

    elsewhere = OrganisationFactory()
    Invoice.objects.filter(pk=draft.pk).update(recipient=elsewhere)
    draft.refresh_from_db()
    assert draft.recipient_id == elsewhere.pk
    assert _ledger() == {_key(draft, package, MAY): (-500, 0, 1, 0)}  # under the new recipient only
    assert _ledger() == _from_the_rows()


def test_lines_copied_in_bulk_are_counted_in_one_statement(partnership, package):
    draft = InvoiceFactory(partnership=partnership, total=D("1.00"))
    other = PackageFactory(
        client=ClientFactory(partnership=partnership), paying_organisation=package.paying_organisation
    )
    columns = (
        "invoice_id", "package_id", "client_reference", "nhs_number", "provider", "service_type", "month",
        "start", "end", "amount", "adjustment", "previously_billed", "description", "position",
    )  # fmt: skip
    rows = [
        (
            draft.pk,
            p.pk,
            "REF",
            "",
            "Provider",
            "domiciliary",
            m,
            m,
            m.replace(day=28),
            amount,
            False,
            False,
            "",
            0,
        )
        for p in (package, other)
        for m, amount in ((MAY, D("0.01")), (JUNE, D("12.34")), (MAY, D("0.02")))
    ]

    copy_rows("brokerage_invoiceline", columns, rows)

    assert _ledger() == {
        _key(draft, package, MAY): (3, 0, 2, 0),
        _key(draft, package, JUNE): (1234, 0, 1, 0),
        _key(draft, other, MAY): (3, 0, 2, 0),
        _key(draft, other, JUNE): (1234, 0, 1, 0),
    }


def test_waivers_count_apart_from_billed_and_a_removed_one_comes_out(partnership, package, council, ccg):
    invoice = InvoiceFactory(partnership=partnership, total=D("1.00"))
    InvoiceLine.objects.bulk_create([_line(invoice, package, MAY, D("10.00"))])
    dispute = Dispute.objects.create(invoice=invoice, reason="other", amount=D("1.00"))
    fields = {
        "partnership": partnership,
        "issuer": council,
        "recipient": ccg,
        "package": package,
        "dispute": dispute,
    }

    waiver = Waiver.objects.create(month=MAY, amount=D("2.50"), **fields)
    Waiver.objects.create(month=JUNE, amount=D("1.00"), **fields)
    assert _ledger() == {
        _key(invoice, package, MAY): (1000, 250, 1, 1),
        _key(invoice, package, JUNE): (0, 100, 0, 1),
    }

    with pgtrigger.ignore("brokerage.Waiver:waivers_append_only"):
        Waiver.objects.filter(month=JUNE).delete()
        Waiver.objects.filter(pk=waiver.pk).update(amount=D("3.00"))

    assert _ledger() == {_key(invoice, package, MAY): (1000, 300, 1, 1)}
    assert _ledger() == _from_the_rows()


def test_a_run_and_its_deleted_drafts_keep_the_table_equal_to_the_rows(partnership, council, package):
    from brokerage.models import FundingShare, FundingSplit, PackageCost

    PackageCost.objects.create(
        package=package, effective_from=package.start, unit_rate=D("700"), units_per_week=1, unit="week"
    )
    split = FundingSplit.objects.create(package=package, effective_from=package.start, basis="s117")
    FundingShare.objects.create(split=split, organisation=council, percent=60)
    FundingShare.objects.create(split=split, organisation=partnership.nhs_commissioner, percent=40)
    run = RechargeRun.objects.create(partnership=partnership, issuer=council, period=JUNE)

    run = finance_services.recharge_run_execute(run_id=run.pk)

    assert run.status == "done" and run.invoice_count == 1
    assert _ledger() == _from_the_rows() != {}
    for invoice in Invoice.objects.filter(run=run):
        invoice.delete()
    assert _ledger() == {}


def test_the_migration_rebuilds_the_table_from_the_rows(partnership, package, council, ccg):
    invoice = InvoiceFactory(partnership=partnership, total=D("1.00"))
    credit = InvoiceFactory(partnership=partnership, kind="credit_note", total=D("1.00"))
    InvoiceLine.objects.bulk_create(
        [_line(invoice, package, MAY, D("10.00")), _line(credit, package, MAY, D("4.00"))]
    )
    dispute = Dispute.objects.create(invoice=invoice, reason="other", amount=D("1.00"))
    Waiver.objects.create(
        partnership=partnership, issuer=council, recipient=ccg, package=package, dispute=dispute,
        month=JUNE, amount=D("1.00"),
    )  # fmt: skip
    kept = _ledger()
    migration = importlib.import_module("brokerage.migrations.0015_ledger_billed")

    LedgerBilled.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(migration.BACKFILL)

    assert _ledger() == kept == _from_the_rows()
    assert kept[_key(invoice, package, MAY)] == (600, 0, 2, 0)
