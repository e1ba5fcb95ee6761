from datetime import date
from decimal import Decimal

import pytest

from brokerage import services
from brokerage.services import Share
from commissioning import roles
from tests.brokerage.factories import ClientFactory, PackageFactory


@pytest.fixture
def broker(make_user, partnership):
    return make_user(roles.BROKER, [partnership])


@pytest.fixture
def manager(make_user, partnership):
    return make_user(roles.BROKERAGE_MANAGER, [partnership])


@pytest.fixture
def finance(make_user, partnership):
    return make_user(roles.FINANCE_OFFICER, [partnership])


@pytest.fixture
def auditor(make_user, partnership):
    return make_user(roles.AUDITOR, [partnership])


@pytest.fixture
def outsider(make_user, other_partnership):
    """A broker of another partnership."""
    return make_user(roles.BROKER, [other_partnership])


@pytest.fixture
def client_record(partnership):
    return ClientFactory(partnership=partnership, given_name="Ada", family_name="Lovelace")


@pytest.fixture
def package(client_record, broker):
    """A package from 1 April 2024: £20/hour x 10 hours, the council paying all."""
    package = PackageFactory(client=client_record, start=date(2024, 4, 1))
    services.package_cost_add(
        package=package,
        effective_from=date(2024, 4, 1),
        unit_rate=Decimal("20.00"),
        units_per_week=Decimal("10"),
        unit="hour",
        by=broker,
    )
    services.funding_split_add(
        package=package,
        effective_from=date(2024, 4, 1),
        shares=[Share(client_record.partnership.council, Decimal("100"))],
        basis="single_funder",
        by=broker,
    )
    package.refresh_from_db()
    return package
