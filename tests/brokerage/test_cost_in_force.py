"""The cost in force on a day (``Package.cost_in_force_on``, ``PackageCost.is_in_force_on``): from
its first day to its last, both included, so a cost ending today is in force today and one starting
tomorrow is not. The package's page shows it as "Weekly cost now"."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from brokerage import services
from brokerage.models import PackageCost
from tests.brokerage.factories import PackageFactory

pytestmark = pytest.mark.django_db

DAY = date(2025, 6, 15)


def cost(package, start, end, rate, by) -> PackageCost:
    return services.package_cost_add(
        package=package,
        effective_from=start,
        effective_to=end,
        unit_rate=Decimal(rate),
        units_per_week=Decimal("10"),
        unit="hour",
        by=by,
    )


@pytest.fixture
def priced(client_record, broker):
    """A package with a past price, one ending on DAY and one starting the day after."""
    package = PackageFactory(client=client_record, start=date(2025, 1, 1))
    past = cost(package, date(2025, 1, 1), date(2025, 5, 31), "20.00", broker)
    current = cost(package, date(2025, 6, 1), DAY, "21.00", broker)
    future = cost(package, DAY + timedelta(days=1), None, "22.00", broker)
    return package, past, current, future


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2024, 12, 31), None),  # before the first
        (date(2025, 1, 1), "past"),  # its first day
        (date(2025, 5, 31), "past"),  # its last day
        (date(2025, 6, 1), "current"),
        (DAY, "current"),  # ending on the day: still in force that day
        (DAY + timedelta(days=1), "future"),  # starting the day after: not before
        (date(2040, 1, 1), "future"),  # open-ended
    ],
)
def test_the_cost_in_force_on_a_day(priced, day, expected):
    package, past, current, future = priced
    rows = {"past": past, "current": current, "future": future}

    assert package.cost_in_force_on(day) == rows.get(expected)
    assert [name for name, row in rows.items() if row.is_in_force_on(day)] == ([expected] if expected else [])


def test_a_package_with_no_cost_has_none_in_force(client_record):
    package = PackageFactory(client=client_record)

    assert package.cost_in_force_on(DAY) is None
    assert package.cost_in_force_on(DAY, []) is None


def test_the_rows_already_read_are_used_without_a_query(priced, django_assert_num_queries):
    package, past, current, future = priced
    rows = list(package.costs.order_by("-effective_from"))

    with django_assert_num_queries(0):
        assert package.cost_in_force_on(DAY, rows) == current
        assert package.cost_in_force_on(DAY + timedelta(days=1), rows) == future


def test_the_page_shows_the_cost_ending_today_as_the_weekly_cost_now(client, broker, client_record):
    today = timezone.localdate()
    package = PackageFactory(client=client_record, start=today - timedelta(days=60))
    cost(package, today - timedelta(days=60), today - timedelta(days=1), "20.00", broker)
    cost(package, today, today, "21.50", broker)  # today only
    cost(package, today + timedelta(days=1), None, "99.00", broker)
    client.force_login(broker)

    html = client.get(reverse("brokerage:package", args=[package.pk])).content.decode()

    now = html.split("Weekly cost now</dt>")[1].split("</dd>")[0]
    assert "£215.00" in now and "£21.50 per hour" in now
