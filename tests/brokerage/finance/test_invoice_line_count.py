"""``InvoiceLineCount``: each invoice's lines counted by statement-level triggers (migration 0017),
so the invoice list reads ``line_count`` instead of counting every line of its page."""

from datetime import date

import pytest
from django.db.models import Count

from brokerage.finance import services as finance_services
from brokerage.models import Invoice, InvoiceLine, InvoiceLineCount

pytestmark = pytest.mark.django_db


def counted() -> dict[int, int]:
    return dict(InvoiceLineCount.objects.values_list("invoice_id", "lines"))


def actual() -> dict[int, int]:
    return dict(InvoiceLine.objects.values("invoice").annotate(n=Count("id")).values_list("invoice", "n"))


def test_every_write_of_lines_keeps_each_invoices_count(
    api_as, make_package, council, ccg, run_month, finance
):
    for _ in range(3):
        make_package(date(2022, 3, 1), shares=[(council, 50), (ccg, 50)])
    (invoice,) = run_month(date(2022, 5, 1)).invoices.all()  # its lines written by COPY
    assert counted() == actual() == {invoice.pk: 9}

    other = Invoice.objects.get(pk=invoice.pk)
    other.pk = None
    other.save()  # a second draft
    first, second, third, *_ = invoice.lines.order_by("pk")
    InvoiceLine.objects.filter(pk__in=[first.pk, second.pk]).update(invoice=other)  # moved
    assert counted() == actual() == {invoice.pk: 7, other.pk: 2}
    InvoiceLine.objects.filter(pk=third.pk).update(description="changed")  # not moved
    copy = InvoiceLine.objects.get(pk=third.pk)
    copy.pk = None
    InvoiceLine.objects.bulk_create([copy])
    InvoiceLine.objects.filter(pk=first.pk).delete()
    assert counted() == actual() == {invoice.pk: 8, other.pk: 1}

    listed = api_as(finance).get("/api/v1/invoices/").json()["results"]
    assert {row["id"]: row["line_count"] for row in listed} == {invoice.pk: 8, other.pk: 1}

    finance_services.invoice_delete_draft(invoice=other, by=finance)
    assert counted() == actual() == {invoice.pk: 8}
    InvoiceLine.objects.filter(invoice=invoice).delete()
    assert counted() == actual() == {}
    (row,) = api_as(finance).get("/api/v1/invoices/").json()["results"]
    assert row["line_count"] == 0
