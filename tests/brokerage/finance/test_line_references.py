"""An invoice line's invoice and package must exist (brokerage.models.line_references): checked
once per statement by triggers instead of per line by foreign key constraints, with the same rule
and PostgreSQL's own error (SQLSTATE 23503, IntegrityError), for one line or a COPY of thousands."""

import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, connections, transaction

from brokerage.finance.services import _LINE_COLUMNS
from brokerage.models import Invoice, InvoiceLine, Package
from commissioning.bulk import copy_rows
from tests.brokerage.factories import draft_like

JUNE = date(2022, 6, 1)
MISSING = 987_654_321


@pytest.fixture
def draft(issued, run_month):
    """The June 2022 draft of example 1 (May's invoice is issued), with one line."""
    invoice = run_month(JUNE).invoices.get()
    assert invoice.is_draft and invoice.lines.count() == 1
    return invoice


def _rows(invoice_id: int, like: InvoiceLine, n: int, package_id: int | None = None) -> list[tuple]:
    """``n`` rows of ``_LINE_COLUMNS`` on ``invoice_id``, saying what ``like`` says (of
    ``package_id`` if given)."""
    content = list(InvoiceLine.objects.filter(pk=like.pk).values_list(*InvoiceLine.CONTENT_COLUMNS).get())
    if package_id is not None:
        content[0] = package_id
    return [(invoice_id, *content, 100 + i) for i in range(n)]


def _lines() -> list[tuple]:
    return list(InvoiceLine.objects.order_by("pk").values_list("pk", "invoice_id", "package_id", "amount"))


def _refused(statement, message: str, detail: str) -> None:
    """``statement`` fails as a foreign key would fail, naming what is wrong, and writes nothing."""
    before = (_lines(), list(Invoice.objects.values_list("pk", flat=True).order_by("pk")))
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        statement()
    cause = caught.value.__cause__
    assert cause.pgcode == "23503"  # foreign_key_violation, PostgreSQL's own code
    assert message in str(caught.value)
    assert cause.diag.message_detail == detail
    assert (_lines(), list(Invoice.objects.values_list("pk", flat=True).order_by("pk"))) == before


def _sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.mark.django_db
def test_no_foreign_key_constraint_is_left_on_the_two_columns_and_their_indexes_stay():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, InvoiceLine._meta.db_table)
    foreign = {tuple(c["columns"]) for c in constraints.values() if c["foreign_key"]}
    assert ("invoice_id",) not in foreign and ("package_id",) not in foreign
    indexed = {tuple(c["columns"]) for c in constraints.values() if c["index"]}
    assert ("invoice_id",) in indexed and ("package_id", "month") in indexed


def test_a_line_naming_no_invoice_is_refused_one_row_or_a_copy_of_many(draft):
    line = draft.lines.get()
    message = 'violates foreign key constraint "invoice_line_invoice_exists"'
    detail = f'Key (invoice_id)=({MISSING}) is not present in table "brokerage_invoice".'
    _refused(lambda: InvoiceLine.objects.create(**_kwargs(line, invoice_id=MISSING)), message, detail)
    # Fifty lines on the draft and one on no invoice: the whole COPY is refused.
    _refused(
        lambda: copy_rows(
            InvoiceLine._meta.db_table, _LINE_COLUMNS, [*_rows(draft.pk, line, 50), *_rows(MISSING, line, 1)]
        ),
        message,
        detail,
    )
    # Moving a line to no invoice.
    _refused(lambda: InvoiceLine.objects.filter(pk=line.pk).update(invoice_id=MISSING), message, detail)


def test_a_line_naming_no_package_is_refused_one_row_or_a_copy_of_many(draft):
    line = draft.lines.get()
    message = 'violates foreign key constraint "invoice_line_package_exists"'
    detail = f'Key (package_id)=({MISSING}) is not present in table "brokerage_package".'
    _refused(lambda: InvoiceLine.objects.create(**_kwargs(line, package_id=MISSING)), message, detail)
    _refused(
        lambda: copy_rows(
            InvoiceLine._meta.db_table,
            _LINE_COLUMNS,
            [*_rows(draft.pk, line, 30), *_rows(draft.pk, line, 2, package_id=MISSING)],
        ),
        message,
        detail,
    )
    _refused(
        lambda: _sql("UPDATE brokerage_invoiceline SET package_id = %s WHERE id = %s", [MISSING, line.pk]),
        message,
        detail,
    )


def test_lines_naming_what_exists_are_written_and_a_line_may_name_no_package(
    draft, make_package, council, ccg
):
    line = draft.lines.get()
    other = make_package(date(2022, 5, 1), shares=[(council, 50), (ccg, 50)])
    written = copy_rows(
        InvoiceLine._meta.db_table,
        _LINE_COLUMNS,
        [*_rows(draft.pk, line, 40), *_rows(draft.pk, line, 3, package_id=other.pk)],
    )
    assert written == 43
    # A contribution or settlement line names no package: nothing to check.
    InvoiceLine.objects.create(**{**_kwargs(line), "package": None, "description": "Contribution"})
    assert InvoiceLine.objects.filter(pk=line.pk).update(package=other) == 1
    assert draft.lines.count() == 1 + 43 + 1


