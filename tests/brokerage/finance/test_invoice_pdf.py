"""The invoice PDF: rendered once at issue, kept with its checksum, user text escaped, and no
fetching beyond the project's static files."""

import io
from datetime import date

import pytest
from pypdf import PdfReader

from brokerage import invoice_pdf
from brokerage.finance import services as finance_services
from brokerage.models import Invoice


@pytest.fixture(autouse=True)
def pdf_root(settings, tmp_path):
    settings.PDF_ROOT = tmp_path / "pdfs"
    return settings.PDF_ROOT


def text_of(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_an_issued_invoice_pdf_is_a_proper_invoice(issued, ccg):
    invoice = finance_services.invoice_pdf_ensure(invoice_id=issued.pk)

    data = invoice_pdf.read_kept(invoice)
    assert data.startswith(b"%PDF")
    text = " ".join(text_of(data).split())
    for expected in (
        "Invoice LBB-2223-00001",
        "London Borough of Bromley",
        "Stockwell Close",
        ccg.name,
        "1 June 2022",  # issue date
        "1 July 2022",  # due date: 30 days' terms
        "May 2022",
        "30 days from the issue date",
        "LAS000001",
        "£1,234.56",
        "40%",
        "£1,552.02",
        "outside the scope of VAT",
        "Remittance",
        "recharges@bromley.example",
    ):
        assert expected in text, expected
    assert len(invoice.pdf_checksum) == 64


def test_rendering_twice_keeps_the_first_file(issued):
    first = finance_services.invoice_pdf_ensure(invoice_id=issued.pk)
    kept = invoice_pdf.read_kept(first)

    again = finance_services.invoice_pdf_ensure(invoice_id=issued.pk)

    assert (again.pdf_path, again.pdf_checksum) == (first.pdf_path, first.pdf_checksum)
    assert invoice_pdf.read_kept(again) == kept


def test_a_draft_has_no_kept_pdf(run_month, example_one):
    draft = run_month(date(2022, 5, 1)).invoices.get()
    assert finance_services.invoice_pdf_ensure(invoice_id=draft.pk).pdf_checksum == ""


def test_user_text_is_escaped(issued):
    issued.recipient.name = '<img src="file:///etc/passwd">CCG & Co'
    issued.recipient.save()

    text = text_of(invoice_pdf.render(Invoice.objects.get(pk=issued.pk)))

    assert '<img src="file:///etc/passwd">CCG & Co' in text


def test_a_tampered_file_is_refused(issued):
    invoice = finance_services.invoice_pdf_ensure(invoice_id=issued.pk)
    (invoice_pdf.pdf_root() / invoice.pdf_path).write_bytes(b"%PDF-1.7 forged")

    with pytest.raises(invoice_pdf.PdfMissing):
        invoice_pdf.read_kept(invoice)


def test_a_deleted_kept_file_is_refused_not_a_crash(issued):
    invoice = finance_services.invoice_pdf_ensure(invoice_id=issued.pk)
    (invoice_pdf.pdf_root() / invoice.pdf_path).unlink()

    with pytest.raises(invoice_pdf.PdfMissing):
        invoice_pdf.read_kept(invoice)


def test_a_missing_kept_file_gives_a_clear_page_and_api_error(issued, finance, client, api_as):
    invoice = finance_services.invoice_pdf_ensure(invoice_id=issued.pk)
    (invoice_pdf.pdf_root() / invoice.pdf_path).unlink()
    client.force_login(finance)

    page = client.get(f"/finance/invoices/{invoice.pk}/pdf/")
    api = api_as(finance).get(f"/api/v1/invoices/{invoice.pk}/pdf/")

    assert page.status_code == 503
    assert f"The PDF of invoice {invoice.number} cannot be shown" in page.content.decode()
    assert api.status_code == 503
    assert "restore it from the backup" in api.json()["detail"]
    assert not (invoice_pdf.pdf_root() / invoice.pdf_path).exists()  # never silently re-rendered


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "https://example.org/x.css",
        invoice_pdf.STATIC_PREFIX + "../../etc/passwd",
        invoice_pdf.STATIC_PREFIX + "no/such.css",
    ],
)
def test_the_fetcher_serves_only_our_static_files(url):
    with pytest.raises(ValueError):
        invoice_pdf.StaticOnlyFetcher().fetch(url)


def test_the_fetcher_serves_the_invoice_stylesheet():
    response = invoice_pdf.StaticOnlyFetcher().fetch(invoice_pdf.STATIC_PREFIX + "brokerage/invoice.css")
    assert b"@page" in response.read()


def test_a_credit_note_says_what_it_credits(credit_note):
    text = " ".join(text_of(invoice_pdf.render(credit_note)).split())
    assert "Credit note LBB-CN-2223-00001" in text
    assert "Credits invoice LBB-2223-00001" in text
    assert "Total credited (1 line, 1 package) £1,552.02" in text
    assert "Remittance" not in text


@pytest.fixture
def credit_note(issued, finance):
    line = issued.lines.get()
    dispute = finance_services.dispute_raise(
        invoice=issued, lines=[line], reason="wrong_rate", note="", by=finance
    )
    resolved = finance_services.dispute_resolve(
        dispute=dispute, outcome="waived", by=finance, today=date(2022, 7, 4)
    )
    return resolved.credit_note
