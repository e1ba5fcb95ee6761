from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from guardian.shortcuts import assign_perm

from commissioning import choices, roles
from commissioning.models import Contract
from tests.api.helpers import csv_rows, json_ids
from tests.commissioning.factories import ContractFactory, ProviderFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/contracts/"


def detail(contract) -> str:
    return f"{URL}{contract.pk}/"


def snapshot(contract) -> dict:
    """Everything the API may change, plus the version, as stored."""
    return Contract.objects.filter(pk=contract.pk).values().get()


@pytest.fixture
def contract(partnership):
    return ContractFactory(
        partnership=partnership,
        reference="BR-001",
        service="Home care north",
        annual_value=Decimal("1552.02"),
        start=date(2024, 4, 1),
        end=date(2027, 3, 31),
    )


@pytest.fixture
def theirs(other_partnership):
    return ContractFactory(partnership=other_partnership, reference="EL-001")


def new_contract_body(partnership, provider, /, **overrides):
    body = {
        "partnership": partnership.pk,
        "reference": "BR-NEW",
        "provider": provider.pk,
        "lead_commissioner": partnership.nhs_commissioner.code,
        "service": "Night sitting",
        "service_type": "domiciliary",
        "annual_value": "120000.50",
        "start": "2025-04-01",
        "end": "2028-03-31",
        "status": "pipeline",
        "procurement_route": "open",
    }
    body.update(overrides)
    return body


# --- reading ------------------------------------------------------------------------------------


def test_a_commissioner_lists_the_contracts_of_their_partnership_only(api_as, commissioner, contract, theirs):
    response = api_as(commissioner).get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": contract.pk,
                "partnership": contract.partnership_id,
                "reference": "BR-001",
                "provider": contract.provider_id,
                "lead_commissioner": contract.partnership.council.code,
                "service": "Home care north",
                "service_type": "domiciliary",
                "annual_value": "1552.02",
                "start": "2024-04-01",
                "end": "2027-03-31",
                "status": "live",
                "procurement_route": "open",
                "version": 1,
                "schedule": None,  # budgets' field: the schedule funding it (none yet)
            }
        ],
    }


def test_a_commissioner_reads_one_contract_with_money_as_a_two_place_string(
    api_as, commissioner, partnership
):
    contract = ContractFactory(partnership=partnership, annual_value=Decimal("250000"))

    response = api_as(commissioner).get(detail(contract))

    assert response.status_code == 200
    assert response.json()["annual_value"] == "250000.00"
    assert response.json()["start"] == "2023-04-01"


def test_an_auditor_reads_contracts(api_as, auditor, contract):
    response = api_as(auditor).get(detail(contract))

    assert response.status_code == 200
    assert response.json()["reference"] == "BR-001"


def test_a_contract_of_another_partnership_is_not_found(api_as, commissioner, theirs):
    response = api_as(commissioner).get(detail(theirs))

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_guardian_grant_shows_one_contract_of_another_partnership(api_as, commissioner, theirs):
    assign_perm("commissioning.view_contract", commissioner, theirs)

    response = api_as(commissioner).get(URL)

    assert response.status_code == 200
    assert json_ids(response) == [theirs.pk]


def test_a_broker_may_not_read_contracts(api_as, broker, contract):
    client = api_as(broker)

    assert client.get(URL).status_code == 403
    assert client.get(detail(contract)).status_code == 403


def test_a_user_without_a_role_may_not_list_contracts(api_as, no_role_user, contract):
    assert api_as(no_role_user).get(URL).status_code == 403


