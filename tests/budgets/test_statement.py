"""The pooled fund statement (rules.md rule 2; regulation 7 of the 2000 Regulations): rule 2's worked
example to the penny, for the year and a quarter, on the page, as CSV, through the API and as a PDF
produced by the worker."""

from __future__ import annotations

import subprocess
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from brokerage.finance import services as finance
from budgets import services
from budgets.models import FundStatement, MonthlyPosition
from budgets.selectors.statement import fund_statement, statement_data
from budgets.tasks import render_fund_statement
from commissioning import roles
from tests.budgets.factories import AgreementFactory, BudgetLineFactory, FundingStreamFactory, ScheduleFactory
from tests.commissioning.factories import PartnershipFactory, UserFactory

D = Decimal


@pytest.fixture
def example(db):
    """Rule 2's example: host LBB; CCG £118,340, LBB £43,713 (iBCF £29,799 + LBB core £13,914);
    a forecast overspend of £10,000 shared in proportion to contributions."""
    partnership = PartnershipFactory(council__code="LBB", nhs_commissioner__code="CCG")
    agreement = AgreementFactory(partnership=partnership, host=partnership.council, reference="BR-S75")
    schedule = ScheduleFactory(agreement=agreement, number=2, title="Integrated Placements and Brokerage")
    ccg = FundingStreamFactory(partnership=partnership, name="CCG", organisation=partnership.nhs_commissioner)
    ibcf = FundingStreamFactory(partnership=partnership, name="iBCF", organisation=partnership.council)
    core = FundingStreamFactory(partnership=partnership, name="LBB core", organisation=partnership.council)
    lines = {
        "ccg": BudgetLineFactory(schedule=schedule, year=2021, funding_stream=ccg, amount=D("118340.00")),
        "ibcf": BudgetLineFactory(schedule=schedule, year=2021, funding_stream=ibcf, amount=D("29799.00")),
        "core": BudgetLineFactory(schedule=schedule, year=2021, funding_stream=core, amount=D("13914.00")),
    }
    # September: on budget so far; March: £10,000 over on the CCG line.
    for key, line in lines.items():
        MonthlyPosition.objects.create(
            budget_line=line,
            period=date(2021, 9, 1),
            actual_to_date=line.amount / 2,
            forecast_outturn=line.amount,
        )
        over = D("10000.00") if key == "ccg" else D("0")
        MonthlyPosition.objects.create(
            budget_line=line,
            period=date(2022, 3, 1),
            actual_to_date=line.amount + over,
            forecast_outturn=line.amount + over,
        )
    manager = UserFactory(role=roles.COMMISSIONER, partnerships=[partnership])
    finance_user = UserFactory(role=roles.FINANCE_OFFICER, partnerships=[partnership])
    # The CCG's four instalments raised; three issued; two paid (one in April, one in July).
    raised = services.contribution_instalments_raise(agreement=agreement, upto=date(2022, 3, 31), by=manager)
    issued = [finance.invoice_issue(invoice=r.invoice, by=finance_user, today=r.due) for r in raised[:3]]
    finance.invoice_record_payment(
        invoice=issued[0], amount=D("29585.00"), paid_on=date(2021, 4, 20), by=finance_user
    )
    finance.invoice_record_payment(
        invoice=issued[1], amount=D("29585.00"), paid_on=date(2021, 7, 20), by=finance_user
    )
    return agreement, schedule, manager


def test_the_year_s_statement_shares_the_10000_overspend_as_rule_2_s_example(example):
    agreement, _, _ = example

    statement = fund_statement(agreement, year=2021)

    (s,) = statement.schedules
    assert (s.budget, s.forecast_outturn, s.actual_to_date, s.variance) == (
        D("162053.00"),
        D("172053.00"),
        D("172053.00"),
        D("10000.00"),
    )
    figures = {p.code: p for p in s.partners}
    assert (figures["CCG"].contribution, figures["CCG"].due, figures["CCG"].received) == (
        D("118340.00"),
        D("118340.00"),
        D("59170.00"),
    )
    assert (figures["LBB"].contribution, figures["LBB"].due) == (D("43713.00"), D("43713.00"))
    assert (figures["CCG"].risk_share, figures["LBB"].risk_share) == (D("7302.55"), D("2697.45"))
    assert (figures["CCG"].settlement, figures["LBB"].settlement) == (D("7302.55"), D("-7302.55"))
    assert figures["CCG"].settlement_text == "Owes the host £7,302.55"
    assert statement.as_at_period == date(2022, 3, 1)


