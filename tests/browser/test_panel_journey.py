"""The joint funding panel, in a browser. A broker cannot fund a package on an invented panel
reference (JFP-26-UX01) and is told who records panel decisions; the brokerage manager finds the
client from the panel list, records the panel's decision (a date range the wrong way round is
refused in words, not as a database constraint) and applies it to the package; the broker then
cites it. axe-core runs on every page visited and the pages log no console errors."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from brokerage import services
from brokerage.models import FundingSplit, PanelDecision
from brokerage.services import Share
from commissioning import roles
from tests.brokerage.factories import ClientFactory, PackageFactory
from tests.browser.helpers import assert_accessible, assert_no_console_errors, screenshot
from tests.commissioning.factories import TEST_PASSWORD, PartnershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def bromley():
    return PartnershipFactory(
        name="Bromley",
        council__name="London Borough of Bromley",
        council__code="LBB",
        nhs_commissioner__name="NHS South East London (Bromley)",
        nhs_commissioner__code="SEL-BR",
    )


@pytest.fixture
def people(bromley):
    return {
        "broker": UserFactory(
            username="bea", first_name="Bea", last_name="Broker", role=roles.BROKER, partnerships=[bromley]
        ),
        "manager": UserFactory(
            username="mo",
            first_name="Mo",
            last_name="Manager",
            role=roles.BROKERAGE_MANAGER,
            partnerships=[bromley],
        ),
    }


@pytest.fixture
def package(bromley, people):
    """Edith Marsh's home care since the start of last year, the council paying all."""
    start = date(timezone.localdate().year - 1, 4, 1)
    client = ClientFactory(partnership=bromley, given_name="Edith", family_name="Marsh")
    package = PackageFactory(client=client, start=start, paying_organisation=bromley.council)
    broker = people["broker"]
    services.package_cost_add(
        package=package,
        effective_from=start,
        unit_rate=Decimal("24.50"),
        units_per_week=Decimal("14"),
        unit="hour",
        by=broker,
    )
    services.funding_split_add(
        package=package,
        effective_from=start,
        shares=[Share(bromley.council, Decimal("100"))],
        basis="single_funder",
        by=broker,
    )
    package.refresh_from_db()
    return package


def sign_in(page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def check(page, name: str) -> None:
    assert_accessible(page, name)
    screenshot(page, f"panel-{name}")


def fill_date(page, prefix: str, day) -> None:
    page.locator(f"#id_{prefix}_day").fill(str(day.day) if day else "")
    page.locator(f"#id_{prefix}_month").fill(str(day.month) if day else "")
    page.locator(f"#id_{prefix}_year").fill(str(day.year) if day else "")


def test_the_manager_records_and_applies_a_panel_decision_that_the_broker_then_cites(page, bromley, package):
    today = timezone.localdate()
    decided_from = today.replace(day=1) - timedelta(days=60)

    # The broker tries to fund the package on a panel reference nobody recorded: refused, in words.
    sign_in(page, "bea")
    page.goto(package.get_absolute_url())
    page.get_by_role("link", name="Change the funding").click()
    fill_date(page, "effective_from", decided_from)
    page.get_by_label("London Borough of Bromley share (%)").fill("40")
    page.get_by_label("NHS South East London (Bromley) share (%)").fill("60")
    page.get_by_label("Joint funding panel decision").check()
    page.get_by_label("Panel decision reference").fill("JFP-26-UX01")
    page.get_by_role("button", name="Change the funding").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("JFP-26-UX01 is not a panel decision recorded for this client")
    expect(summary.get_by_role("link")).to_have_attribute("href", "#id_decision_reference")
    check(page, "broker-invented-reference")
    assert FundingSplit.objects.filter(package=package).count() == 1

    # The broker's pages say who records the panel's decisions, and offer no link that would 403.
    page.goto(package.client.get_absolute_url())
    expect(
        page.get_by_text("A brokerage manager records the joint funding panel’s decisions")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Record a panel decision")).to_have_count(0)
    check(page, "broker-client")
    page.goto("/brokerage/panel/")
    expect(page.get_by_text("Brokerage managers record the panel’s decisions")).to_be_visible()
    check(page, "broker-list")

    # The manager goes from the panel list to the client and records the decision.
    sign_in(page, "mo")
    page.goto("/brokerage/panel/")
    check(page, "manager-list")
    page.get_by_role("link", name="find the client").click()
    page.get_by_label("Name, NHS number or case reference").fill("Marsh")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=re.compile("Edith Marsh")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edith Marsh")
    page.get_by_role("link", name="Record a panel decision").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a panel decision")
    page.get_by_label("Decision reference").fill("JFP-26-014")
    fill_date(page, "meeting_date", today - timedelta(days=3))
    fill_date(page, "effective_from", decided_from)
    fill_date(page, "effective_to", decided_from - timedelta(days=1))  # the wrong way round
    page.get_by_label("London Borough of Bromley share (%)").fill("40")
    page.get_by_label("NHS South East London (Bromley) share (%)").fill("60")
    page.get_by_role("button", name="Save decision").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("The end date must be on or after the start date.")
    expect(page.get_by_text(re.compile("violated"))).to_have_count(0)
    check(page, "manager-record-error")
    assert not PanelDecision.objects.exists()
    fill_date(page, "effective_to", None)
    page.get_by_role("button", name="Save decision").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Panel decision JFP-26-014 recorded")
    check(page, "decision")

    # The manager applies it to Edith's package: the funding changes from the panel's date.
    page.get_by_label("Package").select_option(label=str(package))
    page.get_by_role("button", name="Apply the decision").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("applied to the package's funding")
    check(page, "package-after-apply")
    decision = PanelDecision.objects.get()
    assert (decision.recorded_by.username, decision.applied_by.username) == ("mo", "mo")
    latest = FundingSplit.objects.filter(package=package).order_by("effective_from").last()
    assert (latest.effective_from, latest.basis, latest.decision_reference) == (
        decided_from,
        "panel_decision",
        "JFP-26-014",
    )

    # The broker now cites the recorded decision for a later change: accepted.
    sign_in(page, "bea")
    page.goto(package.get_absolute_url())
    page.get_by_role("link", name="Change the funding").click()
    expect(page.get_by_text("recorded: JFP-26-014")).to_be_visible()
    fill_date(page, "effective_from", today - timedelta(days=7))
    page.get_by_label("London Borough of Bromley share (%)").fill("50")
    page.get_by_label("NHS South East London (Bromley) share (%)").fill("50")
    page.get_by_label("Joint funding panel decision").check()
    page.get_by_label("Panel decision reference").fill("jfp-26-014")
    page.get_by_role("button", name="Change the funding").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Funding changed from")
    check(page, "broker-cites-decision")
    assert_no_console_errors(page)
