"""Rule 3 as pure functions: quorum, voting, delegation, key decisions, references, call-in."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance import calendar, delegation, references, voting
from governance.quorum import Attendee, assess_quorum
from governance.voting import AGAINST, FOR, Ballot

LONDON = calendar.LONDON
PARTNERS = ("LBB", "SELCCG-BR")


def members(council: int, nhs: int, joint: int = 0, *, conflicted: tuple[int, ...] = ()) -> list[Attendee]:
    people = [("LBB", n) for n in range(council)] + [("SELCCG-BR", n) for n in range(nhs)]
    people += [(None, n) for n in range(joint)]
    return [
        Attendee(person_id=i, name=f"{code or 'joint'} {n}", representing=code, conflicted=i in conflicted)
        for i, (code, n) in enumerate(people)
    ]


# --- Quorum -------------------------------------------------------------------------------------


def test_quorate_with_enough_voting_members_from_each_partner():
    result = assess_quorum(members(2, 2), min_voting=4, min_per_partner=2, partners=PARTNERS)
    assert result.quorate
    assert result.per_partner == {"LBB": 2, "SELCCG-BR": 2}


def test_a_conflicted_member_tips_the_item_out_of_quorum():
    # four voting members present, four needed; one withdrew because of an interest
    result = assess_quorum(members(2, 2, conflicted=(0,)), min_voting=4, min_per_partner=1, partners=PARTNERS)
    assert not result.quorate
    assert result.voting_present == 3
    assert "3 voting members present and not conflicted, 4 needed" in result.explain()
    assert "not counted because of a declared interest: LBB 0" in result.explain()


def test_the_same_members_are_quorate_for_an_item_without_the_conflict():
    assert assess_quorum(members(2, 2), min_voting=4, min_per_partner=1, partners=PARTNERS).quorate


def test_each_partner_needs_its_minimum_even_when_the_total_is_met():
    result = assess_quorum(members(4, 1), min_voting=4, min_per_partner=2, partners=PARTNERS)
    assert not result.quorate
    assert result.reasons == ("1 voting members for SELCCG-BR, 2 needed",)


def test_joint_members_count_towards_the_total_but_not_towards_a_partner():
    result = assess_quorum(members(1, 1, joint=2), min_voting=4, min_per_partner=1, partners=PARTNERS)
    assert result.quorate
    assert result.per_partner == {"LBB": 1, "SELCCG-BR": 1}


def test_non_voting_and_absent_members_do_not_count():
    people = [
        Attendee(1, representing="LBB"),
        Attendee(2, representing="SELCCG-BR"),
        Attendee(3, representing="LBB", voting=False),
        Attendee(4, representing="SELCCG-BR", present=False),
    ]
    result = assess_quorum(people, min_voting=3, min_per_partner=1, partners=PARTNERS)
    assert not result.quorate and result.voting_present == 2


@given(st.lists(st.tuples(st.sampled_from([*PARTNERS, None]), st.booleans(), st.booleans()), max_size=12))
def test_withdrawing_a_member_never_makes_an_item_quorate(rows):
    people = [
        Attendee(i, representing=code, present=present, conflicted=conflicted)
        for i, (code, present, conflicted) in enumerate(rows)
    ]
    before = assess_quorum(people, min_voting=3, min_per_partner=1, partners=PARTNERS)
    more_conflicted = [
        Attendee(a.person_id, representing=a.representing, present=a.present, conflicted=True)
        if i == 0
        else a
        for i, a in enumerate(people)
    ]
    after = assess_quorum(more_conflicted, min_voting=3, min_per_partner=1, partners=PARTNERS)
    assert after.voting_present <= before.voting_present
    assert not (after.quorate and not before.quorate)


# --- Voting -------------------------------------------------------------------------------------


def ballots(*choices: str, representing: str | None = None) -> list[Ballot]:
    return [Ballot(person_id=i, choice=c, representing=representing) for i, c in enumerate(choices)]


def test_majority_carries_on_more_for_than_against_abstentions_do_not_count():
    result = voting.majority(ballots(FOR, FOR, AGAINST, "abstain", "abstain"), chair_has_casting_vote=False)
    assert result.passed and (result.tally.for_, result.tally.against, result.tally.abstained) == (2, 1, 2)


def test_a_tie_fails_without_a_casting_vote():
    result = voting.majority(
        ballots(FOR, FOR, AGAINST, AGAINST), chair_has_casting_vote=False, casting_vote=FOR
    )
    assert not result.passed and not result.casting_vote_used
    assert "the board has no casting vote" in result.explanation


def test_a_tie_is_decided_by_the_chairs_casting_vote_when_the_board_has_one():
    carried = voting.majority(ballots(FOR, AGAINST), chair_has_casting_vote=True, casting_vote=FOR)
    lost = voting.majority(ballots(FOR, AGAINST), chair_has_casting_vote=True, casting_vote=AGAINST)
    assert carried.passed and carried.casting_vote_used
    assert not lost.passed and lost.casting_vote_used


def test_a_tie_fails_when_the_chair_gives_no_casting_vote():
    assert not voting.majority(ballots(FOR, AGAINST), chair_has_casting_vote=True).passed


def test_the_casting_vote_is_ignored_without_a_tie():
    result = voting.majority(ballots(FOR, FOR, AGAINST), chair_has_casting_vote=True, casting_vote=AGAINST)
    assert result.passed and not result.casting_vote_used


def test_conflicted_ballots_are_not_counted():
    result = voting.majority(
        [Ballot(1, FOR), Ballot(2, AGAINST), Ballot(3, AGAINST, conflicted=True)],
        chair_has_casting_vote=False,
    )
    assert (result.tally.for_, result.tally.against) == (1, 1) and not result.passed


def test_partner_block_passes_when_every_partner_agrees():
    votes = ballots(FOR, FOR, AGAINST, representing="LBB") + [
        Ballot(10, FOR, "SELCCG-BR"),
        Ballot(11, AGAINST, "SELCCG-BR"),
        Ballot(12, FOR, "SELCCG-BR"),
    ]
    result = voting.partner_block(votes, partners=PARTNERS)
    assert result.passed and result.blocks == {"LBB": FOR, "SELCCG-BR": FOR}


def test_one_partners_block_against_defeats_the_resolution_whatever_the_headcount():
    # 5 for and 2 against overall, but the NHS members are 2 to 1 against: no agreement, no decision
    votes = ballots(FOR, FOR, FOR, FOR, representing="LBB") + [
        Ballot(10, FOR, "SELCCG-BR"),
        Ballot(11, AGAINST, "SELCCG-BR"),
        Ballot(12, AGAINST, "SELCCG-BR"),
    ]
    result = voting.partner_block(votes, partners=PARTNERS)
    assert not result.passed
    assert result.blocks == {"LBB": FOR, "SELCCG-BR": AGAINST}
    assert "no agreement, no decision" in result.explanation


def test_a_partner_whose_members_tie_has_not_agreed():
    votes = ballots(FOR, representing="LBB") + [
        Ballot(10, FOR, "SELCCG-BR"),
        Ballot(11, AGAINST, "SELCCG-BR"),
    ]
    result = voting.partner_block(votes, partners=PARTNERS)
    assert not result.passed and result.blocks["SELCCG-BR"] == "none"


def test_a_partner_with_no_votes_has_not_agreed():
    assert not voting.partner_block(ballots(FOR, FOR, representing="LBB"), partners=PARTNERS).passed


def test_a_conflicted_member_does_not_count_in_their_partners_block():
    votes = [
        Ballot(1, FOR, "LBB"),
        Ballot(10, FOR, "SELCCG-BR"),
        Ballot(11, AGAINST, "SELCCG-BR", conflicted=True),
    ]
    assert voting.partner_block(votes, partners=PARTNERS).passed


@given(st.lists(st.sampled_from([FOR, AGAINST, "abstain"]), max_size=15))
def test_a_majority_never_passes_with_more_against_than_for(choices):
    result = voting.majority(ballots(*choices), chair_has_casting_vote=True, casting_vote=FOR)
    if result.tally.against > result.tally.for_:
        assert not result.passed
    if result.tally.for_ > result.tally.against:
        assert result.passed


# --- Delegation and key decisions ---------------------------------------------------------------


def test_a_value_one_penny_over_the_delegated_limit_is_referred():
    limit = Decimal("500000.00")
    assert (
        delegation.recordable_outcome(
            requested="approved",
            quorate=True,
            vote_passed=True,
            value=Decimal("500000.01"),
            delegated_limit=limit,
        )
        == "referred"
    )


def test_a_value_at_the_delegated_limit_is_approved():
    assert (
        delegation.recordable_outcome(
            requested="approved",
            quorate=True,
            vote_passed=True,
            value=Decimal("500000.00"),
            delegated_limit=Decimal("500000.00"),
        )
        == "approved"
    )


def test_no_limit_means_no_referral():
    assert not delegation.exceeds_delegated_limit(Decimal("99999999.99"), None)


def test_not_quorate_cannot_be_recorded_approved_but_can_be_deferred():
    with pytest.raises(delegation.OutcomeRefused, match="not quorate"):
        delegation.recordable_outcome(
            requested="approved", quorate=False, vote_passed=None, value=None, delegated_limit=None
        )
    with pytest.raises(delegation.OutcomeRefused):
        delegation.recordable_outcome(
            requested="approved_with_amendments",
            quorate=False,
            vote_passed=True,
            value=None,
            delegated_limit=None,
        )
    assert (
        delegation.recordable_outcome(
            requested="deferred", quorate=False, vote_passed=None, value=None, delegated_limit=None
        )
        == "deferred"
    )


def test_a_lost_vote_cannot_be_recorded_approved():
    with pytest.raises(delegation.OutcomeRefused, match="did not carry"):
        delegation.recordable_outcome(
            requested="approved", quorate=True, vote_passed=False, value=None, delegated_limit=None
        )


def test_a_key_decision_is_one_whose_value_reaches_the_threshold():
    threshold = Decimal("250000.00")
    assert delegation.is_key_decision(Decimal("250000.00"), threshold)
    assert not delegation.is_key_decision(Decimal("249999.99"), threshold)
    assert not delegation.is_key_decision(None, threshold)


def test_a_key_decision_first_published_27_clear_days_before_is_flagged():
    # meeting Thursday 2 September 2021; published 5 August: 6 Aug .. 1 Sep is 27 clear days
    check = delegation.key_decision_notice(
        meeting_on=date(2021, 9, 2), first_published_on=date(2021, 8, 5), urgent=False
    )
    assert not check.ok and check.clear_days == 27
    assert "only 27 clear days" in check.message


def test_a_key_decision_first_published_28_clear_days_before_is_in_order():
    check = delegation.key_decision_notice(
        meeting_on=date(2021, 9, 2), first_published_on=date(2021, 8, 4), urgent=False
    )
    assert check.ok and check.clear_days == 28


def test_an_urgent_key_decision_with_a_reason_needs_no_notice():
    check = delegation.key_decision_notice(
        meeting_on=date(2021, 9, 2), first_published_on=None, urgent=True, urgent_reason="Provider failure"
    )
    assert check.ok and check.message == "Urgent: Provider failure"


def test_urgent_without_a_reason_is_not_enough():
    check = delegation.key_decision_notice(
        meeting_on=date(2021, 9, 2), first_published_on=None, urgent=True, urgent_reason=" "
    )
    assert not check.ok


# --- References ---------------------------------------------------------------------------------


def test_decision_references_and_minute_numbers_have_the_house_format():
    assert references.decision_reference("BBB", 2021, 7) == "BBB/2021/007"
    assert references.decision_reference("BBB", 2021, 1234) == "BBB/2021/1234"
    assert references.minute_number(77, 2021) == "77/21"
    assert references.minute_number(1, 2000) == "1/00"
    assert references.parse_reference("BBB/2021/007") == ("BBB", 2021, 7)
    with pytest.raises(ValueError):
        references.decision_reference("BBB", 2021, 0)


# --- Working days and call-in -------------------------------------------------------------------


def test_call_in_ends_at_four_on_the_fifth_working_day():
    # published Monday 6 September 2021: Tue, Wed, Thu, Fri, Mon
    assert calendar.call_in_ends(date(2021, 9, 6)) == datetime(2021, 9, 13, 16, 0, tzinfo=LONDON)


def test_call_in_skips_a_bank_holiday_weekend():
    # published Thursday 26 August 2021; Monday 30 August is the late summer bank holiday:
    # Fri 27 (1), Tue 31 (2), Wed 1 (3), Thu 2 (4), Fri 3 September (5)
    assert calendar.is_bank_holiday(date(2021, 8, 30))
    assert calendar.call_in_ends(date(2021, 8, 26)) == datetime(2021, 9, 3, 16, 0, tzinfo=LONDON)


def test_call_in_skips_christmas_substitute_days():
    # Christmas 2021 fell on a Saturday: Monday 27 and Tuesday 28 December were bank holidays
    assert calendar.call_in_ends(date(2021, 12, 23)) == datetime(2022, 1, 4, 16, 0, tzinfo=LONDON)
    # Fri 24 (1), Wed 29 (2), Thu 30 (3), Fri 31 (4), [Mon 3 Jan 2022 bank holiday], Tue 4 (5)


def test_call_in_uses_english_not_scottish_holidays():
    # 2 January is a bank holiday in Scotland only; 2 Jan 2023 was the New Year substitute in England too,
    # so use 2024: Tuesday 2 January 2024 is a working day in England
    assert calendar.is_working_day(date(2024, 1, 2))
    assert not calendar.is_working_day(date(2024, 1, 1))


def test_urgent_decisions_of_an_executive_body_are_effective_at_once():
    decided = datetime(2021, 9, 2, 14, 0, tzinfo=LONDON)
    assert calendar.effective_from(
        council_executive=True, urgent=True, published_on=date(2021, 9, 3), decided_at=decided
    ) == (None, decided)


def test_executive_decisions_are_effective_when_call_in_ends():
    decided = datetime(2021, 9, 2, 14, 0, tzinfo=LONDON)
    ends = datetime(2021, 9, 10, 16, 0, tzinfo=LONDON)
    assert calendar.effective_from(
        council_executive=True, urgent=False, published_on=date(2021, 9, 3), decided_at=decided
    ) == (ends, ends)
    assert calendar.effective_from(
        council_executive=True, urgent=False, published_on=None, decided_at=decided
    ) == (None, None)


def test_nhs_only_boards_have_no_call_in():
    decided = datetime(2021, 9, 2, 14, 0, tzinfo=LONDON)
    assert calendar.effective_from(
        council_executive=False, urgent=False, published_on=date(2021, 9, 3), decided_at=decided
    ) == (None, decided)


def test_clear_days_exclude_both_ends():
    assert calendar.clear_days_between(date(2021, 9, 6), date(2021, 9, 8)) == 1
    assert calendar.clear_days_between(date(2021, 9, 6), date(2021, 9, 7)) == 0
