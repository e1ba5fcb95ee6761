"""The brokerage pages: permission matrix (anonymous, no role, role, other partnership), the case
flow through the forms, stale edits as form errors, and the access log on client pages."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from brokerage import services
from brokerage.models import Offer, Package, PackageCost, Referral
from commissioning.models import AccessLog
from tests.brokerage.factories import ClientFactory, OfferFactory, RateCardFactory, ReferralFactory
from tests.commissioning.factories import ProviderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def referral(client_record, broker):
    return services.referral_create(
        client=client_record,
        service_type="domiciliary",
        urgency="hospital_discharge",
        required_start=timezone.localdate(),
        proposed_funder=client_record.partnership.council,
        requested_by="Discharge team",
        by=broker,
    )


@pytest.fixture
def hidden(other_partnership):
    client = ClientFactory(partnership=other_partnership)
    return ReferralFactory(client=client)


def signed_in(client, user):
    client.force_login(user)
    return client


PAGES = [
    "brokerage:index",
    "brokerage:clients",
    "brokerage:packages",
    "brokerage:panel-decisions",
    "brokerage:rate-cards",
    "brokerage:market",
    "brokerage:timeliness",
]


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_users_are_sent_to_sign_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert "login" in response["Location"]


@pytest.mark.parametrize("name", PAGES)
def test_a_user_without_a_role_is_refused(client, make_user, partnership, name):
    assert signed_in(client, make_user(None, [partnership])).get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", PAGES)
def test_an_auditor_reads_every_page(client, auditor, referral, name):
    assert signed_in(client, auditor).get(reverse(name)).status_code == 200


def test_the_queue_shows_the_partnerships_open_referrals_urgent_first(
    client, broker, client_record, referral, hidden
):
    routine = ReferralFactory(
        client=client_record, urgency="routine", received_at=timezone.now() - timedelta(days=9)
    )
    response = signed_in(client, broker).get(reverse("brokerage:index"))
    assert response.status_code == 200
    assert [r.pk for r in response.context["referrals"]] == [referral.pk, routine.pk]
    assert hidden.reference not in response.content.decode()


def test_the_queue_filters_by_urgency_and_assignment(client, broker, client_record, referral):
    ReferralFactory(client=client_record, urgency="routine")
    response = signed_in(client, broker).get(
        reverse("brokerage:index"), {"urgency": "routine", "assigned_to": "none"}
    )
    assert [r.urgency for r in response.context["referrals"]] == ["routine"]


def test_the_assignment_filter_works_after_the_api_schema_was_read(client, broker, client_record, referral):
    """Reading the API schema builds the class's filter fields; the queue's own choices ("me",
    "none", the brokers) must still be offered and accepted afterwards."""
    from drf_spectacular.generators import SchemaGenerator

    SchemaGenerator().get_schema(request=None, public=True)
    services.referral_claim(referral=referral, by=broker)
    waiting = ReferralFactory(client=client_record, urgency="routine")
    web = signed_in(client, broker)

    mine = web.get(reverse("brokerage:index"), {"assigned_to": "me"})
    nobodys = web.get(reverse("brokerage:index"), {"assigned_to": "none"})

    assert not mine.context["filter_form"].errors and not nobodys.context["filter_form"].errors
    assert [r.pk for r in mine.context["referrals"]] == [referral.pk]
    assert [r.pk for r in nobodys.context["referrals"]] == [waiting.pk]


def test_a_referral_of_another_partnership_is_404(client, broker, hidden):
    assert signed_in(client, broker).get(reverse("brokerage:referral", args=[hidden.pk])).status_code == 404


def test_finance_cannot_open_the_case_page(client, finance, referral):
    assert (
        signed_in(client, finance).get(reverse("brokerage:referral", args=[referral.pk])).status_code == 403
    )


def test_the_case_page_shows_the_timeline_and_logs_the_view_of_the_client(client, broker, referral):
    response = signed_in(client, broker).get(reverse("brokerage:referral", args=[referral.pk]))
    assert response.status_code == 200
    assert "Referral received" in response.content.decode()
    log = AccessLog.objects.get()
    assert (log.user, log.object_id, log.action) == (broker, str(referral.client.pk), "view")


def test_every_view_of_a_client_page_writes_an_access_log_row(client, finance, client_record):
    web = signed_in(client, finance)
    for _ in range(2):
        response = web.get(reverse("brokerage:client", args=[client_record.pk]))
        assert response.status_code == 200
    assert AccessLog.objects.filter(object_id=str(client_record.pk), user=finance).count() == 2
    assert "Date of birth" not in response.content.decode()


def test_a_hidden_client_page_is_404_and_not_logged(client, broker, other_partnership):
    theirs = ClientFactory(partnership=other_partnership)
    assert signed_in(client, broker).get(reverse("brokerage:client", args=[theirs.pk])).status_code == 404
    assert not AccessLog.objects.exists()


def test_clients_are_found_by_name_nhs_number_or_reference(client, broker, client_record):
    web = signed_in(client, broker)
    for query in ("lovelace", "Ada Love", client_record.nhs_number, client_record.case_reference):
        response = web.get(reverse("brokerage:clients"), {"q": query})
        assert list(response.context["clients"]) == [client_record], query


def test_a_client_with_a_bad_nhs_number_is_refused_naming_the_field(client, broker, partnership):
    response = signed_in(client, broker).post(
        reverse("brokerage:client-create"),
        {
            "partnership": partnership.pk,
            "given_name": "Grace",
            "family_name": "Hopper",
            "nhs_number": "943 476 5918",
            "case_reference": "LAS-9",
            "cohort": "other",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["nhs_number"] == [
        "NHS number is not valid: check the digits (the last one is a check digit)"
    ]


def test_a_broker_records_an_offer_through_the_form(client, broker, referral):
    provider = ProviderFactory(service_types=["domiciliary"])
    today = timezone.localdate()
    response = signed_in(client, broker).post(
        reverse("brokerage:offer-create", args=[referral.pk]),
        {
            "provider": provider.pk,
            "unit_rate": "£26.00",
            "unit": "hour",
            "units_per_week": "14",
            "earliest_start_day": today.day,
            "earliest_start_month": today.month,
            "earliest_start_year": today.year,
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    offer = Offer.objects.get()
    assert offer.weekly_cost == Decimal("364.00")
    assert Referral.objects.get(pk=referral.pk).status == "offered"


def test_a_broker_cannot_approve_an_offer_above_the_rate_card_and_a_manager_can(
    client, broker, manager, referral, partnership
):
    RateCardFactory(
        partnership=partnership,
        year=2000 + (timezone.localdate().year - 2000) - (1 if timezone.localdate().month < 4 else 0),
    )
    offer = OfferFactory(referral=referral, unit_rate=Decimal("99.00"), earliest_start=timezone.localdate())
    url = reverse("brokerage:offer-approve", args=[offer.pk])
    assert signed_in(client, broker).post(url).status_code == 403
    client.logout()
    assert signed_in(client, manager).post(url).status_code == 302
    offer.refresh_from_db()
    assert offer.approved_by == manager


def test_accepting_an_offer_through_the_form_starts_the_package(client, broker, referral, partnership):
    RateCardFactory(
        partnership=partnership,
        year=timezone.localdate().year if timezone.localdate().month >= 4 else timezone.localdate().year - 1,
    )
    offer = OfferFactory(referral=referral, unit_rate=Decimal("20.00"), earliest_start=timezone.localdate())
    today = timezone.localdate()
    response = signed_in(client, broker).post(
        reverse("brokerage:offer-accept", args=[offer.pk]),
        {
            "start_day": today.day,
            "start_month": today.month,
            "start_year": today.year,
            "paying_organisation": partnership.council.pk,
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    package = Package.objects.get()
    assert response["Location"] == package.get_absolute_url()
    assert Referral.objects.get(pk=referral.pk).status == "started"
    page = client.get(package.get_absolute_url())
    assert page.status_code == 200
    assert "Cost history" in page.content.decode()


def test_a_stale_price_change_is_a_form_error_and_changes_nothing(client, broker, package):
    from tests.brokerage.factories import RateCardFactory

    RateCardFactory(partnership=package.client.partnership, year=2024)  # £24.50: applies at once
    url = reverse("brokerage:package-change-cost", args=[package.pk])
    form = {
        "effective_from_day": "1",
        "effective_from_month": "7",
        "effective_from_year": "2024",
        "unit_rate": "21",
        "unit": "hour",
        "units_per_week": "10",
        "reason": "Uplift",
        "version": package.version,
        "step": "confirm",
    }
    web = signed_in(client, broker)
    assert web.post(url, form).status_code == 302
    response = web.post(url, {**form, "unit_rate": "30"})
    assert response.status_code == 200
    assert "Someone else changed this package" in response.context["form"].non_field_errors()[0]
    assert list(
        PackageCost.objects.filter(package=package)
        .values_list("unit_rate", flat=True)
        .order_by("effective_from")
    ) == [
        Decimal("20.00"),
        Decimal("21.00"),
    ]


def test_a_funding_change_whose_shares_do_not_add_up_is_refused(client, broker, package):
    response = signed_in(client, broker).post(
        reverse("brokerage:package-change-funding", args=[package.pk]),
        {
            "effective_from_day": "1",
            "effective_from_month": "5",
            "effective_from_year": "2024",
            "council_percent": "50",
            "nhs_percent": "40",
            "basis": "s117",
            "version": package.version,
        },
    )
    assert response.status_code == 200
    assert "they add up to 90%" in str(response.context["form"].errors)
    assert package.splits.count() == 1


def test_a_finance_officer_sees_a_package_but_not_its_change_forms(client, finance, package):
    web = signed_in(client, finance)
    assert web.get(package.get_absolute_url()).status_code == 200
    assert web.get(reverse("brokerage:package-change-cost", args=[package.pk])).status_code == 403


def test_a_package_of_another_partnership_is_404(client, broker, outsider, other_partnership):
    from tests.brokerage.factories import PackageFactory

    theirs = PackageFactory(client=ClientFactory(partnership=other_partnership))
    web = signed_in(client, broker)
    assert web.get(theirs.get_absolute_url()).status_code == 404
    assert web.get(reverse("brokerage:package-change-funding", args=[theirs.pk])).status_code == 404


def test_the_market_page_shows_packages_above_the_rate_card(client, manager, package, partnership):
    RateCardFactory(
        partnership=partnership,
        year=date.today().year if date.today().month >= 4 else date.today().year - 1,
        unit_rate=Decimal("18.00"),
    )
    response = signed_in(client, manager).get(reverse("brokerage:market"))
    assert response.status_code == 200
    market = response.context["market"]
    assert [(p.pk, above) for p, _cost, above in market.above] == [(package.pk, Decimal("2.00"))]


def test_the_dashboard_shows_the_brokerage_panels(client, manager, referral):
    response = signed_in(client, manager).get(reverse("dashboard"))
    titles = [panel.title for panel in response.context["panels"]]
    assert "Referrals waiting" in titles
    assert "Brokerage timeliness (last 90 days)" in titles
