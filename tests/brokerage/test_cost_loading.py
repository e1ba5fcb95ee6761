"""A cost history loaded through the API (``POST package-costs/``) is held to the rate card rule of
every price (issue 18). At or below the card the row is added, and the package's price history says
who loaded it; above the card, or with no card to compare it with, the row is refused on
``unit_rate``: a loaded row (with its own end, refusing overlaps) cannot wait for approval the way a
price change from a date does, so such a price goes through ``change-cost/`` and a manager.

The figures: a residential placement from 1 April 2026, card £1,018.46 a week for 2026/27."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from brokerage import services
from brokerage.models import PackageCost, PriceChange
from brokerage.services.prices import LOADED_REASON
from tests.brokerage.factories import PackageFactory, RateCardFactory

pytestmark = pytest.mark.django_db

D = Decimal
API = "/api/v1/package-costs/"


@pytest.fixture
def placement(client_record, partnership):
    """A residential placement from 1 April 2026 with no cost rows yet."""
    RateCardFactory(
        partnership=partnership, service_type="residential", year=2026, unit_rate=D("1018.46"), unit="week"
    )
    return PackageFactory(client=client_record, service_type="residential", start=date(2026, 4, 1))


def row(placement, rate: str, unit: str = "week", start: str = "2026-04-01", **extra) -> dict:
    return {
        "package": placement.pk,
        "effective_from": start,
        "unit_rate": rate,
        "units_per_week": "1",
        "unit": unit,
        **extra,
    }


def nothing_saved(placement, version: int) -> bool:
    placement.refresh_from_db()
    return (
        not PackageCost.objects.filter(package=placement).exists()
        and not PriceChange.objects.filter(package=placement).exists()
        and placement.version == version
    )


def test_a_row_within_the_card_is_added_and_the_price_history_says_who_loaded_it(api_as, broker, placement):
    response = api_as(broker).post(API, row(placement, "1000.00", effective_to="2026-09-30"), format="json")

    assert response.status_code == 201, response.json()
    cost = PackageCost.objects.get(package=placement)
    assert (cost.effective_from, cost.effective_to, cost.unit_rate) == (
        date(2026, 4, 1),
        date(2026, 9, 30),
        D("1000.00"),
    )
    change = PriceChange.objects.get(package=placement)
    assert (change.status, change.reason, change.proposed_by, change.cost) == (
        "within_card",
        LOADED_REASON,
        broker,
        cost,
    )
    assert change.rate_card_rate == D("1018.46")


def test_a_row_at_the_card_is_added(api_as, broker, placement):
    assert api_as(broker).post(API, row(placement, "1018.46"), format="json").status_code == 201


def test_a_row_above_the_card_is_refused_on_the_unit_rate_and_nothing_is_saved(api_as, broker, placement):
    version = placement.version

    response = api_as(broker).post(API, row(placement, "1150.00"), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["unit_rate"]
    message = response.json()["unit_rate"][0]
    assert message.startswith(
        "£1,150.00 per week is £131.54 above the rate card of £1,018.46 for residential care in 2026/27: "
        "a price above the card needs a brokerage manager's approval"
    )
    assert "packages/{id}/change-cost/" in message
    assert nothing_saved(placement, version)


def test_a_row_with_no_card_to_compare_it_with_is_refused(api_as, manager, placement):
    """By the night there is no card; nor for 2025/26, the year of a row's first day (even for a
    brokerage manager: nobody approves a price they load themselves)."""
    version = placement.version
    api = api_as(manager)

    nights = api.post(API, row(placement, "150.00", unit="night"), format="json")
    placement.start = date(2025, 4, 1)
    placement.save(update_fields=["start"])
    last_year = api.post(API, row(placement, "900.00", start="2025-04-01"), format="json")

    assert (nights.status_code, last_year.status_code) == (400, 400)
    assert nights.json()["unit_rate"][0].startswith(
        "There is no rate card for residential care by the night in 2026/27 to compare it with"
    )
    assert last_year.json()["unit_rate"][0].startswith(
        "There is no rate card for residential care by the week in 2025/26 to compare it with"
    )
    assert nothing_saved(placement, version)


def test_no_row_is_loaded_while_a_price_change_awaits_approval(broker, placement):
    services.package_cost_load(
        package=placement,
        effective_from=date(2026, 4, 1),
        effective_to=date(2026, 9, 30),
        unit_rate=D("1000.00"),
        units_per_week=D("1"),
        unit="week",
        by=broker,
    )
    services.package_cost_load(
        package=placement,
        effective_from=date(2026, 10, 1),
        unit_rate=D("1000.00"),
        units_per_week=D("1"),
        unit="week",
        by=broker,
    )
    placement.refresh_from_db()
    services.price_change_propose(
        package=placement,
        effective_from=date(2026, 11, 16),
        unit_rate=D("1400.00"),
        units_per_week=D("1"),
        unit="week",
        reason="Annual uplift",
        by=broker,
        version=placement.version,
    )

    with pytest.raises(ValidationError, match="is awaiting a brokerage manager's approval"):
        services.package_cost_load(
            package=placement,
            effective_from=date(2026, 4, 1),
            unit_rate=D("900.00"),
            units_per_week=D("1"),
            unit="week",
            by=broker,
        )
    assert PackageCost.objects.filter(package=placement).count() == 2


def test_the_rule_comes_before_the_row_checks(api_as, broker, placement):
    """Above the card, the answer is the card's even where the row would also leave a gap."""
    response = api_as(broker).post(API, row(placement, "1150.00", start="2026-05-01"), format="json")

    assert list(response.json()) == ["unit_rate"]
