"""A broker takes an urgent hospital-discharge referral from received to a started package, with
an offer above the rate card approved by a brokerage manager, then changes the funder from a past
date. axe-core runs on every page visited and the pages log no console errors."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from brokerage import rates, services
from brokerage.models import FundingSplit, Offer, Package, Referral
from commissioning import choices, roles
from tests.brokerage.factories import ClientFactory, RateCardFactory
from tests.browser.helpers import assert_accessible, assert_no_console_errors, screenshot
from tests.commissioning.factories import TEST_PASSWORD, PartnershipFactory, ProviderFactory, UserFactory

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
def referral(bromley, people):
    today = timezone.localdate()
    RateCardFactory(
        partnership=bromley,
        service_type="domiciliary",
        year=rates.financial_year(today - timedelta(days=20)),
        unit_rate=Decimal("24.50"),
        unit="hour",
    )
    ProviderFactory(organisation__name="Oak Tree Care Ltd", service_types=[choices.ServiceType.DOMICILIARY])
    client = ClientFactory(
        partnership=bromley, given_name="Edith", family_name="Marsh", cohort="continuing_healthcare"
    )
    return services.referral_create(
        by=people["broker"],
        client=client,
        service_type="domiciliary",
        urgency="hospital_discharge",
        needs_summary="Home from hospital after a fall; personal care morning and evening.",
        requirement="14 hours a week",
        required_start=today - timedelta(days=20),
        proposed_funder=bromley.council,
        requested_by="Princess Royal University Hospital discharge team",
    )


def sign_in(page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def check(page, name: str) -> None:
    assert_accessible(page, name)
    screenshot(page, f"brokerage-{name}")


def fill_date(page, prefix: str, day) -> None:
    page.locator(f"#id_{prefix}_day").fill(str(day.day))
    page.locator(f"#id_{prefix}_month").fill(str(day.month))
    page.locator(f"#id_{prefix}_year").fill(str(day.year))


def test_a_broker_starts_a_package_above_the_rate_card_and_changes_the_funder_from_a_past_date(
    page, bromley, people, referral
):
    today = timezone.localdate()
    start = today - timedelta(days=20)

    # The broker finds the urgent referral at the top of the queue and claims it.
    sign_in(page, "bea")
    page.goto("/brokerage/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Referral queue")
    check(page, "queue")
    page.get_by_role("link", name=referral.reference).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edith Marsh: domiciliary care")
    check(page, "case-received")
    page.get_by_role("button", name="Claim").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You are now working on referral")
    page.wait_for_load_state()  # the success banner takes focus once scripts run
    page.get_by_role("button", name="Start sourcing").click()
    expect(page.locator(".govuk-caption-l")).to_contain_text("Sourcing")

    # An offer above the rate card: £27.00 an hour against £24.50.
    page.get_by_role("link", name="Record an offer").click()
    check(page, "offer-form")
    page.get_by_label("Provider").select_option(label="Oak Tree Care Ltd")
    page.get_by_label("Unit rate").fill("27.00")
    page.get_by_label("Hour", exact=True).check()
    page.get_by_label("Units per week").fill("14")
    fill_date(page, "earliest_start", start)
    page.get_by_role("button", name="Save offer").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("£378.00 a week")
    expect(page.get_by_text("£2.50 above")).to_be_visible()
    expect(page.get_by_text("Needs a manager's approval")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("^Accept"))).to_have_count(0)
    check(page, "case-offered")

    # The brokerage manager approves it.
    sign_in(page, "mo")
    page.goto(referral.get_absolute_url())
    page.get_by_role("link", name=re.compile("^Approve")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Approve this offer?")
    page.get_by_role("button", name="Approve the offer").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("approved")
    expect(page.get_by_text(re.compile("Approved by Mo Manager"))).to_be_visible()
    check(page, "case-approved")

    # The broker accepts it: the package starts (from a past date) and the referral closes.
    sign_in(page, "bea")
    page.goto(referral.get_absolute_url())
    page.get_by_role("link", name=re.compile("^Accept")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accept the offer and start the package")
    check(page, "accept")
    page.get_by_role("button", name="Start the package").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("started with Oak Tree Care Ltd")
    package = Package.objects.get()
    assert package.start == start
    assert Referral.objects.get(pk=referral.pk).status == "started"
    offer = Offer.objects.get()
    assert offer.approved_by == people["manager"] and offer.status == "accepted"
    check(page, "package")

    # CHC eligibility agreed: the NHS pays in full from ten days ago, the package carries on.
    page.get_by_role("link", name="Change the funding").click()
    check(page, "change-funding")
    changed_from = today - timedelta(days=10)
    fill_date(page, "effective_from", changed_from)
    page.get_by_label("London Borough of Bromley share (%)").fill("0")
    page.get_by_label("NHS South East London (Bromley) share (%)").fill("100")
    page.get_by_label("CHC eligibility").check()
    page.get_by_role("button", name="Change the funding").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Funding changed from")
    rows = page.locator("#funding + table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("SEL-BR 100%")
    check(page, "package-after-funding-change")
    splits = list(FundingSplit.objects.filter(package=package).order_by("effective_from"))
    assert [(s.effective_from, s.effective_to, s.basis) for s in splits] == [
        (start, changed_from - timedelta(days=1), "single_funder"),
        (changed_from, None, "chc_eligibility"),
    ]
    package.refresh_from_db()
    assert package.status == "active" and package.end is None
    assert_no_console_errors(page)
