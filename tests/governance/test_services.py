"""Services: meetings and agendas, recording decisions (quorum, voting, delegation, key decisions,
references, call-in), minutes, and the gapless counters under concurrency."""

from __future__ import annotations

import threading
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection

from governance import calendar, services
from governance.models import (
    AgendaItem,
    Decision,
    ExemptionRegime,
    InterestAction,
    MinuteEntry,
    Outcome,
    ReferenceCounter,
    StandingItem,
    Vote,
    VotingMode,
)
from governance.services import CastVote
from tests.governance.factories import (
    BoardFactory,
    DeclarationFactory,
    ForwardPlanEntryFactory,
    MeetingFactory,
    PaperFactory,
    london,
)

pytestmark = pytest.mark.django_db


def votes(people, choice):
    return [CastVote(person=p, choice=choice) for p in people]


def declare(scene, person, action=InterestAction.WITHDREW):
    return DeclarationFactory(
        person=person, board=scene.board, meeting=scene.meeting, agenda_item=scene.item, action=action
    )


# --- Meetings and agendas -----------------------------------------------------------------------


def test_a_new_meeting_has_the_standing_items_first(scene):
    items = list(scene.meeting.agenda_items.order_by("order"))
    assert [i.standing_kind for i in items[:3]] == [
        StandingItem.APOLOGIES,
        StandingItem.DECLARATIONS,
        StandingItem.PREVIOUS_MINUTES,
    ]
    assert [i.item_number for i in items] == ["1", "2", "3", "4"]
    assert items[2].enclosure_number == "1"


def test_an_exempt_item_goes_after_the_exclusion_of_press_and_public(scene):
    exempt = services.agenda_item_add(
        meeting=scene.meeting,
        title="Provider failure",
        exemption_regime=ExemptionRegime.SCHEDULE_12A,
        exemption_paragraph=3,
        exemption_reason="Financial affairs of a provider",
        by=None,
    )
    public = services.agenda_item_add(meeting=scene.meeting, title="Better Care Fund plan", by=None)
    titles = list(scene.meeting.agenda_items.order_by("order").values_list("title", flat=True))
    assert titles[3:] == [
        "Integrated Placements and Brokerage",
        "Better Care Fund plan",
        services.EXCLUSION_TITLE,
        "Provider failure",
    ]
    exempt.refresh_from_db()
    public.refresh_from_db()
    assert (public.item_number, exempt.item_number) == ("5", "7")


def test_the_exclusion_item_goes_when_the_last_exempt_item_stops_being_exempt(scene):
    exempt = services.agenda_item_add(
        meeting=scene.meeting,
        title="Provider failure",
        exemption_regime=ExemptionRegime.ACT_1960,
        exemption_reason="Commercial confidentiality",
        by=None,
    )
    services.agenda_item_update(item=exempt, exemption_regime=ExemptionRegime.NONE, by=None)
    assert not scene.meeting.agenda_items.filter(standing_kind=StandingItem.EXCLUSION).exists()
    exempt.refresh_from_db()
    assert exempt.exemption_reason == ""


def test_an_exemption_needs_its_reason_and_schedule_12a_its_paragraph(scene):
    with pytest.raises(ValidationError) as error:
        services.agenda_item_add(
            meeting=scene.meeting, title="Secret", exemption_regime=ExemptionRegime.SCHEDULE_12A, by=None
        )
    assert set(error.value.message_dict) == {"exemption_reason", "exemption_paragraph"}
    assert scene.meeting.agenda_items.count() == 4


def test_items_move_within_their_part_of_the_agenda(scene):
    second = services.agenda_item_add(meeting=scene.meeting, title="Second", by=None)
    services.agenda_item_move(item=second, direction="up", by=None)
    titles = list(scene.meeting.agenda_items.order_by("order").values_list("title", flat=True))
    assert titles[3:] == ["Second", "Integrated Placements and Brokerage"]
    with pytest.raises(ValidationError):
        services.agenda_item_move(item=AgendaItem.objects.get(pk=second.pk), direction="up", by=None)


def test_items_added_after_the_agenda_is_published_are_a_numbered_supplement(scene):
    services.meeting_set_status(meeting=scene.meeting, status="agenda_published", by=None)
    late = services.agenda_item_add(meeting=scene.meeting, title="Late paper", by=None)
    later = services.agenda_item_add(meeting=scene.meeting, title="Later paper", by=None)
    assert (late.supplement_number, later.supplement_number) == (1, 2)


