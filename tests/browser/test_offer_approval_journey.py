"""Offers above the rate card, from the broker's form to the manager's approvals list (issue 18).

The broker types a price and the rate card hint beside it follows as it is typed (htmx, no button):
£1,150 a week for a residential placement is £131.54 above the card of £1,018.46. A second offer has
no card to compare it with. Both wait in the manager's list of what awaits approval, beside price
changes, with who recorded them, the client, the weekly price against the card and how long they have
waited. The manager approves one behind an "Are you sure?" step, and declines the other, which
needs a reason. axe-core runs on every page visited and the pages log no console errors."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from brokerage import rates
from brokerage.models import Offer
from commissioning import roles
from tests.brokerage.factories import ClientFactory, RateCardFactory, ReferralFactory
from tests.browser.helpers import assert_accessible, assert_no_console_errors, screenshot
from tests.browser.test_brokerage_journey import sign_in
from tests.commissioning.factories import PartnershipFactory, ProviderFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

D = Decimal


@pytest.fixture
def placement_referral():
    """A residential placement wanted in ten days; the card is £1,018.46 a week."""
    start = timezone.localdate() + timedelta(days=10)
    home = PartnershipFactory(name="Bromley", council__code="LBB", nhs_commissioner__code="SEL-BR")
    for username, first, last, role in (
        ("bea", "Bea", "Broker", roles.BROKER),
        ("mo", "Mo", "Manager", roles.BROKERAGE_MANAGER),
    ):
        UserFactory(username=username, first_name=first, last_name=last, role=role, partnerships=[home])
    RateCardFactory(
        partnership=home,
        service_type="residential",
        year=rates.financial_year(start),
        unit_rate=D("1018.46"),
        unit="week",
    )
    for name in ("Beech House Care Home", "Larch Lodge"):
        ProviderFactory(organisation__name=name, service_types=["residential"])
    client = ClientFactory(partnership=home, given_name="Edith", family_name="Marsh")
    return ReferralFactory(client=client, service_type="residential", required_start=start)


def check(page, name: str) -> None:
    assert_accessible(page, name)
    screenshot(page, f"offers-{name}")


def test_offers_above_the_card_wait_for_a_manager_who_approves_one_and_declines_the_other(
    page, placement_referral
):
    referral = placement_referral
    hint = page.locator("#rate-card-hint")
    hint_requests: list[str] = []
    page.on("request", lambda r: hint_requests.append(r.url) if "/offers/rate-card/" in r.url else None)

    # The broker records an offer: the hint follows the unit, then the price as it is typed.
    sign_in(page, "bea")
    page.goto(referral.get_absolute_url())
    page.get_by_role("link", name="Record an offer").click()
    page.wait_for_function("() => document.readyState === 'complete' && window.htmx !== undefined")
    page.get_by_label("Provider").select_option(label="Beech House Care Home")
    page.get_by_label("Week", exact=True).check()
    expect(hint).to_contain_text("£1,018.46 per week")
    page.get_by_label("Unit rate").press_sequentially("1150")
    expect(hint).to_contain_text("This price is £131.54 above it: a brokerage manager must approve")
    page.get_by_label("Unit rate").fill("")
    page.get_by_label("Unit rate").press_sequentially("990")
    expect(hint).to_contain_text("This price is £28.46 below it.")
    page.get_by_label("Unit rate").fill("")
    page.get_by_label("Unit rate").press_sequentially("1150.00")
    expect(hint).to_contain_text("£131.54 above it")
    check(page, "form-hint-above")
    page.get_by_label("Units per week").fill("1")
    assert any("unit_rate=1150.00" in url for url in hint_requests)
    assert not [url for url in hint_requests if "csrfmiddlewaretoken" in url]  # no token in a URL
    page.get_by_role("button", name="Save offer").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("£1,150.00 a week")
    expect(page.get_by_text("Needs a manager's approval")).to_be_visible()

    # A second offer, by the night: no card to compare it with, so it waits too.
    page.get_by_role("link", name="Record an offer").click()
    # A person cannot pick before the page has loaded; the test could, before htmx listens.
    page.wait_for_function("() => document.readyState === 'complete' && window.htmx !== undefined")
    page.get_by_label("Provider").select_option(label="Larch Lodge")
    page.get_by_label("Night", exact=True).check()
    expect(hint).to_contain_text("No rate card for residential care by the night")
    page.get_by_label("Unit rate").fill("180.00")
    page.get_by_label("Units per week").fill("7")
    page.get_by_role("button", name="Save offer").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("£1,260.00 a week")
    expect(page.get_by_role("link", name=re.compile("^Approve"))).to_have_count(0)  # not the broker's
    assert_no_console_errors(page)

    # The manager's list: both offers, who recorded them, the client, the weekly price against the card.
    sign_in(page, "mo")
    page.goto("/")
    page.get_by_role("link", name="Prices and offers awaiting approval").click()
    offers = page.locator("#offers + table")
    beech = offers.locator("tr", has_text="Beech House Care Home")
    expect(beech).to_contain_text(referral.client.case_reference)
    expect(beech).to_contain_text("£1,150.00")
    expect(beech).to_contain_text("£131.54 a week above")
    expect(beech).to_contain_text("card £1,018.46 a week")
    expect(beech).to_contain_text("Bea Broker")
    expect(beech).to_contain_text("minute")  # how long it has waited
    expect(offers.locator("tr", has_text="Larch Lodge")).to_contain_text("No rate card")
    check(page, "approvals")

    # Approve: an "Are you sure?" step first.
    beech.get_by_role("link", name=re.compile("^Approve")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Approve this offer?")
    expect(page.locator(".govuk-summary-list")).to_contain_text("this offer is £131.54 a week above it")
    check(page, "approve-confirm")
    page.get_by_role("button", name="Approve the offer").click()
    expect(page.locator(".govuk-notification-banner").first).to_contain_text("approved")
    expect(page.get_by_role("heading", level=1)).to_have_text("Awaiting approval")

    # Decline: a reason is required, and the error names the field.
    offers.locator("tr", has_text="Larch Lodge").get_by_role("link", name=re.compile("^Decline")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Decline this offer")
    page.get_by_role("button", name="Decline the offer").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Say why the offer is declined.")
    check(page, "decline-error")
    summary.get_by_role("link", name="Say why the offer is declined.").click()
    expect(page.get_by_label("Why is the offer declined?")).to_be_focused()
    page.get_by_label("Why is the offer declined?").fill("No card for nights: ask the home for a weekly rate")
    page.get_by_role("button", name="Decline the offer").click()
    expect(page.locator(".govuk-notification-banner").first).to_contain_text("declined")
    expect(page.get_by_text("No offers are awaiting approval.")).to_be_visible()
    check(page, "approvals-empty")

    # The referral's timeline keeps who approved and why the other was declined.
    page.goto(referral.get_absolute_url())
    expect(page.get_by_text("Approved by Mo Manager")).to_be_visible()
    check(page, "referral-after")
    beech_offer = Offer.objects.get(provider__organisation__name="Beech House Care Home")
    larch_offer = Offer.objects.get(provider__organisation__name="Larch Lodge")
    assert (beech_offer.approved_by.username, beech_offer.status) == ("mo", "received")
    assert (larch_offer.status, larch_offer.decline_reason) == (
        "declined",
        "No card for nights: ask the home for a weekly rate",
    )
    assert_no_console_errors(page)


def test_the_hint_follows_a_price_typed_before_htmx_had_loaded(page, placement_referral):
    """On a slow connection a broker can pick the unit and type the price before htmx listens (and
    Back restores a form's values the same way): the hint asks once as htmx starts, so it compares
    what is in the fields rather than keeping the page's first answer."""
    referral = placement_referral
    sign_in(page, "bea")
    page.route(re.compile(r"htmx(\.min)?\.js"), lambda route: route.abort())  # htmx held back
    page.goto(reverse("brokerage:offer-create", args=[referral.pk]))
    hint = page.locator("#rate-card-hint")
    page.get_by_label("Provider").select_option(label="Beech House Care Home")
    page.get_by_label("Week", exact=True).check()
    page.get_by_label("Unit rate").fill("1150.00")
    expect(hint).not_to_contain_text("above it")  # nothing listens yet
    src = page.locator("script[src*='htmx']").get_attribute("src")
    page.unroute(re.compile(r"htmx(\.min)?\.js"))
    page.add_script_tag(url=src)  # htmx arrives late
    expect(hint).to_contain_text("This price is £131.54 above it: a brokerage manager must approve")