def test_the_second_quarter_s_statement_is_the_quarter_to_date(example):
    agreement, _, _ = example

    statement = fund_statement(agreement, year=2021, quarter=2)

    (s,) = statement.schedules
    figures = {p.code: p for p in s.partners}
    assert (statement.start, statement.end, statement.as_at_period) == (
        date(2021, 7, 1),
        date(2021, 9, 30),
        date(2021, 9, 1),
    )
    assert (s.actual_to_date, s.forecast_outturn, s.variance) == (D("81026.50"), D("162053.00"), D("0.00"))
    assert (figures["CCG"].due, figures["CCG"].received) == (D("59170.00"), D("59170.00"))
    assert figures["LBB"].due == D("21856.50")
    assert figures["CCG"].settlement == D("0.00")


def test_the_statement_s_json_is_api_md_s_shape(example):
    agreement, schedule, _ = example

    data = statement_data(fund_statement(agreement, year=2021))

    assert data["schedules"][0]["contributions"] == [
        {"partner": "CCG", "due": "118340.00", "received": "59170.00"},
        {"partner": "LBB", "due": "43713.00", "received": "43713.00"},
    ]
    assert data["schedules"][0]["risk_share"] == [
        {"partner": "CCG", "amount": "7302.55"},
        {"partner": "LBB", "amount": "2697.45"},
    ]
    assert data["schedules"][0]["settlement"][0] == {"partner": "CCG", "amount": "7302.55"}
    assert (data["year"], data["quarter"], data["as_at_period"]) == (2021, None, "2022-03")
    assert data["totals"]["variance"] == "10000.00"


def test_the_api_answers_the_statement_and_its_csv(example, api_as):
    agreement, _, manager = example
    client = api_as(manager)

    response = client.get(f"/api/v1/agreements/{agreement.pk}/statement/?year=2021")
    csv = client.get(f"/api/v1/agreements/{agreement.pk}/statement/?year=2021&format=csv")
    bad = client.get(f"/api/v1/agreements/{agreement.pk}/statement/?year=2040&quarter=5")

    assert response.status_code == 200
    assert response.json()["schedules"][0]["variance"] == "10000.00"
    assert csv.status_code == 200
    text = csv.content.decode("utf-8-sig")
    rows = text.strip().split("\r\n")
    assert len(rows) == 3 and ",CCG," in rows[1] and ",LBB," in rows[2]
    assert "7302.55" in rows[1] and "-7302.55" in rows[2]
    assert bad.status_code == 400 and set(bad.json()) == {"year", "quarter"}


def test_the_page_shows_the_statement_and_its_csv_downloads(example, client):
    agreement, _, manager = example
    client.force_login(manager)

    page = client.get(reverse("budgets:statement", args=[agreement.pk]) + "?year=2021")
    csv = client.get(reverse("budgets:statement-csv", args=[agreement.pk]) + "?year=2021")

    body = page.content.decode()
    assert page.status_code == 200
    assert "Owes the host £7,302.55" in body and "Receives £7,302.55" in body and "£59,170.00" in body
    assert csv["Content-Type"].startswith("text/csv")
    content = csv.content.decode("utf-8")
    assert content.startswith("\ufeffAgreement,Year,Quarter")
    assert "-7302.55" in content


def test_a_bad_quarter_is_said_on_the_page(example, client):
    agreement, _, manager = example
    client.force_login(manager)

    page = client.get(reverse("budgets:statement", args=[agreement.pk]) + "?year=2021&quarter=9")

    assert page.status_code == 200
    assert "Choose the whole year or a quarter, 1 to 4." in page.content.decode()


