"""Date filters of the brokerage lists: the package list's "live on" and the panel decisions'
meeting dates take day, month and year boxes on the page (the GOV.UK date input); the API keeps ISO
dates (api.md: strict filters)."""

from datetime import date

import pytest
from django.urls import reverse

from brokerage.models import PackageStatus
from tests.brokerage.factories import PackageFactory, PanelDecisionFactory

pytestmark = pytest.mark.django_db

PACKAGES = reverse("brokerage:packages")
PANEL = reverse("brokerage:panel-decisions")


def boxes(name: str, day, month, year) -> dict[str, str]:
    return {f"{name}_day": str(day), f"{name}_month": str(month), f"{name}_year": str(year)}


@pytest.fixture
def packages(client_record):
    ended = PackageFactory(client=client_record, start=date(2023, 4, 1), end=date(2024, 3, 31))
    live = PackageFactory(client=client_record, start=date(2024, 4, 1))
    return ended, live


def test_the_package_list_filters_by_a_live_on_date_typed_as_day_month_and_year(client, broker, packages):
    ended, live = packages
    client.force_login(broker)

    in_2023 = client.get(PACKAGES, boxes("live_on", 1, 6, 2023))
    in_2025 = client.get(PACKAGES, boxes("live_on", 1, 6, 2025))

    assert [p.pk for p in in_2023.context["packages"]] == [ended.pk]
    assert [p.pk for p in in_2025.context["packages"]] == [live.pk]


def test_a_live_on_date_lists_packages_live_then_whatever_their_status_now(client, broker, api_as, packages):
    """The page lists active and suspended packages by default, but not with a live-on date: a
    package live on a past day that has since ended is listed, on the page as in the API."""
    ended, live = packages
    ended.status = PackageStatus.ENDED
    ended.save(update_fields=["status"])
    client.force_login(broker)

    default = client.get(PACKAGES)
    typed = client.get(PACKAGES, boxes("live_on", 1, 6, 2023))
    linked = client.get(PACKAGES, {"live_on": "2023-06-01"})
    ticked = client.get(PACKAGES, {**boxes("live_on", 1, 6, 2023), "status": PackageStatus.ACTIVE})
    blank = client.get(PACKAGES, boxes("live_on", "", "", ""))
    api = api_as(broker).get("/api/v1/packages/", {"live_on": "2023-06-01"}).json()["results"]

    assert [p.pk for p in default.context["packages"]] == [live.pk]
    assert [p.pk for p in typed.context["packages"]] == [ended.pk]
    assert [p.pk for p in linked.context["packages"]] == [ended.pk]
    assert [p["id"] for p in api] == [ended.pk]
    assert list(ticked.context["packages"]) == []  # a status ticked still narrows
    assert [p.pk for p in blank.context["packages"]] == [live.pk]  # empty boxes: no date given
    for page in (default, typed):  # the default is the list's, not ticked boxes sent back by the form
        html = page.content.decode()
        assert "checked" not in html.split('name="status"')[1].split(">")[0]
        assert "None ticked: active and suspended, or any with a live-on date." in html


def test_an_impossible_live_on_date_lists_nothing_and_does_not_fail(client, broker, packages):
    client.force_login(broker)

    response = client.get(PACKAGES, boxes("live_on", 29, 2, 2023))

    assert response.status_code == 200
    assert response.context["filter_form"].errors == {"live_on": ["Live on must be a real date"]}
    assert list(response.context["packages"]) == []
    html = response.content.decode()
    # The list's form shows the boxes, keeping what was typed, and the error in the summary and beside them.
    assert 'name="live_on_day" type="text" inputmode="numeric" value="29"' in html
    assert '<p id="id_live_on_error" class="govuk-error-message">' in html
    assert html.count("Live on must be a real date") == 2
    assert "<title>Error: Packages" in html


@pytest.fixture
def panel(client_record):
    early = PanelDecisionFactory(client=client_record, meeting_date=date(2022, 4, 1))
    late = PanelDecisionFactory(
        client=client_record, meeting_date=date(2023, 6, 15), effective_from=date(2023, 6, 15)
    )
    return early, late


