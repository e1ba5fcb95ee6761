"""The package list as officers read it: each package's weekly cost in force today, and a payer
filter that offers the councils and NHS commissioners of the user's partnerships (not a typed
code). Also: a date of birth in the future is refused, naming the field."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from brokerage import services
from brokerage.models import Client
from tests.brokerage.factories import ClientFactory, PackageFactory

pytestmark = pytest.mark.django_db


def costed(client, by, start, rate, units, end=None):
    package = PackageFactory(client=client, start=start, end=end)
    services.package_cost_add(
        package=package,
        effective_from=start,
        effective_to=end,
        unit_rate=Decimal(rate),
        units_per_week=Decimal(units),
        unit="hour",
        by=by,
    )
    return package


def listing(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("brokerage:packages"), {"status": ["active", "ended"], **params})
    assert response.status_code == 200
    return response


def test_each_package_shows_its_weekly_cost_in_force_today_to_the_penny(client, broker, client_record):
    today = timezone.localdate()
    live = costed(client_record, broker, today - timedelta(days=30), "23.45", "10.5")  # 246.225
    ended = costed(client_record, broker, date(2023, 4, 1), "20.00", "7", end=date(2023, 9, 30))
    future = costed(client_record, broker, today + timedelta(days=14), "25.00", "4")

    response = listing(client, broker)

    costs = {p.pk: p.weekly_cost_now for p in response.context["packages"]}
    assert costs == {live.pk: Decimal("246.23"), ended.pk: None, future.pk: None}
    page = response.content.decode()
    assert "Weekly cost now" in page
    assert "£246.23" in page
    assert "None in force" in page
    assert "Not started" in page


def test_the_payer_filter_offers_the_partnerships_funders_by_name(
    client, broker, client_record, partnership, other_partnership
):
    mine = costed(client_record, broker, date(2024, 4, 1), "20.00", "10")

    response = listing(client, broker, paying_organisation=partnership.council.code)

    field = response.context["filter_form"]["paying_organisation"]
    offered = {label for value, label in field.field.choices if value != ""}
    assert offered == {
        f"{partnership.council.name} ({partnership.council.code})",
        f"{partnership.nhs_commissioner.name} ({partnership.nhs_commissioner.code})",
    }
    assert other_partnership.council.name not in response.content.decode()
    assert '<select name="paying_organisation"' in response.content.decode()
    assert [p.pk for p in response.context["packages"]] == [mine.pk]


def test_another_partnerships_payer_is_refused_naming_the_filter(client, broker, other_partnership):
    response = listing(client, broker, paying_organisation=other_partnership.council.code)

    assert "paying_organisation" in response.context["filter_form"].errors


def test_the_list_runs_a_bounded_number_of_queries(
    client, broker, client_record, django_assert_max_num_queries
):
    for n in range(25):
        costed(client_record, broker, date(2024, 4, 1) + timedelta(days=n), "20.00", "10")
    client.force_login(broker)

    with django_assert_max_num_queries(20):
        client.get(reverse("brokerage:packages"))


# --- date of birth -----------------------------------------------------------------------------------


def test_a_date_of_birth_in_the_future_is_refused_by_the_service(broker, partnership):
    with pytest.raises(ValidationError) as caught:
        services.client_create(
            by=broker,
            partnership=partnership,
            case_reference="LAS-FUTURE",
            given_name="Nova",
            family_name="Later",
            date_of_birth=timezone.localdate() + timedelta(days=1),
            cohort="other",
        )

    assert caught.value.message_dict == {"date_of_birth": ["Date of birth must be in the past"]}
    assert not Client.objects.filter(case_reference="LAS-FUTURE").exists()


def test_the_client_form_shows_a_future_date_of_birth_on_its_field(client, broker, partnership):
    tomorrow = timezone.localdate() + timedelta(days=1)
    client.force_login(broker)

    response = client.post(
        reverse("brokerage:client-create"),
        {
            "partnership": partnership.pk,
            "given_name": "Nova",
            "family_name": "Later",
            "date_of_birth_day": tomorrow.day,
            "date_of_birth_month": tomorrow.month,
            "date_of_birth_year": tomorrow.year,
            "case_reference": "LAS-FUTURE",
            "cohort": "other",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"date_of_birth": ["Date of birth must be in the past"]}
    assert 'href="#id_date_of_birth_day"' in response.content.decode()
    assert not Client.objects.filter(case_reference="LAS-FUTURE").exists()


def test_an_existing_client_cannot_be_given_a_future_date_of_birth(broker):
    person = ClientFactory()

    with pytest.raises(ValidationError):
        services.client_update(
            client=person, by=broker, date_of_birth=timezone.localdate() + timedelta(days=30)
        )

    person.refresh_from_db()
    assert person.date_of_birth == date(1940, 5, 17)
