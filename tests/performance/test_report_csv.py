"""The recharge report's CSV is streamed (issue 14): PostgreSQL writes each line in the one dialect
and a server-side cursor hands them over a chunk at a time, so a year of a borough (~40,000 rows)
comes within 1.5x of the bench's bare SQL reference with memory flat in the rows.

The stream must be the file the slow path wrote, byte for byte: every row through
``reports.report_table`` and ``csv_lines`` in Python. Checked on a realistic data set: the bench
generator's tiny borough (fourteen months of invoices), a backdated funding change billed by a run
(adjustment lines, credit notes), and an issued invoice of awkward lines (formula-like and quoted
text, half pennies, blank cells, a zero on a credit note)."""

from __future__ import annotations

import csv
import io
import math
import tracemalloc
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from benchmarks.generate import generate, period_for
from brokerage import services
from brokerage.finance import reports, selectors
from brokerage.finance import services as finance_services
from brokerage.models import Invoice, InvoiceLine, Package
from brokerage.services import Share
from commissioning.models import Partnership, User
from tests.brokerage.factories import InvoiceFactory, RechargeRunFactory

TODAY = date(2026, 11, 15)
PERIOD = period_for(TODAY)

pytestmark = pytest.mark.django_db

AWKWARD = [
    {"provider": '=HYPERLINK("http://x")', "client_reference": "-CASE 1"},
    {"provider": ' Care, "Homes"\nLtd', "client_reference": "@risk", "weekly_cost": Decimal("1234.565000")},
    {"provider": "\tTabbed", "client_reference": "+44", "weekly_cost": Decimal("1.015000")},
    {
        "provider": "Café £ Ltd",
        "client_reference": "-250.91",
        "weekly_cost": None,
        "days": None,
        "percent": None,
    },
    {"provider": "\r\n=1+1", "client_reference": " ", "paid_percent": Decimal("50.00")},
]


