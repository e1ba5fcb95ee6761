"""The finance lists' filters are strict and their money signed (api.md "General"): a bad period or
an unknown organisation code is a 400 naming the parameter (and an error listing nothing on the
page), codes are case-insensitive, ``period`` is the invoice's month and ``service_from``/
``service_to`` the month a line is for (adjustments included); a credit note's total and
outstanding are negative so columns sum to the truth; the report's page CSV and API CSV are the
same file, packages named by reference with the id beside, with a totals row."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from brokerage import services
from brokerage.finance import services as finance_services
from tests.brokerage.factories import change_price

D = Decimal
OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)


@pytest.fixture(autouse=True)
def pdf_root(settings, tmp_path):
    settings.PDF_ROOT = tmp_path / "pdfs"


@pytest.fixture
def documents(make_package, council, ccg, run_month, finance, broker):
    """October's invoice (£250.91, waived in a dispute: credit note £250.91), and November's invoice:
    a new package's November (£200.00) and October's adjustment after a backdated rise (£10.00)."""
    first = make_package(OCT, rate=D("141.64"), shares=[(council, 60), (ccg, 40)], reference="LAS000008")
    october = finance_services.invoice_issue(
        invoice=run_month(OCT).invoices.get(), by=finance, today=date(2026, 11, 2)
    )
    dispute = finance_services.dispute_raise(
        invoice=october, lines=list(october.lines.all()), reason="wrong_rate", note="", by=finance
    )
    waived = finance_services.dispute_resolve(
        dispute=dispute, outcome="waived", by=finance, today=date(2026, 11, 3)
    )
    services.package_end(package=first, end=date(2026, 10, 31), by=broker)
    change_price(
        package=first,
        effective_from=OCT,
        unit_rate=D("147.29"),
        units_per_week=D("1"),
        unit="week",
        by=broker,
    )
    make_package(NOV, rate=D("350.00"), shares=[(council, 60), (ccg, 40)], reference="LAS000009")
    november = finance_services.invoice_issue(
        invoice=run_month(NOV).invoices.get(), by=finance, today=date(2026, 12, 1)
    )
    assert november.total == D("610.00")  # 350 * 30 * 40 / 700 = 600.00, and October's 10.00
    return october, waived.credit_note, november


@pytest.fixture
def api(api_as, finance):
    return api_as(finance)


LISTS = ["/api/v1/invoices/", "/api/v1/recharge-runs/", "/api/v1/recharge-report/"]


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize(
    ("query", "param"),
    [("partner=LBB", "partner"), ("period=2023-13", "period"), ("issuer=NOPE", "issuer")],
)
def test_an_unknown_filter_or_a_bad_value_is_400_naming_it(api, documents, url, query, param):
    response = api.get(f"{url}?{query}")
    assert response.status_code == 400 and param in response.json(), response.json()


@pytest.mark.parametrize("url", ["/api/v1/invoices/", "/api/v1/recharge-report/"])
def test_kind_and_recipient_are_filters_with_bad_values_refused(api, documents, url):
    assert api.get(f"{url}?kind=refund").status_code == 400
    assert "recipient" in api.get(f"{url}?recipient=NOPE").json()


def test_period_is_the_invoice_month_and_codes_are_case_insensitive(api, documents):
    october, credit, november = documents
    invoices = api.get("/api/v1/invoices/?period=2026-10&issuer=lbb").json()["results"]
    assert {row["number"] for row in invoices} == {october.number, credit.number}
    report = api.get("/api/v1/recharge-report/?period=2026-10&recipient=selccg-br").json()["results"]
    assert {row["invoice_number"] for row in report} == {october.number, credit.number}
    assert [row["number"] for row in api.get("/api/v1/invoices/?kind=credit_note").json()["results"]] == [
        credit.number
    ]
    only_credit = api.get("/api/v1/recharge-report/?kind=credit_note").json()["results"]
    assert {row["invoice_number"] for row in only_credit} == {credit.number}


def test_service_months_find_the_lines_for_a_month_adjustments_included(api, documents):
    october, credit, november = documents
    rows = api.get("/api/v1/recharge-report/?service_from=2026-10&service_to=2026-10").json()["results"]
    assert {(row["invoice_number"], row["amount"]) for row in rows} == {
        (october.number, "250.91"),
        (credit.number, "-250.91"),
        (november.number, "260.91"),  # the adjustment for October on November's invoice
        (november.number, "-250.91"),
    }
    assert sum(D(row["amount"]) for row in rows) == D("10.00")  # October: 260.91 owed, 250.91 waived
    assert all(row["corrects_month"] == "2026-10" for row in rows if row["invoice_number"] == november.number)


def test_a_credit_notes_total_and_outstanding_are_negative_so_sums_are_true(api, documents):
    october, credit, november = documents
    rows = {row["number"]: row for row in api.get("/api/v1/invoices/").json()["results"]}
    assert (rows[credit.number]["total"], rows[credit.number]["outstanding"]) == ("-250.91", "-250.91")
    assert rows[october.number]["outstanding"] == "0.00"  # credited in full
    assert sum(D(row["outstanding"]) for row in rows.values()) == D("359.09")  # 610.00 - 250.91
    csv = api.get("/api/v1/invoices/?format=csv").content.decode("utf-8-sig")
    assert "-250.91" in csv and "'-250.91" not in csv  # a negative number, not neutralised text


def test_the_report_csv_is_one_file_on_the_page_and_in_the_api(api, client, finance, documents):
    client.force_login(finance)
    web = client.get(reverse("finance:report") + "?period=2026-11&format=csv")
    served = api.get("/api/v1/recharge-report/?period=2026-11&format=csv")

    assert web.streaming and served.streaming  # the report streams (memory flat in the rows)
    body = served.getvalue()
    assert web.getvalue() == body
    assert (
        web["Content-Disposition"]
        == served["Content-Disposition"]
        == 'attachment; filename="recharge-report.csv"'
    )
    text = body.decode("utf-8")
    assert text.startswith("\ufeffinvoice_number,kind,issuer,recipient,period,package_reference,package,")
    lines = text.strip().splitlines()
    assert lines[-1].startswith("Total of 3 lines,") and ",610.00," in lines[-1]
    row = lines[1].split(",")
    assert row[5].startswith("P0") and row[6] == str(int(row[5][1:]))  # the reference, the id beside


def test_the_invoice_page_with_a_bad_filter_shows_the_error_and_lists_nothing(client, finance, documents):
    client.force_login(finance)
    page = client.get(reverse("finance:invoices") + "?period=2026-13")
    assert page.status_code == 200
    assert "Give the period as a month" in page.text and "No invoices match." in page.text
    unknown = client.get(reverse("finance:invoices") + "?issuer=NOPE")
    assert (
        "There is no organisation with the code NOPE" in unknown.text and "No invoices match." in unknown.text
    )
    lower = client.get(reverse("finance:invoices") + "?issuer=lbb&period=2026-10")
    assert documents[0].number in lower.text and documents[2].number not in lower.text


@pytest.mark.parametrize(
    "url", ["/api/v1/invoices/", "/api/v1/recharge-report/", "/api/v1/aged-debt/?as_at=2026-12-01&"]
)
def test_a_code_with_a_nul_character_is_a_400_not_a_500(api, url):
    joiner = "" if url.endswith("&") else "?"
    response = api.get(f"{url}{joiner}issuer=L%00BB")
    assert response.status_code == 400 and "issuer" in response.json()
