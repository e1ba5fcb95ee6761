"""The package list page's FilterSet (brokerage.filtersets.PackagePageFilterSet): the API's filters,
and the page's default statuses (active and suspended) when neither a status nor a live-on date is
given. The API's FilterSet has no default (api.md: its list shows what the filters say)."""

from datetime import date

import pytest

from brokerage.filtersets import PackageFilterSet, PackagePageFilterSet
from brokerage.models import Package, PackageStatus
from tests.brokerage.factories import PackageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def packages(client_record):
    """An active, a suspended and an ended package, each live on 1 June 2023."""
    return {
        status: PackageFactory(client=client_record, start=date(2023, 4, 1), status=status)
        for status in (PackageStatus.ACTIVE, PackageStatus.SUSPENDED, PackageStatus.ENDED)
    }


def listed(filterset_class, query, broker, rf) -> set[str]:
    request = rf.get(f"/?{query}")
    request.user = broker
    data = request.GET or None  # as the list page gives it: no query at all is no data
    filterset = filterset_class(data, queryset=Package.objects.all(), request=request)
    assert not filterset.is_bound or filterset.is_valid(), filterset.errors
    return {package.status for package in filterset.qs}


@pytest.mark.parametrize("query", ["", "page=2", "live_on_day=&live_on_month=&live_on_year="])
def test_with_no_status_and_no_date_the_page_lists_active_and_suspended(query, packages, broker, rf):
    assert listed(PackagePageFilterSet, query, broker, rf) == {"active", "suspended"}


@pytest.mark.parametrize(
    "query,expected",
    [
        ("status=ended", {"ended"}),
        ("status=ended&status=active", {"ended", "active"}),
    ],
)
def test_a_status_given_replaces_the_default(query, expected, packages, broker, rf):
    assert listed(PackagePageFilterSet, query, broker, rf) == expected


@pytest.mark.parametrize(
    "query",
    ["live_on=2023-06-01", "live_on_day=1&live_on_month=6&live_on_year=2023"],
    ids=["iso in a link", "typed in the boxes"],
)
def test_a_live_on_date_lists_every_package_live_then_whatever_its_status(query, packages, broker, rf):
    assert listed(PackagePageFilterSet, query, broker, rf) == {"active", "suspended", "ended"}


@pytest.mark.parametrize("query", ["", "page=2", "service_type=domiciliary"])
def test_the_apis_filterset_has_no_default_status(query, packages, broker, rf):
    assert listed(PackageFilterSet, query, broker, rf) == {"active", "suspended", "ended"}
