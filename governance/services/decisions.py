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
from governance.services.meetings import require_started
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
        AgendaItem.objects.select_for_update(of=("self",))
        .select_related("meeting__board__partnership", "forward_plan_entry")
        .get(pk=agenda_item.pk)
    )
    meeting = item.meeting
    board = meeting.board
    require_started(meeting, "decisions and votes")
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
    if published_on is not None:
        errors.update(_publication_errors(published_on, timezone.localtime(meeting.starts_at).date()))
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

    key, notice = _key_decision(item, financial_value, urgent=urgent, urgent_reason=urgent_reason)
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
        minute_number=item_minute_number(item),
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


def _key_decision(item: AgendaItem, value: Decimal | None, *, urgent: bool, urgent_reason: str):
    """Is it a key decision, and was notice given? The 28 clear days run from the first-published
    date of the forward plan entry linked to the item, and only that entry: an item with no linked
    entry is not on the forward plan, whatever the other items of the meeting have."""
    board = item.meeting.board
    if not delegation.is_key_decision(value, board.key_decision_threshold):
        return False, None
    entry = item.forward_plan_entry
    notice = delegation.key_decision_notice(
        meeting_on=timezone.localtime(item.meeting.starts_at).date(),
        first_published_on=entry.first_published_on if entry else None,
        urgent=urgent,
        urgent_reason=urgent_reason,
    )
    return True, notice


def _publication_errors(published_on: date, decided_on: date) -> dict[str, list[str]]:
    if published_on > timezone.localdate():
        return {"published_on": ["A decision notice is published today or earlier, never in the future."]}
    if published_on < decided_on:
        return {"published_on": ["A decision is published on or after the day it was taken."]}
    return {}


ALREADY_PUBLISHED = (
    "Decision {reference} was published on {published:%-d %B %Y} and is never edited: put a mistake "
    "right with a correction notice."
)


@transaction.atomic
def decision_publish(*, decision: Decision, published_on: date | None = None, by: User | None) -> Decision:
    """Publish the decision notice (today unless given; never in the future): only then do the
    public page, the public API and the public pack see it. Call-in (council executive bodies)
    runs from publication."""
    locked = (
        Decision.objects.select_for_update().select_related("agenda_item__meeting__board").get(pk=decision.pk)
    )
    published_on = published_on or timezone.localdate()
    if locked.published_on is not None:
        raise ValidationError(
            {
                "published_on": [
                    ALREADY_PUBLISHED.format(reference=locked.reference, published=locked.published_on)
                ]
            }
        )
    errors = _publication_errors(published_on, locked.decided_on)
    if errors:
        raise ValidationError(errors)
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


IMMUTABLE = "This cannot change once recorded; record a new decision instead."
CORRECTABLE = {"resolution", "reasons", "alternatives_rejected"}


@transaction.atomic
def decision_update(*, decision: Decision, by: User | None, **fields: Any) -> Decision:
    """Before publication the secretary may correct the wording of a decision (the resolution, the
    reasons, the alternatives rejected; the history keeps every version) or publish it
    (``published_on``). After publication it is never edited: a correction notice puts it right."""
    locked = Decision.objects.select_for_update().get(pk=decision.pk)
    unexpected = sorted(set(fields) - CORRECTABLE - {"published_on"})
    if unexpected:
        raise ValidationError({name: [IMMUTABLE] for name in unexpected})
    if locked.published_on is not None:
        message = ALREADY_PUBLISHED.format(reference=locked.reference, published=locked.published_on)
        raise ValidationError({name: [message] for name in fields} or {"non_field_errors": [message]})
    changes = {name: value for name, value in fields.items() if name in CORRECTABLE}
    if "resolution" in changes and not (changes["resolution"] or "").strip():
        raise ValidationError({"resolution": ["Enter the resolution."]})
    if changes:
        for name, value in changes.items():
            setattr(locked, name, value.strip() if name == "resolution" else value)
        locked.version += 1
        validated_save(locked, by=by)
    if "published_on" in fields:
        if not fields["published_on"]:
            raise ValidationError({"published_on": ["Give the publication date."]})
        return decision_publish(decision=locked, published_on=fields["published_on"], by=by)
    return locked


