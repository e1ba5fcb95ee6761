"""Money overflow (issue 19 point 2): a price whose DERIVED amounts (the weekly cost, what a month of
it comes to) do not fit the money columns is refused before anything is written (400 / a form error
naming the field), through the API, the pages and the services alike; nothing fails after a commit,
and the lists and recharge runs keep working."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from brokerage.models import Offer, PackageCost, PriceChange
from tests.brokerage.factories import change_price

from .test_api import API, make_package, mine  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

HUGE = "999999999999.99"


def test_change_cost_with_an_overflowing_weekly_cost_is_400_and_nothing_is_written(api_as, broker, mine):  # noqa: F811
    package = mine["packages"]
    api = api_as(broker)
    before = PackageCost.objects.filter(package=package).count()

    response = api.post(
        f"{API}packages/{package.pk}/change-cost/",
        {
            "effective_from": "2024-05-01",
            "unit_rate": HUGE,
            "units_per_week": "168",
            "unit": "hour",
            "reason": "Uplift",
            "version": package.version,
        },
        format="json",
    )

    assert response.status_code == 400, response.content
    assert "unit_rate" in response.json() or "units_per_week" in response.json()
    assert PackageCost.objects.filter(package=package).count() == before
    assert api.get(f"{API}package-costs/").status_code == 200
    assert api.get(f"{API}packages/{package.pk}/").status_code == 200


def test_an_offer_with_an_overflowing_weekly_cost_is_400_and_nothing_is_written(api_as, broker, mine):  # noqa: F811
    referral = mine["referrals"]
    api = api_as(broker)
    before = Offer.objects.count()

    response = api.post(
        f"{API}offers/",
        {
            "referral": referral.pk,
            "provider": mine["offers"].provider_id,
            "unit_rate": HUGE,
            "units_per_week": "168",
            "unit": "hour",
            "earliest_start": "2024-06-01",
        },
        format="json",
    )

    assert response.status_code == 400, response.content
    assert list(response.json()) == ["unit_rate"]
    assert "a week" in response.json()["unit_rate"][0]
    assert Offer.objects.count() == before
    assert api.get(f"{API}offers/").status_code == 200


def test_changing_an_offer_to_an_overflowing_price_is_400(api_as, broker, mine):  # noqa: F811
    offer = mine["offers"]
    before = Offer.objects.filter(pk=offer.pk).values().get()

    response = api_as(broker).patch(
        f"{API}offers/{offer.pk}/", {"unit_rate": HUGE, "units_per_week": "168"}, format="json"
    )

    assert response.status_code == 400, response.content
    assert "unit_rate" in response.json()
    assert Offer.objects.filter(pk=offer.pk).values().get() == before


def test_the_largest_weekly_cost_that_fits_a_month_is_accepted(broker, mine):  # noqa: F811
    from brokerage.rates import WEEKLY_COST_MAX

    package = mine["packages"]
    cost = change_price(
        package=package,
        effective_from=date(2024, 5, 1),
        unit_rate=WEEKLY_COST_MAX,
        units_per_week=Decimal("1"),
        unit="week",
        by=broker,
    )
    assert cost.weekly_cost == WEEKLY_COST_MAX
    assert Decimal("999999999999.99") >= WEEKLY_COST_MAX * 31 / 7

    with pytest.raises(ValidationError) as refused:
        change_price(
            package=package,
            effective_from=date(2024, 6, 1),
            unit_rate=WEEKLY_COST_MAX + Decimal("0.01"),
            units_per_week=Decimal("1"),
            unit="week",
            by=broker,
        )
    assert list(refused.value.message_dict) == ["unit_rate"]


def test_the_page_shows_the_overflow_on_the_unit_rate_and_writes_nothing(client, broker, mine):  # noqa: F811
    from django.urls import reverse

    package = mine["packages"]
    client.force_login(broker)
    before = PackageCost.objects.filter(package=package).count()

    response = client.post(
        reverse("brokerage:package-change-cost", args=[package.pk]),
        {
            "effective_from_day": "1",
            "effective_from_month": "5",
            "effective_from_year": "2024",
            "unit_rate": HUGE,
            "units_per_week": "168",
            "unit": "hour",
            "reason": "Uplift",
            "version": package.version,
        },
    )

    assert response.status_code == 200
    assert "more than can be recorded" in response.context["form"].errors["unit_rate"][0]
    assert PackageCost.objects.filter(package=package).count() == before


def test_an_answer_that_cannot_be_built_rolls_the_price_change_back(api_as, broker, mine, monkeypatch):  # noqa: F811
    from rest_framework.test import APIClient

    from brokerage.api import serializers

    package = mine["packages"]
    before = PackageCost.objects.filter(package=package).count()
    version = package.version

    def broken(self, instance):
        raise ArithmeticError("cannot represent")

    monkeypatch.setattr(serializers.PriceChangeSerializer, "to_representation", broken)
    api = api_as(broker)
    api.raise_request_exception = False
    assert isinstance(api, APIClient)

    response = api.post(
        f"{API}packages/{package.pk}/change-cost/",
        {
            "effective_from": "2024-05-01",
            "unit_rate": "21.00",
            "units_per_week": "10",
            "unit": "hour",
            "reason": "Uplift",
            "version": package.version,
        },
        format="json",
    )

    assert response.status_code == 500
    assert PackageCost.objects.filter(package=package).count() == before
    assert not PriceChange.objects.filter(package=package).exists()
    package.refresh_from_db()
    assert package.version == version


def test_a_row_saved_before_the_check_does_not_break_the_cost_list(api_as, broker, mine):  # noqa: F811
    """A price recorded before this check existed (straight into the table) is still listed."""
    package = mine["packages"]
    PackageCost.objects.filter(package=package).update(unit_rate=Decimal(HUGE), units_per_week=Decimal("168"))

    response = api_as(broker).get(f"{API}package-costs/")

    assert response.status_code == 200
    assert response.json()["results"][0]["weekly_cost"] == "167999999999998.32"