def test_another_partnership_cannot_see_the_statement(example, client, api_as):
    agreement, _, _ = example
    stranger = UserFactory(role=roles.COMMISSIONER, partnerships=[PartnershipFactory()])
    client.force_login(stranger)

    assert client.get(reverse("budgets:statement", args=[agreement.pk])).status_code == 404
    assert client.get(reverse("budgets:statement-csv", args=[agreement.pk])).status_code == 404
    assert api_as(stranger).get(f"/api/v1/agreements/{agreement.pk}/statement/").status_code == 404


def test_the_worker_produces_the_pdf_and_keeps_it(
    example, client, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    settings.PDF_ROOT = str(tmp_path)
    agreement, _, manager = example
    queued = []
    monkeypatch.setattr("budgets.tasks.render_fund_statement.delay", lambda pk: queued.append(pk))
    client.force_login(manager)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("budgets:statement-produce", args=[agreement.pk]), {"year": "2021", "quarter": ""}
        )
    (row,) = FundStatement.objects.all()
    assert row.status == "queued" and queued == [row.pk]
    render_fund_statement(row.pk)
    render_fund_statement(row.pk)  # twice: nothing changes

    row.refresh_from_db()
    assert row.status == "ready" and len(row.pdf_checksum) == 64
    assert row.figures["schedules"][0]["risk_share"][0] == {"partner": "CCG", "amount": "7302.55"}
    response = client.get(reverse("budgets:statement-pdf", args=[row.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=response.content, capture_output=True, check=True
    ).stdout.decode()
    assert "Pooled fund statement, 2021/22" in text
    assert "Owes the host £7,302.55" in text and "£10,000.00" in text


def test_the_api_queues_the_pdf_then_serves_the_latest(example, api_as, settings, tmp_path, monkeypatch):
    settings.PDF_ROOT = str(tmp_path)
    agreement, _, manager = example
    monkeypatch.setattr("budgets.tasks.render_fund_statement.delay", lambda pk: None)
    client = api_as(manager)
    url = f"/api/v1/agreements/{agreement.pk}/statement/pdf/?year=2021"

    first = client.get(url)
    again = client.get(url)
    render_fund_statement(first.json()["id"])
    got = client.get(url)

    assert first.status_code == 202 and first.json()["status"] == "queued"
    assert again.status_code == 202 and again.json()["id"] == first.json()["id"]
    assert FundStatement.objects.count() == 1
    assert got.status_code == 200 and got.content.startswith(b"%PDF")


def test_a_role_that_may_not_produce_gets_404_until_one_is_produced(example, api_as):
    agreement, _, _ = example
    member = UserFactory(role=roles.BOARD_MEMBER, partnerships=[agreement.partnership])

    response = api_as(member).get(f"/api/v1/agreements/{agreement.pk}/statement/pdf/?year=2021")

    assert response.status_code == 404
    assert not FundStatement.objects.exists()


def test_a_board_member_may_read_but_not_produce(example, client):
    agreement, _, _ = example
    member = UserFactory(role=roles.BOARD_MEMBER, partnerships=[agreement.partnership])
    client.force_login(member)

    assert client.get(reverse("budgets:statement", args=[agreement.pk])).status_code == 200
    response = client.post(reverse("budgets:statement-produce", args=[agreement.pk]), {"year": "2021"})

    assert response.status_code == 403
    assert not FundStatement.objects.exists()


def test_the_statement_reads_a_fixed_number_of_queries_whatever_the_schedules(
    example, api_as, django_assert_max_num_queries
):
    agreement, schedule, manager = example
    client = api_as(manager)
    with django_assert_max_num_queries(30) as few:
        client.get(f"/api/v1/agreements/{agreement.pk}/statement/?year=2021")
    for number in (3, 4, 5):
        other = ScheduleFactory(agreement=agreement, number=number)
        stream = FundingStreamFactory(
            partnership=agreement.partnership, organisation=agreement.partnership.nhs_commissioner
        )
        BudgetLineFactory(schedule=other, year=2021, funding_stream=stream, amount=D("1000.00"))

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(f"/api/v1/agreements/{agreement.pk}/statement/?year=2021")

    assert len(response.json()["schedules"]) == 4
