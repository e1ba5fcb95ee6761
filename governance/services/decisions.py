"""Decisions: recorded on an agenda item with quorum checked (conflicted members excluded), the
votes counted in the board's voting mode, approvals above the delegated limit referred, key
decisions without notice flagged, the reference and minute number allocated and call-in set; then
published, and linked to what they changed. The rules are the pure modules ``quorum``, ``voting``,
``delegation`` and ``calendar``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from commissioning.models import Person, User
from commissioning.money import format_money
from governance import calendar, delegation, voting
from governance.models import AgendaItem, Board, Decision, DecisionLink, Outcome, Vote, VotingMode
from governance.selectors import attendees_for_item, members_on, partner_codes, quorum_for_item
from governance.services.common import acting, validated_save
from governance.services.numbering import allocate_decision_reference, item_minute_number


@dataclass(frozen=True)
class CastVote:
    person: Person
    choice: str


@dataclass(frozen=True)
class VoteOutcome:
    passed: bool | None  # None: no vote taken (consensus)
    explanation: str


def _ballots(item: AgendaItem, votes: list[CastVote]) -> list[voting.Ballot]:
    seats = {a.person_id: a for a in attendees_for_item(item)}
    ballots = []
    errors = []
    for vote in votes:
        seat = seats.get(vote.person.pk)
        if seat is None or not seat.present:
            errors.append(f"{vote.person} was not present as a member, so cannot vote.")
            continue
        if not seat.voting:
            errors.append(f"{vote.person} has no vote on this board.")
            continue
        if seat.conflicted:
            errors.append(f"{vote.person} declared an interest and withdrew or did not vote on this item.")
            continue
        ballots.append(
            voting.Ballot(
                person_id=seat.person_id, choice=vote.choice, representing=seat.representing, conflicted=False
            )
        )
    if errors:
        raise ValidationError({"votes": errors})
    if len({b.person_id for b in ballots}) != len(ballots):
        raise ValidationError({"votes": ["Each member votes once."]})
    return ballots


def count_votes(*, item: AgendaItem, votes: list[CastVote], casting_vote: str | None) -> VoteOutcome:
    if not votes:
        return VoteOutcome(None, "Agreed without a vote.")
    board = item.meeting.board
    ballots = _ballots(item, votes)
    if board.voting_mode == VotingMode.PARTNER_BLOCK:
        result = voting.partner_block(ballots, partners=partner_codes(board))
    else:
        result = voting.majority(
            ballots, chair_has_casting_vote=board.chair_has_casting_vote, casting_vote=casting_vote
        )
    return VoteOutcome(result.passed, result.explanation)


@transaction.atomic
def decision_record(
    *,
    agenda_item: AgendaItem,
    resolution: str,
    outcome: str,
    by: User | None,
    reasons: str = "",
    alternatives_rejected: str = "",
    financial_value: Decimal | None = None,
    urgent: bool = False,
    urgent_reason: str = "",
    votes: list[CastVote] | None = None,
    casting_vote: str | None = None,
    published_on: date | None = None,
) -> Decision:
    """Record a decision on an item: checks quorum (conflicted members excluded), counts the votes
    in the board's voting mode, refers approvals above the delegated limit, flags key decisions
    without notice, allocates the reference and minute number, and sets call-in."""
    item = (
        AgendaItem.objects.select_for_update()
        .select_related("meeting__board__partnership")
        .get(pk=agenda_item.pk)
    )
    meeting = item.meeting
    board = meeting.board
    errors: dict[str, list[str]] = {}
    if not (resolution or "").strip():
        errors["resolution"] = ["Enter the resolution."]
    if outcome not in Outcome.values:
        errors["outcome"] = [f"Choose one of: {', '.join(Outcome.values)}."]
    if urgent and not (urgent_reason or "").strip():
        errors["urgent_reason"] = ["Give the reason the decision is urgent."]
    if financial_value is not None and financial_value < 0:
        errors["financial_value"] = ["The financial value cannot be negative."]
    if casting_vote not in (None, "", voting.FOR, voting.AGAINST):
        errors["casting_vote"] = ["The casting vote is for or against."]
    if casting_vote and not board.chair_has_casting_vote:
        errors["casting_vote"] = ["The chair of this board has no casting vote."]
    if errors:
        raise ValidationError(errors)
    quorum = quorum_for_item(item)
    counted = count_votes(item=item, votes=votes or [], casting_vote=casting_vote or None)
    try:
        recorded = delegation.recordable_outcome(
            requested=outcome,
            quorate=quorum.quorate,
            vote_passed=counted.passed,
            value=financial_value,
            delegated_limit=board.delegated_limit,
        )
    except delegation.OutcomeRefused as exc:
        raise ValidationError({"outcome": [str(exc)]}) from exc

    key = delegation.is_key_decision(financial_value, board.key_decision_threshold)
    notice = None
    if key:
        entry = _forward_plan_entry_for(item)
        notice = delegation.key_decision_notice(
            meeting_on=timezone.localtime(meeting.starts_at).date(),
            first_published_on=entry.first_published_on if entry else None,
            urgent=urgent,
            urgent_reason=urgent_reason,
        )
    decided_at = meeting.starts_at
    decided_on = timezone.localtime(decided_at).date()
    call_in, effective = calendar.effective_from(
        council_executive=board.council_executive,
        urgent=urgent,
        published_on=published_on,
        decided_at=decided_at,
    )
    vote_note = counted.explanation
    if recorded == Outcome.REFERRED and outcome != Outcome.REFERRED:
        vote_note += (
            f" Value above the delegated limit of {format_money(board.delegated_limit)}: referred to "
            f"{board.parent.name if board.parent_id else 'the parent board'}."
        )
    decision = Decision(
        agenda_item=item,
        reference=allocate_decision_reference(board=board, year=decided_on.year),
        minute_number=item_minute_number(item, decided_on.year),
        resolution=resolution.strip(),
        reasons=reasons,
        alternatives_rejected=alternatives_rejected,
        outcome=recorded,
        quorate=quorum.quorate,
        quorum_note=quorum.explain()[:500],
        vote_note=vote_note[:500],
        financial_value=financial_value,
        key_decision=key,
        notice_ok=notice.ok if notice else True,
        notice_note=notice.message[:300] if notice else "",
        urgent=urgent,
        urgent_reason=urgent_reason if urgent else "",
        decided_on=decided_on,
        published_on=published_on,
        call_in_ends=call_in,
        effective_from=effective,
    )
    validated_save(decision, by=by)
    with acting(by):
        seats = {a.person_id: a for a in attendees_for_item(item)}
        for vote in votes or []:
            seat = seats[vote.person.pk]
            Vote.objects.create(
                decision=decision,
                person=vote.person,
                representing_id=_org_id(board, seat.representing),
                choice=vote.choice,
            )
        if casting_vote:
            chair = _chair_of(board, decided_on)
            if chair is not None:
                Vote.objects.create(decision=decision, person=chair, choice=casting_vote, casting=True)
    return decision


def _org_id(board: Board, code: str | None) -> int | None:
    partnership = board.partnership
    return {
        partnership.council.code: partnership.council_id,
        partnership.nhs_commissioner.code: partnership.nhs_commissioner_id,
    }.get(code or "")


def _chair_of(board: Board, day: date) -> Person | None:
    membership = members_on(board, day).filter(role__in=("chair", "joint_chair")).order_by("pk").first()
    return membership.person if membership else None


def _forward_plan_entry_for(item: AgendaItem):
    """The forward plan entry of the decision: for this meeting, and with the item's title if several."""
    entries = list(item.meeting.forward_plan_entries.filter(key_decision=True).order_by("first_published_on"))
    for entry in entries:
        if entry.title.strip().lower() == item.title.strip().lower():
            return entry
    return entries[0] if len(entries) == 1 else None


