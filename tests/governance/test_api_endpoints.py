"""The remaining governance endpoints one by one: happy path, 400 naming the field with nothing
changed, 403 for a role that may not write, 404 for objects out of scope."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from commissioning import roles
from governance import services
from governance.models import Action, Attendance, ForwardPlanEntry, Minutes
from tests.commissioning.factories import ContractFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def elsewhere(make_user, other_partnership):
    return make_user(roles.BOARD_SECRETARY, [other_partnership])


@pytest.fixture
def member(make_user, partnership):
    return make_user(roles.BOARD_MEMBER, [partnership])


def count(model) -> int:
    return model.objects.count()


# --- forward-plan/ ------------------------------------------------------------------------------


def test_forward_plan_happy_path_and_validation(api_as, secretary, scene):
    client = api_as(secretary)
    body = {
        "board": scene.board.pk,
        "title": "IPB final budget",
        "key_decision": True,
        "publish": True,
    }
    created = client.post("/api/v1/forward-plan/", body, format="json")
    assert created.status_code == 201 and created.json()["title"] == "IPB final budget"
    assert created.json()["first_published_on"] == timezone.localdate().isoformat()  # set by the system
    backdated = client.post(
        "/api/v1/forward-plan/", {**body, "first_published_on": "2021-08-04"}, format="json"
    )
    assert backdated.status_code == 400 and "first_published_on" in backdated.json()
    assert count(ForwardPlanEntry) == 1


def test_forward_plan_write_refused_for_a_member_and_hidden_elsewhere(api_as, member, elsewhere, scene):
    entry = ForwardPlanEntry.objects.create(board=scene.board, title="X", first_published_on=date(2021, 8, 4))
    assert (
        api_as(member).patch(f"/api/v1/forward-plan/{entry.pk}/", {"title": "Y"}, format="json").status_code
        == 403
    )
    assert api_as(elsewhere).get(f"/api/v1/forward-plan/{entry.pk}/").status_code == 404
    assert ForwardPlanEntry.objects.get().title == "X"


# --- attendance/ --------------------------------------------------------------------------------


def test_attendance_records_a_substitute(api_as, secretary, scene):
    deputy = PersonFactory(name="Deputy")
    response = api_as(secretary).post(
        "/api/v1/attendance/",
        {
            "meeting": scene.meeting.pk,
            "person": deputy.pk,
            "status": "present",
            "substitute_for": scene.nhs[0].pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert Attendance.objects.get(person=deputy).substitute_for == scene.nhs[0]


def test_attendance_substitute_must_stand_in_for_a_member(api_as, secretary, scene):
    before = count(Attendance)
    stranger, deputy = PersonFactory(), PersonFactory()
    response = api_as(secretary).post(
        "/api/v1/attendance/",
        {
            "meeting": scene.meeting.pk,
            "person": deputy.pk,
            "status": "present",
            "substitute_for": stranger.pk,
        },
        format="json",
    )
    assert response.status_code == 400 and "substitute_for" in response.json()
    assert count(Attendance) == before


def test_attendance_of_a_hidden_meeting_is_refused_as_unknown(api_as, elsewhere, scene):
    response = api_as(elsewhere).post(
        "/api/v1/attendance/",
        {"meeting": scene.meeting.pk, "person": scene.nhs[0].pk, "status": "absent"},
        format="json",
    )
    assert response.status_code == 400 and "meeting" in response.json()
    assert Attendance.objects.get(meeting=scene.meeting, person=scene.nhs[0]).status == "present"


# --- actions/ -----------------------------------------------------------------------------------


def test_actions_happy_path_and_due_date_rule(api_as, secretary, scene):
    client = api_as(secretary)
    owner = scene.officer.pk
    ok = client.post(
        "/api/v1/actions/",
        {"meeting": scene.meeting.pk, "description": "Mobilise IPB", "owner": owner, "due": "2022-04-01"},
        format="json",
    )
    assert ok.status_code == 201
    bad = client.post(
        "/api/v1/actions/",
        {"meeting": scene.meeting.pk, "description": "Too early", "owner": owner, "due": "2021-01-01"},
        format="json",
    )
    assert bad.status_code == 400 and "due" in bad.json()
    assert list(Action.objects.values_list("description", flat=True)) == ["Mobilise IPB"]
    done = client.patch(f"/api/v1/actions/{ok.json()['id']}/", {"status": "done"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "done"


def test_open_actions_form_the_next_meetings_action_log(scene):
    from governance.selectors import action_log_for
    from tests.governance.factories import london

    services.action_add(meeting=scene.meeting, description="Open one", owner=scene.officer, by=None)
    closed = services.action_add(
        meeting=scene.meeting, description="Closed one", owner=scene.officer, by=None
    )
    closed.status = "done"
    closed.save()
    later = services.meeting_create(board=scene.board, starts_at=london(2021, 10, 7), by=None)
    assert [a.description for a in action_log_for(later)] == ["Open one"]
    assert list(action_log_for(scene.meeting)) == []


# --- minutes/ -----------------------------------------------------------------------------------


def test_minutes_happy_path_numbers_entries(api_as, secretary, scene):
    response = api_as(secretary).post(
        "/api/v1/minutes/",
        {"meeting": scene.meeting.pk, "entries": [{"agenda_item": scene.item.pk, "text": "Agreed."}]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["minute_entries"] == [
        {"agenda_item": scene.item.pk, "minute_number": "4/21", "text": "Agreed."}  # agenda order
    ]


def test_minutes_for_an_item_of_another_meeting_are_refused(api_as, secretary, scene):
    from tests.governance.factories import london

    other = services.meeting_create(board=scene.board, starts_at=london(2021, 10, 7), by=None)
    response = api_as(secretary).post(
        "/api/v1/minutes/",
        {"meeting": other.pk, "entries": [{"agenda_item": scene.item.pk, "text": "X"}]},
        format="json",
    )
    assert response.status_code == 400 and "entries" in response.json()
    assert not Minutes.objects.exists()


def test_minutes_cannot_be_written_by_a_member(api_as, member, scene):
    response = api_as(member).post(
        "/api/v1/minutes/", {"meeting": scene.meeting.pk, "entries": []}, format="json"
    )
    assert response.status_code == 403


# --- agenda-items/{id}/move/ --------------------------------------------------------------------


def test_moving_an_item(api_as, secretary, scene):
    second = services.agenda_item_add(meeting=scene.meeting, title="Second", by=None)
    client = api_as(secretary)
    response = client.post(f"/api/v1/agenda-items/{second.pk}/move/", {"direction": "up"}, format="json")
    assert response.status_code == 200 and response.json()["item_number"] == "4"
    bad = client.post(f"/api/v1/agenda-items/{second.pk}/move/", {"direction": "sideways"}, format="json")
    assert bad.status_code == 400 and "direction" in bad.json()


# --- What a decision changed ----------------------------------------------------------------------


def test_a_decision_link_records_amounts_before_and_after_and_the_api_shows_them(api_as, secretary, scene):
    decision = services.decision_record(
        agenda_item=scene.item, resolution="Agreed.", outcome="approved", by=None
    )
    contract = ContractFactory(partnership=scene.board.partnership, reference="BR-IPB")
    services.decision_link_add(
        decision=decision, target=contract, description="IPB contract value",
        amount_before=Decimal("154553.00"), amount_after=Decimal("162053.00"), by=None,
    )  # fmt: skip
    # linking the same object again updates the amounts rather than duplicating the link
    services.decision_link_add(decision=decision, target=contract, amount_after=Decimal("162053.00"), by=None)
    body = api_as(secretary).get(f"/api/v1/decisions/{decision.pk}/").json()
    assert body["links"] == [
        {
            "target_type": "commissioning.contract",
            "object_id": contract.pk,
            "description": str(contract)[:300],
            "amount_before": None,
            "amount_after": "162053.00",
        }
    ]
    linked = api_as(secretary).get(
        f"/api/v1/decisions/?linked_type=commissioning.contract&linked_id={contract.pk}"
    )
    assert [d["reference"] for d in linked.json()["results"]] == ["BBB/2021/001"]


def test_minutes_are_approved_at_a_later_meeting(api_as, secretary, member, scene):
    from tests.governance.factories import london

    minutes = services.minutes_write(meeting=scene.meeting, entries={scene.item.pk: "Agreed."}, by=None)
    later = services.meeting_create(board=scene.board, starts_at=london(2021, 10, 7), by=None)
    url = f"/api/v1/minutes/{minutes.pk}/approve/"
    assert api_as(member).post(url, {"at_meeting": later.pk}, format="json").status_code == 403
    earlier = api_as(secretary).post(url, {"at_meeting": scene.meeting.pk}, format="json")
    assert earlier.status_code == 400 and "at_meeting" in earlier.json()
    response = api_as(secretary).post(url, {"at_meeting": later.pk}, format="json")
    assert response.status_code == 200
    assert response.json()["approved_at"] == later.pk and response.json()["approved_on"] == "2021-10-07"
    scene.meeting.refresh_from_db()
    assert scene.meeting.status == "minutes_approved"
