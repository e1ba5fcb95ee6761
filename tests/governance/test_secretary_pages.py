"""The board secretary's pages: boards, memberships, the forward plan, closing actions, and the
register of interests with its annual declarations and its changes due within 28 days."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from commissioning import roles
from governance import selectors, services
from governance.models import (
    Action,
    ActionStatus,
    Board,
    ForwardPlanEntry,
    Membership,
    RegisterChange,
    declared_late,
)
from tests.commissioning.factories import PersonFactory
from tests.governance.factories import BoardFactory, london

pytestmark = pytest.mark.django_db


def board_data(partnership=None, **overrides) -> dict:
    data = {
        "name": "Joint Commissioning Board",
        "code": "JCB",
        "terms_of_reference": "Oversees the section 75 agreement.",
        "quorum_min_voting": "4",
        "quorum_min_per_partner": "2",
        "voting_mode": "partner_block",
        "chair_has_casting_vote": "",
        "delegated_limit": "1,000,000",
        "key_decision_threshold": "£500,000",
        "parent": "",
        "council_executive": "on",
        "meets_in_public": "on",
    }
    if partnership is not None:
        data["partnership"] = str(partnership.pk)
    data.update(overrides)
    return {k: v for k, v in data.items() if v != ""}


def date_parts(name: str, day: date) -> dict:
    return {f"{name}_day": str(day.day), f"{name}_month": str(day.month), f"{name}_year": str(day.year)}


# --- Boards ---------------------------------------------------------------------------------------


def test_a_secretary_creates_a_board_from_the_page(client, secretary, partnership):
    client.force_login(secretary)
    url = reverse("governance:board-create")
    page = client.get(url).content.decode()
    assert "Terms of reference" in page and "Key-decision threshold" in page and "Parent board" in page
    response = client.post(url, board_data(partnership))
    board = Board.objects.get(code="JCB")
    assert response.status_code == 302 and response["Location"] == board.get_absolute_url()
    assert board.partnership == partnership and board.voting_mode == "partner_block"
    assert board.delegated_limit == Decimal("1000000.00") and board.key_decision_threshold == Decimal(
        "500000.00"
    )
    assert board.council_executive and board.meets_in_public and not board.chair_has_casting_vote
    assert (board.quorum_min_voting, board.quorum_min_per_partner) == (4, 2)
    board_page = client.get(board.get_absolute_url()).content.decode()
    assert "Oversees the section 75 agreement." in board_page
    assert "Board added" in board_page  # the change history, with who made it
    assert secretary.get_full_name() in board_page or secretary.username in board_page


def test_board_errors_name_the_field_and_change_nothing(client, secretary, partnership):
    client.force_login(secretary)
    response = client.post(
        reverse("governance:board-create"),
        board_data(partnership, code="bb", delegated_limit="lots", quorum_min_voting=""),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert "Code must be 2 to 10 capital letters and digits" in html
    assert "Delegated limit must be an amount of money" in html
    assert "Enter the quorum: voting members present" in html
    assert not Board.objects.exists()


def test_editing_a_board_sets_its_parent_and_shows_the_change_in_the_history(client, secretary, partnership):
    parent = BoardFactory(partnership=partnership, name="Health and Wellbeing Board", code="HWB")
    board = BoardFactory(partnership=partnership, name="Borough Based Board", code="BBB")
    client.force_login(secretary)
    url = reverse("governance:board-edit", args=[board.pk])
    form = client.get(url).content.decode()
    assert "Health and Wellbeing Board" in form and 'name="partnership"' not in form
    response = client.post(
        url,
        board_data(name="Borough Based Board", code="BBB", parent=str(parent.pk), delegated_limit="500000"),
    )
    assert response.status_code == 302
    board.refresh_from_db()
    assert board.parent == parent and board.delegated_limit == Decimal("500000.00")
    page = client.get(board.get_absolute_url()).content.decode()
    assert "Board changed" in page
    assert "Parent board" in page and "Health and Wellbeing Board" in page
    assert "£500,000.00" in page
    # The child board's change is not the parent's history.
    assert "Board changed" not in client.get(parent.get_absolute_url()).content.decode()


def test_a_parent_of_another_partnership_is_refused_on_its_field(
    client, secretary, partnership, other_partnership
):
    stranger = BoardFactory(partnership=other_partnership, code="OTH")
    board = BoardFactory(partnership=partnership, code="BBB")
    client.force_login(secretary)
    response = client.post(
        reverse("governance:board-edit", args=[board.pk]), board_data(code="BBB", parent=str(stranger.pk))
    )
    assert response.status_code == 200
    assert "Choose a parent board from the list" in response.content.decode()
    board.refresh_from_db()
    assert board.parent is None and board.name != "Joint Commissioning Board"


def test_board_pages_go_through_the_gate(client, make_user, partnership, other_partnership):
    board = BoardFactory(partnership=partnership)
    client.force_login(make_user(roles.BOARD_MEMBER, [partnership]))
    assert client.get(reverse("governance:board-create")).status_code == 403
    assert client.get(reverse("governance:board-edit", args=[board.pk])).status_code == 403
    assert "Change the board's terms" not in client.get(board.get_absolute_url()).content.decode()
    client.force_login(make_user(roles.BOARD_SECRETARY, [other_partnership]))
    assert client.get(reverse("governance:board-edit", args=[board.pk])).status_code == 404
    assert client.post(reverse("governance:board-edit", args=[board.pk]), board_data()).status_code == 404


# --- Memberships ----------------------------------------------------------------------------------


def test_a_secretary_adds_and_changes_a_membership(client, secretary, partnership):
    board = BoardFactory(partnership=partnership, code="BBB")
    person = PersonFactory(name="Dr Angela Bhan")
    client.force_login(secretary)
    url = reverse("governance:membership-create", args=[board.pk])
    form = client.get(url).content.decode()
    assert "Both partners jointly" in form and partnership.council.name in form
    data = {
        "person": str(person.pk),
        "role": "joint_chair",
        "voting": "on",
        "representing": str(partnership.nhs_commissioner_id),
        **date_parts("start", date(2021, 4, 1)),
    }
    assert client.post(url, data).status_code == 302
    membership = Membership.objects.get(board=board)
    assert (membership.person, membership.role, membership.voting) == (person, "joint_chair", True)
    assert membership.representing_id == partnership.nhs_commissioner_id and membership.end is None

    edit = reverse("governance:membership-edit", args=[membership.pk])
    bad = {"role": "member", **date_parts("start", date(2021, 4, 1)), **date_parts("end", date(2021, 3, 1))}
    response = client.post(edit, bad)
    assert response.status_code == 200
    assert "The end date must be on or after the start date." in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == "joint_chair"

    good = {"role": "member", **date_parts("start", date(2021, 4, 1)), **date_parts("end", date(2022, 3, 31))}
    assert client.post(edit, good).status_code == 302
    membership.refresh_from_db()
    assert (membership.role, membership.voting, membership.representing, membership.end) == (
        "member",
        False,
        None,
        date(2022, 3, 31),
    )
    page = client.get(board.get_absolute_url()).content.decode()
    assert "Membership of Dr Angela Bhan changed" in page and "Ended" in page


def test_a_membership_needs_a_person_and_a_real_start_date(client, secretary, partnership):
    board = BoardFactory(partnership=partnership)
    client.force_login(secretary)
    response = client.post(
        reverse("governance:membership-create", args=[board.pk]),
        {"role": "member", "start_day": "31", "start_month": "2", "start_year": "2021"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Select the person" in html and "Member from must be a real date" in html
    assert not Membership.objects.exists()


def test_memberships_of_another_partnership_are_404(client, make_user, other_partnership, partnership):
    board = BoardFactory(partnership=partnership)
    membership = Membership.objects.create(board=board, person=PersonFactory(), start=date(2020, 1, 1))
    client.force_login(make_user(roles.BOARD_SECRETARY, [other_partnership]))
    assert client.get(reverse("governance:membership-edit", args=[membership.pk])).status_code == 404
    assert client.get(reverse("governance:membership-create", args=[board.pk])).status_code == 404


# --- The forward plan -----------------------------------------------------------------------------


def test_a_secretary_keeps_the_forward_plan(client, secretary, scene):
    client.force_login(secretary)
    url = reverse("governance:forward-plan-create", args=[scene.board.pk])
    data = {
        "title": "Integrated Placements and Brokerage",
        "key_decision": "on",
        "expected_meeting": str(scene.meeting.pk),
        **date_parts("first_published_on", date(2021, 7, 30)),  # not a field: never typed
        "publish": "on",
        "exempt": "on",
        "exemption_reason": "",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Give the reason the entry is exempt." in response.content.decode()
    assert not ForwardPlanEntry.objects.exists()
    data.pop("exempt")
    assert client.post(url, data).status_code == 302
    entry = ForwardPlanEntry.objects.get()
    assert entry.key_decision and entry.expected_meeting == scene.meeting
    assert entry.first_published_on == timezone.localdate()  # set by the system on publication

    edit = reverse("governance:forward-plan-edit", args=[entry.pk])
    data.update(date_parts("first_published_on", date(2021, 7, 1)), contact="Head of Commissioning")
    assert client.post(edit, data).status_code == 302
    entry.refresh_from_db()
    assert entry.first_published_on == timezone.localdate()  # an edit cannot backdate it
    page = client.get(scene.board.get_absolute_url()).content.decode()
    assert "Forward plan entry “Integrated Placements and Brokerage” changed" in page
    # The key-decision check reads the entry linked to the item: published after the meeting, no notice.
    services.agenda_item_update(item=scene.item, forward_plan_entry=entry, by=None)
    decision = services.decision_record(
        agenda_item=scene.item,
        resolution="Agreed.",
        outcome="approved",
        financial_value=Decimal("300000.00"),
        by=None,
    )
    assert decision.key_decision and not decision.notice_ok


def test_a_meeting_of_another_board_is_refused_on_its_field(secretary, scene):
    other = BoardFactory(partnership=scene.board.partnership)
    meeting = services.meeting_create(board=other, starts_at=london(2021, 10, 1), by=None)
    with pytest.raises(Exception) as error:
        services.forward_plan_save(
            board=scene.board,
            title="X",
            expected_meeting=meeting,
            by=secretary,
        )
    assert "expected_meeting" in error.value.message_dict


# --- Actions --------------------------------------------------------------------------------------


def test_a_done_action_leaves_the_next_meetings_action_log(client, secretary, scene):
    action = services.action_add(
        meeting=scene.meeting, description="Report the IPB launch", owner=scene.council[0], by=None
    )
    later = services.meeting_create(board=scene.board, starts_at=london(2021, 10, 7), by=None)
    client.force_login(secretary)
    page = client.get(later.get_absolute_url()).content.decode()
    assert "Report the IPB launch" in page
    response = client.post(
        reverse("governance:action-status", args=[action.pk]), {"status": "done", "meeting": str(later.pk)}
    )
    assert response.status_code == 302 and response["Location"].startswith(later.get_absolute_url())
    assert Action.objects.get(pk=action.pk).status == ActionStatus.DONE
    assert "Report the IPB launch" not in client.get(later.get_absolute_url()).content.decode()
    assert (
        client.post(reverse("governance:action-status", args=[action.pk]), {"status": "won"}).status_code
        == 302
    )
    assert Action.objects.get(pk=action.pk).status == ActionStatus.DONE


# --- The register of interests: changes within 28 days --------------------------------------------


@pytest.mark.parametrize(
    ("days", "late"),
    [(0, False), (27, False), (28, False), (29, True), (120, True)],
)
def test_a_change_declared_more_than_28_days_after_it_arose_is_late(days, late):
    arose = date(2021, 6, 1)
    assert declared_late(arose, arose + timedelta(days=days)) is late


def test_a_late_change_is_kept_and_flagged_on_the_register_and_the_persons_page(
    client, secretary, scene, partnership
):
    today = timezone.localdate()
    member = scene.nhs[0]
    in_time = services.register_change_record(
        person=member,
        partnership=partnership,
        nature="financial",
        description="Shares in a care agency",
        arose_on=today - timedelta(days=28),
        by=secretary,
    )
    late = services.register_change_record(
        person=member,
        partnership=partnership,
        nature="non_financial_professional",
        description="Trustee of a hospice",
        arose_on=today - timedelta(days=29),
        by=secretary,
    )
    assert not in_time.late and late.late and late.days_to_declare == 29
    client.force_login(secretary)
    register = client.get(reverse("governance:register")).content.decode()
    assert "Trustee of a hospice" in register and "Shares in a care agency" in register
    assert register.count(">Late</strong>") == 1 and "29 days after it arose" in register
    person_page = client.get(reverse("governance:register-person", args=[member.pk])).content.decode()
    assert "1 change to NHS member 1's interests was declared more than 28 days after arising" in person_page
    assert person_page.count(">Late</strong>") == 1


def test_declaring_a_change_from_the_page(client, secretary, scene, partnership):
    client.force_login(secretary)
    url = reverse("governance:register-change")
    arose = timezone.localdate() - timedelta(days=40)
    data = {
        "person": str(scene.council[1].pk),
        "partnership": str(partnership.pk),
        "nature": "indirect",
        "description": "Spouse joined a provider's board",
        **date_parts("arose_on", arose),
    }
    response = client.post(url, data)
    assert response.status_code == 302
    change = RegisterChange.objects.get()
    assert change.declared_on == timezone.localdate() and change.late
    page = client.get(response["Location"]).content.decode()
    assert "later than the 28 days allowed" in page and ">Late</strong>" in page

    future = {**data, **date_parts("arose_on", timezone.localdate() + timedelta(days=3))}
    response = client.post(url, future)
    assert response.status_code == 200
    assert "cannot be after the declaration" in response.content.decode()
    assert RegisterChange.objects.count() == 1


def test_a_member_declares_only_their_own_interests(client, make_user, partnership, scene):
    user = make_user(roles.BOARD_MEMBER, [partnership])
    own = scene.nhs[1]
    own.user = user
    own.save()
    client.force_login(user)
    form = client.get(reverse("governance:register-change")).content.decode()
    assert "NHS member 2" in form and "NHS member 1<" not in form
    data = {
        "person": str(scene.nhs[0].pk),
        "partnership": str(partnership.pk),
        "nature": "financial",
        "description": "Not mine",
        **date_parts("arose_on", timezone.localdate()),
    }
    response = client.post(reverse("governance:register-change"), data)
    assert response.status_code == 200 and "Choose a member from the list" in response.content.decode()
    assert not RegisterChange.objects.exists()


def test_a_nil_return_from_the_page_takes_the_member_off_the_non_declarers_list(
    client, secretary, scene, partnership
):
    client.force_login(secretary)
    year = selectors.register_year(timezone.localdate())
    assert scene.officer in selectors.members_not_declared(partnership, year)
    url = reverse("governance:register-declare")
    response = client.post(url, {"person": str(scene.officer.pk), "partnership": str(partnership.pk)})
    assert response.status_code == 200
    assert "List your interests, or make a nil return." in response.content.decode()
    response = client.post(
        url, {"person": str(scene.officer.pk), "partnership": str(partnership.pk), "nil_return": "on"}
    )
    assert response.status_code == 302
    assert scene.officer not in selectors.members_not_declared(partnership, year)
    register = client.get(reverse("governance:register")).content.decode()
    assert "Nil return" in register


def test_the_register_pages_need_the_register_permission(client, make_user, partnership, scene):
    client.force_login(make_user(roles.BROKER, [partnership]))
    assert client.get(reverse("governance:register-person", args=[scene.nhs[0].pk])).status_code == 403
    assert client.get(reverse("governance:register-change")).status_code == 403


# --- The decision log: the linked schedule, and what each decision changed in the CSV -------------


def test_the_decision_log_finds_decisions_by_linked_schedule_and_exports_what_they_changed(
    client, secretary, scene, partnership
):
    from tests.budgets.factories import AgreementFactory, BudgetLineFactory, ScheduleFactory

    schedule = ScheduleFactory(agreement=AgreementFactory(partnership=partnership), title="Pooled fund")
    other = ScheduleFactory(agreement=AgreementFactory(partnership=partnership), title="Other fund")
    line = BudgetLineFactory(schedule=schedule, name="Placements", amount=Decimal("1000.00"))
    linked = services.decision_record(
        agenda_item=scene.item, resolution="Agreed the placements budget.", outcome="approved", by=None
    )
    services.decision_link_add(
        decision=linked,
        target=line,
        description="Placements",
        amount_before=Decimal("1000.00"),
        amount_after=Decimal("1250.50"),
        by=None,
    )
    unlinked = services.decision_record(
        agenda_item=services.agenda_item_add(meeting=scene.meeting, title="Noted the report", by=None),
        resolution="Noted.",
        outcome="noted",
        by=None,
    )
    client.force_login(secretary)
    page = client.get(reverse("governance:decisions"), {"schedule": schedule.pk}).content.decode()
    assert "Linked schedule" in page
    assert linked.reference in page and unlinked.reference not in page
    empty = client.get(reverse("governance:decisions"), {"schedule": other.pk}).content.decode()
    assert linked.reference not in empty and "No decisions match." in empty
    csv = client.get(reverse("governance:decisions-export", args=["csv"]), {"schedule": schedule.pk})
    body = b"".join(csv.streaming_content if csv.streaming else [csv.content]).decode("utf-8-sig")
    assert linked.reference in body and unlinked.reference not in body
    assert "Placements: £1,000.00 -> £1,250.50" in body


# --- The API applies the same rules as the pages -------------------------------------------------


def test_the_api_changes_memberships_and_the_forward_plan_through_the_services(api_as, secretary, scene):
    from tests.commissioning.factories import OrganisationFactory

    client = api_as(secretary)
    membership = Membership.objects.get(board=scene.board, person=scene.nhs[0])
    stranger = OrganisationFactory(code="STRANGER")
    bad = client.patch(
        f"/api/v1/memberships/{membership.pk}/", {"representing": stranger.code}, format="json"
    )
    assert bad.status_code == 400 and "representing" in bad.json()
    moved = client.patch(f"/api/v1/memberships/{membership.pk}/", {"person": scene.nhs[1].pk}, format="json")
    assert moved.status_code == 400 and "person" in moved.json()
    ok = client.patch(f"/api/v1/memberships/{membership.pk}/", {"end": "2022-03-31"}, format="json")
    assert ok.status_code == 200
    membership.refresh_from_db()
    assert membership.end == date(2022, 3, 31) and membership.person == scene.nhs[0]

    entry = {"board": scene.board.pk, "title": "IPB", "publish": True, "exempt": True}
    refused = client.post("/api/v1/forward-plan/", entry, format="json")
    assert refused.status_code == 400 and "exemption_reason" in refused.json()
    assert not ForwardPlanEntry.objects.exists()
    made = client.post("/api/v1/forward-plan/", {**entry, "exempt": False}, format="json")
    assert made.status_code == 201
    backdated = client.patch(
        f"/api/v1/forward-plan/{made.json()['id']}/", {"first_published_on": "2021-07-02"}, format="json"
    )
    assert backdated.status_code == 400 and "first_published_on" in backdated.json()
    changed = client.patch(
        f"/api/v1/forward-plan/{made.json()['id']}/", {"title": "IPB service"}, format="json"
    )
    assert changed.status_code == 200
    assert ForwardPlanEntry.objects.get().first_published_on == timezone.localdate()
