import pytest

from commissioning import roles
from commissioning.models import Partnership
from tests.api.helpers import csv_rows, json_ids
from tests.commissioning.factories import (
    ContractFactory,
    CouncilFactory,
    NHSCommissionerFactory,
    PartnershipFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/partnerships/"


def detail(partnership) -> str:
    return f"{URL}{partnership.pk}/"


def snapshot(partnership) -> dict:
    return Partnership.objects.filter(pk=partnership.pk).values().get()


def test_a_user_lists_only_the_partnerships_granted_with_partner_codes(
    api_as, commissioner, partnership, other_partnership
):
    response = api_as(commissioner).get(URL)

    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": partnership.pk,
            "name": "Bromley",
            "council": partnership.council.code,
            "nhs_commissioner": partnership.nhs_commissioner.code,
        }
    ]


def test_a_user_reads_a_granted_partnership(api_as, broker, partnership):
    response = api_as(broker).get(detail(partnership))

    assert response.status_code == 200
    assert response.json()["name"] == "Bromley"


def test_a_partnership_not_granted_is_not_found(api_as, commissioner, other_partnership):
    assert api_as(commissioner).get(detail(other_partnership)).status_code == 404


def test_partnerships_filter_by_council_code(api_as, admin, partnership, other_partnership):
    response = api_as(admin).get(URL, {"council": other_partnership.council.code})

    assert json_ids(response) == [other_partnership.pk]


def test_partnerships_need_credentials(anonymous, partnership):
    assert anonymous.get(URL).status_code == 401


def test_a_user_without_a_role_may_not_list_partnerships(api_as, no_role_user):
    assert api_as(no_role_user).get(URL).status_code == 403


def test_an_administrator_sets_up_a_partnership_by_organisation_codes(api_as, admin):
    council, icb = CouncilFactory(code="LBB"), NHSCommissionerFactory(code="SELICB")

    response = api_as(admin).post(
        URL, {"name": "Bexley", "council": "LBB", "nhs_commissioner": "SELICB"}, format="json"
    )

    assert response.status_code == 201
    created = Partnership.objects.get(name="Bexley")
    assert (created.council, created.nhs_commissioner) == (council, icb)
    assert response.json() == {
        "id": created.pk,
        "name": "Bexley",
        "council": "LBB",
        "nhs_commissioner": "SELICB",
    }


def test_a_council_that_is_not_a_council_answers_400_and_saves_nothing(api_as, admin):
    NHSCommissionerFactory(code="SELICB")
    NHSCommissionerFactory(code="NELICB")

    response = api_as(admin).post(
        URL, {"name": "Bexley", "council": "NELICB", "nhs_commissioner": "SELICB"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"council": ["NELICB is a NHS commissioner (CCG/ICB), not a Council."]}
    assert not Partnership.objects.filter(name="Bexley").exists()


def test_a_duplicate_partnership_name_answers_400(api_as, admin, partnership):
    response = api_as(admin).post(
        URL,
        {
            "name": "Bromley",
            "council": partnership.council.code,
            "nhs_commissioner": partnership.nhs_commissioner.code,
        },
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["name"]
    assert Partnership.objects.count() == 1


def test_a_commissioner_may_not_set_up_a_partnership(api_as, commissioner, partnership):
    response = api_as(commissioner).post(
        URL,
        {
            "name": "New",
            "council": partnership.council.code,
            "nhs_commissioner": partnership.nhs_commissioner.code,
        },
        format="json",
    )

    assert response.status_code == 403
    assert Partnership.objects.count() == 1


def test_an_auditor_may_not_rename_a_partnership(api_as, auditor, partnership):
    before = snapshot(partnership)

    response = api_as(auditor).patch(detail(partnership), {"name": "Renamed"}, format="json")

    assert response.status_code == 403
    assert snapshot(partnership) == before


def test_an_administrator_role_without_superuser_changes_only_granted_partnerships(
    api_as, make_user, partnership, other_partnership
):
    """A holder of the Administrator group who is not a superuser is still bound by grants."""
    manager = make_user(roles.ADMINISTRATOR, [partnership])
    before = snapshot(other_partnership)
    client = api_as(manager)

    mine = client.patch(detail(partnership), {"name": "Bromley and Beckenham"}, format="json")
    theirs = client.patch(detail(other_partnership), {"name": "Taken over"}, format="json")

    assert mine.status_code == 200
    assert theirs.status_code == 404
    assert snapshot(other_partnership) == before
    partnership.refresh_from_db()
    assert partnership.name == "Bromley and Beckenham"


def test_a_partnership_with_contracts_cannot_be_deleted(api_as, admin, partnership):
    ContractFactory(partnership=partnership)

    response = api_as(admin).delete(detail(partnership))

    assert response.status_code == 409
    assert Partnership.objects.filter(pk=partnership.pk).exists()


def test_partnerships_as_csv(api_as, commissioner, partnership, other_partnership):
    response = api_as(commissioner).get(URL, {"format": "csv"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_rows(response) == [
        {
            "id": str(partnership.pk),
            "name": "Bromley",
            "council": partnership.council.code,
            "nhs_commissioner": partnership.nhs_commissioner.code,
        }
    ]


@pytest.mark.parametrize("rows", [1, 30])
def test_the_partnership_list_runs_a_bounded_number_of_queries(
    api_as, admin, django_assert_max_num_queries, rows
):
    PartnershipFactory.create_batch(rows)
    client = api_as(admin)

    with django_assert_max_num_queries(6):
        response = client.get(URL, {"page_size": 100})

    assert response.json()["count"] == rows