def _world() -> tuple[Partnership, User]:
    """The tiny borough, a run after a backdated change issued, and an awkward invoice disputed."""
    generate(size="tiny", seed=5, today=TODAY)
    partnership = Partnership.objects.select_related("council", "nhs_commissioner").get(
        name="Scale borough 01"
    )
    council, nhs = partnership.council, partnership.nhs_commissioner
    broker, finance = User.objects.get(username="bench_broker"), User.objects.get(username="bench_finance")
    change_from = date(PERIOD.year - 1, PERIOD.month, 1)
    packages = Package.objects.filter(
        client__partnership=partnership, paying_organisation=council, start__lt=change_from, end__isnull=True
    ).select_related("client__partnership")[:8]
    for n, package in enumerate(packages):  # more owed by the NHS for some, less (credit notes) for others
        council_share = Decimal("35") if n % 2 else Decimal("95")
        services.package_change_funding(
            package=package,
            effective_from=change_from,
            shares=[Share(council, council_share), Share(nhs, 100 - council_share)],
            basis="chc_eligibility",
            by=broker,
        )
    run = RechargeRunFactory(partnership=partnership, issuer=council, period=PERIOD)
    run = finance_services.recharge_run_execute(run_id=run.pk)
    assert run.status == "done", run.failure
    for draft in Invoice.objects.filter(run=run):
        finance_services.invoice_issue(invoice=draft, by=finance, today=TODAY)

    base = InvoiceLine.objects.filter(invoice__partnership=partnership, invoice__issuer=council).first()
    odd = InvoiceFactory(
        partnership=partnership,
        issuer=council,
        recipient=nhs,
        period=PERIOD,
        total=base.amount * len(AWKWARD),
    )
    made = []
    for position, changes in enumerate(AWKWARD):
        fields = {f.attname: getattr(base, f.attname) for f in InvoiceLine._meta.concrete_fields}
        fields.update(id=None, invoice_id=odd.pk, position=position, **changes)
        made.append(InvoiceLine.objects.create(**fields))
    odd = finance_services.invoice_issue(invoice=odd, by=finance, today=TODAY)
    dispute = finance_services.dispute_raise(
        invoice=odd, lines=made[:2], reason="other", note="Not agreed", by=finance
    )
    finance_services.dispute_resolve(dispute=dispute, outcome="waived", by=finance, today=TODAY)
    assert InvoiceLine.objects.filter(invoice__partnership=partnership, invoice__kind="credit_note").exists()
    assert InvoiceLine.objects.filter(invoice__partnership=partnership, adjustment=True).exists()
    return partnership, finance


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_streamed_report_is_the_old_file_byte_for_byte(client):
    partnership, finance = _world()
    council = partnership.council
    year_ago = date(PERIOD.year - 1, PERIOD.month, 1)
    cases = [
        ("", {}),
        (f"period={PERIOD:%Y-%m}", {"period": PERIOD}),
        (
            f"period_from={year_ago:%Y-%m}&period_to={PERIOD:%Y-%m}",
            {"period_from": year_ago, "period_to": PERIOD},
        ),
        ("kind=credit_note", {"kind": "credit_note"}),
        (f"issuer={council.code.lower()}", {"issuer": council}),
        (f"recipient={council.code}", {"recipient": council}),  # nothing: a report of no lines
        (
            f"service_from={year_ago:%Y-%m}&service_to={year_ago:%Y-%m}",
            {"service_from": year_ago, "service_to": year_ago},
        ),
    ]
    api = _api(finance)
    client.force_login(finance)
    for query, filters in cases:
        served = api.get(f"/api/v1/recharge-report/?{query}&format=csv")
        assert served.status_code == 200 and served.streaming, query
        body = served.getvalue()
        slow = reports.report_csv_bytes(selectors.recharge_report_values(finance, **filters))
        assert body == slow, query
        parsed = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
        count = selectors.recharge_report(finance, **filters).count()
        assert len(parsed) == count + 2 and parsed[-1][0] == f"Total of {count} lines", query
        assert count or query.startswith("recipient"), query
    # The page's download is the same file.
    page = client.get(reverse("finance:report") + f"?period={PERIOD:%Y-%m}&format=csv")
    assert page.getvalue() == reports.report_csv_bytes(
        selectors.recharge_report_values(finance, period=PERIOD, partnership=partnership)
    )
    # What the awkward lines look like in the file.
    text = _api(finance).get(f"/api/v1/recharge-report/?period={PERIOD:%Y-%m}&format=csv").getvalue().decode()
    assert '"\'=HYPERLINK(""http://x"")"' in text and ",'-CASE 1," in text and ",-250.91," in text
    assert "1234.57" in text and ",1.02," in text and ",'@risk," in text


def test_the_stream_reads_chunks_from_a_server_side_cursor_with_memory_flat(monkeypatch):
    partnership, finance = _world()
    rows = selectors.recharge_report(finance).count()
    monkeypatch.setattr(selectors, "CSV_CHUNK_ROWS", 5)
    response = _api(finance).get("/api/v1/recharge-report/?format=csv")
    chunks = iter(response.streaming_content)

    def open_cursors() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_cursors WHERE is_holdable OR NOT is_holdable")
            return cursor.fetchone()[0]

    header = next(chunks)
    assert header.startswith(b"\xef\xbb\xbfinvoice_number,") and header.count(b"\r\n") == 1
    first = next(chunks)  # the query runs now
    assert open_cursors() == 1  # the rest waits in PostgreSQL, not in this process
    sizes = [len(first)]
    tracemalloc.start()
    try:
        start, highest = tracemalloc.get_traced_memory()[0], 0
        for chunk in chunks:
            sizes.append(len(chunk))
            if chunk.startswith(b"Total of"):
                break
            highest = max(highest, tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()
    assert list(chunks) == []
    assert open_cursors() == 0
    assert len(sizes) == math.ceil(rows / 5) + 1  # the lines five at a time, then the totals row
    # While the lines stream, Python holds a chunk or so (7 kB here), never the file (47 kB) nor the
    # rows read so far.
    assert rows > 200 and highest - start < sum(sizes) / 4, (rows, highest - start, sum(sizes))
