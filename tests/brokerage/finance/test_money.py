"""Every amount shown or exported rounds half up to the penny (rules.md), through commissioning.money:
a weekly cost of 12.01 x 2.5 = 30.025 is £30.03 / "30.03" on every surface that shows it, never
£30.02 (what half even gave on the invoice page, in the API and in the CSV)."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from brokerage import invoice_pdf
from brokerage.finance import services as finance_services
from tests.brokerage.factories import OfferFactory, ReferralFactory

D = Decimal
MAY = date(2022, 5, 1)


@pytest.fixture(autouse=True)
def pdf_root(settings, tmp_path):
    settings.PDF_ROOT = tmp_path / "pdfs"


@pytest.fixture
def odd_package(make_package, council, ccg):
    """£12.01 an hour x 2.5 hours a week = £30.025 a week, from 10 May 2022, the CCG paying 40%."""
    return make_package(
        date(2022, 5, 10), rate=D("12.01"), units=D("2.5"), unit="hour", shares=[(council, 60), (ccg, 40)]
    )


@pytest.fixture
def odd_invoice(run_month, odd_package, finance):
    invoice = run_month(MAY).invoices.get()
    (line,) = invoice.lines.all()
    assert line.weekly_cost == D("30.025")  # kept unrounded: the rule multiplies it out
    return finance_services.invoice_issue(invoice=invoice, by=finance, today=date(2022, 6, 1))


def web_as(client, user):
    client.force_login(user)
    return client


def test_the_offer_and_package_pages_show_30_03(client, broker, odd_package):
    referral = ReferralFactory(client=odd_package.client)
    OfferFactory(referral=referral, unit_rate=D("12.01"), units_per_week=D("2.5"), unit="hour")
    web = web_as(client, broker)

    offer_page = web.get(referral.get_absolute_url()).content.decode()
    package_page = web.get(odd_package.get_absolute_url()).content.decode()

    for page in (offer_page, package_page):
        assert "£30.03" in page and "£30.02" not in page


def test_the_invoice_page_and_its_pdf_show_30_03(client, finance, odd_invoice):
    page = web_as(client, finance).get(odd_invoice.get_absolute_url()).content.decode()
    kept = finance_services.invoice_pdf_ensure(invoice_id=odd_invoice.pk)
    pdf = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(invoice_pdf.read_kept(kept))).pages)

    assert "£30.03" in page and "£30.02" not in page
    assert "£30.03" in pdf and "£30.02" not in pdf


def test_the_api_and_its_csv_send_30_03(api_as, broker, finance, odd_package, odd_invoice):
    referral = ReferralFactory(client=odd_package.client)
    offer = OfferFactory(referral=referral, unit_rate=D("12.01"), units_per_week=D("2.5"), unit="hour")
    casework, accounts = api_as(broker), api_as(finance)

    offer_json = casework.get(f"/api/v1/offers/{offer.pk}/").json()
    costs = casework.get(f"/api/v1/package-costs/?package={odd_package.pk}").json()["results"]
    lines = accounts.get(f"/api/v1/invoices/{odd_invoice.pk}/").json()["lines"]
    paged = accounts.get(f"/api/v1/invoices/{odd_invoice.pk}/lines/").json()["results"]
    report = accounts.get("/api/v1/recharge-report/").json()["results"]

    assert offer_json["weekly_cost"] == "30.03"
    assert [c["weekly_cost"] for c in costs] == ["30.03"]
    assert [x["weekly_cost"] for x in lines] == [x["weekly_cost"] for x in paged] == ["30.03"]
    assert [x["weekly_cost"] for x in report] == ["30.03"]
    exports = (f"/api/v1/invoices/{odd_invoice.pk}/lines/", "/api/v1/recharge-report/")
    for url in (f"{path}?format=csv" for path in exports):
        rows = list(csv.DictReader(io.StringIO(accounts.get(url).getvalue().decode("utf-8-sig"))))
        if "recharge-report" in url:
            rows = rows[:-1]  # the totals row
        assert [row["weekly_cost"] for row in rows] == ["30.03"], url


def test_the_recharge_report_export_writes_30_03(client, finance, odd_invoice):
    response = web_as(client, finance).get(reverse("finance:report") + "?period_from=2022-05&format=csv")

    *rows, _totals = list(csv.DictReader(io.StringIO(response.getvalue().decode("utf-8-sig"))))
    assert [row["weekly_cost"] for row in rows] == ["30.03"]
