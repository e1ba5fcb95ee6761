"""Price approval for every price above the rate card, and backdated price changes that say what they
replace (issue 18). The figures are the issue's: a package accepted at £1,150 a week against a card of
£1,018.46, whose price was changed to £1,400 (£381.54 above the card) with no approval."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from brokerage import services
from brokerage.models import PackageCost, PriceChange, PriceChangeStatus
from commissioning import roles
from tests.brokerage.factories import OfferFactory, RateCardFactory, ReferralFactory

pytestmark = pytest.mark.django_db

D = Decimal
API = "/api/v1/"
UPLIFT_DAY = date(2026, 11, 16)


@pytest.fixture
def other_manager(make_user, partnership):
    return make_user(roles.BROKERAGE_MANAGER, [partnership])


@pytest.fixture
def placement(client_record, broker, manager, partnership):
    """A residential placement accepted at £1,150 a week from 1 June 2026, approved by a manager
    against the card of £1,018.46 a week."""
    RateCardFactory(
        partnership=partnership, service_type="residential", year=2026, unit_rate=D("1018.46"), unit="week"
    )
    referral = ReferralFactory(
        client=client_record, service_type="residential", required_start=date(2026, 6, 1)
    )
    offer = services.offer_record(
        referral=referral,
        provider=_provider(),
        unit_rate=D("1150.00"),
        units_per_week=D("1"),
        unit="week",
        earliest_start=date(2026, 6, 1),
        by=broker,
    )
    services.offer_approve(offer=offer, by=manager)
    return services.offer_accept(offer=offer, by=broker, today=date(2026, 6, 1))


def _provider():
    from tests.commissioning.factories import ProviderFactory

    return ProviderFactory()


def propose(package, by, rate, day=UPLIFT_DAY, **kw):
    package.refresh_from_db()
    return services.price_change_propose(
        package=package,
        effective_from=day,
        unit_rate=D(rate),
        units_per_week=D("1"),
        unit="week",
        reason=kw.pop("reason", "Provider's annual uplift"),
        by=by,
        **kw,
    )


def weekly_costs(package):
    return [
        (c.effective_from, c.effective_to, c.weekly_cost)
        for c in PackageCost.objects.filter(package=package).order_by("effective_from")
    ]


# --- The rule ------------------------------------------------------------------------------------


def test_the_opening_price_records_who_proposed_and_who_approved_it(placement, broker, manager):
    opening = PriceChange.objects.get(package=placement)

    assert opening.status == PriceChangeStatus.APPROVED
    assert (opening.proposed_by, opening.decided_by) == (broker, manager)
    assert opening.rate_card_rate == D("1018.46")
    assert opening.rate_card_difference == D("131.54")
    assert opening.cost == placement.costs.get()


def test_a_later_price_above_the_card_waits_for_a_manager_and_the_price_stays(placement, broker):
    change = propose(placement, broker, "1400.00")

    assert change.status == PriceChangeStatus.PENDING
    assert change.rate_card_rate == D("1018.46")
    assert change.rate_card_difference == D("381.54")
    assert change.cost is None
    assert weekly_costs(placement) == [(date(2026, 6, 1), None, D("1150.00"))]


def test_a_manager_who_did_not_propose_it_approves_it_and_it_applies_from_its_date(
    placement, broker, manager
):
    change = propose(placement, broker, "1400.00")

    approved = services.price_change_approve(change=change, by=manager)

    assert approved.status == PriceChangeStatus.APPROVED
    assert approved.decided_by == manager and approved.decided_at is not None
    assert weekly_costs(placement) == [
        (date(2026, 6, 1), date(2026, 11, 15), D("1150.00")),
        (UPLIFT_DAY, None, D("1400.00")),
    ]
    assert approved.cost == placement.costs.get(effective_from=UPLIFT_DAY)


def test_a_price_at_or_below_the_card_applies_at_once(placement, broker):
    change = propose(placement, broker, "1018.46", reason="Back to the card after review")

    assert change.status == PriceChangeStatus.WITHIN_CARD
    assert change.decided_by is None
    assert weekly_costs(placement)[-1] == (UPLIFT_DAY, None, D("1018.46"))


def test_with_no_rate_card_for_the_unit_any_price_waits(placement, broker):
    placement.refresh_from_db()
    change = services.price_change_propose(
        package=placement,
        effective_from=UPLIFT_DAY,
        unit_rate=D("150.00"),
        units_per_week=D("7"),
        unit="night",
        reason="Charged by the night",
        by=broker,
    )

    assert change.status == PriceChangeStatus.PENDING and change.rate_card_rate is None


def test_the_proposer_can_never_approve_their_own_price(placement, manager, other_manager):
    change = propose(placement, manager, "1400.00")

    with pytest.raises(PermissionDenied):
        services.price_change_approve(change=change, by=manager)

    change.refresh_from_db()
    assert change.status == PriceChangeStatus.PENDING
    assert services.price_change_approve(change=change, by=other_manager).status == "approved"


def test_a_broker_cannot_approve_or_decline(placement, broker, make_user, partnership):
    change = propose(placement, broker, "1400.00")
    another_broker = make_user(roles.BROKER, [partnership])

    with pytest.raises(PermissionDenied):
        services.price_change_approve(change=change, by=another_broker)
    with pytest.raises(PermissionDenied):
        services.price_change_decline(change=change, by=another_broker, reason="No")
    change.refresh_from_db()
    assert change.status == PriceChangeStatus.PENDING


def test_a_decline_needs_a_reason_and_keeps_the_price(placement, broker, manager):
    change = propose(placement, broker, "1400.00")

    with pytest.raises(ValidationError) as refused:
        services.price_change_decline(change=change, by=manager, reason="  ")
    assert refused.value.message_dict == {"reason": ["Say why the price change is declined."]}

    declined = services.price_change_decline(change=change, by=manager, reason="Above the framework rate")
    assert declined.status == PriceChangeStatus.DECLINED
    assert declined.decline_reason == "Above the framework rate"
    assert weekly_costs(placement) == [(date(2026, 6, 1), None, D("1150.00"))]
    with pytest.raises(ValidationError, match="declined: it is not awaiting approval"):
        services.price_change_approve(change=change, by=manager)


def test_a_reason_is_required(placement, broker):
    with pytest.raises(ValidationError) as refused:
        propose(placement, broker, "1000.00", reason="")
    assert refused.value.message_dict == {"reason": ["Say why the price changes."]}
    assert PriceChange.objects.filter(package=placement).count() == 1


def test_no_other_price_change_is_taken_while_one_waits(placement, broker):
    propose(placement, broker, "1400.00")

    with pytest.raises(ValidationError, match="awaiting a brokerage manager's approval"):
        propose(placement, broker, "1000.00", day=date(2026, 12, 1))
    assert PriceChange.objects.filter(package=placement).count() == 2


def test_the_database_holds_one_pending_change_per_package(placement, broker):
    pending = propose(placement, broker, "1400.00")

    with pytest.raises(IntegrityError, match="price_change_one_pending_per_package"), transaction.atomic():
        PriceChange.objects.create(
            package=placement,
            effective_from=date(2026, 12, 1),
            unit_rate=D("1500"),
            units_per_week=D("1"),
            unit="week",
            reason="Twice",
            status=PriceChangeStatus.PENDING,
            proposed_by=pending.proposed_by,
        )


# --- Backdated changes ---------------------------------------------------------------------------


@pytest.fixture
def uplifted(placement, broker, manager):
    """The 16 November uplift to £1,400, approved."""
    services.price_change_approve(change=propose(placement, broker, "1400.00"), by=manager)
    placement.refresh_from_db()
    return placement


def test_a_backdated_change_names_the_later_price_it_replaces_and_is_refused_unconfirmed(uplifted, broker):
    before = weekly_costs(uplifted)

    with pytest.raises(ValidationError) as refused:
        propose(uplifted, broker, "1000.00", day=date(2026, 11, 1), reason="Agreed rate from November")

    assert refused.value.message_dict == {
        "replaces_confirmed": [
            "A price from 1 November 2026 replaces the price from that day on: £1,400.00 a week from "
            "16 November 2026 (Provider's annual uplift). Confirm that it replaces them."
        ]
    }
    assert weekly_costs(uplifted) == before


def test_a_confirmed_backdated_change_keeps_what_it_replaced(uplifted, broker):
    change = propose(
        uplifted, broker, "1000.00", day=date(2026, 11, 1), reason="Agreed rate", replaces_confirmed=True
    )

    assert change.status == PriceChangeStatus.WITHIN_CARD
    assert change.replaced == "£1,400.00 a week from 16 November 2026 (Provider's annual uplift)"
    assert weekly_costs(uplifted) == [
        (date(2026, 6, 1), date(2026, 10, 31), D("1150.00")),
        (date(2026, 11, 1), None, D("1000.00")),
    ]
    # The uplift's own record stays, its cost row gone.
    uplift = PriceChange.objects.get(package=uplifted, effective_from=UPLIFT_DAY)
    assert uplift.status == PriceChangeStatus.APPROVED and uplift.cost is None


def test_the_check_says_what_a_change_would_do_without_saving_it(uplifted):
    check = services.price_change_check(
        package=uplifted,
        effective_from=date(2026, 11, 1),
        unit_rate=D("1400.00"),
        units_per_week=D("1"),
        unit="week",
    )

    assert check.needs_approval and check.rate_card_difference == D("381.54")
    assert [(r.start, r.weekly_cost) for r in check.replaces] == [(UPLIFT_DAY, D("1400.00"))]
    assert check.card_words() == (
        "£381.54 per week above the rate card of £1,018.46: a brokerage manager must approve it "
        "before it applies."
    )
    assert PriceChange.objects.filter(package=uplifted).count() == 2


# --- Pages ---------------------------------------------------------------------------------------


def _form(package, rate, day=UPLIFT_DAY, **extra):
    return {
        "effective_from_day": str(day.day),
        "effective_from_month": str(day.month),
        "effective_from_year": str(day.year),
        "unit_rate": rate,
        "unit": "week",
        "units_per_week": "1",
        "reason": "Provider's annual uplift",
        "version": package.version,
        **extra,
    }


def test_the_price_page_checks_then_sends_a_price_above_the_card_for_approval(client, placement, broker):
    client.force_login(broker)
    url = reverse("brokerage:package-change-cost", args=[placement.pk])
    placement.refresh_from_db()

    check = client.post(url, _form(placement, "1400"))
    assert check.status_code == 200
    page = check.content.decode()
    assert "Check the price change" in page
    assert "£381.54 per week above the rate card of £1,018.46" in page
    assert "Send for approval" in page
    assert not PriceChange.objects.filter(package=placement, status="pending").exists()

    done = client.post(url, _form(placement, "1400", step="confirm"), follow=True)
    assert "sent for approval" in done.content.decode()
    assert PriceChange.objects.get(package=placement, status="pending").weekly_cost == D("1400.00")
    assert "Price change awaiting approval" in done.content.decode()


def test_the_price_page_needs_a_reason(client, placement, broker):
    client.force_login(broker)
    placement.refresh_from_db()
    response = client.post(
        reverse("brokerage:package-change-cost", args=[placement.pk]), _form(placement, "1400", reason="")
    )
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors


def test_the_check_step_names_the_later_price_a_backdated_change_replaces(client, uplifted, broker):
    client.force_login(broker)
    url = reverse("brokerage:package-change-cost", args=[uplifted.pk])

    check = client.post(url, _form(uplifted, "1000", day=date(2026, 11, 1)))

    page = check.content.decode()
    assert "This change replaces a later price" in page
    assert "£1,400.00 a week from 16 November 2026" in page
    assert "Provider&#x27;s annual uplift" in page
    confirmed = client.post(url, _form(uplifted, "1000", day=date(2026, 11, 1), step="confirm"))
    assert confirmed.status_code == 302
    assert weekly_costs(uplifted)[-1] == (date(2026, 11, 1), None, D("1000.00"))


def test_the_proposer_is_refused_the_approval_page_and_button(client, placement, manager):
    change = propose(placement, manager, "1400.00")
    client.force_login(manager)
    url = reverse("brokerage:price-change-approve", args=[change.pk])

    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    change.refresh_from_db()
    assert change.status == PriceChangeStatus.PENDING


def test_another_manager_confirms_then_approves_on_the_page(client, placement, broker, manager):
    change = propose(placement, broker, "1400.00")
    client.force_login(manager)
    url = reverse("brokerage:price-change-approve", args=[change.pk])

    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Approve this price change?" in confirm.content.decode()
    response = client.post(url)
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.status == PriceChangeStatus.APPROVED
    page = client.get(placement.get_absolute_url()).content.decode()
    assert "Approved</strong> by" in page and "Provider&#x27;s annual uplift" in page


def test_a_manager_declines_on_the_page_with_a_reason(client, placement, broker, manager):
    change = propose(placement, broker, "1400.00")
    client.force_login(manager)
    url = reverse("brokerage:price-change-decline", args=[change.pk])

    assert client.post(url, {"reason": ""}).status_code == 200
    response = client.post(url, {"reason": "Above the framework rate"})
    assert response.status_code == 302
    change.refresh_from_db()
    assert (change.status, change.decline_reason) == ("declined", "Above the framework rate")


def test_the_approvals_list_shows_waiting_prices_and_offers(client, placement, broker, manager, partnership):
    change = propose(placement, broker, "1400.00")
    waiting_offer = OfferFactory(
        referral=ReferralFactory(client=placement.client), unit_rate=D("30.00")
    )  # no card for 2024 hours: waits
    client.force_login(manager)

    response = client.get(reverse("brokerage:approvals"))

    page = response.content.decode()
    assert response.status_code == 200
    assert placement.reference in page and "£381.54 per week" in page
    assert reverse("brokerage:price-change-approve", args=[change.pk]) in page
    assert waiting_offer.referral.reference in page


def test_a_broker_is_refused_the_approvals_list(client, broker):
    client.force_login(broker)
    assert client.get(reverse("brokerage:approvals")).status_code == 403


def test_the_approvals_list_reads_in_a_fixed_number_of_queries(
    client, placement, broker, manager, django_assert_max_num_queries, make_user, partnership
):
    propose(placement, broker, "1400.00")
    for _ in range(5):
        OfferFactory(referral=ReferralFactory(client=placement.client), unit_rate=D("30.00"))
    client.force_login(manager)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("brokerage:approvals")).status_code == 200


# --- API -----------------------------------------------------------------------------------------


def test_the_api_change_cost_above_the_card_is_pending_and_a_second_manager_approves(
    api_as, placement, broker, manager
):
    placement.refresh_from_db()
    response = api_as(broker).post(
        f"{API}packages/{placement.pk}/change-cost/",
        {
            "effective_from": "2026-11-16",
            "unit_rate": "1400.00",
            "units_per_week": "1",
            "unit": "week",
            "reason": "Provider's annual uplift",
            "version": placement.version,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["rate_card_difference"], body["cost"]) == ("pending", "381.54", None)

    refused = api_as(broker).post(f"{API}price-changes/{body['id']}/approve/", {}, format="json")
    assert refused.status_code == 403
    approved = api_as(manager).post(f"{API}price-changes/{body['id']}/approve/", {}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert weekly_costs(placement)[-1] == (UPLIFT_DAY, None, D("1400.00"))


def test_the_api_refuses_the_proposer_approving_their_own(api_as, placement, manager):
    change = propose(placement, manager, "1400.00")

    response = api_as(manager).post(f"{API}price-changes/{change.pk}/approve/", {}, format="json")

    assert response.status_code == 403
    change.refresh_from_db()
    assert change.status == PriceChangeStatus.PENDING


def test_the_api_backdated_change_is_400_naming_what_it_replaces_until_confirmed(api_as, uplifted, broker):
    body = {
        "effective_from": "2026-11-01",
        "unit_rate": "1000.00",
        "units_per_week": "1",
        "unit": "week",
        "reason": "Agreed rate",
        "version": uplifted.version,
    }
    refused = api_as(broker).post(f"{API}packages/{uplifted.pk}/change-cost/", body, format="json")
    assert refused.status_code == 400
    assert "16 November 2026" in refused.json()["replaces_confirmed"][0]

    done = api_as(broker).post(
        f"{API}packages/{uplifted.pk}/change-cost/", {**body, "replaces_later_prices": True}, format="json"
    )
    assert done.status_code == 201
    assert done.json()["replaced"] == "£1,400.00 a week from 16 November 2026 (Provider's annual uplift)"


def test_the_package_page_shows_who_and_why_of_each_price_and_what_a_backdated_change_removed(
    client, uplifted, broker, manager
):
    propose(uplifted, broker, "1000.00", day=date(2026, 11, 1), reason="Agreed rate", replaces_confirmed=True)
    client.force_login(manager)

    page = client.get(uplifted.get_absolute_url()).content.decode()

    costs = page[page.index('id="costs"') : page.index('id="prices"')]
    assert f"Proposed by {broker.get_full_name()}: “Agreed rate”" in costs
    assert f"approved by {manager.get_full_name()}" in costs  # the opening price, approved on the offer
    removed = page[page.index('id="removed"') :]
    assert "16 Nov 2026" in removed and "£1,400.00 a week" in removed
    assert broker.get_full_name() in removed
    funding = page[page.index('id="funding"') : page.index('id="removed"')]
    assert broker.get_full_name() in funding  # who recorded the opening split (the offer's acceptor)


# --- The rate card beside the offer's price --------------------------------------------------------


def test_the_offer_form_shows_the_rate_card_and_the_hint_follows_the_price_typed(
    client, broker, client_record, partnership
):
    RateCardFactory(partnership=partnership, year=2024, unit_rate=D("24.50"), unit="hour")
    referral = ReferralFactory(client=client_record, required_start=date(2024, 6, 3))
    client.force_login(broker)

    form = client.get(reverse("brokerage:offer-create", args=[referral.pk])).content.decode()
    assert 'id="rate-card-hint"' in form
    assert "Rate card for domiciliary care in 2024/25: <strong>£24.50 per hour</strong>" in form

    url = reverse("brokerage:offer-rate-card", args=[referral.pk])
    typed = {
        "unit": "hour",
        "earliest_start_day": "3",
        "earliest_start_month": "6",
        "earliest_start_year": "2024",
    }
    above = client.get(url, {**typed, "unit_rate": "27.00"}).content.decode()
    assert "This price is £2.50 above it: a brokerage manager must approve the offer." in above
    below = client.get(url, {**typed, "unit_rate": "23"}).content.decode()
    assert "This price is £1.50 below it." in below
    nights = client.get(url, {**typed, "unit": "night", "unit_rate": "80"}).content.decode()
    assert "No rate card for domiciliary care by the night in 2024/25" in nights
    next_year = client.get(url, {**typed, "earliest_start_year": "2025", "unit_rate": "27"}).content.decode()
    assert "No rate card for domiciliary care by the hour in 2025/26" in next_year


def test_the_rate_card_hint_is_refused_to_finance_and_hidden_from_another_partnership(
    client, finance, outsider, client_record
):
    referral = ReferralFactory(client=client_record)
    url = reverse("brokerage:offer-rate-card", args=[referral.pk])
    client.force_login(finance)
    assert client.get(url).status_code == 403
    client.force_login(outsider)
    assert client.get(url).status_code == 404
