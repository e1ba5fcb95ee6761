import pytest

from commissioning.models import Provider
from tests.api.helpers import csv_rows, json_ids
from tests.commissioning.factories import OrganisationFactory, ProviderFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/providers/"


def detail(provider) -> str:
    return f"{URL}{provider.pk}/"


def snapshot(provider) -> dict:
    return Provider.objects.filter(pk=provider.pk).values().get()


@pytest.fixture
def care_co(db):
    return ProviderFactory(
        organisation=OrganisationFactory(code="CARECO", name="Care Co Ltd"),
        cqc_location_id="1-123456789",
        cqc_rating="requires_improvement",
        service_types=["domiciliary", "supported_living"],
    )


def test_a_broker_lists_providers_with_organisation_code_and_cqc_details(api_as, broker, care_co):
    response = api_as(broker).get(URL)

    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": care_co.pk,
            "organisation": "CARECO",
            "cqc_location_id": "1-123456789",
            "cqc_rating": "requires_improvement",
            "service_types": ["domiciliary", "supported_living"],
        }
    ]


def test_a_broker_reads_one_provider(api_as, broker, care_co):
    response = api_as(broker).get(detail(care_co))

    assert response.status_code == 200
    assert response.json()["organisation"] == "CARECO"


def test_providers_filter_by_service_type_rating_and_organisation(api_as, broker, care_co):
    nursing = ProviderFactory(service_types=["nursing"], cqc_rating="good")
    client = api_as(broker)

    assert json_ids(client.get(URL, {"service_type": "supported_living"})) == [care_co.pk]
    assert json_ids(client.get(URL, {"cqc_rating": "good"})) == [nursing.pk]
    assert json_ids(client.get(URL, {"organisation": "CARECO"})) == [care_co.pk]


def test_providers_order_by_organisation_name(api_as, broker):
    zeta = ProviderFactory(organisation=OrganisationFactory(name="Zeta Care"))
    alpha = ProviderFactory(organisation=OrganisationFactory(name="Alpha Care"))

    response = api_as(broker).get(URL, {"ordering": "-organisation__name"})

    assert json_ids(response) == [zeta.pk, alpha.pk]


def test_an_unknown_provider_is_not_found(api_as, broker):
    assert api_as(broker).get(f"{URL}999999/").status_code == 404


def test_providers_need_credentials(anonymous, care_co):
    assert anonymous.get(URL).status_code == 401


def test_a_board_member_may_not_list_providers(api_as, make_user, partnership, care_co):
    from commissioning import roles

    member = make_user(roles.BOARD_MEMBER, [partnership])

    assert api_as(member).get(URL).status_code == 403


def test_a_commissioner_registers_a_provider(api_as, commissioner):
    organisation = OrganisationFactory(code="HOMEHELP", kind="voluntary")

    response = api_as(commissioner).post(
        URL,
        {"organisation": "HOMEHELP", "cqc_location_id": "1-987654321", "service_types": ["domiciliary"]},
        format="json",
    )

    assert response.status_code == 201
    provider = Provider.objects.get(organisation=organisation)
    assert response.json() == {
        "id": provider.pk,
        "organisation": "HOMEHELP",
        "cqc_location_id": "1-987654321",
        "cqc_rating": "not_rated",
        "service_types": ["domiciliary"],
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"organisation": "NOSUCH"}, "organisation"),
        ({"organisation": "LA-COUNCIL"}, "organisation"),  # a council is not a provider
        ({"organisation": "CARECO"}, "organisation"),  # already a provider
        ({"organisation": "NEWCO", "cqc_location_id": "123"}, "cqc_location_id"),
        ({"organisation": "NEWCO", "cqc_location_id": "1-123456789"}, "cqc_location_id"),  # taken
        ({"organisation": "NEWCO", "cqc_rating": "excellent"}, "cqc_rating"),
        ({"organisation": "NEWCO", "service_types": ["gardening"]}, "service_types"),
    ],
)
def test_a_bad_provider_answers_400_naming_the_field_and_saves_nothing(
    api_as, commissioner, care_co, body, field
):
    OrganisationFactory(code="NEWCO")
    OrganisationFactory(code="LA-COUNCIL", kind="council")

    response = api_as(commissioner).post(URL, body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert Provider.objects.count() == 1


def test_service_types_are_kept_once_each(api_as, commissioner, care_co):
    response = api_as(commissioner).patch(
        detail(care_co), {"service_types": ["nursing", "nursing", "residential"]}, format="json"
    )

    assert response.status_code == 200
    care_co.refresh_from_db()
    assert care_co.service_types == ["nursing", "residential"]


def test_a_commissioner_changes_a_cqc_rating(api_as, commissioner, care_co):
    response = api_as(commissioner).patch(detail(care_co), {"cqc_rating": "good"}, format="json")

    assert response.status_code == 200
    care_co.refresh_from_db()
    assert care_co.cqc_rating == "good"


def test_a_broker_may_not_register_a_provider(api_as, broker):
    OrganisationFactory(code="NEWCO")

    response = api_as(broker).post(URL, {"organisation": "NEWCO"}, format="json")

    assert response.status_code == 403
    assert Provider.objects.count() == 0


def test_an_auditor_may_not_change_a_provider(api_as, auditor, care_co):
    before = snapshot(care_co)

    response = api_as(auditor).patch(detail(care_co), {"cqc_rating": "inadequate"}, format="json")

    assert response.status_code == 403
    assert snapshot(care_co) == before


def test_a_commissioner_may_not_delete_a_provider(api_as, commissioner, care_co):
    response = api_as(commissioner).delete(detail(care_co))

    assert response.status_code == 403
    assert Provider.objects.filter(pk=care_co.pk).exists()


def test_providers_as_csv_join_service_types(api_as, broker, care_co):
    response = api_as(broker).get(URL, {"format": "csv"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_rows(response) == [
        {
            "id": str(care_co.pk),
            "organisation": "CARECO",
            "cqc_location_id": "1-123456789",
            "cqc_rating": "requires_improvement",
            "service_types": "domiciliary; supported_living",
        }
    ]


@pytest.mark.parametrize("rows", [1, 30])
def test_the_provider_list_runs_a_bounded_number_of_queries(
    api_as, broker, django_assert_max_num_queries, rows
):
    ProviderFactory.create_batch(rows)
    client = api_as(broker)

    with django_assert_max_num_queries(8):
        response = client.get(URL, {"page_size": 100})

    assert response.json()["count"] == rows
