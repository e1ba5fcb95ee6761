"""Two people changing one package at once: the row lock serialises them, and an editor holding
a stale version is refused instead of silently overwriting (security.md)."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from brokerage.histories import Row, overlaps
from brokerage.models import PackageCost
from commissioning.services import StaleEdit
from tests.brokerage.factories import RateCardFactory, change_price

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def rate_card(package):
    """£24.50 an hour: the prices below apply at once (a price above it would wait for approval, and
    a package takes no other price change while one waits)."""
    return RateCardFactory(partnership=package.client.partnership, year=2024)


def run_together(*calls):
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index, call):
        from django.db import connections

        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # noqa: BLE001 - the test inspects what each call raised
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def change(package, broker, day, rate, version):
    return lambda: change_price(
        package=package,
        effective_from=day,
        unit_rate=Decimal(rate),
        units_per_week=Decimal("10"),
        unit="hour",
        by=broker,
        version=version,
    )


def test_two_edits_from_the_same_version_one_wins_and_the_other_is_told(package, broker):
    loaded = package.version

    results = run_together(
        change(package, broker, date(2024, 6, 1), "21.00", loaded),
        change(package, broker, date(2024, 8, 1), "22.00", loaded),
    )

    winners = [r for r in results if isinstance(r, PackageCost)]
    losers = [r for r in results if isinstance(r, StaleEdit)]
    assert len(winners) == 1 and len(losers) == 1, results
    rows = list(PackageCost.objects.filter(package=package).order_by("effective_from"))
    assert len(rows) == 2
    assert rows[1].unit_rate == winners[0].unit_rate
    package.refresh_from_db()
    assert package.version == loaded + 1


def test_two_edits_without_a_version_are_both_applied_one_after_the_other(package, broker):
    results = run_together(
        change(package, broker, date(2024, 6, 1), "21.00", None),
        change(package, broker, date(2024, 8, 1), "22.00", None),
    )

    assert all(isinstance(r, PackageCost) for r in results), results
    rows = [Row(c.effective_from, c.effective_to) for c in PackageCost.objects.filter(package=package)]
    assert overlaps(rows) == []
    assert connection.vendor == "postgresql"


def test_the_database_refuses_at_commit_a_split_whose_shares_do_not_sum_to_100(package):
    from django.db import IntegrityError, transaction

    from brokerage.models import FundingShare, FundingSplit

    split = package.splits.get()
    with pytest.raises(IntegrityError, match="do not sum to 100"), transaction.atomic():
        FundingShare.objects.filter(split=split).update(percent=Decimal("90"))
    assert FundingShare.objects.get(split=split).percent == Decimal("100.00")
    from tests.brokerage.factories import PackageFactory

    bare = PackageFactory(client=package.client)
    with pytest.raises(IntegrityError, match="do not sum to 100"), transaction.atomic():
        FundingSplit.objects.create(package=bare, effective_from=date(2024, 4, 1), basis="s117")
    assert not bare.splits.exists()
