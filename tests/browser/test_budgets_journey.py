"""A commissioner enters a month's positions for the IPB schedule in a real browser, then sees the
variance and the chart; axe-core finds no WCAG 2.x A/AA violation and the console stays clean."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from budgets import demo
from budgets.models import MonthlyPosition, Schedule, financial_year_of
from commissioning import roles
from tests.browser.helpers import assert_accessible, assert_no_console_errors, screenshot
from tests.commissioning.factories import TEST_PASSWORD, PartnershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def bromley():
    partnership = PartnershipFactory(
        name="Bromley",
        council__code="LBB",
        council__name="London Borough of Bromley",
        nhs_commissioner__code="SELCCG-BR",
        nhs_commissioner__name="NHS South East London CCG (Bromley)",
    )
    users = {
        "commissioner": UserFactory(
            username="amira.khan",
            first_name="Amira",
            last_name="Khan",
            role=roles.COMMISSIONER,
            partnerships=[partnership],
        ),
    }
    demo.load(partnerships={"Bromley": partnership}, users=users, seed=2021, today=timezone.localdate())
    return partnership


def test_a_commissioner_enters_a_months_positions_and_sees_the_variance_and_chart(page, bromley):
    today = timezone.localdate()
    year = financial_year_of(today)
    schedule = Schedule.objects.get(title="Integrated Placements and Brokerage")
    lines = list(schedule.lines.filter(year=year).order_by("pk"))

    page.goto(f"/accounts/login/?next=/budgets/schedules/{schedule.pk}/")
    page.locator("#id_username").fill("amira.khan")
    page.locator("#id_password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()

    expect(page.get_by_role("heading", level=1)).to_have_text("Integrated Placements and Brokerage")
    expect(page.locator("table.app-budget-table")).to_contain_text("£220,679.00")
    assert_accessible(page, "schedule page")

    page.get_by_role("link", name="Enter monthly positions").click()
    page.get_by_label("Period").select_option(f"{today:%Y-%m}")
    page.get_by_role("button", name="Choose period").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Monthly positions for {today:%B %Y}")
    assert_accessible(page, "positions form")
    for line in lines:
        label = f"for {line.name} ({line.funding_stream.name})"
        page.get_by_label(f"Actual to date {label}").fill("1000")
        page.get_by_label(f"Forecast outturn {label}").fill(str(line.amount + 1000))
    page.get_by_label(f"Commentary for {lines[0].name} ({lines[0].funding_stream.name})").fill(
        "Two complex discharges"
    )
    screenshot(page, "budgets-01-positions")
    page.get_by_role("button", name="Save positions").click()

    expect(page.get_by_text(f"Positions for {today:%B %Y} saved ({len(lines)} lines)")).to_be_visible()
    variance = f"£{1000 * len(lines):,}.00"
    expect(page.locator("#schedule-variance")).to_have_text(variance)
    expect(page.locator("#variance-summary")).to_contain_text("Forecast overspend")
    expect(page.locator("svg.app-chart")).to_be_visible()
    expect(page.locator("svg.app-chart desc")).to_contain_text(f"a forecast overspend of {variance}")
    assert MonthlyPosition.objects.filter(budget_line__in=lines, period=today.replace(day=1)).count() == len(
        lines
    )
    assert_accessible(page, "schedule page after entering positions")
    screenshot(page, "budgets-02-schedule")
    assert_no_console_errors(page)