def test_contracts_need_credentials(anonymous, contract):
    response = anonymous.get(URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


# --- filters and ordering ------------------------------------------------------------------------


def test_contracts_filter_by_status_service_type_and_lead_commissioner(api_as, commissioner, partnership):
    live_home_care = ContractFactory(partnership=partnership, status="live", service_type="domiciliary")
    ContractFactory(partnership=partnership, status="ended", service_type="domiciliary")
    ContractFactory(partnership=partnership, status="live", service_type="residential")
    nhs_led = ContractFactory(
        partnership=partnership, status="extended", lead_commissioner=partnership.nhs_commissioner
    )
    client = api_as(commissioner)

    assert json_ids(client.get(URL, {"status": "live", "service_type": "domiciliary"})) == [live_home_care.pk]
    assert json_ids(client.get(URL, {"lead_commissioner": partnership.nhs_commissioner.code})) == [nhs_led.pk]


def test_contracts_filter_by_partnership_and_provider(api_as, make_user, partnership, other_partnership):
    user = make_user(roles.COMMISSIONER, [partnership, other_partnership])
    provider = ProviderFactory()
    here = ContractFactory(partnership=partnership, provider=provider)
    ContractFactory(partnership=partnership)
    there = ContractFactory(partnership=other_partnership, provider=provider)
    client = api_as(user)

    assert sorted(json_ids(client.get(URL, {"provider": provider.pk}))) == sorted([here.pk, there.pk])
    assert json_ids(client.get(URL, {"partnership": other_partnership.pk})) == [there.pk]


def test_filtering_by_a_partnership_not_granted_is_refused(api_as, commissioner, contract, theirs):
    response = api_as(commissioner).get(URL, {"partnership": theirs.partnership_id})

    assert response.status_code == 400
    assert list(response.json()) == ["partnership"]


def test_contracts_filter_by_ending_within_six_months(api_as, commissioner, partnership):
    today = timezone.localdate()
    soon = ContractFactory(partnership=partnership, start=date(2020, 1, 1), end=today + timedelta(days=60))
    ContractFactory(partnership=partnership, start=date(2020, 1, 1), end=today + timedelta(days=400))

    response = api_as(commissioner).get(URL, {"ending": "6"})

    assert json_ids(response) == [soon.pk]


def test_a_bad_filter_value_answers_400_naming_the_filter(api_as, commissioner, contract):
    response = api_as(commissioner).get(URL, {"status": "nonsense"})

    assert response.status_code == 400
    assert list(response.json()) == ["status"]


def test_contracts_order_by_a_whitelisted_field_and_refuse_others(api_as, commissioner, partnership):
    small = ContractFactory(partnership=partnership, annual_value=Decimal("10.00"), end=date(2030, 1, 1))
    large = ContractFactory(partnership=partnership, annual_value=Decimal("99.00"), end=date(2029, 1, 1))
    client = api_as(commissioner)

    assert json_ids(client.get(URL, {"ordering": "-annual_value"})) == [large.pk, small.pk]
    assert json_ids(client.get(URL, {"ordering": "annual_value"})) == [small.pk, large.pk]
    # notes is not on the whitelist: refused naming the parameter (api.md: filters are strict).
    refused = client.get(URL, {"ordering": "notes"})
    assert refused.status_code == 400
    assert list(refused.json()) == ["ordering"]


def test_page_size_is_honoured(api_as, commissioner, partnership):
    ContractFactory.create_batch(3, partnership=partnership)

    body = api_as(commissioner).get(URL, {"page_size": 2}).json()

    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"].endswith("page=2&page_size=2")


# --- CSV ----------------------------------------------------------------------------------------


def test_csv_returns_every_filtered_row_without_pagination(api_as, commissioner, partnership, contract):
    second = ContractFactory(partnership=partnership, reference="BR-002", end=date(2028, 1, 1))
    ContractFactory(partnership=partnership, reference="BR-003", status="ended")

    response = api_as(commissioner).get(URL, {"format": "csv", "status": "live", "page_size": 1})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="contracts.csv"'
    rows = csv_rows(response)
    assert [r["reference"] for r in rows] == ["BR-001", "BR-002"]
    assert rows[0] == {
        "id": str(contract.pk),
        "partnership": str(partnership.pk),
        "reference": "BR-001",
        "provider": str(contract.provider_id),
        "lead_commissioner": partnership.council.code,
        "service": "Home care north",
        "service_type": "domiciliary",
        "annual_value": "1552.02",
        "start": "2024-04-01",
        "end": "2027-03-31",
        "status": "live",
        "procurement_route": "open",
        "version": "1",
        "schedule": "",
    }
    assert rows[1]["id"] == str(second.pk)


def test_csv_rows_are_the_json_rows(api_as, commissioner, partnership, contract):
    ContractFactory(partnership=partnership)
    client = api_as(commissioner)

    as_json = client.get(URL).json()["results"]
    as_csv = csv_rows(client.get(URL, {"format": "csv"}))

    assert as_csv == [{k: "" if v is None else str(v) for k, v in row.items()} for row in as_json]


def test_csv_of_another_partnerships_contracts_is_empty_but_has_its_header(api_as, commissioner, theirs):
    response = api_as(commissioner).get(URL, {"format": "csv"})

    assert response.status_code == 200
    assert response.content.decode("utf-8-sig").splitlines() == [
        "id,partnership,reference,provider,lead_commissioner,service,service_type,annual_value,"
        "start,end,status,procurement_route,version,schedule"
    ]


def test_csv_neutralises_spreadsheet_formulas(api_as, commissioner, partnership):
    ContractFactory(partnership=partnership, service='=HYPERLINK("http://evil.example","x")')

    rows = csv_rows(api_as(commissioner).get(URL, {"format": "csv"}))

    assert rows[0]["service"] == '\'=HYPERLINK("http://evil.example","x")'


def test_csv_export_needs_credentials(anonymous, contract):
    assert anonymous.get(URL, {"format": "csv"}).status_code == 401


# --- query counts -------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 30])
def test_the_contract_list_runs_a_bounded_number_of_queries(
    api_as, commissioner, partnership, django_assert_max_num_queries, rows
):
    for _ in range(rows):
        ContractFactory(partnership=partnership, provider=ProviderFactory())
    client = api_as(commissioner)

    with django_assert_max_num_queries(10):
        response = client.get(URL, {"page_size": 100})
    with django_assert_max_num_queries(10):
        csv_response = client.get(URL, {"format": "csv"})

    assert response.json()["count"] == rows
    assert len(csv_rows(csv_response)) == rows


# --- creating -----------------------------------------------------------------------------------


def test_a_commissioner_records_a_contract_through_the_service(api_as, commissioner, partnership):
    provider = ProviderFactory()

    response = api_as(commissioner).post(URL, new_contract_body(partnership, provider), format="json")

    assert response.status_code == 201, response.json()
    contract = Contract.objects.get(reference="BR-NEW")
    assert response.json() == {
        "id": contract.pk,
        "partnership": partnership.pk,
        "reference": "BR-NEW",
        "provider": provider.pk,
        "lead_commissioner": partnership.nhs_commissioner.code,
        "service": "Night sitting",
        "service_type": "domiciliary",
        "annual_value": "120000.50",
        "start": "2025-04-01",
        "end": "2028-03-31",
        "status": "pipeline",
        "procurement_route": "open",
        "version": 1,
        "schedule": None,
    }
    assert contract.annual_value == Decimal("120000.50")
    # The history row names the token's user.
    assert contract.events.get().pgh_context.metadata["user"] == commissioner.pk


def test_a_version_sent_on_create_is_ignored(api_as, commissioner, partnership):
    body = new_contract_body(partnership, ProviderFactory(), version=7)

    response = api_as(commissioner).post(URL, body, format="json")

    assert response.status_code == 201
    assert response.json()["version"] == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"end": "2025-03-31"}, "end"),
        ({"annual_value": "-1.00"}, "annual_value"),
        ({"annual_value": "10.005"}, "annual_value"),
        ({"annual_value": "lots"}, "annual_value"),
        ({"start": "01/04/2025"}, "start"),
        ({"status": "cancelled"}, "status"),
        ({"lead_commissioner": "NOSUCH"}, "lead_commissioner"),
        ({"provider": 999999}, "provider"),
        ({"service": ""}, "service"),
    ],
)
def test_a_bad_contract_answers_400_naming_the_field_and_saves_nothing(
    api_as, commissioner, partnership, overrides, field
):
    body = new_contract_body(partnership, ProviderFactory(), **overrides)

    response = api_as(commissioner).post(URL, body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert Contract.objects.count() == 0


def test_a_lead_commissioner_outside_the_partnership_is_refused_by_the_service(
    api_as, commissioner, partnership, other_partnership
):
    body = new_contract_body(partnership, ProviderFactory(), lead_commissioner=other_partnership.council.code)

    response = api_as(commissioner).post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "lead_commissioner": ["The lead commissioner must be one of the partners of Bromley."]
    }
    assert Contract.objects.count() == 0