@transaction.atomic
def decision_correct(
    *,
    decision: Decision,
    by: User | None,
    resolution: str,
    reasons: str | None = None,
    alternatives_rejected: str | None = None,
    financial_value: Decimal | None = None,
    correction_note: str = "",
) -> Decision:
    """A correction notice: a new decision record citing the published original ("corrects
    BBB/2021/004"), with its own reference and the original's item, minute number, outcome and
    record, published the same way. The original stays, marked corrected once the correction is
    published. The outcome cannot change by correction (a new decision is taken for that)."""
    original = (
        Decision.objects.select_for_update(of=("self",))
        .select_related("agenda_item__meeting__board", "agenda_item__forward_plan_entry")
        .get(pk=decision.pk)
    )
    if original.published_on is None:
        raise ValidationError(
            {"non_field_errors": ["The decision is not published yet: correct it directly instead."]}
        )
    if not (resolution or "").strip():
        raise ValidationError({"resolution": ["Enter the corrected resolution."]})
    item = original.agenda_item
    board = item.meeting.board
    value = original.financial_value if financial_value is None else financial_value
    if value is not None and value < 0:
        raise ValidationError({"financial_value": ["The financial value cannot be negative."]})
    approved = original.outcome in (Outcome.APPROVED, Outcome.APPROVED_WITH_AMENDMENTS)
    if approved and value is not None and board.delegated_limit is not None and value > board.delegated_limit:
        raise ValidationError(
            {
                "financial_value": [
                    f"{format_money(value)} is above the delegated limit of "
                    f"{format_money(board.delegated_limit)}: a correction cannot change the outcome; "
                    "refer the decision to the parent board."
                ]
            }
        )
    key, notice = _key_decision(item, value, urgent=original.urgent, urgent_reason=original.urgent_reason)
    note = f"Corrects {original.reference}." + (
        f" {correction_note.strip()}" if correction_note.strip() else ""
    )
    correction = Decision(
        agenda_item=item,
        corrects=original,
        reference=allocate_decision_reference(board=board, year=original.decided_on.year),
        minute_number=original.minute_number,
        resolution=resolution.strip(),
        reasons=original.reasons if reasons is None else reasons,
        alternatives_rejected=original.alternatives_rejected
        if alternatives_rejected is None
        else alternatives_rejected,
        outcome=original.outcome,
        quorate=original.quorate,
        quorum_note=original.quorum_note,
        vote_note=f"{note} {original.vote_note}"[:500],
        financial_value=value,
        key_decision=key,
        notice_ok=notice.ok if notice else True,
        notice_note=notice.message[:300] if notice else "",
        urgent=original.urgent,
        urgent_reason=original.urgent_reason,
        decided_on=original.decided_on,
    )
    return validated_save(correction, by=by)


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
    """Record what a decision changed (an agreement, variation, schedule, budget line, virement),
    with the amounts before and after it where it changed one (a virement's: the amount moved as
    proposed and as approved). The record must belong to the decision's partnership."""
    from governance.linking import partnership_id_of

    board = decision.agenda_item.meeting.board
    owner = partnership_id_of(target)
    if owner is not None and owner != board.partnership_id:
        raise ValidationError(
            {"target": [f"Choose a record of {board.partnership.name}, the partnership of {board.name}."]}
        )
    link = DecisionLink.objects.filter(
        decision=decision, content_type=ContentType.objects.get_for_model(target), object_id=target.pk
    ).first() or DecisionLink(
        decision=decision, content_type=ContentType.objects.get_for_model(target), object_id=target.pk
    )
    link.description = description or str(target)[:300]
    link.amount_before = amount_before
    link.amount_after = amount_after
    return validated_save(link, by=by)


@transaction.atomic
def decision_link_remove(*, link: DecisionLink, by: User | None) -> Decision:
    """Undo a link recorded in error; the history keeps that it was there."""
    decision = link.decision
    with acting(by):
        link.delete()
    return decision
