import pytest

from commissioning.models import Organisation
from tests.api.helpers import csv_rows, json_ids
from tests.commissioning.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/organisations/"


def detail(organisation) -> str:
    return f"{URL}{organisation.pk}/"


def snapshot(organisation) -> dict:
    return Organisation.objects.filter(pk=organisation.pk).values().get()


@pytest.fixture
def care_co(db):
    return OrganisationFactory(
        code="CARECO", name="Care Co Ltd", kind="provider", payment_terms_days=45, address="2 Low Road"
    )


def test_any_role_lists_organisations_with_code_name_kind_terms_and_address(api_as, broker, care_co):
    response = api_as(broker).get(URL, {"code": "CARECO"})

    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": care_co.pk,
            "code": "CARECO",
            "name": "Care Co Ltd",
            "kind": "provider",
            "payment_terms_days": 45,
            "address": "2 Low Road",
        }
    ]


def test_organisations_are_shared_by_every_partnership(api_as, make_user, other_partnership, care_co):
    from commissioning import roles

    elsewhere = make_user(roles.BROKER, [other_partnership])

    response = api_as(elsewhere).get(detail(care_co))

    assert response.status_code == 200
    assert response.json()["code"] == "CARECO"


def test_organisations_filter_by_kind_and_code(api_as, auditor, partnership, care_co):
    client = api_as(auditor)

    councils = client.get(URL, {"kind": "council"})
    by_code = client.get(URL, {"code": "careco"})  # codes match whatever the case

    assert json_ids(councils) == [partnership.council.pk]
    assert json_ids(by_code) == [care_co.pk]


def test_organisations_order_by_code(api_as, auditor, partnership, care_co):
    response = api_as(auditor).get(URL, {"ordering": "-code"})

    codes = [row["code"] for row in response.json()["results"]]
    assert codes == sorted(
        [partnership.council.code, partnership.nhs_commissioner.code, "CARECO"], reverse=True
    )


def test_an_unknown_organisation_is_not_found(api_as, auditor):
    assert api_as(auditor).get(f"{URL}999999/").status_code == 404


def test_organisations_need_credentials(anonymous, care_co):
    assert anonymous.get(URL).status_code == 401
    assert anonymous.get(detail(care_co)).status_code == 401


def test_a_user_without_a_role_may_not_list_organisations(api_as, no_role_user, care_co):
    assert api_as(no_role_user).get(URL).status_code == 403


def test_a_finance_officer_changes_payment_terms(api_as, finance_officer, care_co):
    response = api_as(finance_officer).patch(detail(care_co), {"payment_terms_days": 60}, format="json")

    assert response.status_code == 200
    assert response.json()["payment_terms_days"] == 60
    care_co.refresh_from_db()
    assert care_co.payment_terms_days == 60


def test_payment_terms_over_a_year_answer_400_and_change_nothing(api_as, finance_officer, care_co):
    before = snapshot(care_co)

    response = api_as(finance_officer).patch(detail(care_co), {"payment_terms_days": 400}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["payment_terms_days"]
    assert snapshot(care_co) == before


def test_an_administrator_adds_an_organisation(api_as, admin):
    body = {"code": "VOL-1", "name": "Carers Trust", "kind": "voluntary", "payment_terms_days": 14}

    response = api_as(admin).post(URL, body, format="json")

    assert response.status_code == 201
    created = Organisation.objects.get(code="VOL-1")
    assert response.json() == {**body, "id": created.pk, "address": ""}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "lower case", "name": "X", "kind": "voluntary"}, "code"),
        ({"code": "CARECO", "name": "Duplicate", "kind": "voluntary"}, "code"),
        ({"code": "NEW", "name": "X", "kind": "charity"}, "kind"),
        ({"code": "NEW", "kind": "voluntary"}, "name"),
    ],
)
def test_a_bad_organisation_answers_400_naming_the_field_and_saves_nothing(
    api_as, admin, care_co, body, field
):
    response = api_as(admin).post(URL, body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert Organisation.objects.count() == 1


def test_an_auditor_may_not_add_an_organisation(api_as, auditor):
    response = api_as(auditor).post(URL, {"code": "NEW", "name": "New", "kind": "voluntary"}, format="json")

    assert response.status_code == 403
    assert not Organisation.objects.filter(code="NEW").exists()


def test_a_commissioner_may_not_change_an_organisation(api_as, commissioner, care_co):
    before = snapshot(care_co)

    response = api_as(commissioner).patch(detail(care_co), {"name": "Renamed"}, format="json")

    assert response.status_code == 403
    assert snapshot(care_co) == before


def test_an_administrator_deletes_an_unused_organisation(api_as, admin, care_co):
    response = api_as(admin).delete(detail(care_co))

    assert response.status_code == 204
    assert not Organisation.objects.filter(pk=care_co.pk).exists()


def test_an_organisation_in_use_cannot_be_deleted(api_as, admin, partnership):
    council = partnership.council

    response = api_as(admin).delete(detail(council))

    assert response.status_code == 409
    assert response.json() == {"detail": "This record cannot be deleted because other records refer to it."}
    assert Organisation.objects.filter(pk=council.pk).exists()


def test_organisations_as_csv(api_as, auditor, care_co):
    response = api_as(auditor).get(URL, {"format": "csv", "kind": "provider"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_rows(response) == [
        {
            "id": str(care_co.pk),
            "code": "CARECO",
            "name": "Care Co Ltd",
            "kind": "provider",
            "payment_terms_days": "45",
            "address": "2 Low Road",
        }
    ]


@pytest.mark.parametrize("rows", [1, 30])
def test_the_organisation_list_runs_a_bounded_number_of_queries(
    api_as, auditor, django_assert_max_num_queries, rows
):
    OrganisationFactory.create_batch(rows)
    client = api_as(auditor)

    with django_assert_max_num_queries(8):
        response = client.get(URL, {"page_size": 100})

    assert response.json()["count"] == rows + 2  # and the partnership's two partners
