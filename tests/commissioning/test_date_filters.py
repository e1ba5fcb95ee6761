"""Date filters of the core's lists: the contract register and the audit trail take a date as day,
month and year boxes (the GOV.UK date input) on the page, and ISO dates in the API and in links."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from commissioning import roles, services
from tests.commissioning.factories import ContractFactory

pytestmark = pytest.mark.django_db

LIST = reverse("contracts:list")
HISTORY = "/audit/"
ACCESS = "/audit/access/"


def boxes(name: str, day, month, year) -> dict[str, str]:
    return {f"{name}_day": str(day), f"{name}_month": str(month), f"{name}_year": str(year)}


@pytest.fixture
def contracts(partnership):
    ContractFactory(
        partnership=partnership, reference="ENDS-2025", start=date(2022, 4, 1), end=date(2025, 3, 31)
    )
    ContractFactory(
        partnership=partnership, reference="ENDS-2026", start=date(2022, 4, 1), end=date(2026, 9, 30)
    )
    ContractFactory(
        partnership=partnership, reference="ENDS-2028", start=date(2022, 4, 1), end=date(2028, 3, 31)
    )


def test_the_register_filters_by_end_dates_typed_as_day_month_and_year(client, commissioner, contracts):
    client.force_login(commissioner)

    response = client.get(LIST, {**boxes("end_after", 1, 4, 2025), **boxes("end_before", 31, 3, 2027)})

    assert response.status_code == 200
    assert [c.reference for c in response.context["contracts"]] == ["ENDS-2026"]


def test_an_impossible_end_date_is_an_error_naming_the_filter(client, commissioner, contracts):
    client.force_login(commissioner)

    response = client.get(LIST, boxes("end_after", 30, 2, 2026))

    assert response.status_code == 200
    assert response.context["filter_form"].errors == {"end_after": ["Ending on or after must be a real date"]}
    assert list(response.context["contracts"]) == []
    assert b"govuk-error-summary" in response.content
    html = response.content.decode()
    # The register's form shows the boxes, keeping what was typed, with the error beside them.
    assert '<p id="id_end_after_error" class="govuk-error-message">' in html
    assert html.count("Ending on or after must be a real date") == 2  # the summary and the field
    assert 'name="end_after_day" type="text" inputmode="numeric" value="30"' in html
    assert 'name="end_before_year"' in html
    assert "Correct the filter above" in html and "no contracts in the register" not in html


def test_the_contracts_api_keeps_iso_dates(api_as, commissioner, contracts):
    api = api_as(commissioner)

    good = api.get("/api/v1/contracts/", {"end_after": "2025-04-01", "end_before": "2027-03-31"})
    bad = api.get("/api/v1/contracts/", {"end_before": "2026-02-30"})
    typed = api.get("/api/v1/contracts/", boxes("end_after", 1, 4, 2025))

    assert [r["reference"] for r in good.json()["results"]] == ["ENDS-2026"]
    assert bad.status_code == 400 and bad.json() == {
        "end_before": ["Ending on or before must be a real date"]
    }
    assert typed.status_code == 400 and set(typed.json()) == {
        "end_after_day",
        "end_after_month",
        "end_after_year",
    }


@pytest.fixture
def auditor(make_user, partnership):
    return make_user(roles.AUDITOR, [partnership])


def test_the_change_history_filters_by_dates_typed_as_day_month_and_year(
    client, auditor, commissioner, partnership
):
    services.contract_update(
        contract=ContractFactory(partnership=partnership), by=commissioner, notes="today"
    )
    today = timezone.localdate()
    tomorrow = today + timedelta(days=1)
    client.force_login(auditor)

    included = client.get(HISTORY, {**boxes("date_from", today.day, today.month, today.year)})
    after = client.get(HISTORY, boxes("date_from", tomorrow.day, tomorrow.month, tomorrow.year))

    assert any(r.label == "update" for r in included.context["rows"])
    assert list(after.context["rows"]) == []
    html = included.content.decode()
    assert 'name="date_from_day"' in html and 'type="date"' not in html


@pytest.mark.parametrize("url", [HISTORY, ACCESS])
def test_an_impossible_audit_date_is_an_error_naming_the_field(client, auditor, url):
    client.force_login(auditor)

    response = client.get(url, boxes("date_to", 31, 4, 2026))

    assert response.status_code == 200
    assert response.context["form"].errors == {"date_to": ["To date must be a real date"]}
    assert "To date must be a real date" in response.content.decode()
