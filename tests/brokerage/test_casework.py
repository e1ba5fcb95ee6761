"""Referrals, offers, approval and acceptance (domain.md, brokerage)."""

from datetime import UTC, date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from brokerage import services
from brokerage.models import FundingSplit, Offer, PackageCost, Referral, ReferralActivity
from brokerage.services import Share
from tests.brokerage.factories import OfferFactory, RateCardFactory, ReferralFactory

pytestmark = pytest.mark.django_db

TODAY = date(2024, 6, 10)


@pytest.fixture
def rate_card(partnership):
    return RateCardFactory(
        partnership=partnership, service_type="domiciliary", year=2024, unit_rate=Decimal("24.50")
    )


@pytest.fixture
def referral(client_record, broker):
    return services.referral_create(
        client=client_record,
        service_type="domiciliary",
        urgency="hospital_discharge",
        required_start=date(2024, 6, 3),
        proposed_funder=client_record.partnership.council,
        requested_by="Hospital discharge team",
        by=broker,
    )


def record(referral, broker, rate="26.00", start=date(2024, 6, 3)):
    from tests.commissioning.factories import ProviderFactory

    return services.offer_record(
        referral=referral,
        provider=ProviderFactory(organisation__name="Oak Care"),
        unit_rate=Decimal(rate),
        units_per_week=Decimal("14"),
        unit="hour",
        earliest_start=start,
        by=broker,
    )


def kinds(referral):
    return list(ReferralActivity.objects.filter(referral=referral).values_list("kind", flat=True))


def test_an_offer_shows_its_weekly_cost_and_difference_from_the_rate_card(referral, broker, rate_card):
    offer = record(referral, broker, rate="26.00")

    annotated = Offer.objects.with_rate_card().get(pk=offer.pk)
    assert annotated.weekly_cost == Decimal("364.00")
    assert annotated.rate_card_rate == Decimal("24.50")
    assert annotated.rate_card_difference == Decimal("1.50")
    assert annotated.needs_approval
    referral.refresh_from_db()
    assert referral.status == "offered"
    assert referral.assigned_to == broker
    assert kinds(referral) == ["received", "offer"]


def test_an_offer_above_the_rate_card_cannot_be_accepted_before_a_manager_approves(
    referral, broker, rate_card
):
    offer = record(referral, broker, rate="26.00")

    with pytest.raises(ValidationError) as error:
        services.offer_accept(offer=offer, by=broker, today=TODAY)

    assert "must approve this offer" in error.value.messages[0]
    referral.refresh_from_db()
    assert referral.status == "offered"
    assert not PackageCost.objects.exists()


def test_a_broker_cannot_approve(referral, broker, rate_card):
    offer = record(referral, broker, rate="26.00")
    with pytest.raises(PermissionDenied):
        services.offer_approve(offer=offer, by=broker)
    offer.refresh_from_db()
    assert offer.approved_at is None


def test_accepting_an_approved_offer_starts_the_package_with_its_first_cost_and_split(
    referral, broker, manager, rate_card, partnership
):
    offer = record(referral, broker, rate="26.00")
    other = record(referral, broker, rate="24.00")
    services.offer_approve(offer=offer, by=manager)

    package = services.offer_accept(offer=offer, by=broker, today=TODAY)

    offer.refresh_from_db()
    other.refresh_from_db()
    referral.refresh_from_db()
    assert offer.approved_by == manager and offer.approved_at is not None
    assert (offer.status, other.status) == ("accepted", "declined")
    assert package.start == date(2024, 6, 3)
    assert package.paying_organisation == partnership.council
    assert package.referral == referral
    assert list(package.costs.values_list("effective_from", "effective_to", "unit_rate")) == [
        (date(2024, 6, 3), None, Decimal("26.00"))
    ]
    split = FundingSplit.objects.get(package=package)
    assert (split.effective_from, split.effective_to, split.basis) == (
        date(2024, 6, 3),
        None,
        "single_funder",
    )
    assert [(s.organisation, s.percent) for s in split.shares.all()] == [
        (partnership.council, Decimal("100.00"))
    ]
    assert referral.status == "started"
    assert referral.accepted_at is not None and referral.started_at is not None
    assert kinds(referral) == ["received", "offer", "offer", "approved", "accepted", "started"]


def test_an_offer_within_the_rate_card_is_accepted_without_approval_and_a_future_start_is_accepted(
    referral, broker, rate_card
):
    offer = record(referral, broker, rate="24.50", start=date(2024, 7, 1))

    package = services.offer_accept(offer=offer, by=broker, today=TODAY)

    referral.refresh_from_db()
    assert package.start == date(2024, 7, 1)
    assert referral.status == "accepted"
    assert services.referrals_mark_started(today=date(2024, 7, 1)) == 1
    referral.refresh_from_db()
    assert referral.status == "started"
    assert services.referrals_mark_started(today=date(2024, 7, 2)) == 0


def test_an_offer_with_no_rate_card_needs_approval(referral, broker):
    offer = record(referral, broker, rate="10.00")
    with pytest.raises(ValidationError) as error:
        services.offer_accept(offer=offer, by=broker, today=TODAY)
    assert "no rate card" in error.value.messages[0]


