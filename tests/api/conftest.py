import pytest
from rest_framework.test import APIClient

from commissioning import roles


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def admin(make_user):
    return make_user(is_superuser=True)


@pytest.fixture
def auditor(make_user, partnership):
    return make_user(roles.AUDITOR, [partnership])


@pytest.fixture
def broker(make_user, partnership):
    return make_user(roles.BROKER, [partnership])


@pytest.fixture
def finance_officer(make_user, partnership):
    return make_user(roles.FINANCE_OFFICER, [partnership])


@pytest.fixture
def no_role_user(make_user, partnership):
    """Granted the partnership but holding no role: may see nothing."""
    return make_user(None, [partnership])
