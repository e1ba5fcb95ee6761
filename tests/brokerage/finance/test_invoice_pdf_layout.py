"""The invoice PDF as a finance team expects: the total after the last line (never part-way down),
each package's heading on the same page as its first line, the document's number and "Page x of y"
on every page, and a credit note without a due date or payment terms."""

import io
import os
import re
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from brokerage import invoice_pdf, services
from brokerage.finance import services as finance_services
from tests.brokerage.factories import change_price

D = Decimal
JAN = date(2026, 1, 1)


@pytest.fixture(autouse=True)
def pdf_root(settings, tmp_path):
    settings.PDF_ROOT = tmp_path / "pdfs"


def pages_of(data: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


def _keep(name: str, data: bytes) -> None:
    """With PDF_LOOK_DIR set, keep the file to look at (pdftoppm -png)."""
    folder = os.environ.get("PDF_LOOK_DIR")
    if folder:
        with open(os.path.join(folder, name), "wb") as out:
            out.write(data)


@pytest.fixture
def long_invoice(make_package, council, ccg, broker, run_month, finance):
    """Twenty packages, each with a mid-month price change and a suspension: 4 lines each."""
    for n in range(20):
        package = make_package(
            JAN, rate=D("700.00") + n, shares=[(council, 60), (ccg, 40)], reference=f"LAS2000{n:02d}"
        )
        change_price(
            package=package,
            effective_from=date(2026, 1, 16),
            unit_rate=D("750.00") + n,
            units_per_week=D("1"),
            unit="week",
            by=broker,
        )
        services.suspension_add(
            package=package,
            effective_from=date(2026, 1, 20),
            effective_to=date(2026, 1, 25),
            treatment="reduced",
            paid_percent=D("80"),
            reason="Hospital stay",
            by=broker,
        )
    invoice = run_month(JAN).invoices.get()
    return finance_services.invoice_issue(invoice=invoice, by=finance, today=date(2026, 2, 2))


def test_a_three_page_invoice_has_its_number_and_page_x_of_y_on_every_page(long_invoice):
    data = invoice_pdf.render(long_invoice)
    _keep("invoice-3-pages.pdf", data)
    pages = pages_of(data)

    assert len(pages) == 3
    for number, text in enumerate(pages, start=1):
        assert long_invoice.number in text
        assert f"Page {number} of 3" in text
    # The total only once, on the last page, after the last line.
    assert [("Total due" in text) for text in pages] == [False, False, True]
    last = pages[-1]
    assert last.index("LAS200019") < last.index("Total due")
    assert "Total due (80 lines, 20 packages)" in last  # 4 lines a package: 1-15, 16-19, 20-25, 26-31
    assert "× 80% paid" in " ".join(pages)


def test_a_package_heading_is_never_left_alone_at_the_foot_of_a_page(long_invoice):
    pages = pages_of(invoice_pdf.render(long_invoice))
    for text in pages:
        headings = [m.start() for m in re.finditer(r"P\d{6} · client", text)]
        if headings:
            # After the page's last heading comes at least one of its lines (a month, "Jan 2026").
            assert "Jan 2026" in text[headings[-1] :]


def test_a_credit_note_has_no_due_date_or_terms(issued, finance):
    dispute = finance_services.dispute_raise(
        invoice=issued, lines=list(issued.lines.all()), reason="wrong_rate", note="", by=finance
    )
    note = finance_services.dispute_resolve(
        dispute=dispute, outcome="waived", by=finance, today=date(2022, 7, 4)
    )
    data = invoice_pdf.render(note.credit_note)
    _keep("credit-note.pdf", data)
    (text,) = pages_of(data)

    assert "Credit note LBB-CN-2223-00001" in text and "Page 1 of 1" in text
    assert "Due date" not in text and "Payment terms" not in text and "days from the issue date" not in text
    assert "Total credited (1 line, 1 package) £1,552.02" in text
