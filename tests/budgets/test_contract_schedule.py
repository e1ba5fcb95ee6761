"""A contract and the schedule that funds it (domain.md, api.md ``contracts/``' ``schedule``): a
link budgets owns (``ContractSchedule``), so the core stays domain-free; set in a form reached from
the contract's page, shown on the contract and the schedule pages, and in the API."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from budgets import services
from budgets.models import ContractSchedule
from commissioning import roles
from tests.budgets.factories import AgreementFactory, ScheduleFactory
from tests.commissioning.factories import ContractFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/contracts/"


@pytest.fixture
def scene(partnership, other_partnership, make_user):
    agreement = AgreementFactory(partnership=partnership, reference="BR-S75")
    return {
        "contract": ContractFactory(partnership=partnership, reference="BR-101"),
        "schedule": ScheduleFactory(agreement=agreement, number=2, title="Integrated Placements"),
        "other_schedule": ScheduleFactory(agreement=agreement, number=3, title="Better Care Fund"),
        "away_schedule": ScheduleFactory(agreement=AgreementFactory(partnership=other_partnership)),
        "away_contract": ContractFactory(partnership=other_partnership, reference="EL-101"),
        "commissioner": make_user(roles.COMMISSIONER, [partnership]),
        "finance": make_user(roles.FINANCE_OFFICER, [partnership]),
    }


def linked(contract):
    return ContractSchedule.objects.filter(contract=contract).values_list("schedule_id", flat=True).first()


# --- the service --------------------------------------------------------------------------------


def test_a_contract_is_linked_to_a_schedule_moved_to_another_and_unlinked(scene):
    contract, by = scene["contract"], scene["commissioner"]
    services.contract_schedule_set(contract=contract, schedule=scene["schedule"], by=by)
    assert linked(contract) == scene["schedule"].pk
    services.contract_schedule_set(contract=contract, schedule=scene["other_schedule"], by=by)
    assert linked(contract) == scene["other_schedule"].pk
    assert ContractSchedule.objects.count() == 1
    assert services.contract_schedule_set(contract=contract, schedule=None, by=by) is None
    assert linked(contract) is None


def test_a_schedule_of_another_partnership_is_refused_naming_the_field_and_nothing_changes(scene):
    contract = scene["contract"]
    services.contract_schedule_set(contract=contract, schedule=scene["schedule"], by=scene["commissioner"])
    with pytest.raises(ValidationError) as error:
        services.contract_schedule_set(
            contract=contract, schedule=scene["away_schedule"], by=scene["commissioner"]
        )
    assert error.value.message_dict == {
        "schedule": [f"Choose a schedule of an agreement of {contract.partnership.name}."]
    }
    assert linked(contract) == scene["schedule"].pk


# --- the pages ----------------------------------------------------------------------------------


def test_the_commissioner_sets_the_schedule_from_the_contract_page(client, scene):
    contract, schedule = scene["contract"], scene["schedule"]
    client.force_login(scene["commissioner"])
    page = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    form_url = reverse("budgets:contract-schedule", args=[contract.pk])
    assert "Section 75 schedule" in page and f'href="{form_url}"' in page

    form = client.get(form_url).content.decode()
    assert "BR-S75, Schedule 2: Integrated Placements" in form
    assert scene["away_schedule"].title not in form  # only schedules of the contract's partnership
    response = client.post(form_url, {"schedule": schedule.pk})
    assert response.status_code == 302 and response["Location"] == contract.get_absolute_url()
    assert linked(contract) == schedule.pk

    page = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    link = f'<a class="govuk-link" href="{schedule.get_absolute_url()}">'
    assert f"{link}BR-S75, Schedule 2: Integrated Placements</a>" in page
    schedule_page = client.get(schedule.get_absolute_url()).content.decode()
    contracts = schedule_page[schedule_page.index('id="contracts"') :]
    assert f'href="{contract.get_absolute_url()}">BR-101</a>' in contracts


def test_posting_a_schedule_of_another_partnership_says_so_and_changes_nothing(client, scene):
    client.force_login(scene["commissioner"])
    response = client.post(
        reverse("budgets:contract-schedule", args=[scene["contract"].pk]),
        {"schedule": scene["away_schedule"].pk},
    )
    assert response.status_code == 200
    assert "Choose a schedule funding the contract from the list" in response.content.decode()
    assert linked(scene["contract"]) is None


def test_a_finance_officer_reads_the_schedule_but_may_not_change_it(client, scene):
    services.contract_schedule_set(
        contract=scene["contract"], schedule=scene["schedule"], by=scene["commissioner"]
    )
    client.force_login(scene["finance"])
    page = client.get(reverse("contracts:detail", args=[scene["contract"].pk])).content.decode()
    assert "Schedule 2: Integrated Placements" in page
    form_url = reverse("budgets:contract-schedule", args=[scene["contract"].pk])
    assert form_url not in page
    assert client.post(form_url, {"schedule": ""}).status_code == 403
    assert linked(scene["contract"]) == scene["schedule"].pk


def test_another_partnerships_contract_is_not_found(client, scene):
    client.force_login(scene["commissioner"])
    url = reverse("budgets:contract-schedule", args=[scene["away_contract"].pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"schedule": ""}).status_code == 404


# --- the API ------------------------------------------------------------------------------------


def test_the_api_reads_writes_and_clears_a_contracts_schedule(api_as, scene):
    api = api_as(scene["commissioner"])
    contract, schedule = scene["contract"], scene["schedule"]
    url = f"{API}{contract.pk}/"
    assert api.get(url).json()["schedule"] is None

    response = api.patch(url, {"schedule": schedule.pk, "version": contract.version}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["schedule"] == schedule.pk and linked(contract) == schedule.pk

    version = response.json()["version"]
    response = api.patch(url, {"service": "Renamed", "version": version}, format="json")
    assert response.status_code == 200 and response.json()["schedule"] == schedule.pk  # not sent: kept

    response = api.patch(url, {"schedule": None, "version": response.json()["version"]}, format="json")
    assert response.status_code == 200 and response.json()["schedule"] is None and linked(contract) is None


def test_the_api_refuses_a_schedule_the_user_cannot_see_as_if_it_did_not_exist(api_as, scene):
    api = api_as(scene["commissioner"])
    contract = scene["contract"]
    response = api.patch(
        f"{API}{contract.pk}/",
        {"schedule": scene["away_schedule"].pk, "version": contract.version},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["schedule"]
    assert linked(contract) is None
    contract.refresh_from_db()
    assert contract.version == 1


def test_a_contract_created_through_the_api_can_name_its_schedule(api_as, scene, partnership):
    body = {
        "partnership": partnership.pk,
        "reference": "BR-NEW",
        "provider": scene["contract"].provider_id,
        "lead_commissioner": partnership.council.code,
        "service": "Night sitting",
        "service_type": "domiciliary",
        "annual_value": "1000.00",
        "start": "2025-04-01",
        "end": "2028-03-31",
        "status": "pipeline",
        "procurement_route": "open",
        "schedule": scene["schedule"].pk,
    }
    response = api_as(scene["commissioner"]).post(API, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["schedule"] == scene["schedule"].pk
    assert linked(response.json()["id"]) == scene["schedule"].pk


def test_the_contract_list_reads_the_schedules_in_a_constant_number_of_queries(
    api_as, scene, partnership, django_assert_max_num_queries
):
    api = api_as(scene["commissioner"])
    services.contract_schedule_set(
        contract=scene["contract"], schedule=scene["schedule"], by=scene["commissioner"]
    )
    api.get(API)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert api.get(API).status_code == 200
    for n in range(5):
        extra = ContractFactory(partnership=partnership, reference=f"BR-2{n}")
        services.contract_schedule_set(
            contract=extra, schedule=scene["other_schedule"], by=scene["commissioner"]
        )
    with CaptureQueriesContext(connection) as many:
        rows = api.get(API).json()["results"]
    assert len(rows) == 6 and {row["schedule"] for row in rows} == {
        scene["schedule"].pk,
        scene["other_schedule"].pk,
    }
    assert len(many.captured_queries) == len(few.captured_queries)


# --- the API's schedule filter (api.md: filters are named after fields, strict, CSV too) ----------


def test_the_api_lists_the_contracts_a_schedule_funds_and_their_csv(api_as, scene, partnership):
    by = scene["commissioner"]
    services.contract_schedule_set(contract=scene["contract"], schedule=scene["schedule"], by=by)
    other = ContractFactory(partnership=partnership, reference="BR-202")
    services.contract_schedule_set(contract=other, schedule=scene["other_schedule"], by=by)
    ContractFactory(partnership=partnership, reference="BR-303")  # funded by no schedule
    api = api_as(by)

    rows = api.get(API, {"schedule": scene["schedule"].pk}).json()["results"]
    csv = api.get(API, {"schedule": scene["other_schedule"].pk, "format": "csv"})

    assert [(r["reference"], r["schedule"]) for r in rows] == [("BR-101", scene["schedule"].pk)]
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert len(lines) == 2 and "BR-202" in lines[1] and "BR-101" not in csv.content.decode()


@pytest.mark.parametrize("value", ["x", "-1", "99999999", "1.5", "away"])
def test_a_schedule_filter_that_is_not_a_visible_schedule_is_refused_naming_it(api_as, scene, value):
    if value == "away":
        value = str(scene["away_schedule"].pk)

    response = api_as(scene["commissioner"]).get(API, {"schedule": value})

    assert response.status_code == 400
    assert list(response.json()) == ["schedule"]


def test_the_schedule_filter_is_in_the_schema(api_as, scene):
    schema = api_as(scene["commissioner"]).get("/api/schema/", {"format": "json"}).json()

    names = [p["name"] for p in schema["paths"]["/api/v1/contracts/"]["get"]["parameters"]]
    assert "schedule" in names


# --- the register's page: its filter form offers the schedules the user may see ----------------


def test_the_register_filters_by_a_schedule_chosen_from_those_the_user_may_see(client, scene, partnership):
    by = scene["commissioner"]
    services.contract_schedule_set(contract=scene["contract"], schedule=scene["schedule"], by=by)
    ContractFactory(partnership=partnership, reference="BR-303")  # funded by no schedule
    client.force_login(by)

    everything = client.get(reverse("contracts:list"))
    funded = client.get(reverse("contracts:list"), {"schedule": scene["schedule"].pk})

    html = everything.content.decode()
    assert '<select name="schedule"' in html and "Funded by schedule" in html
    assert (
        f'<option value="{scene["schedule"].pk}">BR-S75, Schedule 2: Integrated Placements</option>' in html
    )
    assert (
        f'<option value="{scene["other_schedule"].pk}">BR-S75, Schedule 3: Better Care Fund</option>' in html
    )
    assert f'<option value="{scene["away_schedule"].pk}"' not in html  # another partnership's
    assert {c.reference for c in everything.context["contracts"]} == {"BR-101", "BR-303"}
    assert [c.reference for c in funded.context["contracts"]] == ["BR-101"]
    assert f'<option value="{scene["schedule"].pk}" selected>' in funded.content.decode()


def test_a_schedule_the_user_may_not_see_is_an_error_on_the_register_naming_the_filter(client, scene):
    client.force_login(scene["commissioner"])

    response = client.get(reverse("contracts:list"), {"schedule": scene["away_schedule"].pk})

    assert response.status_code == 200
    assert list(response.context["contracts"]) == []
    assert list(response.context["filter_form"].errors) == ["schedule"]
    html = response.content.decode()
    assert 'class="govuk-error-summary"' in html and '<a href="#id_schedule">' in html
    assert '<p id="id_schedule_error" class="govuk-error-message">' in html
