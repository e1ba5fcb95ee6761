"""The rate card hint beside the offer's price (issue 18), as htmx asks for it while the price and
the units a week are typed: how far the price is from the card per unit and, once the units are
typed, a week; and a price that is not an amount of money is said to be one, not silently dropped."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.brokerage.factories import RateCardFactory, ReferralFactory

pytestmark = pytest.mark.django_db

TYPED = {
    "unit": "hour",
    "earliest_start_day": "3",
    "earliest_start_month": "6",
    "earliest_start_year": "2024",
}


@pytest.fixture
def hint(client, broker, client_record, partnership):
    """hint(**typed) -> the hint's HTML for what the form holds (card £24.50 an hour in 2024/25)."""
    RateCardFactory(partnership=partnership, year=2024, unit_rate=Decimal("24.50"), unit="hour")
    referral = ReferralFactory(client=client_record, required_start=date(2024, 6, 3))
    client.force_login(broker)
    url = reverse("brokerage:offer-rate-card", args=[referral.pk])

    def _hint(**typed) -> str:
        response = client.get(url, {**TYPED, **typed})
        assert response.status_code == 200
        return " ".join(response.content.decode().split())

    return _hint


def test_with_the_units_typed_the_hint_says_the_difference_a_week_too(hint):
    above = hint(unit_rate="27.00", units_per_week="14")
    below = hint(unit_rate="23", units_per_week="10.5")

    assert "This price is £2.50 above it: a brokerage manager must approve the offer." in above
    assert "At 14 hours a week that is £378.00 a week, £35.00 a week above the card." in above
    assert "At 10.50 hours a week that is £241.50 a week, £15.75 a week below the card." in below


def test_before_the_units_are_typed_the_hint_compares_the_unit_price_only(hint):
    html = hint(unit_rate="27.00")

    assert "This price is £2.50 above it" in html
    assert "a week that is" not in html


@pytest.mark.parametrize("typed", ["27.005", "27.5.0", "twenty"])
def test_a_price_that_is_not_an_amount_is_said_to_be_one(hint, typed):
    html = hint(unit_rate=typed, units_per_week="14")

    assert "Type the price in pounds and pence, for example 24.50, to compare it with the card." in html
    assert "This price is" not in html


def test_an_empty_price_is_not_an_error_yet(hint):
    assert "Type the price" not in hint(unit_rate="")


def test_the_hint_sends_only_the_fields_it_reads_never_the_csrf_token(client, broker, client_record):
    referral = ReferralFactory(client=client_record)
    client.force_login(broker)

    page = client.get(reverse("brokerage:offer-create", args=[referral.pk])).content.decode()

    include = page.split('id="rate-card-hint"', 1)[1].split("hx-include=", 1)[1].split('"')[1]
    assert include == (
        "#id_unit_rate, [name='unit'], #id_units_per_week, #id_earliest_start_day, "
        "#id_earliest_start_month, #id_earliest_start_year"
    )
    for selector in ("id_unit_rate", "id_units_per_week", "id_earliest_start_day"):
        assert f'id="{selector}"' in page