def test_a_duplicate_reference_in_the_partnership_is_refused(api_as, commissioner, partnership, contract):
    body = new_contract_body(partnership, ProviderFactory(), reference=contract.reference)

    response = api_as(commissioner).post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "reference": [
            "A contract with this reference already exists in this partnership: enter a different reference"
        ]
    }
    assert Contract.objects.count() == 1


def test_a_contract_cannot_be_recorded_in_a_partnership_not_granted(api_as, commissioner, other_partnership):
    body = new_contract_body(other_partnership, ProviderFactory())

    response = api_as(commissioner).post(URL, body, format="json")

    assert response.status_code == 400
    # The same answer as for a partnership that does not exist: nothing to probe.
    assert response.json() == {
        "partnership": [f'Invalid pk "{other_partnership.pk}" - object does not exist.']
    }
    assert Contract.objects.count() == 0


def test_a_broker_may_not_record_a_contract(api_as, broker, partnership):
    response = api_as(broker).post(URL, new_contract_body(partnership, ProviderFactory()), format="json")

    assert response.status_code == 403
    assert Contract.objects.count() == 0


def test_an_auditor_may_not_record_a_contract(api_as, auditor, partnership):
    response = api_as(auditor).post(URL, new_contract_body(partnership, ProviderFactory()), format="json")

    assert response.status_code == 403
    assert Contract.objects.count() == 0


