"""The lines of an issued invoice are frozen in the database (security.md): one statement-level
trigger per event (INSERT, UPDATE, DELETE) refuses any statement touching a line of an invoice that
is not a draft, whether it writes one row or many (a bulk INSERT, an UPDATE or DELETE of many rows,
a COPY), and lets the same statements through on drafts."""

from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction

from brokerage.finance import services as finance_services
from brokerage.finance.services import _LINE_COLUMNS
from brokerage.models import Invoice, InvoiceLine
from commissioning.bulk import copy_rows
from tests.brokerage.factories import draft_like

JUNE = date(2022, 6, 1)


@pytest.fixture
def draft(issued, run_month):
    """The June 2022 draft of example 1 (May's invoice is issued), with one line."""
    invoice = run_month(JUNE).invoices.get()
    assert invoice.is_draft and invoice.lines.count() == 1
    return invoice


def _rows(invoice: Invoice, like: InvoiceLine, n: int) -> list[tuple]:
    """``n`` rows of ``_LINE_COLUMNS`` for ``invoice``, saying what ``like`` says."""
    content = InvoiceLine.objects.filter(pk=like.pk).values_list(*InvoiceLine.CONTENT_COLUMNS).get()
    return [(invoice.pk, *content, 100 + i) for i in range(n)]


def _refused(statement, issued: Invoice) -> None:
    """``statement`` fails with the trigger's error naming ``issued``, and writes nothing."""
    before = list(InvoiceLine.objects.order_by("pk").values_list("pk", "invoice_id", "amount", "position"))
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        statement()
    cause = caught.value.__cause__
    assert cause.pgcode == "23000"  # integrity_constraint_violation, as before
    assert f"Lines of issued invoice {issued.pk} cannot be changed" in str(caught.value)
    after = list(InvoiceLine.objects.order_by("pk").values_list("pk", "invoice_id", "amount", "position"))
    assert after == before


def _sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_insert_into_an_issued_invoice_is_refused_one_row_or_many(issued, draft):
    line = issued.lines.get()
    _refused(lambda: InvoiceLine.objects.create(**_kwargs(issued, line)), issued)
    _refused(
        lambda: InvoiceLine.objects.bulk_create([InvoiceLine(**_kwargs(issued, line)) for _ in range(3)]),
        issued,
    )
    # A COPY of many lines, all but the last into the draft: the whole statement is refused.
    _refused(
        lambda: copy_rows(
            InvoiceLine._meta.db_table, _LINE_COLUMNS, [*_rows(draft, line, 50), *_rows(issued, line, 1)]
        ),
        issued,
    )
    _refused(lambda: copy_rows(InvoiceLine._meta.db_table, _LINE_COLUMNS, _rows(issued, line, 1)), issued)


def test_update_of_an_issued_invoices_lines_is_refused_one_row_or_many(issued, draft):
    line = issued.lines.get()
    copy_rows(InvoiceLine._meta.db_table, _LINE_COLUMNS, _rows(draft, line, 20))
    _refused(
        lambda: _sql("UPDATE brokerage_invoiceline SET amount = amount * 2 WHERE id = %s", [line.pk]), issued
    )
    _refused(lambda: InvoiceLine.objects.filter(invoice=issued).update(description="changed"), issued)
    # Many rows, the draft's and the issued invoice's together.
    _refused(
        lambda: InvoiceLine.objects.filter(invoice__in=[draft, issued]).update(position=7),
        issued,
    )
    # Moving a line in or out of an issued invoice: the new rows, then the old rows, are checked.
    moved = draft.lines.first()
    _refused(lambda: InvoiceLine.objects.filter(pk=moved.pk).update(invoice=issued), issued)
    _refused(lambda: InvoiceLine.objects.filter(pk=line.pk).update(invoice=draft), issued)


def test_delete_of_an_issued_invoices_lines_is_refused_one_row_or_many(issued, draft):
    line = issued.lines.get()
    copy_rows(InvoiceLine._meta.db_table, _LINE_COLUMNS, _rows(draft, line, 5))
    _refused(lambda: _sql("DELETE FROM brokerage_invoiceline WHERE id = %s", [line.pk]), issued)
    _refused(lambda: InvoiceLine.objects.filter(invoice__in=[draft, issued]).delete(), issued)
    _refused(lambda: _sql("DELETE FROM brokerage_invoiceline"), issued)


def test_the_lowest_issued_invoice_is_named_when_a_statement_touches_several(issued, draft, finance):
    second = finance_services.invoice_issue(invoice=draft, by=finance, today=date(2022, 7, 1))
    assert not second.is_draft
    first, last = sorted([issued, second], key=lambda i: i.pk)
    _refused(lambda: InvoiceLine.objects.filter(invoice__in=[issued, second]).update(position=3), first)
    assert last.lines.exists()


def test_every_event_is_allowed_on_a_draft_one_row_or_many(issued, draft):
    line = issued.lines.get()
    InvoiceLine.objects.create(**_kwargs(draft, line))
    InvoiceLine.objects.bulk_create([InvoiceLine(**_kwargs(draft, line)) for _ in range(3)])
    assert copy_rows(InvoiceLine._meta.db_table, _LINE_COLUMNS, _rows(draft, line, 40)) == 40
    assert draft.lines.count() == 1 + 1 + 3 + 40
    assert InvoiceLine.objects.filter(invoice=draft).update(description="checked") == 45
    _sql("UPDATE brokerage_invoiceline SET position = position + 1 WHERE invoice_id = %s", [draft.pk])
    first = draft.lines.order_by("pk").first()
    _sql("DELETE FROM brokerage_invoiceline WHERE id = %s", [first.pk])
    assert InvoiceLine.objects.filter(invoice=draft, position__gte=100).delete()[0] == 40
    assert draft.lines.count() == 4
    assert issued.lines.get().amount == line.amount  # untouched throughout


def test_deleting_a_draft_deletes_its_lines(issued, draft, finance):
    copy_rows(InvoiceLine._meta.db_table, _LINE_COLUMNS, _rows(draft, issued.lines.get(), 30))
    finance_services.invoice_delete_draft(invoice=draft, by=finance)
    assert not Invoice.objects.filter(pk=draft.pk).exists()
    assert not InvoiceLine.objects.filter(invoice_id=draft.pk).exists()
    # The ORM's cascade (lines first, then the invoice) on a draft made again.
    again = draft_like(draft)
    copy_rows(InvoiceLine._meta.db_table, _LINE_COLUMNS, _rows(again, issued.lines.get(), 3))
    assert Invoice.objects.filter(pk=again.pk).delete()[1]["brokerage.InvoiceLine"] == 3
    assert issued.lines.count() == 1


def _kwargs(invoice: Invoice, like: InvoiceLine) -> dict:
    fields = {c.removesuffix("_id") if c == "package_id" else c for c in InvoiceLine.CONTENT_COLUMNS}
    values = {f: getattr(like, f) for f in fields}
    return {**values, "invoice": invoice, "position": 9}
