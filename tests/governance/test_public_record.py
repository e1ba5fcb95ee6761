"""Rule 3's last block: the public record is what was published, and it does not move under its
readers. One test (or more) per rule: meetings before decisions, decisions public only once
published (corrections instead of edits), minutes, the frozen agenda, the forward plan that cannot
be backdated, and memberships that make sense."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from governance import public, services
from governance.models import (
    AttendanceStatus,
    Decision,
    ExemptionRegime,
    ForwardPlanEntry,
    Meeting,
    MeetingStatus,
    Membership,
    Outcome,
    VotingMode,
)
from tests.commissioning.factories import OrganisationFactory, PartnershipFactory, PersonFactory
from tests.governance.factories import BoardFactory, ForwardPlanEntryFactory, PaperFactory, london

pytestmark = pytest.mark.django_db


def record(scene, **kwargs):
    return services.decision_record(
        agenda_item=scene.item,
        resolution=kwargs.pop("resolution", "Agreed."),
        outcome=Outcome.APPROVED,
        by=None,
        **kwargs,
    )


def future_meeting(scene, days=12):
    return services.meeting_create(
        board=scene.board, starts_at=timezone.now() + timedelta(days=days), venue="Civic Centre", by=None
    )


# --- Meetings happen before their decisions ----------------------------------------------------


def test_a_future_meeting_refuses_attendance_declarations_votes_and_decisions(scene):
    meeting = future_meeting(scene)
    item = services.agenda_item_add(meeting=meeting, title="Future item", purpose="decision", by=None)
    with pytest.raises(ValidationError, match="recorded only from its start"):
        services.attendance_record(
            meeting=meeting, person=scene.council[0], status=AttendanceStatus.PRESENT, by=None
        )
    with pytest.raises(ValidationError, match="recorded only from its start"):
        services.decision_record(agenda_item=item, resolution="Agreed.", outcome=Outcome.NOTED, by=None)
    with pytest.raises(ValidationError, match="recorded only from its start"):
        services.declaration_record(
            person=scene.council[0],
            board=scene.board,
            agenda_item=item,
            nature="financial",
            description="Director of a provider",
            action="withdrew",
            by=None,
        )
    # apologies are sent beforehand
    services.attendance_record(
        meeting=meeting, person=scene.council[1], status=AttendanceStatus.APOLOGIES, by=None
    )
    assert not Decision.objects.filter(agenda_item=item).exists()


def test_a_meeting_is_marked_held_only_once_started_and_with_its_attendance(scene):
    with pytest.raises(ValidationError, match="recorded only from its start"):
        services.meeting_mark_held(meeting=future_meeting(scene), by=None)
    empty = services.meeting_create(board=scene.board, starts_at=london(2021, 10, 7), by=None)
    with pytest.raises(ValidationError, match="Record who attended"):
        services.meeting_mark_held(meeting=empty, by=None)
    held = services.meeting_mark_held(meeting=scene.meeting, by=None)
    assert held.status == MeetingStatus.HELD and held.held_at is not None


# --- Decisions are public only once published ------------------------------------------------------


def test_a_recorded_decision_is_not_public_until_its_notice_is_published(scene):
    decision = record(scene)
    assert decision.published_on is None
    assert list(public.public_decisions(scene.board)) == []
    assert public.public_board_data(scene.board)["decisions"] == []
    services.decision_publish(decision=decision, published_on=date(2021, 9, 3), by=None)
    assert [d.reference for d in public.public_decisions(scene.board)] == [decision.reference]


def test_a_notice_is_never_published_in_the_future_nor_twice(scene):
    decision = record(scene)
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationError, match="never in the future"):
        services.decision_publish(decision=decision, published_on=tomorrow, by=None)
    with pytest.raises(ValidationError, match="never in the future"):
        record(scene, published_on=tomorrow)
    services.decision_publish(decision=decision, published_on=date(2021, 9, 3), by=None)
    with pytest.raises(ValidationError, match="correction notice"):
        services.decision_publish(decision=decision, published_on=date(2021, 9, 4), by=None)


def test_before_publication_the_secretary_corrects_the_decision_keeping_its_history(scene):
    decision = record(scene, resolution="Agreed £1.2m.")
    corrected = services.decision_update(decision=decision, resolution="Agreed £120,000.", by=None)
    assert corrected.resolution == "Agreed £120,000." and corrected.version == decision.version + 1
    history = Decision.pgh_event_model.objects.filter(pgh_obj_id=decision.pk).values_list(
        "resolution", flat=True
    )
    assert "Agreed £1.2m." in list(history)
    with pytest.raises(ValidationError):
        services.decision_update(decision=decision, outcome=Outcome.REJECTED, by=None)


def test_after_publication_a_decision_is_put_right_only_by_a_published_correction_notice(scene):
    original = record(scene, resolution="Agreed £1.2m.", financial_value=Decimal("1200.00"))
    with pytest.raises(ValidationError, match="not published yet"):
        services.decision_correct(decision=original, resolution="Agreed £120,000.", by=None)
    services.decision_publish(decision=original, published_on=date(2021, 9, 3), by=None)
    with pytest.raises(ValidationError, match="never edited"):
        services.decision_update(decision=original, resolution="Agreed £120,000.", by=None)
    correction = services.decision_correct(
        decision=original, resolution="Agreed £120,000.", financial_value=Decimal("120000.00"), by=None
    )
    assert correction.corrects == original and correction.reference == "BBB/2021/002"
    assert correction.minute_number == original.minute_number and correction.published_on is None
    assert "Corrects BBB/2021/001" in correction.vote_note
    rows = {d.reference: d for d in public.public_decisions(scene.board)}
    assert list(rows) == ["BBB/2021/001"] and rows["BBB/2021/001"].public_corrections == []
    services.decision_publish(decision=correction, published_on=date(2021, 9, 6), by=None)
    data = {d["reference"]: d for d in public.public_board_data(scene.board)["decisions"]}
    assert data["BBB/2021/002"]["corrects"] == "BBB/2021/001"
    assert data["BBB/2021/001"]["corrected_by"] == ["BBB/2021/002"]
    original.refresh_from_db()
    assert original.resolution == "Agreed £1.2m."  # the original stays


# --- Minutes -------------------------------------------------------------------------------------


def test_draft_minutes_are_private_until_published_as_drafts_then_public_when_approved(scene):
    minutes = services.minutes_write(meeting=scene.meeting, entries={scene.item.pk: "Agreed."}, by=None)
    assert public.public_minutes(scene.meeting) == (None, [])
    services.minutes_publish_draft(minutes=minutes, by=None)
    shown, entries = public.public_minutes(Meeting.objects.get(pk=scene.meeting.pk))
    assert shown.draft and [e.text for e in entries] == ["Agreed."]
    later = services.meeting_create(board=scene.board, starts_at=london(2021, 10, 7), by=None)
    services.minutes_approve(minutes=minutes, at_meeting=later, by=None)
    shown, _ = public.public_minutes(Meeting.objects.get(pk=scene.meeting.pk))
    assert not shown.draft


def test_minutes_cannot_be_approved_at_a_meeting_that_has_not_started(scene):
    minutes = services.minutes_write(meeting=scene.meeting, entries={scene.item.pk: "Agreed."}, by=None)
    with pytest.raises(ValidationError, match="recorded only from its start"):
        services.minutes_approve(minutes=minutes, at_meeting=future_meeting(scene), by=None)


def test_minute_numbers_follow_the_agenda_whichever_is_recorded_first(scene):
    later_item = services.agenda_item_add(meeting=scene.meeting, title="Later item", by=None)
    # a decision on the later item first: it must not take the first number
    services.decision_record(agenda_item=later_item, resolution="Noted.", outcome=Outcome.NOTED, by=None)
    numbers = dict(scene.meeting.agenda_items.values_list("item_number", "minute_number"))
    assert numbers == {"1": "1/21", "2": "2/21", "3": "3/21", "4": "4/21", "5": "5/21"}
    next_meeting = services.meeting_create(board=scene.board, starts_at=london(2021, 10, 7), by=None)
    minutes = services.minutes_write(
        meeting=next_meeting, entries={next_meeting.agenda_items.get(item_number="2").pk: "None."}, by=None
    )
    assert [e.minute_number for e in minutes.entries.all()] == ["7/21"]  # 6/21 is its item 1


# --- The agenda freezes when published ----------------------------------------------------------


def test_a_late_item_takes_a_lettered_number_and_a_supplement_and_nothing_renumbers(scene):
    paper = PaperFactory(board=scene.board)
    services.agenda_item_update(item=scene.item, paper=paper, by=None)
    exempt = services.agenda_item_add(
        meeting=scene.meeting,
        title="Prices",
        exemption_regime=ExemptionRegime.SCHEDULE_12A,
        exemption_paragraph=3,
        exemption_reason="Commercial prices",
        by=None,
    )
    before = dict(scene.meeting.agenda_items.values_list("pk", "item_number"))
    assert before[scene.item.pk] == "4" and before[exempt.pk] == "6"  # 5 is the exclusion
    services.agenda_publish(meeting=scene.meeting, by=None)
    late = services.agenda_item_add(
        meeting=scene.meeting, title="Late report", paper=PaperFactory(board=scene.board), by=None
    )
    assert (late.item_number, late.supplement_number) == ("4A", 1)
    assert late.enclosure_number == "3"  # minutes 1, IPB 2: the next one
    later = services.agenda_item_add(meeting=scene.meeting, title="Later still", by=None)
    assert later.item_number == "4B" and later.supplement_number == 2
    exempt_late = services.agenda_item_add(
        meeting=scene.meeting,
        title="More prices",
        exemption_regime=ExemptionRegime.SCHEDULE_12A,
        exemption_paragraph=3,
        exemption_reason="Commercial prices",
        by=None,
    )
    assert exempt_late.item_number == "7"
    after = dict(scene.meeting.agenda_items.values_list("pk", "item_number"))
    assert all(after[pk] == number for pk, number in before.items())
    scene.item.refresh_from_db()
    assert scene.item.enclosure_number == "2"
    order = list(scene.meeting.agenda_items.order_by("order").values_list("item_number", flat=True))
    assert order == ["1", "2", "3", "4", "4A", "4B", "5", "6", "7"]
    with pytest.raises(ValidationError, match="no longer change"):
        services.agenda_item_move(item=later, direction="up", by=None)
    with pytest.raises(ValidationError, match="no longer change"):
        services.agenda_item_update(
            item=late, exemption_regime=ExemptionRegime.ACT_1960, exemption_reason="x", by=None
        )


def test_a_pack_issued_freezes_the_agenda(scene, make_user):
    from commissioning import roles

    user = make_user(roles.BOARD_SECRETARY, [scene.board.partnership])
    services.pack_request(meeting=scene.meeting, audience="public", by=user)
    scene.meeting.refresh_from_db()
    assert scene.meeting.agenda_frozen and scene.meeting.agenda_published_on == timezone.localdate()
    late = services.agenda_item_add(meeting=scene.meeting, title="Late", by=None)
    assert late.item_number == "5" and late.supplement_number == 1  # at the end: the next number


# --- The forward plan cannot be backdated ------------------------------------------------------------


def test_the_first_published_date_is_set_by_the_system_and_never_moves(scene):
    with pytest.raises(ValidationError, match="set by the system"):
        services.forward_plan_save(
            board=scene.board, title="IPB", first_published_on=date(2021, 1, 1), by=None
        )
    entry = services.forward_plan_save(board=scene.board, title="IPB", key_decision=True, by=None)
    assert entry.first_published_on is None
    assert list(public.public_forward_plan(scene.board)) == []
    entry = services.forward_plan_publish(entry=entry, by=None)
    assert entry.first_published_on == timezone.localdate()
    changed = services.forward_plan_save(board=scene.board, entry=entry, title="IPB service", by=None)
    assert changed.first_published_on == timezone.localdate()
    with pytest.raises(ValidationError, match="was published on"):
        services.forward_plan_publish(entry=entry, by=None)
    assert ForwardPlanEntry.pgh_event_model.objects.filter(pgh_obj_id=entry.pk).count() == 3


def test_a_key_decision_counts_notice_only_from_the_entry_linked_to_its_item(scene):
    # the meeting's only entry is for another item: it lends no notice
    ForwardPlanEntryFactory(board=scene.board, expected_meeting=scene.meeting, title=scene.item.title)
    decision = record(scene, financial_value=Decimal("300000.00"))
    assert decision.key_decision and decision.flagged and "not on the forward plan" in decision.notice_note


def test_an_item_links_only_a_published_entry_of_its_own_board(scene):
    other = ForwardPlanEntryFactory(board=BoardFactory(partnership=scene.board.partnership))
    with pytest.raises(ValidationError) as refused:
        services.agenda_item_update(item=scene.item, forward_plan_entry=other, by=None)
    assert "forward_plan_entry" in refused.value.message_dict
    draft = ForwardPlanEntryFactory(board=scene.board, first_published_on=None)
    with pytest.raises(ValidationError, match="not published yet"):
        services.agenda_item_update(item=scene.item, forward_plan_entry=draft, by=None)


# --- Memberships make sense ---------------------------------------------------------------------


def test_a_membership_has_no_vote_unless_given_and_officers_and_secretaries_cannot_have_one(scene):
    person = PersonFactory()
    added = services.membership_add(
        board=scene.board, person=person, role="member", voting=False, start=date(2021, 1, 1), by=None
    )
    assert Membership._meta.get_field("voting").default is False and not added.voting
    for role in ("officer", "secretary"):
        with pytest.raises(ValidationError) as refused:
            services.membership_add(
                board=scene.board,
                person=PersonFactory(),
                role=role,
                voting=True,
                start=date(2021, 1, 1),
                by=None,
            )
        assert "voting" in refused.value.message_dict


def test_a_person_holds_at_most_one_membership_of_a_board_on_any_day(scene):
    person = PersonFactory()
    first = services.membership_add(
        board=scene.board,
        person=person,
        role="member",
        voting=True,
        start=date(2021, 1, 1),
        end=date(2021, 6, 30),
        by=None,
    )
    with pytest.raises(ValidationError, match="already holds a membership"):
        services.membership_add(
            board=scene.board, person=person, role="chair", voting=True, start=date(2021, 6, 30), by=None
        )
    services.membership_add(
        board=scene.board, person=person, role="chair", voting=True, start=date(2021, 7, 1), by=None
    )
    with pytest.raises(ValidationError, match="already holds a membership"):
        services.membership_update(membership=first, end=None, by=None)


def test_a_quorum_needs_a_voting_member_and_one_per_partner_in_block_voting(scene):
    with pytest.raises(ValidationError) as refused:
        services.board_update(board=scene.board, quorum_min_voting=0, by=None)
    assert "quorum_min_voting" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.board_update(
            board=scene.board, voting_mode=VotingMode.PARTNER_BLOCK, quorum_min_per_partner=0, by=None
        )
    assert "quorum_min_per_partner" in refused.value.message_dict
    services.board_update(
        board=scene.board, voting_mode=VotingMode.MAJORITY, quorum_min_per_partner=0, by=None
    )


def test_the_people_offered_are_those_of_the_boards_partnership(scene):
    from governance.selectors import partnership_people

    elsewhere = PartnershipFactory()
    theirs = PersonFactory(organisation=elsewhere.council)
    ours = PersonFactory(organisation=scene.board.partnership.nhs_commissioner)
    lay = PersonFactory(organisation=None)
    other_lay = PersonFactory(organisation=None)
    Membership.objects.create(
        board=BoardFactory(partnership=elsewhere), person=other_lay, start=date(2021, 1, 1)
    )
    provider = PersonFactory(organisation=OrganisationFactory())
    offered = set(partnership_people(scene.board.partnership))
    assert {ours, lay, *scene.council} <= offered
    assert not offered & {theirs, other_lay, provider}
    with pytest.raises(ValidationError) as refused:
        services.membership_add(
            board=scene.board, person=theirs, role="member", voting=True, start=date(2021, 1, 1), by=None
        )
    assert "person" in refused.value.message_dict