def test_the_panel_decisions_filter_by_meeting_dates_typed_as_day_month_and_year(client, manager, panel):
    early, late = panel
    client.force_login(manager)

    response = client.get(PANEL, {**boxes("meeting_from", 1, 1, 2023), **boxes("meeting_to", 31, 12, 2023)})

    assert response.status_code == 200
    assert [d.reference for d in response.context["decisions"]] == [late.reference]
    html = response.content.decode()
    assert 'name="meeting_from_year" type="text" inputmode="numeric" value="2023"' in html
    assert 'name="meeting_to_day"' in html


def test_an_impossible_meeting_date_lists_nothing_and_does_not_fail(client, manager, panel):
    client.force_login(manager)

    response = client.get(PANEL, boxes("meeting_to", 31, 6, 2023))

    assert response.status_code == 200
    assert list(response.context["decisions"]) == []
    assert response.context["filter_form"].errors == {"meeting_to": ["Met on or before must be a real date"]}
    html = response.content.decode()
    assert 'class="govuk-error-summary"' in html and '<a href="#id_meeting_to_day">' in html
    assert '<p id="id_meeting_to_error" class="govuk-error-message">' in html
    assert html.count("Met on or before must be a real date") == 2
    assert "<title>Error: Joint funding panel decisions" in html


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"basis": "whim"}, "basis", "Choose a basis from the list"),
        ({"applied": "perhaps"}, "applied", "Applied to a package must be true or false"),
        ({"due": "soon"}, "due", "Due for review must be true or false"),
    ],
)
def test_a_bad_panel_filter_value_is_an_error_naming_the_field(client, manager, panel, query, field, message):
    client.force_login(manager)

    response = client.get(PANEL, query)

    assert response.status_code == 200
    assert list(response.context["decisions"]) == []
    assert response.context["filter_form"].errors == {field: [message]}
    html = response.content.decode()
    assert html.count(message) == 2  # in the summary and beside the field
    assert 'class="govuk-error-summary"' in html
    assert f'<p id="id_{field}_error" class="govuk-error-message">' in html
    assert "<title>Error: " in html


def test_the_panel_decisions_filter_form_keeps_the_due_link_and_offers_the_page_filters(
    client, manager, panel, client_record
):
    early, late = panel
    early.review_date = date(2023, 1, 1)
    early.save(update_fields=["review_date"])
    client.force_login(manager)

    everything = client.get(PANEL)
    due = client.get(PANEL, {"due": "true"})

    assert everything.status_code == 200 and everything.context["filter_form"].errors == {}
    assert {d.reference for d in everything.context["decisions"]} == {early.reference, late.reference}
    html = everything.content.decode()
    for name in ("reference", "basis", "meeting_from_day", "meeting_to_day", "applied", "due"):
        assert f'name="{name}"' in html
    assert '<option value="unknown" selected>Any</option>' in html  # the yes/no filters: either
    assert 'name="client"' not in html and 'name="package"' not in html  # record ids: the API's
    assert [d.reference for d in due.context["decisions"]] == [early.reference]
    assert '<h1 class="govuk-heading-xl">Panel decisions due for review</h1>' in due.content.decode()


def test_the_api_keeps_iso_dates_and_refuses_bad_ones(api_as, manager, panel, package):
    early, late = panel
    api = api_as(manager)

    decisions = api.get("/api/v1/panel-decisions/", {"meeting_from": "2023-01-01"})
    bad = api.get("/api/v1/panel-decisions/", {"meeting_to": "2023-06-31"})
    typed = api.get("/api/v1/panel-decisions/", boxes("meeting_from", 1, 1, 2023))
    costs = api.get("/api/v1/package-costs/", {"package": package.pk, "live_on": "2024-05-01"})
    before = api.get("/api/v1/funding-splits/", {"package": package.pk, "live_on": "2024-03-31"})
    not_iso = api.get("/api/v1/packages/", {"live_on": "01/05/2024"})

    assert [r["reference"] for r in decisions.json()["results"]] == [late.reference]
    assert bad.status_code == 400 and bad.json() == {"meeting_to": ["Met on or before must be a real date"]}
    assert typed.status_code == 400 and "meeting_from_day" in typed.json()
    assert costs.status_code == 200 and costs.json()["count"] == 1
    assert before.status_code == 200 and before.json()["count"] == 0
    assert not_iso.status_code == 400 and list(not_iso.json()) == ["live_on"]