def test_an_invoice_or_package_a_line_names_cannot_be_deleted_or_renumbered(draft):
    line = draft.lines.get()
    for table, pk, constraint in (
        ("brokerage_invoice", draft.pk, "invoice_line_invoice_exists"),
        ("brokerage_package", line.package_id, "invoice_line_package_exists"),
    ):
        held = f'Key (id)=({pk}) is still referenced from table "brokerage_invoiceline".'
        _refused(
            lambda table=table, pk=pk: _sql(f"DELETE FROM {table} WHERE id = %s", [pk]),  # noqa: S608
            f'update or delete on table "{table}" violates foreign key constraint '
            f'"{constraint}" on table "brokerage_invoiceline"',
            held,
        )
        _refused(
            lambda table=table, pk=pk: _sql(f"UPDATE {table} SET id = %s WHERE id = %s", [MISSING, pk]),  # noqa: S608
            f'violates foreign key constraint "{constraint}"',
            held,
        )


def test_an_invoice_no_line_names_may_be_renumbered_and_deleting_a_draft_takes_its_lines(draft, finance):
    from brokerage.finance import services as finance_services

    empty = draft_like(draft)
    _sql("UPDATE brokerage_invoice SET id = %s WHERE id = %s", [MISSING, empty.pk])
    _sql("DELETE FROM brokerage_invoice WHERE id = %s", [MISSING])
    # The ORM's cascade deletes the lines first, then the invoice: allowed.
    copy_rows(InvoiceLine._meta.db_table, _LINE_COLUMNS, _rows(draft.pk, draft.lines.get(), 20))
    finance_services.invoice_delete_draft(invoice=draft, by=finance)
    assert not Invoice.objects.filter(pk=draft.pk).exists()
    assert not InvoiceLine.objects.filter(invoice_id=draft.pk).exists()


def _kwargs(like: InvoiceLine, **override) -> dict:
    fields = {c.removesuffix("_id") if c == "package_id" else c for c in InvoiceLine.CONTENT_COLUMNS}
    values = {f: getattr(like, f) for f in fields}
    values["invoice_id"] = like.invoice_id
    if "package_id" in override:
        values.pop("package")
    return {**values, "position": 9, **override}


@pytest.mark.django_db(transaction=True)
def test_a_delete_waits_for_lines_being_written_and_is_then_refused(example_one, council, ccg):
    """As with a foreign key: the lines' writer holds their invoice (key share) until it commits;
    a delete of that invoice, which had no line when the delete began, waits for the writer and then,
    seeing the committed lines, is refused. Without the lock it would leave the lines orphaned."""
    fresh = Invoice.objects.create(
        partnership=example_one.client.partnership, issuer=council, recipient=ccg, period=JUNE, total=1
    )
    written, outcome = threading.Event(), {}

    def writer():
        try:
            with transaction.atomic():
                copy_rows(InvoiceLine._meta.db_table, _LINE_COLUMNS, _made_rows(fresh, example_one, 5))
                written.set()
                time.sleep(0.5)  # the delete starts while this transaction is still open
                outcome["committing"] = time.monotonic()  # before COMMIT is sent
        finally:
            connections.close_all()

    def deleter():
        written.wait(10)
        try:
            with transaction.atomic():
                _sql("DELETE FROM brokerage_invoice WHERE id = %s", [fresh.pk])
        except IntegrityError as error:
            outcome["error"] = error.__cause__.pgcode
        finally:
            outcome["answered"] = time.monotonic()
            connections.close_all()

    _together(writer, deleter)
    assert outcome.get("error") == "23503"
    # It waited for the writer's commit: its answer came after the writer began to commit, however
    # late either thread ran (a measured wait longer than some part of the writer's sleep could
    # fail on a busy machine, the deleter's thread starting late).
    assert outcome["answered"] > outcome["committing"]
    assert InvoiceLine.objects.filter(invoice_id=fresh.pk).count() == 5


@pytest.mark.django_db(transaction=True)
def test_lines_written_while_their_invoice_is_being_deleted_are_refused(example_one, council, ccg):
    """The other order: the invoice's delete is under way (uncommitted) when the lines are written;
    their check waits for it and, the invoice gone, refuses them."""
    fresh = Invoice.objects.create(
        partnership=example_one.client.partnership, issuer=council, recipient=ccg, period=JUNE, total=1
    )
    deleted, outcome = threading.Event(), {}

    def deleter():
        try:
            with transaction.atomic():
                _sql("DELETE FROM brokerage_invoice WHERE id = %s", [fresh.pk])
                deleted.set()
                time.sleep(0.5)
        finally:
            connections.close_all()

    def writer():
        deleted.wait(10)
        try:
            with transaction.atomic():
                copy_rows(InvoiceLine._meta.db_table, _LINE_COLUMNS, _made_rows(fresh, example_one, 3))
        except IntegrityError as error:
            outcome["error"] = error.__cause__.pgcode
        finally:
            connections.close_all()

    _together(deleter, writer)
    assert outcome.get("error") == "23503"
    assert not Invoice.objects.filter(pk=fresh.pk).exists()
    assert not InvoiceLine.objects.filter(invoice_id=fresh.pk).exists()


def _made_rows(invoice: Invoice, package: Package, n: int) -> list[tuple]:
    """``n`` rows of ``_LINE_COLUMNS``: ``package``'s June 2022 on ``invoice``."""
    content = {
        "package_id": package.pk,
        "client_reference": "LAS000001",
        "provider": "A provider",
        "service_type": package.service_type,
        "month": JUNE,
        "start": JUNE,
        "end": date(2022, 6, 30),
        "amount": Decimal("10.00"),
    }
    return [
        (
            invoice.pk,
            *(content.get(column, DEFAULTS.get(column)) for column in InvoiceLine.CONTENT_COLUMNS),
            i,
        )
        for i in range(n)
    ]


DEFAULTS = {"nhs_number": "", "adjustment": False, "previously_billed": False, "description": ""}


def _together(*calls) -> None:
    threads = [threading.Thread(target=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