def test_a_stale_paper_edit_is_refused(scene):
    paper = PaperFactory(board=scene.board)
    services.paper_update(paper=paper, version=1, title="First edit", by=None)
    with pytest.raises(services.StaleEdit):
        services.paper_update(paper=paper, version=1, title="Second edit", by=None)
    paper.refresh_from_db()
    assert (paper.title, paper.version) == ("First edit", 2)


def test_an_appendix_must_be_a_pdf_by_content(scene):
    paper = PaperFactory(board=scene.board)
    with pytest.raises(ValidationError) as error:
        services.appendix_add(
            paper=paper, title="Not a PDF", filename="model.pdf", data=b"MZ\x90\x00 not a pdf", by=None
        )
    assert "file" in error.value.message_dict
    assert not paper.appendices.exists()


def test_an_appendix_name_is_sanitised_and_its_pages_counted(scene, settings, tmp_path):
    from tests.governance.factories import pdf_bytes

    settings.MEDIA_ROOT = tmp_path
    paper = PaperFactory(board=scene.board)
    appendix = services.appendix_add(
        paper=paper, title="Model", filename="../../etc/my model;rm.pdf", data=pdf_bytes(2), by=None
    )
    assert appendix.page_count == 2
    assert ".." not in appendix.file.name and " " not in appendix.file.name.rsplit("/", 1)[-1]


# --- Decisions ----------------------------------------------------------------------------------


def test_an_approved_decision_gets_its_reference_minute_number_and_record(scene):
    decision = services.decision_record(
        agenda_item=scene.item,
        resolution="Agreed that the IPB service be established.",
        outcome=Outcome.APPROVED,
        reasons="Better coordination",
        alternatives_rejected="Keep two teams",
        votes=votes(scene.everyone, "for"),
        by=None,
    )
    assert decision.reference == "BBB/2021/001"
    assert decision.minute_number == "4/21"  # items 1 to 3 are the standing items: agenda order
    assert decision.quorate and decision.outcome == Outcome.APPROVED
    assert decision.decided_on == date(2021, 9, 2)
    assert decision.vote_note == "Carried 6 to 0."
    assert Vote.objects.filter(decision=decision).count() == 6
    assert decision.effective_from == london(2021, 9, 2)  # NHS-only board: no call-in
    second = services.decision_record(
        agenda_item=scene.item, resolution="Noted the savings.", outcome=Outcome.NOTED, by=None
    )
    assert second.reference == "BBB/2021/002" and second.minute_number == "4/21"


def test_a_conflicted_member_who_withdrew_tips_the_item_out_of_quorum_and_blocks_approval(scene):
    # quorum 4 voting members, at least 2 per partner: NHS has 3 present; two withdraw
    services.attendance_record(meeting=scene.meeting, person=scene.nhs[0], status="apologies", by=None)
    declare(scene, scene.nhs[1], InterestAction.DID_NOT_VOTE)
    with pytest.raises(ValidationError) as error:
        services.decision_record(
            agenda_item=scene.item, resolution="Agreed.", outcome=Outcome.APPROVED, by=None
        )
    assert "not quorate" in error.value.message_dict["outcome"][0]
    assert not Decision.objects.exists() and not ReferenceCounter.objects.filter(last__gt=0).exists()
    deferred = services.decision_record(
        agenda_item=scene.item, resolution="Deferred to next meeting.", outcome=Outcome.DEFERRED, by=None
    )
    assert (
        not deferred.quorate
        and "not counted because of a declared interest: NHS member 2" in deferred.quorum_note
    )


def test_a_conflicted_member_cannot_vote(scene):
    declare(scene, scene.council[1])
    with pytest.raises(ValidationError) as error:
        services.decision_record(
            agenda_item=scene.item,
            resolution="Agreed.",
            outcome=Outcome.APPROVED,
            votes=votes(scene.everyone, "for"),
            by=None,
        )
    assert "Council member 2 declared an interest" in error.value.message_dict["votes"][0]


