"""A later price above the rate card waits for a brokerage manager, who approves it from the list of
what awaits approval; then a backdated price change says, before it is saved, which later price it
replaces (issue 18). The issue's figures: £1,150 a week against a card of £1,018.46, raised to £1,400.
axe-core runs on every page visited and the pages log no console errors."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from brokerage import histories, rates, services
from brokerage.models import PackageCost, PriceChange
from commissioning import roles
from tests.brokerage.factories import ClientFactory, RateCardFactory, ReferralFactory
from tests.browser.helpers import assert_accessible, assert_no_console_errors, screenshot
from tests.browser.test_brokerage_journey import fill_date, sign_in
from tests.commissioning.factories import PartnershipFactory, ProviderFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

D = Decimal


@pytest.fixture
def placement():
    """A residential placement accepted at £1,150 a week from 60 days ago, approved above the card."""
    today = timezone.localdate()
    start = today - timedelta(days=60)
    home = PartnershipFactory(name="Bromley", council__code="LBB", nhs_commissioner__code="SEL-BR")
    broker = UserFactory(
        username="bea", first_name="Bea", last_name="Broker", role=roles.BROKER, partnerships=[home]
    )
    manager = UserFactory(
        username="mo",
        first_name="Mo",
        last_name="Manager",
        role=roles.BROKERAGE_MANAGER,
        partnerships=[home],
    )
    for year in {rates.financial_year(start), rates.financial_year(today)}:
        RateCardFactory(
            partnership=home, service_type="residential", year=year, unit_rate=D("1018.46"), unit="week"
        )
    client = ClientFactory(partnership=home, given_name="Edith", family_name="Marsh")
    placement_referral = ReferralFactory(client=client, service_type="residential", required_start=start)
    offer = services.offer_record(
        referral=placement_referral,
        provider=ProviderFactory(organisation__name="Beech House Care Home"),
        unit_rate=D("1150.00"),
        units_per_week=D("1"),
        unit="week",
        earliest_start=start,
        by=broker,
    )
    services.offer_approve(offer=offer, by=manager)
    return services.offer_accept(offer=offer, by=broker, start=start, today=today)


def check(page, name: str) -> None:
    assert_accessible(page, name)
    screenshot(page, f"prices-{name}")


def test_a_later_price_above_the_card_waits_for_a_manager_and_a_backdated_change_names_what_it_replaces(
    page, placement
):
    today = timezone.localdate()
    uplift_day = today - timedelta(days=20)

    # The broker raises the price to £1,400 a week: the check step says it needs approval.
    sign_in(page, "bea")
    page.goto(placement.get_absolute_url())
    page.get_by_role("link", name="Change the price").click()
    check(page, "change-form")
    fill_date(page, "effective_from", uplift_day)
    page.get_by_label("Unit rate").fill("1400.00")
    page.get_by_label("Week", exact=True).check()
    page.get_by_label("Units per week").fill("1")
    page.get_by_label("Why does the price change?").fill("The home's annual uplift")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the price change")
    expect(page.get_by_text("£381.54 per week above the rate card of £1,018.46")).to_be_visible()
    check(page, "check-above-card")
    page.get_by_role("button", name="Send for approval").click()
    expect(page.locator(".govuk-notification-banner").first).to_contain_text("sent for approval")
    expect(page.get_by_role("heading", name="Price change awaiting approval")).to_be_visible()
    check(page, "package-pending")
    assert PackageCost.objects.filter(package=placement).count() == 1  # the price stays for now

    # The manager finds it in the list of what awaits approval and approves it.
    sign_in(page, "mo")
    page.goto("/")
    page.get_by_role("link", name="Prices and offers awaiting approval").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Awaiting approval")
    expect(page.locator("#prices + table")).to_contain_text(placement.reference)
    check(page, "approvals")
    page.get_by_role("link", name=re.compile(f"^Approve.*{placement.reference}")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Approve this price change?")
    expect(page.get_by_text("Bea Broker")).to_be_visible()
    check(page, "approve-confirm")
    page.get_by_role("button", name="Approve the price change").click()
    expect(page.locator(".govuk-notification-banner").first).to_contain_text("approved")
    expect(page.get_by_text("No price changes are awaiting approval.")).to_be_visible()
    page.goto(placement.get_absolute_url())
    prices = page.locator("#prices + table")
    expect(prices.locator("tbody tr").first).to_contain_text("Approved by Mo Manager")
    check(page, "package-approved")

    # The broker backdates a price to before the uplift: the check step names what it replaces.
    backdated = uplift_day - timedelta(days=10)
    sign_in(page, "bea")
    page.goto(placement.get_absolute_url())
    page.get_by_role("link", name="Change the price").click()
    fill_date(page, "effective_from", backdated)
    page.get_by_label("Unit rate").fill("1000.00")
    page.get_by_label("Week", exact=True).check()
    page.get_by_label("Units per week").fill("1")
    page.get_by_label("Why does the price change?").fill("Rate agreed at the placement review")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("This change replaces a later price")).to_be_visible()
    replaced = page.locator("#replaced-prices")
    expect(replaced).to_contain_text(f"£1,400.00 a week from {histories.day_text(uplift_day)}")
    expect(replaced).to_contain_text("The home's annual uplift")
    check(page, "check-backdated")
    page.get_by_role("button", name="Change the price").click()
    expect(page.locator(".govuk-notification-banner").first).to_contain_text("Price changed from")
    expect(page.locator("#removed + p + table")).to_contain_text("£1,400.00 a week")
    check(page, "package-after-backdated")

    costs = list(PackageCost.objects.filter(package=placement).order_by("effective_from"))
    assert [(c.effective_from, c.weekly_cost) for c in costs] == [
        (placement.start, D("1150.00")),
        (backdated, D("1000.00")),
    ]
    backdate = PriceChange.objects.get(package=placement, effective_from=backdated)
    assert backdate.replaced.startswith(f"£1,400.00 a week from {histories.day_text(uplift_day)}")
    assert_no_console_errors(page)
