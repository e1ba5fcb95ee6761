"""The decision log's date filters: day, month and year boxes on the page (the GOV.UK date input),
ISO dates in the API (api.md: strict filters)."""

from datetime import date

import pytest
from django.urls import reverse

from tests.governance.factories import DecisionFactory, london

pytestmark = pytest.mark.django_db

LOG = reverse("governance:decisions")


@pytest.fixture
def decisions(scene):
    DecisionFactory(agenda_item=scene.item, reference="BBB/2021/001", decided_on=date(2021, 9, 2))
    DecisionFactory(agenda_item=scene.item, reference="BBB/2022/001", decided_on=date(2022, 3, 10))
    DecisionFactory(agenda_item=scene.item, reference="BBB/2023/001", decided_on=date(2023, 1, 5))


def shown(response) -> list[str]:
    return sorted(d["reference"] for d in response.context["decisions"])


def test_the_decision_log_filters_by_dates_typed_as_day_month_and_year(client, secretary, decisions):
    client.force_login(secretary)

    response = client.get(
        LOG,
        {
            "decided_from_day": "1",
            "decided_from_month": "1",
            "decided_from_year": "2022",
            "decided_to_day": "31",
            "decided_to_month": "12",
            "decided_to_year": "2022",
        },
    )

    assert response.status_code == 200
    assert shown(response) == ["BBB/2022/001"]
    html = response.content.decode()
    assert 'name="decided_from_day"' in html and 'name="decided_to_year"' in html
    assert 'type="date"' not in html
    # The boxes show what was typed, so the filter can be changed.
    assert 'id="id_decided_to_day" name="decided_to_day" type="text" inputmode="numeric" value="31"' in html


def test_an_impossible_date_is_an_error_naming_the_filter_and_lists_nothing(client, secretary, decisions):
    client.force_login(secretary)

    response = client.get(
        LOG, {"decided_from_day": "31", "decided_from_month": "2", "decided_from_year": "2022"}
    )

    assert response.status_code == 200
    assert response.context["filter_form"].errors == {"decided_from": ["Decided from must be a real date"]}
    assert shown(response) == []
    html = response.content.decode()
    assert "govuk-error-summary" in html and 'href="#id_decided_from_day"' in html
    assert response.context["page_title"].startswith("Error: ")


def test_a_part_missing_is_an_error_naming_the_part(client, secretary, decisions):
    client.force_login(secretary)

    response = client.get(LOG, {"decided_to_day": "5", "decided_to_month": "", "decided_to_year": "2022"})

    assert response.context["filter_form"].errors == {"decided_to": ["Decided to must include a month"]}


def test_empty_boxes_filter_nothing(client, secretary, decisions):
    client.force_login(secretary)

    response = client.get(LOG, {"decided_from_day": "", "decided_from_month": "", "decided_from_year": ""})

    assert shown(response) == ["BBB/2021/001", "BBB/2022/001", "BBB/2023/001"]


def test_a_link_with_an_iso_date_still_filters_the_page(client, secretary, decisions):
    client.force_login(secretary)

    response = client.get(LOG, {"decided_from": "2022-12-31"})

    assert shown(response) == ["BBB/2023/001"]
    assert (
        'name="decided_from_year" type="text" inputmode="numeric" value="2022"' in response.content.decode()
    )


def test_the_api_keeps_iso_dates_and_refuses_bad_ones_and_the_boxes(api_as, secretary, decisions):
    api = api_as(secretary)

    good = api.get("/api/v1/decisions/", {"decided_from": "2022-01-01", "decided_to": "2022-12-31"})
    impossible = api.get("/api/v1/decisions/", {"decided_from": "2022-02-31"})
    not_iso = api.get("/api/v1/decisions/", {"decided_to": "31/12/2022"})
    boxes = api.get("/api/v1/decisions/", {"decided_from_day": "1"})

    assert good.status_code == 200
    assert [r["reference"] for r in good.json()["results"]] == ["BBB/2022/001"]
    assert impossible.status_code == 400 and impossible.json() == {
        "decided_from": ["Decided from must be a real date"]
    }
    assert not_iso.status_code == 400 and list(not_iso.json()) == ["decided_to"]
    assert boxes.status_code == 400 and list(boxes.json()) == ["decided_from_day"]


def test_the_meetings_api_filters_on_iso_start_dates(api_as, secretary, scene):
    from governance import services

    services.meeting_create(board=scene.board, starts_at=london(2022, 5, 12, 14), by=None)
    api = api_as(secretary)

    later = api.get("/api/v1/meetings/", {"starts_from": "2022-01-01"})
    bad = api.get("/api/v1/meetings/", {"starts_to": "2022-13-01"})

    assert [r["starts_at"][:10] for r in later.json()["results"]] == ["2022-05-12"]
    assert bad.status_code == 400 and list(bad.json()) == ["starts_to"]
