"""The page that creates and changes a partner's contribution plan (rules.md rule 2): the year and
partner when created, how often the host invoices; the amount and instalments derived and shown; a
change to the invoices still to raise confirmed first; one that would alter instalments already
raised refused on its field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from brokerage.models import Invoice
from budgets import services
from budgets.models import ContributionPlan
from commissioning import roles
from tests.budgets.factories import AgreementFactory, BudgetLineFactory, FundingStreamFactory, ScheduleFactory
from tests.commissioning.factories import PartnershipFactory, UserFactory

D = Decimal


@pytest.fixture
def pool(db):
    partnership = PartnershipFactory(council__code="LBB", nhs_commissioner__code="CCG")
    agreement = AgreementFactory(
        partnership=partnership, host=partnership.council, start=date(2021, 4, 1), end=date(2024, 3, 31)
    )
    schedule = ScheduleFactory(agreement=agreement, number=2)
    ccg = FundingStreamFactory(partnership=partnership, name="CCG", organisation=partnership.nhs_commissioner)
    BudgetLineFactory(schedule=schedule, year=2021, funding_stream=ccg, amount=D("118341.01"))
    manager = UserFactory(role=roles.COMMISSIONER, partnerships=[partnership])
    return agreement, schedule, manager


def create_url(schedule) -> str:
    return reverse("budgets:contribution-plan-create", args=[schedule.pk])


def test_the_create_page_shows_the_derived_contribution_and_the_default_quarterly_instalments(pool, client):
    agreement, schedule, manager = pool
    client.force_login(manager)

    page = client.get(create_url(schedule) + "?year=2021&partner=ccg").content.decode()

    assert "Contribution for 2021/22" in page and "£118,341.01" in page
    assert "Quarterly in advance (no plan recorded: the default)" in page
    assert "4: £29,585.26 due 1 Jan 2022" in page
    assert 'value="2021" selected' in page


def test_a_monthly_plan_is_confirmed_with_its_twelve_instalments_before_it_is_saved(pool, client):
    agreement, schedule, manager = pool
    client.force_login(manager)
    ccg = agreement.partnership.nhs_commissioner
    data = {"year": "2021", "partner": str(ccg.pk), "frequency": "monthly"}

    check = client.post(create_url(schedule), data)

    page = check.content.decode()
    assert check.status_code == 200
    assert "Check the change to the instalments" in page
    assert "Monthly in advance, 12 instalments (now quarterly in advance, 4)" in page
    # 118,341.01 / 12 = 9,861.7508... -> £9,861.75 eleven times, the last £9,861.76
    assert page.count("£9,861.75") == 11 and "£9,861.76" in page
    assert not ContributionPlan.objects.exists()

    saved = client.post(create_url(schedule), {**data, "confirmed": "True"})

    assert saved.status_code == 302
    assert saved.url == agreement.get_absolute_url() + "#contributions"
    plan = ContributionPlan.objects.get()
    assert (plan.partner, plan.year, plan.frequency, plan.created_by) == (ccg, 2021, "monthly", manager)


def test_a_quarterly_plan_changes_no_invoice_so_it_is_saved_without_a_confirmation(pool, client):
    agreement, schedule, manager = pool
    client.force_login(manager)
    ccg = agreement.partnership.nhs_commissioner

    response = client.post(
        create_url(schedule), {"year": "2021", "partner": ccg.pk, "frequency": "quarterly"}
    )

    assert response.status_code == 302
    assert ContributionPlan.objects.get().frequency == "quarterly"


def test_the_host_is_not_offered_and_a_second_plan_is_refused_naming_the_partner(pool, client):
    agreement, schedule, manager = pool
    client.force_login(manager)
    ccg = agreement.partnership.nhs_commissioner
    services.contribution_plan_save(
        schedule=schedule, year=2021, partner=ccg, frequency="quarterly", by=manager
    )

    host = client.post(
        create_url(schedule), {"year": "2021", "partner": agreement.host.pk, "frequency": "monthly"}
    )
    second = client.post(
        create_url(schedule), {"year": "2021", "partner": ccg.pk, "frequency": "monthly", "confirmed": "True"}
    )

    assert host.context["form"].errors == {"partner": ["Choose a contributing partner from the list"]}
    assert second.context["form"].errors == {
        "partner": ["This partner already has a contribution plan for this schedule and year."]
    }
    assert 'href="#id_partner_0"' in second.content.decode()  # the error summary links to the radios
    assert ContributionPlan.objects.get().frequency == "quarterly"


def test_a_year_the_agreement_does_not_cover_is_refused_naming_the_year(pool, client):
    agreement, schedule, manager = pool
    client.force_login(manager)

    response = client.post(
        create_url(schedule),
        {"year": "2030", "partner": agreement.partnership.nhs_commissioner.pk, "frequency": "monthly"},
    )

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["year"]
    assert not ContributionPlan.objects.exists()


def test_changing_the_frequency_is_confirmed_then_saved_with_the_version(pool, client):
    agreement, schedule, manager = pool
    client.force_login(manager)
    plan = services.contribution_plan_save(
        schedule=schedule,
        year=2021,
        partner=agreement.partnership.nhs_commissioner,
        frequency="monthly",
        by=manager,
    )
    url = reverse("budgets:contribution-plan-edit", args=[plan.pk])

    page = client.get(url).content.decode()
    check = client.post(url, {"frequency": "quarterly", "version": plan.version})
    stale = client.post(url, {"frequency": "quarterly", "version": plan.version - 1, "confirmed": "True"})
    saved = client.post(url, {"frequency": "quarterly", "version": plan.version, "confirmed": "True"})

    assert "Monthly in advance" in page and "12: £9,861.76 due 1 Mar 2022" in page
    assert "Quarterly in advance, 4 instalments (now monthly in advance, 12)" in check.content.decode()
    assert stale.status_code == 200 and stale.context["form"].errors
    assert saved.status_code == 302
    plan.refresh_from_db()
    assert (plan.frequency, plan.version) == ("quarterly", 2)


def test_a_change_that_would_alter_raised_instalments_is_refused_naming_the_frequency(pool, client):
    agreement, schedule, manager = pool
    client.force_login(manager)
    services.contribution_instalments_raise(agreement=agreement, upto=date(2021, 6, 30), by=manager)
    plan = ContributionPlan.objects.get()
    url = reverse("budgets:contribution-plan-edit", args=[plan.pk])

    response = client.post(url, {"frequency": "monthly", "version": plan.version})

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "frequency": ["Instalments of this year have been raised: the frequency can no longer change."]
    }
    assert 'href="#id_frequency_0"' in response.content.decode()
    plan.refresh_from_db()
    assert (plan.frequency, plan.version) == ("quarterly", 1)
    assert Invoice.objects.count() == 1


def test_the_agreement_page_links_each_partner_s_plan(pool, client, monkeypatch):
    from budgets.views import agreements

    monkeypatch.setattr(agreements.timezone, "localdate", lambda: date(2021, 8, 1))
    agreement, schedule, manager = pool
    client.force_login(manager)

    before = client.get(agreement.get_absolute_url()).content.decode()
    plan = services.contribution_plan_save(
        schedule=schedule,
        year=2021,
        partner=agreement.partnership.nhs_commissioner,
        frequency="monthly",
        by=manager,
    )
    after = client.get(agreement.get_absolute_url()).content.decode()

    assert f"{create_url(schedule)}?year=2021&amp;partner=CCG" in before
    assert reverse("budgets:contribution-plan-edit", args=[plan.pk]) in after


def test_a_board_member_may_not_plan_and_another_partnership_s_plan_is_not_found(pool, client):
    agreement, schedule, manager = pool
    plan = services.contribution_plan_save(
        schedule=schedule,
        year=2021,
        partner=agreement.partnership.nhs_commissioner,
        frequency="monthly",
        by=manager,
    )
    url = reverse("budgets:contribution-plan-edit", args=[plan.pk])
    member = UserFactory(role=roles.BOARD_MEMBER, partnerships=[agreement.partnership])
    stranger = UserFactory(role=roles.FINANCE_OFFICER, partnerships=[PartnershipFactory()])

    client.force_login(member)
    refused = client.post(url, {"frequency": "quarterly", "version": 1, "confirmed": "True"})
    client.force_login(stranger)
    hidden = client.post(url, {"frequency": "quarterly", "version": 1, "confirmed": "True"})

    assert (refused.status_code, hidden.status_code) == (403, 404)
    plan.refresh_from_db()
    assert plan.frequency == "monthly"
