"""The joint funding panel: a funding split on the basis of a panel decision cites a decision recorded
for the same client (services, pages and API alike); brokerage managers record and apply decisions,
and every role's pages say who does; the ``panel-decisions/`` API lists, filters, exports, records
and applies them."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from brokerage import services
from brokerage.models import FundingSplit, PanelDecision
from brokerage.services import Share
from tests.api.helpers import csv_rows
from tests.brokerage.factories import ClientFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/"
FAKE = "JFP-26-UX01"


def halves(partnership):
    return [Share(partnership.council, Decimal("50")), Share(partnership.nhs_commissioner, Decimal("50"))]


def record(client, by, reference="JFP-24-010", **kwargs):
    values = {
        "meeting_date": date(2024, 5, 20),
        "effective_from": date(2024, 6, 1),
        "shares": halves(client.partnership),
        **kwargs,
    }
    return services.panel_decision_record(client=client, reference=reference, by=by, **values)


def splits(package):
    return list(
        FundingSplit.objects.filter(package=package)
        .order_by("effective_from")
        .values_list("effective_from", "basis", "decision_reference")
    )


def day(name, value: date) -> dict:
    return {f"{name}_day": value.day, f"{name}_month": value.month, f"{name}_year": value.year}


# --- the rule, in the services --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        (FAKE, f"{FAKE} is not a panel decision recorded for this client"),
        ("", "Enter the reference of the panel decision recorded for this client."),
    ],
)
def test_a_panel_split_citing_no_recorded_decision_is_refused_and_nothing_changes(
    package, broker, partnership, reference, message
):
    before = splits(package)

    with pytest.raises(ValidationError) as caught:
        services.package_change_funding(
            package=package,
            effective_from=date(2024, 6, 1),
            shares=halves(partnership),
            basis="panel_decision",
            decision_reference=reference,
            by=broker,
        )

    assert list(caught.value.message_dict) == ["decision_reference"]
    assert caught.value.message_dict["decision_reference"][0].startswith(message)
    assert splits(package) == before


def test_a_decision_of_another_client_cannot_be_cited(package, broker, manager, partnership):
    someone_else = record(ClientFactory(partnership=partnership), manager, reference="JFP-24-077")
    before = splits(package)

    with pytest.raises(ValidationError) as caught:
        services.funding_split_add(
            package=package,
            effective_from=date(2025, 1, 1),
            shares=halves(partnership),
            basis="panel_decision",
            decision_reference=someone_else.reference,
            by=broker,
        )

    assert "JFP-24-077 is not a panel decision recorded for this client" in caught.value.messages[0]
    assert splits(package) == before


def test_a_split_citing_the_clients_decision_is_kept_under_its_reference_and_applies_it(
    package, broker, manager, partnership
):
    decision = record(package.client, manager)

    services.package_change_funding(
        package=package,
        effective_from=date(2024, 6, 1),
        shares=halves(partnership),
        basis="panel_decision",
        decision_reference="  jfp-24-010 ",
        by=broker,
    )

    assert splits(package)[-1] == (date(2024, 6, 1), "panel_decision", "JFP-24-010")
    decision.refresh_from_db()
    assert decision.package == package and decision.applied_by == broker


def test_other_bases_may_name_any_reference(package, broker, partnership):
    services.package_change_funding(
        package=package,
        effective_from=date(2024, 6, 1),
        shares=halves(partnership),
        basis="s117",
        decision_reference="S117-PLAN-4",
        by=broker,
    )

    assert splits(package)[-1] == (date(2024, 6, 1), "s117", "S117-PLAN-4")


# --- the pages -------------------------------------------------------------------------------------


def test_the_funding_form_refuses_an_invented_panel_reference_on_its_field(client, broker, package):
    client.force_login(broker)
    before = splits(package)

    response = client.post(
        reverse("brokerage:package-change-funding", args=[package.pk]),
        {
            **day("effective_from", date(2024, 6, 1)),
            "council_percent": "50",
            "nhs_percent": "50",
            "basis": "panel_decision",
            "decision_reference": FAKE,
            "version": package.version,
        },
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["decision_reference"]
    assert FAKE in errors["decision_reference"][0]
    assert 'href="#id_decision_reference"' in response.content.decode()
    assert splits(package) == before


def test_a_manager_is_offered_the_record_link_on_the_client_page_and_records_a_decision(
    client, manager, client_record
):
    client.force_login(manager)
    page = client.get(reverse("brokerage:client", args=[client_record.pk])).content.decode()
    link = f"{reverse('brokerage:panel-decision-create')}?client={client_record.pk}"
    assert f'href="{link}"' in page

    response = client.post(
        link,
        {
            "reference": "JFP-25-004",
            **day("meeting_date", date(2025, 3, 12)),
            **day("effective_from", date(2025, 3, 1)),
            "council_percent": "40",
            "nhs_percent": "60",
            "basis": "panel_decision",
        },
    )

    assert response.status_code == 302
    decision = PanelDecision.objects.get()
    assert (decision.client, decision.reference, decision.recorded_by) == (
        client_record,
        "JFP-25-004",
        manager,
    )


def test_a_broker_is_told_who_records_panel_decisions_and_is_offered_no_dead_link(
    client, broker, client_record
):
    client.force_login(broker)

    page = client.get(reverse("brokerage:client", args=[client_record.pk])).content.decode()
    listing = client.get(reverse("brokerage:panel-decisions")).content.decode()

    assert reverse("brokerage:panel-decision-create") not in page
    assert "A brokerage manager records the joint funding panel’s decisions" in page
    assert "Brokerage managers record the panel’s decisions" in listing
    assert "Record a decision from the client's page" not in listing
    response = client.get(f"{reverse('brokerage:panel-decision-create')}?client={client_record.pk}")
    assert response.status_code == 403


def test_the_manager_is_told_how_to_record_on_the_list(client, manager):
    client.force_login(manager)

    listing = client.get(reverse("brokerage:panel-decisions")).content.decode()

    assert "choose “Record a panel decision” on their page" in listing
    assert f'href="{reverse("brokerage:clients")}"' in listing


# --- the API ---------------------------------------------------------------------------------------


def test_change_funding_through_the_api_must_cite_a_recorded_decision(api_as, broker, package, partnership):
    body = {
        "effective_from": "2024-06-01",
        "basis": "panel_decision",
        "decision_reference": FAKE,
        "version": package.version,
        "shares": [
            {"organisation": partnership.council.code, "percent": "50"},
            {"organisation": partnership.nhs_commissioner.code, "percent": "50"},
        ],
    }
    before = splits(package)

    response = api_as(broker).post(f"{API}packages/{package.pk}/change-funding/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["decision_reference"]
    assert FAKE in response.json()["decision_reference"][0]
    assert splits(package) == before


def test_a_manager_records_a_decision_through_the_api(api_as, manager, client_record, partnership):
    response = api_as(manager).post(
        f"{API}panel-decisions/",
        {
            "client": client_record.pk,
            "reference": "JFP-25-010",
            "meeting_date": "2025-03-12",
            "effective_from": "2025-03-01",
            "review_date": "2025-09-12",
            "basis": "panel_decision",
            "shares": [
                {"organisation": partnership.council.code, "percent": "40"},
                {"organisation": partnership.nhs_commissioner.code, "percent": "60.00"},
            ],
            "notes": "Joint package",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    decision = PanelDecision.objects.get()
    assert body == {
        "id": decision.pk,
        "client": client_record.pk,
        "client_reference": client_record.case_reference,
        "reference": "JFP-25-010",
        "meeting_date": "2025-03-12",
        "effective_from": "2025-03-01",
        "effective_to": None,
        "review_date": "2025-09-12",
        "basis": "panel_decision",
        "shares": sorted(
            [
                {"organisation": partnership.council.code, "percent": "40.00"},
                {"organisation": partnership.nhs_commissioner.code, "percent": "60.00"},
            ],
            key=lambda share: share["organisation"],
        ),
        "package": None,
        "package_reference": None,
        "notes": "Joint package",
        "applied_at": None,
    }
    assert decision.recorded_by == manager


def test_a_decision_ending_before_it_starts_is_refused_naming_the_field(
    api_as, manager, client_record, partnership
):
    response = api_as(manager).post(
        f"{API}panel-decisions/",
        {
            "client": client_record.pk,
            "reference": "JFP-25-011",
            "meeting_date": "2025-03-12",
            "effective_from": "2025-03-01",
            "effective_to": "2025-02-01",
            "shares": [{"organisation": partnership.council.code, "percent": "100"}],
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"effective_to": ["The end date must be on or after the start date."]}
    assert not PanelDecision.objects.exists()


def test_a_broker_reads_decisions_but_may_not_record_or_apply_them(api_as, broker, manager, package):
    decision = record(package.client, manager)
    api = api_as(broker)

    listed = api.get(f"{API}panel-decisions/")
    created = api.post(f"{API}panel-decisions/", {"client": package.client_id}, format="json")
    applied = api.post(
        f"{API}panel-decisions/{decision.pk}/apply/",
        {"package": package.pk, "version": package.version},
        format="json",
    )

    assert listed.status_code == 200 and [row["id"] for row in listed.json()["results"]] == [decision.pk]
    assert created.status_code == 403
    assert applied.status_code == 403
    decision.refresh_from_db()
    assert decision.applied_at is None


def test_a_decision_of_another_partnership_is_404(api_as, manager, other_partnership, make_user):
    from commissioning import roles

    theirs = record(
        ClientFactory(partnership=other_partnership),
        make_user(roles.BROKERAGE_MANAGER, [other_partnership]),
    )

    api = api_as(manager)

    assert api.get(f"{API}panel-decisions/{theirs.pk}/").status_code == 404
    assert api.post(f"{API}panel-decisions/{theirs.pk}/apply/", {}, format="json").status_code == 404
    assert api.get(f"{API}panel-decisions/").json()["count"] == 0


def test_a_manager_applies_a_decision_with_the_packages_version(api_as, manager, package, partnership):
    decision = record(package.client, manager)
    api = api_as(manager)
    url = f"{API}panel-decisions/{decision.pk}/apply/"

    missing = api.post(url, {"package": package.pk}, format="json")
    stale = api.post(url, {"package": package.pk, "version": package.version + 5}, format="json")
    applied = api.post(url, {"package": package.pk}, format="json", HTTP_IF_MATCH=f'"{package.version}"')

    assert missing.status_code == 428
    assert stale.status_code == 409
    assert applied.status_code == 201, applied.json()
    assert applied.json()["decision_reference"] == "JFP-24-010"
    assert splits(package)[-1] == (date(2024, 6, 1), "panel_decision", "JFP-24-010")
    decision.refresh_from_db()
    assert decision.package == package and decision.applied_by == manager


def test_the_list_filters_strictly_and_exports_csv(
    api_as, manager, package, partnership, django_assert_max_num_queries
):
    first = record(package.client, manager)
    other_client = ClientFactory(partnership=partnership)
    for n in range(5):
        record(other_client, manager, reference=f"JFP-24-1{n:02d}", basis="s117")
    api = api_as(manager)

    with django_assert_max_num_queries(12):
        everything = api.get(f"{API}panel-decisions/")
    by_client = api.get(f"{API}panel-decisions/", {"client": package.client_id})
    by_basis = api.get(f"{API}panel-decisions/", {"basis": "s117"})
    by_reference = api.get(f"{API}panel-decisions/", {"reference": "jfp-24-010"})
    unknown = api.get(f"{API}panel-decisions/", {"colour": "red"})
    bad_basis = api.get(f"{API}panel-decisions/", {"basis": "whim"})
    bad_date = api.get(f"{API}panel-decisions/", {"meeting_from": "2024-13-01"})
    exported = api.get(f"{API}panel-decisions/", {"format": "csv", "client": package.client_id})

    assert everything.json()["count"] == 6
    assert [row["id"] for row in by_client.json()["results"]] == [first.pk]
    assert by_basis.json()["count"] == 5
    assert [row["id"] for row in by_reference.json()["results"]] == [first.pk]
    assert unknown.status_code == 400 and "colour" in unknown.json()
    assert bad_basis.status_code == 400 and "basis" in bad_basis.json()
    assert bad_date.status_code == 400 and "meeting_from" in bad_date.json()
    [row] = csv_rows(exported)
    assert (row["reference"], row["client_reference"], row["basis"]) == (
        "JFP-24-010",
        package.client.case_reference,
        "panel_decision",
    )
