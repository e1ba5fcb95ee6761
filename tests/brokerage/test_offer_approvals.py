"""Offers above the rate card wait for a brokerage manager in the approvals list, beside price
changes (issue 18): who recorded each, for which client, its weekly price against the card's and how
long it has waited. Approving has an "Are you sure?" step, declining needs a reason, and whoever
recorded an offer awaiting approval neither approves nor declines it (403: service, page and API).

The figures: a residential placement at £1,150 a week against a card of £1,018.46 a week, £131.54
above it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from brokerage import services
from brokerage.models import Offer, ReferralActivity
from commissioning import roles
from tests.brokerage.factories import OfferFactory, RateCardFactory, ReferralFactory
from tests.commissioning.factories import ProviderFactory

pytestmark = pytest.mark.django_db

D = Decimal
API = "/api/v1/"
APPROVALS = "/brokerage/approvals/"


@pytest.fixture
def other_manager(make_user, partnership):
    return make_user(roles.BROKERAGE_MANAGER, [partnership], first_name="Mo", last_name="Second")


@pytest.fixture
def referral(client_record, partnership):
    RateCardFactory(
        partnership=partnership, service_type="residential", year=2026, unit_rate=D("1018.46"), unit="week"
    )
    return ReferralFactory(client=client_record, service_type="residential", required_start=date(2026, 6, 1))


def record(referral, by, rate="1150.00", units="1", unit="week") -> Offer:
    return services.offer_record(
        referral=referral,
        provider=ProviderFactory(organisation__name="Beech House Care Home"),
        unit_rate=D(rate),
        units_per_week=D(units),
        unit=unit,
        earliest_start=date(2026, 6, 1),
        by=by,
    )


def unchanged(offer: Offer) -> tuple:
    offer.refresh_from_db()
    return offer.status, offer.approved_by_id, offer.decline_reason


# --- The rule ------------------------------------------------------------------------------------


def test_the_manager_who_recorded_an_offer_above_the_card_can_neither_approve_nor_decline_it(
    referral, manager
):
    offer = record(referral, manager)

    with pytest.raises(PermissionDenied, match="You recorded this offer"):
        services.offer_approve(offer=offer, by=manager)
    with pytest.raises(PermissionDenied, match="You recorded this offer"):
        services.offer_decline(offer=offer, by=manager, reason="Too dear")

    assert unchanged(offer) == ("received", None, "")


def test_another_manager_approves_an_offer_a_manager_recorded(referral, manager, other_manager):
    offer = record(referral, manager)

    services.offer_approve(offer=offer, by=other_manager)

    offer.refresh_from_db()
    assert offer.approved_by == other_manager and offer.approved_at is not None
    approval = referral.activities.get(kind=ReferralActivity.Kind.APPROVED)
    assert approval.by == other_manager
    assert approval.text == (
        "Beech House Care Home: £1,150.00 per week, £131.54 above the rate card of £1,018.46"
    )


def test_the_broker_who_recorded_an_offer_awaiting_approval_cannot_decline_it_but_another_person_can(
    referral, broker, other_manager
):
    offer = record(referral, broker)

    with pytest.raises(PermissionDenied):
        services.offer_decline(offer=offer, by=broker, reason="Provider withdrew")
    services.offer_decline(offer=offer, by=other_manager, reason="Provider withdrew")

    assert unchanged(offer) == ("declined", None, "Provider withdrew")


def test_whoever_recorded_an_offer_within_the_card_may_decline_it(referral, broker):
    """Separation of duties is about approving a price above the card; an offer at or below it needs
    no approval, so the broker working the referral declines it as before."""
    offer = record(referral, broker, rate="1000.00")

    services.offer_decline(offer=offer, by=broker, reason="Another home can start sooner")

    assert unchanged(offer) == ("declined", None, "Another home can start sooner")


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_decline_needs_a_reason_named_on_its_field(referral, broker, manager, reason):
    offer = record(referral, broker)

    with pytest.raises(ValidationError) as error:
        services.offer_decline(offer=offer, by=manager, reason=reason)

    assert error.value.message_dict == {"reason": ["Say why the offer is declined."]}
    assert unchanged(offer) == ("received", None, "")


# --- The approvals list --------------------------------------------------------------------------


def test_the_approvals_list_shows_each_offer_with_its_recorder_client_weekly_price_card_and_wait(
    client, referral, broker, manager
):
    offer = record(referral, broker, rate="60.00", units="20", unit="hour")  # no card by the hour
    above = record(referral, broker)
    client.force_login(manager)

    page = client.get(APPROVALS).content.decode()

    offers_table = page[page.index('id="offers"') :]
    assert referral.client.case_reference in offers_table
    assert "£1,150.00" in offers_table and "£131.54 a week above" in offers_table
    assert "card £1,018.46 a week (£1,018.46 per week)" in offers_table
    assert "£1,200.00" in offers_table and "No rate card" in offers_table  # 60.00 x 20 hours
    assert broker.get_full_name() in offers_table
    assert "0\xa0minutes" in offers_table  # how long it has waited (timesince)
    for waiting in (offer, above):
        assert f"{reverse('brokerage:offer-approve', args=[waiting.pk])}?back=" in offers_table
        assert f"{reverse('brokerage:offer-decline', args=[waiting.pk])}?back=" in offers_table


def test_the_approvals_list_offers_no_buttons_for_an_offer_the_manager_recorded(client, referral, manager):
    offer = record(referral, manager)
    client.force_login(manager)

    page = client.get(APPROVALS).content.decode()

    assert "You recorded it" in page
    assert reverse("brokerage:offer-approve", args=[offer.pk]) not in page


def _approvals_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(APPROVALS).status_code == 200
    return len(queries)


def test_the_approvals_list_reads_in_the_same_number_of_queries_whatever_the_offers(
    client, referral, client_record, broker, manager, make_user, partnership
):
    record(referral, broker)
    client.force_login(manager)
    client.get(APPROVALS)  # the session and the user's grants, read once
    one = _approvals_queries(client)

    for n in range(5):
        recorder = make_user(roles.BROKER, [partnership])
        more = ReferralFactory(client=client_record, service_type="residential")
        record(more, recorder, rate=f"{1100 + n}.00")
        OfferFactory(referral=more, unit="night", unit_rate=D("150.00"), recorded_by=recorder)

    assert _approvals_queries(client) == one
    assert client.get(APPROVALS).content.decode().count("Approve<span") == 11


# --- The pages: approve behind a confirm step, decline with a reason --------------------------


def test_approving_asks_are_you_sure_then_approves_and_returns_to_the_list(client, referral, broker, manager):
    offer = record(referral, broker)
    url = reverse("brokerage:offer-approve", args=[offer.pk])
    client.force_login(manager)

    confirm = client.get(f"{url}?back={APPROVALS}")

    html = confirm.content.decode()
    assert confirm.status_code == 200
    assert "Approve this offer?" in html
    assert "£1,150.00 a week (£1,150.00 per week × 1)" in html
    assert "£1,018.46 a week (£1,018.46 per week): this offer is £131.54 a week above it" in html
    assert referral.client.case_reference in html
    assert unchanged(offer) == ("received", None, "")  # the step changes nothing

    response = client.post(url, {"back": APPROVALS})

    assert response.status_code == 302 and response.url == APPROVALS
    offer.refresh_from_db()
    assert offer.approved_by == manager


@pytest.mark.parametrize("route", ["brokerage:offer-approve", "brokerage:offer-decline"])
def test_the_recorder_is_refused_the_approve_and_decline_pages_and_buttons(client, referral, manager, route):
    offer = record(referral, manager)
    url = reverse(route, args=[offer.pk])
    client.force_login(manager)

    assert client.get(url).status_code == 403
    assert client.post(url, {"reason": "Too dear"}).status_code == 403
    assert unchanged(offer) == ("received", None, "")


def test_declining_without_a_reason_shows_the_error_on_the_reason_field(client, referral, broker, manager):
    offer = record(referral, broker)
    client.force_login(manager)

    response = client.post(reverse("brokerage:offer-decline", args=[offer.pk]), {"reason": ""})

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["form"].errors == {"reason": ["Say why the offer is declined."]}
    assert 'href="#id_reason"' in html  # the error summary links to the field
    assert unchanged(offer) == ("received", None, "")


def test_declining_with_a_reason_goes_back_to_the_list_and_the_timeline_keeps_it(
    client, referral, broker, manager
):
    offer = record(referral, broker)
    client.force_login(manager)

    response = client.post(
        reverse("brokerage:offer-decline", args=[offer.pk]),
        {"reason": "Above the card with no clinical need", "back": APPROVALS},
    )

    assert response.status_code == 302 and response.url == APPROVALS
    assert unchanged(offer) == ("declined", None, "Above the card with no clinical need")
    declined = referral.activities.get(kind=ReferralActivity.Kind.DECLINED)
    assert declined.text == "Beech House Care Home. Above the card with no clinical need"


def test_the_referral_page_links_to_the_steps_and_hides_them_from_the_recorder(
    client, referral, broker, manager, other_manager
):
    offer = record(referral, manager)
    approve = reverse("brokerage:offer-approve", args=[offer.pk])
    decline = reverse("brokerage:offer-decline", args=[offer.pk])

    client.force_login(manager)
    own = client.get(referral.get_absolute_url()).content.decode()
    client.force_login(other_manager)
    others = client.get(referral.get_absolute_url()).content.decode()

    assert approve not in own and decline not in own
    assert "You recorded it: another manager approves it" in own
    assert f'href="{approve}"' in others and f'href="{decline}"' in others
    assert f'action="{approve}"' not in others  # no one-click approval any more


# --- The API -------------------------------------------------------------------------------------


def test_the_api_refuses_the_recorder_approving_or_declining_their_offer(api_as, referral, manager):
    offer = record(referral, manager)

    approve = api_as(manager).post(f"{API}offers/{offer.pk}/approve/", {}, format="json")
    decline = api_as(manager).post(f"{API}offers/{offer.pk}/decline/", {"reason": "Too dear"}, format="json")

    assert (approve.status_code, decline.status_code) == (403, 403)
    assert "You recorded this offer" in approve.json()["detail"]
    assert unchanged(offer) == ("received", None, "")


def test_the_api_decline_needs_a_reason(api_as, referral, broker, manager):
    offer = record(referral, broker)

    missing = api_as(manager).post(f"{API}offers/{offer.pk}/decline/", {}, format="json")
    blank = api_as(manager).post(f"{API}offers/{offer.pk}/decline/", {"reason": " "}, format="json")
    given = api_as(manager).post(f"{API}offers/{offer.pk}/decline/", {"reason": "Too dear"}, format="json")

    assert (missing.status_code, blank.status_code) == (400, 400)
    assert list(missing.json()) == ["reason"] and list(blank.json()) == ["reason"]
    assert given.status_code == 200 and given.json()["status"] == "declined"


def test_the_api_lets_another_manager_approve(api_as, referral, manager, other_manager):
    offer = record(referral, manager)

    approved = api_as(other_manager).post(f"{API}offers/{offer.pk}/approve/", {}, format="json")

    assert approved.status_code == 200
    assert approved.json()["approved_by"] == other_manager.pk
