"""Each role against the core's pages and endpoints: what it may read, what it may change.

Partnership scope (another partnership's contract answers 404) is tested beside each view; this
table pins down the role side, so a change to commissioning/roles.py shows up here.
"""

import pytest

from commissioning import roles
from tests.commissioning.factories import ContractFactory

pytestmark = pytest.mark.django_db

ALL_ROLES = [
    roles.COMMISSIONER,
    roles.BROKER,
    roles.BROKERAGE_MANAGER,
    roles.FINANCE_OFFICER,
    roles.BOARD_SECRETARY,
    roles.BOARD_MEMBER,
    roles.AUDITOR,
    roles.ADMINISTRATOR,
]

# role -> (register page, contract page, new-contract page, edit page, audit page)
WEB = {
    roles.COMMISSIONER: (200, 200, 200, 200, 403),
    roles.BROKER: (403, 403, 403, 403, 403),
    roles.BROKERAGE_MANAGER: (200, 200, 403, 403, 403),
    roles.FINANCE_OFFICER: (200, 200, 403, 403, 403),
    roles.BOARD_SECRETARY: (200, 200, 403, 403, 403),
    roles.BOARD_MEMBER: (403, 403, 403, 403, 403),
    roles.AUDITOR: (200, 200, 403, 403, 200),
    roles.ADMINISTRATOR: (200, 200, 200, 200, 200),
}

# role -> (GET contracts/, POST contracts/, PATCH contracts/{id}/, GET organisations/)
API = {
    roles.COMMISSIONER: (200, 201, 200, 200),
    roles.BROKER: (403, 403, 403, 200),
    roles.BROKERAGE_MANAGER: (200, 403, 403, 200),
    roles.FINANCE_OFFICER: (200, 403, 403, 200),
    roles.BOARD_SECRETARY: (200, 403, 403, 200),
    roles.BOARD_MEMBER: (403, 403, 403, 200),
    roles.AUDITOR: (200, 403, 403, 200),
    roles.ADMINISTRATOR: (200, 201, 200, 200),
}


def test_every_role_has_a_row_in_both_tables():
    assert set(WEB) == set(ALL_ROLES) == set(API)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_web_pages_answer_each_role_as_the_table_says(client, make_user, partnership, role):
    contract = ContractFactory(partnership=partnership)
    user = make_user(role, [partnership])
    client.force_login(user)

    got = (
        client.get("/contracts/").status_code,
        client.get(f"/contracts/{contract.pk}/").status_code,
        client.get("/contracts/new/").status_code,
        client.get(f"/contracts/{contract.pk}/edit/").status_code,
        client.get("/audit/").status_code,
    )

    assert got == WEB[role]


@pytest.mark.parametrize("role", ALL_ROLES)
def test_api_answers_each_role_as_the_table_says(api_as, make_user, partnership, role):
    contract = ContractFactory(partnership=partnership)
    user = make_user(role, [partnership])
    api = api_as(user)
    new = {
        "partnership": partnership.pk,
        "provider": contract.provider.pk,
        "lead_commissioner": partnership.council.code,
        "reference": "NEW-1",
        "service": "Reablement",
        "service_type": "domiciliary",
        "annual_value": "1000.00",
        "start": "2025-04-01",
        "end": "2026-03-31",
        "status": "live",
        "procurement_route": "open",
    }

    got = (
        api.get("/api/v1/contracts/").status_code,
        api.post("/api/v1/contracts/", new, format="json").status_code,
        api.patch(
            f"/api/v1/contracts/{contract.pk}/", {"service": "Changed", "version": 1}, format="json"
        ).status_code,
        api.get("/api/v1/organisations/").status_code,
    )

    assert got == API[role]


@pytest.mark.parametrize("role", ALL_ROLES)
def test_anonymous_and_other_partnership_users_see_nothing(
    client, api_client, make_user, partnership, other_partnership, role
):
    contract = ContractFactory(partnership=partnership)
    outsider = make_user(role, [other_partnership])

    assert client.get(f"/contracts/{contract.pk}/").status_code == 302  # to the sign-in page
    assert api_client.get(f"/api/v1/contracts/{contract.pk}/").status_code == 401
    client.force_login(outsider)
    expected = 403 if WEB[role][1] == 403 else 404
    assert client.get(f"/contracts/{contract.pk}/").status_code == expected