def test_a_panel_decision_in_force_sets_the_first_split(referral, broker, manager, rate_card, partnership):
    decision = services.panel_decision_record(
        client=referral.client,
        reference="JFP-24-001",
        meeting_date=date(2024, 5, 20),
        effective_from=date(2024, 5, 1),
        review_date=date(2024, 11, 20),
        shares=[
            Share(partnership.council, Decimal("50")),
            Share(partnership.nhs_commissioner, Decimal("50")),
        ],
        basis="s117",
        by=manager,
    )
    offer = record(referral, broker, rate="24.00")

    package = services.offer_accept(offer=offer, by=broker, today=TODAY)

    split = package.splits.get()
    assert split.basis == "s117" and split.decision_reference == "JFP-24-001"
    assert sorted(split.shares.values_list("percent", flat=True)) == [Decimal("50.00"), Decimal("50.00")]
    decision.refresh_from_db()
    assert decision.package == package and decision.applied_by == broker


def test_a_backdated_panel_decision_applied_to_a_package_changes_funding_from_its_date(
    package, manager, partnership
):
    decision = services.panel_decision_record(
        client=package.client,
        reference="JFP-24-009",
        meeting_date=date(2024, 9, 1),
        effective_from=date(2024, 6, 1),
        shares=[
            Share(partnership.council, Decimal("0")),
            Share(partnership.nhs_commissioner, Decimal("100")),
        ],
        basis="chc_eligibility",
        by=manager,
    )

    services.panel_decision_apply(decision=decision, package=package, by=manager)

    assert list(
        package.splits.order_by("effective_from").values_list("effective_from", "effective_to", "basis")
    ) == [
        (date(2024, 4, 1), date(2024, 5, 31), "single_funder"),
        (date(2024, 6, 1), None, "chc_eligibility"),
    ]
    with pytest.raises(ValidationError):
        services.panel_decision_apply(decision=decision, package=package, by=manager)


def test_a_cancelled_referral_takes_no_offers(referral, broker):
    services.referral_cancel(referral=referral, by=broker, reason="Family arranged care")
    with pytest.raises(ValidationError) as error:
        record(referral, broker)
    assert "cancelled" in error.value.message_dict["referral"][0]
    assert not Offer.objects.exists()


def test_claiming_and_assigning_are_on_the_timeline(referral, broker, manager):
    services.referral_claim(referral=referral, by=broker)
    services.referral_assign(referral=referral, to=manager, by=manager)
    referral.refresh_from_db()
    assert referral.assigned_to == manager
    assert list(ReferralActivity.objects.filter(referral=referral).values_list("kind", "text")) == [
        ("received", "Hospital discharge team"),
        ("assigned", "Claimed"),
        ("assigned", "Claimed"),
    ]


def test_a_broker_of_another_partnership_cannot_be_assigned(referral, manager, outsider):
    with pytest.raises(ValidationError) as error:
        services.referral_assign(referral=referral, to=outsider, by=manager)
    assert "That person does not work in Bromley" in error.value.message_dict["assigned_to"][0]
    referral.refresh_from_db()
    assert referral.assigned_to is None


def test_the_queue_puts_urgent_referrals_first_then_the_oldest(client_record):
    from datetime import datetime

    def at(day):
        return datetime(2024, 6, day, 9, tzinfo=UTC)

    routine_old = ReferralFactory(client=client_record, urgency="routine", received_at=at(1))
    urgent_new = ReferralFactory(client=client_record, urgency="hospital_discharge", received_at=at(5))
    at_risk_old = ReferralFactory(client=client_record, urgency="at_risk", received_at=at(2))

    assert list(Referral.objects.queue_order()) == [at_risk_old, urgent_new, routine_old]


def test_the_queue_of_open_referrals_is_read_in_index_order(client_record):
    """``referral_queue_order_idx`` must match ``queue_order``'s expression, or a borough's queue
    sorts every open referral for each page. With sorting priced out, PostgreSQL reads the page
    from the index only if the two agree."""
    from django.db import connection, transaction

    from brokerage.models import OPEN_STATUSES

    ReferralFactory.create_batch(3, client=client_record)
    sql, params = Referral.objects.filter(status__in=OPEN_STATUSES).queue_order()[:25].query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "referral_queue_order_idx" in plan, plan
    assert "Sort" not in plan, plan


def test_changing_an_approved_offers_price_needs_approval_again(referral, broker, manager, rate_card):
    offer = record(referral, broker, rate="26.00")
    services.offer_approve(offer=offer, by=manager)

    offer = services.offer_update(offer=offer, by=broker, unit_rate=Decimal("27.00"))

    assert offer.approved_at is None and offer.approved_by is None


def test_offer_factory_defaults_are_consistent():
    offer = OfferFactory()
    assert offer.weekly_cost == Decimal("322.00")


def test_the_daily_task_marks_accepted_referrals_started_once(referral, broker, rate_card):
    from brokerage.tasks import mark_started_referrals

    offer = record(referral, broker, rate="24.00", start=date(2024, 7, 1))
    services.offer_accept(offer=offer, by=broker, today=TODAY)

    assert mark_started_referrals("2024-06-30") == 0
    assert mark_started_referrals("2024-07-01") == 1
    assert mark_started_referrals("2024-07-01") == 0
    assert kinds(referral)[-1] == "started"