def test_recording_a_contract_needs_credentials(anonymous, partnership):
    response = anonymous.post(URL, new_contract_body(partnership, ProviderFactory()), format="json")

    assert response.status_code == 401
    assert Contract.objects.count() == 0


# --- changing -----------------------------------------------------------------------------------


def test_a_commissioner_changes_a_contract_and_its_version_goes_up(api_as, commissioner, contract):
    response = api_as(commissioner).patch(
        detail(contract), {"annual_value": "2000.10", "status": "extended", "version": 1}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["annual_value"] == "2000.10"
    assert response.json()["status"] == "extended"
    assert response.json()["version"] == 2
    contract.refresh_from_db()
    assert (contract.annual_value, contract.status, contract.version) == (Decimal("2000.10"), "extended", 2)


def test_a_change_without_a_version_is_refused_with_428_naming_version(api_as, commissioner, contract):
    before = snapshot(contract)

    response = api_as(commissioner).patch(detail(contract), {"service": "Home care south"}, format="json")

    assert response.status_code == 428
    assert list(response.json()) == ["version"]
    assert snapshot(contract) == before


def test_the_version_may_come_as_if_match(api_as, commissioner, contract):
    response = api_as(commissioner).patch(
        detail(contract), {"service": "Home care south"}, format="json", HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == 200
    contract.refresh_from_db()
    assert (contract.service, contract.version) == ("Home care south", 2)


def test_a_stale_version_answers_409_and_changes_nothing(api_as, commissioner, contract):
    Contract.objects.filter(pk=contract.pk).update(version=3)  # someone else saved twice
    before = snapshot(contract)

    response = api_as(commissioner).patch(
        detail(contract), {"service": "Overwritten", "version": 1}, format="json"
    )

    assert response.status_code == 409
    assert "changed this contract" in response.json()["detail"]
    assert response.json()["version"] == 3
    assert snapshot(contract) == before


def test_a_bad_change_answers_400_naming_the_field_and_changes_nothing(api_as, commissioner, contract):
    before = snapshot(contract)

    response = api_as(commissioner).patch(
        detail(contract), {"end": "2024-01-01", "version": 1}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"end": ["The end date must be after the start date."]}
    assert snapshot(contract) == before


def test_a_contract_cannot_be_moved_into_a_partnership_not_granted(
    api_as, commissioner, contract, other_partnership
):
    before = snapshot(contract)

    response = api_as(commissioner).patch(
        detail(contract), {"partnership": other_partnership.pk, "version": 1}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["partnership"]
    assert snapshot(contract) == before


def test_an_auditor_may_not_change_a_contract(api_as, auditor, contract):
    before = snapshot(contract)

    response = api_as(auditor).patch(detail(contract), {"service": "Changed"}, format="json")

    assert response.status_code == 403
    assert snapshot(contract) == before


def test_a_contract_of_another_partnership_cannot_be_changed_and_is_not_found(api_as, commissioner, theirs):
    before = snapshot(theirs)

    response = api_as(commissioner).patch(detail(theirs), {"service": "Changed"}, format="json")

    assert response.status_code == 404
    assert snapshot(theirs) == before


def test_a_contract_granted_only_for_viewing_cannot_be_changed(api_as, commissioner, theirs):
    assign_perm("commissioning.view_contract", commissioner, theirs)
    before = snapshot(theirs)

    response = api_as(commissioner).patch(detail(theirs), {"service": "Changed"}, format="json")

    assert response.status_code == 403
    assert snapshot(theirs) == before


def test_put_is_not_offered(api_as, commissioner, contract):
    response = api_as(commissioner).put(detail(contract), {"service": "X"}, format="json")

    assert response.status_code == 405


# --- deleting -----------------------------------------------------------------------------------


def test_a_commissioner_deletes_a_contract(api_as, commissioner, contract):
    response = api_as(commissioner).delete(detail(contract))

    assert response.status_code == 204
    assert not Contract.objects.filter(pk=contract.pk).exists()


def test_an_auditor_may_not_delete_a_contract(api_as, auditor, contract):
    response = api_as(auditor).delete(detail(contract))

    assert response.status_code == 403
    assert Contract.objects.filter(pk=contract.pk).exists()


def test_a_contract_of_another_partnership_cannot_be_deleted_and_is_not_found(api_as, commissioner, theirs):
    response = api_as(commissioner).delete(detail(theirs))

    assert response.status_code == 404
    assert Contract.objects.filter(pk=theirs.pk).exists()


def test_an_administrator_changes_contracts_of_any_partnership(api_as, admin, theirs):
    response = api_as(admin).patch(
        detail(theirs), {"status": choices.ContractStatus.ENDED, "version": theirs.version}, format="json"
    )

    assert response.status_code == 200
    theirs.refresh_from_db()
    assert theirs.status == "ended"


def test_format_is_not_taken_for_a_filter(api_as, commissioner, contract):
    client = api_as(commissioner)

    as_json = client.get(URL, {"format": "json"})
    as_csv = client.get(URL, {"format": "csv"})

    assert as_json.status_code == 200
    assert as_json["Content-Type"] == "application/json"
    assert json_ids(as_json) == [contract.pk]
    assert [row["id"] for row in csv_rows(as_csv)] == [str(contract.pk)]


def test_csv_is_also_chosen_by_the_accept_header(api_as, commissioner, partnership, contract):
    ContractFactory(partnership=partnership)

    response = api_as(commissioner).get(URL, {"page_size": 1}, HTTP_ACCEPT="text/csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert len(csv_rows(response)) == 2