def test_a_tie_without_a_casting_vote_cannot_be_approved(scene):
    tie = votes(scene.council, "for") + votes(scene.nhs, "against")
    with pytest.raises(ValidationError) as error:
        services.decision_record(
            agenda_item=scene.item, resolution="Agreed.", outcome=Outcome.APPROVED, votes=tie, by=None
        )
    assert "did not carry" in error.value.message_dict["outcome"][0]
    rejected = services.decision_record(
        agenda_item=scene.item, resolution="Not agreed.", outcome=Outcome.REJECTED, votes=tie, by=None
    )
    assert rejected.vote_note == "Tied 3 to 3; fails (the board has no casting vote)."


def test_a_tie_is_carried_by_the_chairs_casting_vote(scene):
    scene.board.chair_has_casting_vote = True
    scene.board.save()
    tie = votes(scene.council, "for") + votes(scene.nhs, "against")
    decision = services.decision_record(
        agenda_item=scene.item,
        resolution="Agreed.",
        outcome=Outcome.APPROVED,
        votes=tie,
        casting_vote="for",
        by=None,
    )
    assert decision.outcome == Outcome.APPROVED
    assert decision.votes.get(casting=True).person == scene.council[0]  # the chair


def test_partner_block_one_partner_against_means_no_decision(scene):
    scene.board.voting_mode = VotingMode.PARTNER_BLOCK
    scene.board.save()
    ballot = votes(scene.council, "for") + votes(scene.nhs[:1], "for") + votes(scene.nhs[1:], "against")
    with pytest.raises(ValidationError):
        services.decision_record(
            agenda_item=scene.item, resolution="Agreed.", outcome=Outcome.APPROVED, votes=ballot, by=None
        )
    everyone = votes(scene.council, "for") + votes(scene.nhs[:2], "for") + votes(scene.nhs[2:], "against")
    assert (
        services.decision_record(
            agenda_item=scene.item, resolution="Agreed.", outcome=Outcome.APPROVED, votes=everyone, by=None
        ).outcome
        == Outcome.APPROVED
    )


def test_a_value_one_penny_over_the_delegated_limit_is_recorded_as_referred(scene):
    parent = BoardFactory(
        partnership=scene.board.partnership, name="Integrated Commissioning Board", code="ICB"
    )
    scene.board.parent = parent
    scene.board.save()
    decision = services.decision_record(
        agenda_item=scene.item,
        resolution="Agreed.",
        outcome=Outcome.APPROVED,
        financial_value=Decimal("500000.01"),
        urgent=True,
        urgent_reason="Provider exit",
        by=None,
    )
    assert decision.outcome == Outcome.REFERRED
    assert "referred to Integrated Commissioning Board" in decision.vote_note
    at_limit = services.decision_record(
        agenda_item=scene.item,
        resolution="Agreed.",
        outcome=Outcome.APPROVED,
        financial_value=Decimal("500000.00"),
        urgent=True,
        urgent_reason="Provider exit",
        by=None,
    )
    assert at_limit.outcome == Outcome.APPROVED


def link_entry(scene, first_published_on):
    entry = ForwardPlanEntryFactory(
        board=scene.board, expected_meeting=scene.meeting, first_published_on=first_published_on
    )
    services.agenda_item_update(item=scene.item, forward_plan_entry=entry, by=None)
    return entry


def test_a_key_decision_on_the_forward_plan_27_clear_days_before_is_flagged(scene):
    link_entry(scene, date(2021, 8, 5))
    decision = services.decision_record(
        agenda_item=scene.item,
        resolution="Agreed.",
        outcome=Outcome.APPROVED,
        financial_value=Decimal("250000.00"),
        by=None,
    )
    assert decision.key_decision and decision.flagged
    assert "only 27 clear days" in decision.notice_note


def test_a_key_decision_with_28_clear_days_notice_is_not_flagged(scene):
    link_entry(scene, date(2021, 8, 4))
    decision = services.decision_record(
        agenda_item=scene.item,
        resolution="Agreed.",
        outcome=Outcome.APPROVED,
        financial_value=Decimal("300000.00"),
        by=None,
    )
    assert decision.key_decision and not decision.flagged