@transaction.atomic
def decision_publish(*, decision: Decision, published_on: date, by: User | None) -> Decision:
    """Publish the decision notice: call-in (council executive bodies) runs from publication."""
    locked = (
        Decision.objects.select_for_update().select_related("agenda_item__meeting__board").get(pk=decision.pk)
    )
    if published_on < locked.decided_on:
        raise ValidationError({"published_on": ["A decision is published on or after the day it was taken."]})
    board = locked.agenda_item.meeting.board
    locked.published_on = published_on
    locked.call_in_ends, locked.effective_from = calendar.effective_from(
        council_executive=board.council_executive,
        urgent=locked.urgent,
        published_on=published_on,
        decided_at=locked.agenda_item.meeting.starts_at,
    )
    locked.version += 1
    return validated_save(locked, by=by)


IMMUTABLE = "A recorded decision cannot change; record a new decision instead."


@transaction.atomic
def decision_update(*, decision: Decision, by: User | None, **fields: Any) -> Decision:
    """A change to a recorded decision: only its publication (``published_on``). A decision is the
    record; anything else is refused (record a new decision instead)."""
    unexpected = sorted(set(fields) - {"published_on"})
    if unexpected:
        raise ValidationError({name: [IMMUTABLE] for name in unexpected})
    if not fields.get("published_on"):
        raise ValidationError({"published_on": ["Give the publication date."]})
    return decision_publish(decision=decision, published_on=fields["published_on"], by=by)


@transaction.atomic
def decision_link_add(
    *,
    decision: Decision,
    target: models.Model,
    by: User | None,
    description: str = "",
    amount_before: Decimal | None = None,
    amount_after: Decimal | None = None,
) -> DecisionLink:
    """Record what a decision changed (an agreement, budget line, virement), with amounts."""
    link = DecisionLink.objects.filter(
        decision=decision, content_type=ContentType.objects.get_for_model(target), object_id=target.pk
    ).first() or DecisionLink(
        decision=decision, content_type=ContentType.objects.get_for_model(target), object_id=target.pk
    )
    link.description = description or str(target)[:300]
    link.amount_before = amount_before
    link.amount_after = amount_after
    return validated_save(link, by=by)
