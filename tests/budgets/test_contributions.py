"""Partners' contributions to a pooled schedule (rules.md rule 2): the instalment rule, plans, and the
instalments raised as contribution invoices through the finance machinery."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from brokerage.finance import services as finance
from brokerage.models import Invoice, InvoiceKind, InvoiceStatus
from budgets import contributions, services
from budgets.models import ContributionInstalment, ContributionPlan
from budgets.tasks import raise_due_contributions
from budgets.views import contributions as contribution_views
from commissioning import roles
from tests.budgets.factories import AgreementFactory, BudgetLineFactory, FundingStreamFactory, ScheduleFactory
from tests.commissioning.factories import PartnershipFactory, UserFactory

D = Decimal


# --- The rule ---------------------------------------------------------------------------------------


def test_a_contribution_of_118340_is_four_instalments_of_29585():
    assert contributions.split(D("118340.00"), 4) == [D("29585.00")] * 4


def test_the_last_instalment_takes_the_remainder_of_118341_01():
    assert contributions.split(D("118341.01"), 4) == [D("29585.25")] * 3 + [D("29585.26")]


@given(
    total=st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
    count=st.sampled_from([4, 12]),
)
def test_instalments_always_sum_to_the_contribution(total, count):
    parts = contributions.split(total, count)

    assert sum(parts) == total
    assert len(set(parts[:-1])) <= 1


def test_quarterly_instalments_are_due_on_the_first_day_of_each_quarter():
    rows = contributions.instalments(total=D("118341.01"), year=2021, frequency="quarterly")

    assert [(r.due, r.end, r.amount) for r in rows] == [
        (date(2021, 4, 1), date(2021, 6, 30), D("29585.25")),
        (date(2021, 7, 1), date(2021, 9, 30), D("29585.25")),
        (date(2021, 10, 1), date(2021, 12, 31), D("29585.25")),
        (date(2022, 1, 1), date(2022, 3, 31), D("29585.26")),
    ]


def test_monthly_instalments_are_twelve():
    rows = contributions.instalments(total=D("1200.05"), year=2022, frequency="monthly")

    assert [r.due for r in rows][:2] == [date(2022, 4, 1), date(2022, 5, 1)]
    assert rows[-1].due == date(2023, 3, 1) and rows[-1].end == date(2023, 3, 31)
    assert [r.amount for r in rows] == [D("100.00")] * 11 + [D("100.05")]


def test_a_change_during_the_year_changes_only_the_instalments_not_yet_raised():
    raised = {1: D("29585.00"), 2: D("29585.00")}

    rows = contributions.instalments(total=D("120000.00"), year=2021, frequency="quarterly", raised=raised)

    assert [r.amount for r in rows] == [D("29585.00"), D("29585.00"), D("30415.00"), D("30415.00")]
    assert [r.raised for r in rows] == [True, True, False, False]


def test_raised_instalments_as_the_rule_gives_them_leave_the_rest_as_the_rule_gives_them():
    raised = {1: D("1.01"), 2: D("1.01")}

    rows = contributions.instalments(total=D("4.02"), year=2021, frequency="quarterly", raised=raised)

    assert [r.amount for r in rows] == [D("1.01"), D("1.01"), D("1.01"), D("0.99")]


def test_quarters_of_the_financial_year():
    assert contributions.quarter_of(date(2026, 4, 1)) == 1
    assert contributions.quarter_of(date(2026, 12, 6)) == 3
    assert contributions.quarter_of(date(2027, 3, 31)) == 4
    assert contributions.quarter_bounds(2026, 3) == (date(2026, 10, 1), date(2026, 12, 31))


# --- Raising instalments ------------------------------------------------------------------------------


@pytest.fixture
def pool(db):
    partnership = PartnershipFactory(council__code="LBB", nhs_commissioner__code="CCG")
    agreement = AgreementFactory(partnership=partnership, host=partnership.council)
    schedule = ScheduleFactory(agreement=agreement, number=2)
    ccg = FundingStreamFactory(partnership=partnership, name="CCG", organisation=partnership.nhs_commissioner)
    council = FundingStreamFactory(partnership=partnership, name="LBB core", organisation=partnership.council)
    BudgetLineFactory(schedule=schedule, year=2021, funding_stream=ccg, amount=D("102840.00"))
    BudgetLineFactory(schedule=schedule, year=2021, funding_stream=ccg, amount=D("15501.01"))
    BudgetLineFactory(
        schedule=schedule, year=2021, funding_stream=ccg, amount=D("5000.00"), status="indicative"
    )
    BudgetLineFactory(schedule=schedule, year=2021, funding_stream=council, amount=D("13914.00"))
    manager = UserFactory(role=roles.COMMISSIONER, partnerships=[partnership])
    schedule.pool_manager = manager
    schedule.save()
    return agreement, schedule, manager


def test_the_quarter_s_instalments_are_raised_as_draft_contribution_invoices_from_the_host(pool):
    agreement, schedule, manager = pool

    raised = services.contribution_instalments_raise(agreement=agreement, upto=date(2021, 9, 30), by=manager)

    assert [(r.number, r.amount) for r in raised] == [(1, D("29585.25")), (2, D("29585.25"))]
    invoice = raised[0].invoice
    assert (invoice.kind, invoice.status, invoice.issuer.code, invoice.recipient.code) == (
        "contribution",
        "draft",
        "LBB",
        "CCG",
    )
    assert invoice.total == D("29585.25") and invoice.period == date(2021, 4, 1)
    line = invoice.lines.get()
    assert line.package_id is None and (line.start, line.end) == (date(2021, 4, 1), date(2021, 6, 30))
    assert "instalment 1 of 4" in line.description
    plan = ContributionPlan.objects.get()
    assert (plan.partner.code, plan.frequency, plan.year) == ("CCG", "quarterly", 2021)


def test_the_whole_year_raises_118341_01_as_three_times_29585_25_and_29585_26(pool):
    agreement, _, manager = pool

    raised = services.contribution_instalments_raise(agreement=agreement, upto=date(2022, 3, 31), by=manager)

    assert [r.invoice.total for r in raised] == [D("29585.25")] * 3 + [D("29585.26")]


def test_raising_twice_raises_each_instalment_once(pool):
    agreement, _, manager = pool
    services.contribution_instalments_raise(agreement=agreement, upto=date(2021, 6, 30), by=manager)

    again = services.contribution_instalments_raise(agreement=agreement, upto=date(2021, 6, 30), by=manager)

    assert again == []
    assert Invoice.objects.filter(kind="contribution").count() == 1


def test_an_instalment_is_recorded_once_in_the_database(pool):
    agreement, _, manager = pool
    first = services.contribution_instalments_raise(agreement=agreement, upto=date(2021, 6, 30), by=manager)[
        0
    ]

    with pytest.raises(IntegrityError), transaction.atomic():
        ContributionInstalment.objects.create(plan=first.plan, number=1, due=first.due, amount=D("1.00"))


def test_a_deleted_draft_is_raised_again(pool):
    agreement, _, manager = pool
    first = services.contribution_instalments_raise(agreement=agreement, upto=date(2021, 6, 30), by=manager)[
        0
    ]
    finance_user = UserFactory(role=roles.FINANCE_OFFICER, partnerships=[agreement.partnership])
    finance.invoice_delete_draft(invoice=first.invoice, by=finance_user)

    again = services.contribution_instalments_raise(agreement=agreement, upto=date(2021, 6, 30), by=manager)

    assert [(r.pk, r.number) for r in again] == [(first.pk, 1)]
    assert again[0].invoice.total == D("29585.25")


def test_a_contribution_invoice_is_issued_in_its_own_series_paid_and_disputed(pool):
    agreement, _, manager = pool
    raised = services.contribution_instalments_raise(agreement=agreement, upto=date(2021, 9, 30), by=manager)
    finance_user = UserFactory(role=roles.FINANCE_OFFICER, partnerships=[agreement.partnership])

    first = finance.invoice_issue(invoice=raised[0].invoice, by=finance_user, today=date(2021, 4, 2))
    second = finance.invoice_issue(invoice=raised[1].invoice, by=finance_user, today=date(2021, 7, 1))
    finance.invoice_record_payment(
        invoice=first, amount=D("29585.25"), paid_on=date(2021, 4, 20), by=finance_user
    )
    dispute = finance.dispute_raise(
        invoice=second, lines=list(second.lines.all()), reason="other", note="Not agreed yet", by=finance_user
    )

    assert (first.number, second.number) == ("LBB-PF-2122-00001", "LBB-PF-2122-00002")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (InvoiceStatus.PAID, InvoiceStatus.DISPUTED)
    with pytest.raises(ValidationError) as error:
        finance.dispute_resolve(
            dispute=dispute, outcome="corrected", by=finance_user, change={"kind": "cost", "id": 1}
        )
    assert "outcome" in error.value.message_dict
    finance.dispute_resolve(dispute=dispute, outcome="waived", by=finance_user, today=date(2021, 7, 10))
    second.refresh_from_db()
    assert second.status == InvoiceStatus.CREDITED


def test_a_contribution_invoice_renders_its_pdf(pool, settings, tmp_path):
    settings.PDF_ROOT = str(tmp_path)
    agreement, _, manager = pool
    raised = services.contribution_instalments_raise(agreement=agreement, upto=date(2021, 6, 30), by=manager)
    finance_user = UserFactory(role=roles.FINANCE_OFFICER, partnerships=[agreement.partnership])
    invoice = finance.invoice_issue(invoice=raised[0].invoice, by=finance_user, today=date(2021, 4, 2))

    data = finance.invoice_pdf_read(invoice=invoice)

    assert data.startswith(b"%PDF")


def test_recharge_runs_do_not_count_contribution_lines_as_billed(pool):
    agreement, _, manager = pool
    services.contribution_instalments_raise(agreement=agreement, upto=date(2021, 6, 30), by=manager)
    run = finance.recharge_run_request(
        partnership=agreement.partnership, issuer=agreement.host, period=date(2021, 6, 1), by=manager
    )

    run = finance.recharge_run_execute(run_id=run.pk)

    assert (run.status, run.invoice_count, run.credit_note_count) == ("done", 0, 0)


def test_a_monthly_plan_raises_monthly_instalments(pool):
    agreement, schedule, manager = pool
    services.contribution_plan_save(
        schedule=schedule,
        year=2021,
        partner=agreement.partnership.nhs_commissioner,
        frequency="monthly",
        by=manager,
    )

    raised = services.contribution_instalments_raise(agreement=agreement, upto=date(2021, 6, 30), by=manager)

    assert [r.amount for r in raised] == [D("9861.75")] * 3


def test_the_frequency_cannot_change_once_an_instalment_is_raised(pool):
    agreement, schedule, manager = pool
    services.contribution_instalments_raise(agreement=agreement, upto=date(2021, 6, 30), by=manager)

    with pytest.raises(ValidationError) as error:
        services.contribution_plan_save(
            schedule=schedule,
            year=2021,
            partner=agreement.partnership.nhs_commissioner,
            frequency="monthly",
            by=manager,
        )

    assert "frequency" in error.value.message_dict
    assert ContributionPlan.objects.get().frequency == "quarterly"


def test_the_host_has_no_plan(pool):
    agreement, schedule, manager = pool

    with pytest.raises(ValidationError) as error:
        services.contribution_plan_save(
            schedule=schedule, year=2021, partner=agreement.host, frequency="quarterly", by=manager
        )

    assert "partner" in error.value.message_dict
    assert not ContributionPlan.objects.exists()


def test_an_aligned_schedule_raises_nothing(pool):
    agreement, schedule, manager = pool
    schedule.arrangement = "aligned"
    schedule.save()

    assert (
        services.contribution_instalments_raise(agreement=agreement, upto=date(2022, 3, 31), by=manager) == []
    )


def test_the_daily_task_raises_what_is_due_and_is_idempotent(pool):
    raise_due_contributions("2021-07-01")
    raise_due_contributions("2021-07-01")

    assert sorted(Invoice.objects.filter(kind=InvoiceKind.CONTRIBUTION).values_list("total", flat=True)) == [
        D("29585.25"),
        D("29585.25"),
    ]


# --- The page ---------------------------------------------------------------------------------------


def test_the_pool_manager_confirms_and_raises_this_quarter_s_invoices(pool, client, monkeypatch):
    monkeypatch.setattr(contribution_views.timezone, "localdate", lambda: date(2021, 8, 15))
    agreement, _, manager = pool
    client.force_login(manager)
    url = reverse("budgets:contributions-raise", args=[agreement.pk])

    page = client.get(url)
    assert page.status_code == 200
    assert "Raise this quarter" in page.content.decode() and "£29,585.25" in page.content.decode()
    assert not Invoice.objects.exists()

    response = client.post(url)
    assert response.status_code == 302
    assert Invoice.objects.filter(kind="contribution").count() == 2
    detail = client.get(agreement.get_absolute_url()).content.decode()
    assert "Draft contribution invoice to CCG" in detail


def test_a_role_without_contribution_plans_may_not_raise(pool, client):
    agreement, _, _ = pool
    member = UserFactory(role=roles.BOARD_MEMBER, partnerships=[agreement.partnership])
    client.force_login(member)

    response = client.post(reverse("budgets:contributions-raise", args=[agreement.pk]))

    assert response.status_code == 403
    assert not Invoice.objects.exists()


def test_another_partnership_s_agreement_is_not_found(pool, client):
    agreement, _, _ = pool
    stranger = UserFactory(role=roles.COMMISSIONER, partnerships=[PartnershipFactory()])
    client.force_login(stranger)

    response = client.post(reverse("budgets:contributions-raise", args=[agreement.pk]))

    assert response.status_code == 404
    assert not Invoice.objects.exists()


# --- The API (api.md contribution-plans/) -----------------------------------------------------------


def test_the_api_lists_plans_with_derived_amounts_and_instalments(
    pool, api_as, django_assert_max_num_queries
):
    agreement, schedule, manager = pool
    services.contribution_instalments_raise(agreement=agreement, upto=date(2021, 6, 30), by=manager)
    client = api_as(manager)

    with django_assert_max_num_queries(16):
        response = client.get("/api/v1/contribution-plans/?year=2021&partner=ccg")

    (plan,) = response.json()["results"]
    assert (plan["schedule"], plan["year"], plan["partner"], plan["frequency"], plan["amount"]) == (
        schedule.pk,
        2021,
        "CCG",
        "quarterly",
        "118341.01",
    )
    assert [(i["number"], i["due"], i["amount"]) for i in plan["instalments"]] == [
        (1, "2021-04-01", "29585.25"),
        (2, "2021-07-01", "29585.25"),
        (3, "2021-10-01", "29585.25"),
        (4, "2022-01-01", "29585.26"),
    ]
    assert plan["instalments"][0]["invoice"] is not None and plan["instalments"][1]["invoice"] is None
    csv = client.get("/api/v1/contribution-plans/?format=csv")
    assert csv.status_code == 200 and "118341.01" in csv.content.decode("utf-8-sig")


def test_the_api_plans_a_monthly_contribution_and_refuses_a_second_plan(pool, api_as):
    agreement, schedule, manager = pool
    client = api_as(manager)
    body = {"schedule": schedule.pk, "year": 2022, "partner": "ccg", "frequency": "monthly"}

    created = client.post("/api/v1/contribution-plans/", body, format="json")
    again = client.post("/api/v1/contribution-plans/", body, format="json")
    url = f"/api/v1/contribution-plans/{created.json()['id']}/"
    changed = client.patch(url, {"frequency": "quarterly", "version": 1}, format="json")

    assert created.status_code == 201 and len(created.json()["instalments"]) == 12
    assert again.status_code == 400 and "partner" in again.json()
    assert changed.status_code == 200 and changed.json()["frequency"] == "quarterly"
    assert ContributionPlan.objects.count() == 1


def test_the_api_refuses_the_host_and_an_unknown_filter(pool, api_as):
    agreement, schedule, manager = pool
    client = api_as(manager)

    host = client.post(
        "/api/v1/contribution-plans/",
        {"schedule": schedule.pk, "year": 2021, "partner": "LBB", "frequency": "quarterly"},
        format="json",
    )
    unknown = client.get("/api/v1/contribution-plans/?colour=blue")

    assert host.status_code == 400 and "partner" in host.json()
    assert unknown.status_code == 400 and "colour" in unknown.json()
    assert not ContributionPlan.objects.exists()


def test_another_partnership_s_plans_are_not_found(pool, api_as):
    agreement, schedule, manager = pool
    ccg = agreement.partnership.nhs_commissioner
    plan = services.contribution_plan_save(
        schedule=schedule, year=2021, partner=ccg, frequency="quarterly", by=manager
    )
    stranger = UserFactory(role=roles.COMMISSIONER, partnerships=[PartnershipFactory()])

    assert api_as(stranger).get(f"/api/v1/contribution-plans/{plan.pk}/").status_code == 404
    assert api_as(stranger).get("/api/v1/contribution-plans/").json()["count"] == 0