def test_an_executive_decision_is_subject_to_call_in_from_publication(scene):
    scene.board.council_executive = True
    scene.board.save()
    decision = services.decision_record(
        agenda_item=scene.item, resolution="Agreed.", outcome=Outcome.APPROVED, by=None
    )
    assert decision.call_in_ends is None and decision.effective_from is None
    published = services.decision_publish(decision=decision, published_on=date(2021, 9, 3), by=None)
    assert published.call_in_ends == datetime(2021, 9, 10, 16, 0, tzinfo=calendar.LONDON)
    assert published.effective_from == published.call_in_ends
    with pytest.raises(ValidationError):
        services.decision_publish(decision=decision, published_on=date(2021, 9, 1), by=None)


def test_references_restart_each_year_and_are_per_board(scene):
    other = BoardFactory(partnership=scene.board.partnership, code="PBB")
    from django.db import transaction

    with transaction.atomic():
        assert services.allocate_decision_reference(board=scene.board, year=2021) == "BBB/2021/001"
        assert services.allocate_decision_reference(board=scene.board, year=2021) == "BBB/2021/002"
        assert services.allocate_decision_reference(board=scene.board, year=2022) == "BBB/2022/001"
        assert services.allocate_decision_reference(board=other, year=2021) == "PBB/2021/001"
        assert services.allocate_minute_number(board=scene.board, year=2022) == "1/22"


def test_minutes_number_each_item_and_reuse_the_decisions_minute_number(scene):
    decision = services.decision_record(
        agenda_item=scene.item, resolution="Agreed.", outcome=Outcome.APPROVED, by=None
    )
    apologies = scene.meeting.agenda_items.get(standing_kind=StandingItem.APOLOGIES)
    minutes = services.minutes_write(
        meeting=scene.meeting, entries={apologies.pk: "None.", scene.item.pk: "Discussed."}, by=None
    )
    numbers = dict(MinuteEntry.objects.filter(minutes=minutes).values_list("agenda_item_id", "minute_number"))
    # every item was numbered in agenda order when the decision was recorded
    assert numbers[scene.item.pk] == decision.minute_number == "4/21"
    assert numbers[apologies.pk] == "1/21"
    later = MeetingFactory(board=scene.board, starts_at=london(2021, 10, 7))
    services.minutes_approve(minutes=minutes, at_meeting=later, by=None)
    minutes.refresh_from_db()
    assert minutes.approved_on == date(2021, 10, 7)
    with pytest.raises(ValidationError):
        services.minutes_write(meeting=scene.meeting, entries={apologies.pk: "Changed."}, by=None)


def test_public_minutes_of_an_exempt_item_need_a_part_2_summary(scene):
    exempt = services.agenda_item_add(
        meeting=scene.meeting,
        title="Provider failure",
        exemption_regime=ExemptionRegime.ACT_1960,
        exemption_reason="Commercial confidentiality",
        by=None,
    )
    with pytest.raises(ValidationError) as error:
        services.minutes_write(meeting=scene.meeting, entries={exempt.pk: "Detail."}, by=None)
    assert "part2_summary" in error.value.message_dict


def test_a_substitute_takes_the_members_seat_for_quorum_and_voting(scene, partnership):
    from tests.commissioning.factories import PersonFactory

    deputy = PersonFactory(name="Deputy")
    services.attendance_record(meeting=scene.meeting, person=scene.nhs[0], status="apologies", by=None)
    services.attendance_record(
        meeting=scene.meeting, person=deputy, status="present", substitute_for=scene.nhs[0], by=None
    )
    decision = services.decision_record(
        agenda_item=scene.item,
        resolution="Agreed.",
        outcome=Outcome.APPROVED,
        votes=votes([*scene.council, deputy, *scene.nhs[1:]], "for"),
        by=None,
    )
    assert decision.votes.get(person=deputy).representing == partnership.nhs_commissioner


# --- Concurrency ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_decisions_get_gapless_unique_references(scene):
    """Eight threads record decisions on the same board at once: references 001 to 008, no gaps,
    no duplicates (the counter row is locked for each transaction)."""
    item_id = scene.item.pk
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def record():
        try:
            barrier.wait(timeout=10)
            services.decision_record(
                agenda_item=AgendaItem(pk=item_id), resolution="Noted.", outcome=Outcome.NOTED, by=None
            )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=record) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    references = sorted(Decision.objects.values_list("reference", flat=True))
    assert references == [f"BBB/2021/{n:03d}" for n in range(1, 9)]
