"""Writes of the governance app (conventions.md): each service is one transaction with keyword-only
arguments, validates, writes with the acting user in the history context, and is what the pages,
the API, the tasks and the demo loader call. The rules themselves are the pure modules
``quorum``, ``voting``, ``delegation``, ``calendar`` and ``references``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pghistory
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.db.models import F, Max
from django.utils import timezone

from commissioning import jobs, uploads
from commissioning.models import Person, User
from commissioning.services import StaleEdit
from governance import calendar, delegation, references, voting
from governance.models import (
    Action,
    ActionStatus,
    AgendaItem,
    Attendance,
    Board,
    BoardPack,
    Decision,
    DecisionLink,
    ExemptionRegime,
    ForwardPlanEntry,
    InterestDeclaration,
    Meeting,
    MeetingStatus,
    Membership,
    MinuteEntry,
    Minutes,
    Outcome,
    PackAudience,
    PackStatus,
    Paper,
    PaperAppendix,
    PaperLink,
    Purpose,
    ReferenceCounter,
    RegisterChange,
    RegisterEntry,
    StandingItem,
    Vote,
    VotingMode,
    sees_all_exempt,
)
from governance.selectors import attendees_for_item, partner_codes, quorum_for_item

APPENDIX_MAX_BYTES = 10 * 1024 * 1024


def _history(by: User | None):
    return pghistory.context(user=by.pk if by else None)


def _save(instance: models.Model, *, by: User | None, exclude: list[str] | None = None) -> models.Model:
    instance.full_clean(exclude=exclude)
    with _history(by):
        instance.save()
    return instance


# --- Reference data: boards, memberships, forward plan -------------------------------------------

BOARD_FIELDS = {
    "partnership",
    "name",
    "code",
    "meets_in_public",
    "council_executive",
    "quorum_min_voting",
    "quorum_min_per_partner",
    "voting_mode",
    "chair_has_casting_vote",
    "delegated_limit",
    "key_decision_threshold",
    "parent",
    "terms_of_reference",
}


def _check_fields(fields: dict, allowed: set[str], what: str) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unknown {what} fields: {sorted(unknown)}")


def _validate_board(board: Board) -> None:
    if board.parent_id and board.parent.partnership_id != board.partnership_id:
        raise ValidationError({"parent": ["The parent board must belong to the same partnership."]})
    if board.parent_id and board.pk and board.parent_id == board.pk:
        raise ValidationError({"parent": ["A board cannot be its own parent."]})


@transaction.atomic
def board_create(*, by: User | None, **fields: Any) -> Board:
    _check_fields(fields, BOARD_FIELDS, "board")
    board = Board(**fields)
    _validate_board(board)
    return _save(board, by=by)


@transaction.atomic
def board_update(*, board: Board, by: User | None, **fields: Any) -> Board:
    _check_fields(fields, BOARD_FIELDS, "board")
    locked = Board.objects.select_for_update().get(pk=board.pk)
    for name, value in fields.items():
        setattr(locked, name, value)
    _validate_board(locked)
    return _save(locked, by=by)


@transaction.atomic
def membership_add(
    *,
    board: Board,
    person: Person,
    role: str,
    voting: bool,
    representing=None,
    start: date,
    end: date | None = None,
    by: User | None,
) -> Membership:
    membership = Membership(
        board=board,
        person=person,
        role=role,
        voting=voting,
        representing=representing,
        start=start,
        end=end,
    )
    _validate_membership(membership)
    return _save(membership, by=by)


def _validate_membership(membership: Membership) -> None:
    partnership = membership.board.partnership
    representing = membership.representing
    if representing is not None and representing.pk not in (
        partnership.council_id,
        partnership.nhs_commissioner_id,
    ):
        raise ValidationError(
            {
                "representing": [
                    f"A member represents one of the partners of {partnership.name}, or both jointly."
                ]
            }
        )
    if membership.end is not None and membership.start and membership.end < membership.start:
        raise ValidationError({"end": ["The end date must be on or after the start date."]})


MEMBERSHIP_FIELDS = {"role", "voting", "representing", "start", "end"}


@transaction.atomic
def membership_update(*, membership: Membership, by: User | None, **fields: Any) -> Membership:
    """Change a member's role, vote, the partner represented or the dates (the person and board
    stay: a different person is a new membership)."""
    _check_fields(fields, MEMBERSHIP_FIELDS, "membership")
    locked = Membership.objects.select_for_update().select_related("board__partnership").get(pk=membership.pk)
    for name, value in fields.items():
        setattr(locked, name, value)
    _validate_membership(locked)
    return _save(locked, by=by)


FORWARD_PLAN_FIELDS = {
    "title",
    "expected_meeting",
    "key_decision",
    "exempt",
    "exemption_reason",
    "consultation",
    "contact",
    "first_published_on",
}


@transaction.atomic
def forward_plan_save(
    *, board: Board, by: User | None, entry: ForwardPlanEntry | None = None, **fields: Any
) -> ForwardPlanEntry:
    """Add an entry to a board's forward plan of key decisions, or change one."""
    _check_fields(fields, FORWARD_PLAN_FIELDS, "forward plan")
    if entry is not None:
        entry = ForwardPlanEntry.objects.select_for_update().get(pk=entry.pk, board=board)
    else:
        entry = ForwardPlanEntry(board=board)
    for name, value in fields.items():
        setattr(entry, name, value)
    errors: dict[str, list[str]] = {}
    if entry.expected_meeting_id and entry.expected_meeting.board_id != board.pk:
        errors["expected_meeting"] = ["The expected meeting must be one of this board's."]
    if entry.exempt and not (entry.exemption_reason or "").strip():
        errors["exemption_reason"] = ["Give the reason the entry is exempt."]
    if errors:
        raise ValidationError(errors)
    if not entry.exempt:
        entry.exemption_reason = ""
    return _save(entry, by=by)


# --- Meetings and agendas -------------------------------------------------------------------------

STANDING_ITEMS = (
    (StandingItem.APOLOGIES, "Apologies for absence and substitutes", Purpose.NOTING),
    (StandingItem.DECLARATIONS, "Declarations of interest", Purpose.NOTING),
    (StandingItem.PREVIOUS_MINUTES, "Minutes of the last meeting and action log", Purpose.DECISION),
)
EXCLUSION_TITLE = "Exclusion of the press and public"
_LEADING = (StandingItem.APOLOGIES, StandingItem.DECLARATIONS, StandingItem.PREVIOUS_MINUTES)


@transaction.atomic
def meeting_create(*, board: Board, starts_at: datetime, venue: str = "", by: User | None) -> Meeting:
    """A meeting with its standing items: apologies, declarations, last meeting's minutes and action log."""
    meeting = _save(Meeting(board=board, starts_at=starts_at, venue=venue), by=by)
    with _history(by):
        for order, (kind, title, purpose) in enumerate(STANDING_ITEMS, start=1):
            AgendaItem.objects.create(
                meeting=meeting, order=order, title=title, purpose=purpose, standing_kind=kind
            )
    _renumber(meeting, by=by)
    return meeting


def _exemption_errors(regime: str, paragraph: int | None, reason: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if regime == ExemptionRegime.NONE:
        return errors
    if not (reason or "").strip():
        errors["exemption_reason"] = ["Give the reason the information is exempt."]
    if regime == ExemptionRegime.SCHEDULE_12A and (paragraph is None or not 1 <= paragraph <= 7):
        errors["exemption_paragraph"] = ["Give the paragraph of Schedule 12A (1 to 7)."]
    return errors


def _renumber(meeting: Meeting, *, by: User | None) -> None:
    """Standing items first; public business in its order; the exclusion of press and public before
    exempt business (added or removed as needed); then exempt items. Item numbers follow the order;
    enclosures number the items with a paper (and the last meeting's minutes)."""
    items = list(AgendaItem.objects.select_for_update().filter(meeting=meeting).order_by("order", "pk"))
    exempt = [i for i in items if i.exempt and i.standing_kind == StandingItem.NONE]
    exclusion = [i for i in items if i.standing_kind == StandingItem.EXCLUSION]
    with _history(by):
        if exempt and not exclusion:
            exclusion = [
                AgendaItem.objects.create(
                    meeting=meeting,
                    order=max(i.order for i in items) + 500,
                    title=EXCLUSION_TITLE,
                    purpose=Purpose.DECISION,
                    standing_kind=StandingItem.EXCLUSION,
                )
            ]
        elif not exempt and exclusion:
            for item in exclusion:
                item.delete()
            exclusion = []
    leading = sorted(
        (i for i in items if i.standing_kind in _LEADING), key=lambda i: _LEADING.index(i.standing_kind)
    )
    public = [i for i in items if i.standing_kind == StandingItem.NONE and not i.exempt]
    ordered = leading + public + exclusion + exempt
    AgendaItem.objects.filter(meeting=meeting).update(order=F("order") + 1000)
    enclosure = 0
    for position, item in enumerate(ordered, start=1):
        item.order = position
        item.item_number = str(position)
        if item.paper_id or item.standing_kind == StandingItem.PREVIOUS_MINUTES:
            enclosure += 1
            item.enclosure_number = str(enclosure)
        else:
            item.enclosure_number = ""
    with _history(by):
        AgendaItem.objects.bulk_update(ordered, ["order", "item_number", "enclosure_number"])


def _next_supplement(meeting: Meeting) -> int | None:
    """Items added once the agenda is published go out as a numbered supplement."""
    if meeting.status == MeetingStatus.SCHEDULED:
        return None
    last = meeting.agenda_items.aggregate(n=Max("supplement_number"))["n"] or 0
    return last + 1


@transaction.atomic
def agenda_item_add(
    *,
    meeting: Meeting,
    title: str,
    purpose: str = Purpose.NOTING,
    presenter: str = "",
    paper: Paper | None = None,
    exemption_regime: str = ExemptionRegime.NONE,
    exemption_paragraph: int | None = None,
    exemption_reason: str = "",
    by: User | None,
) -> AgendaItem:
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    errors = _exemption_errors(exemption_regime, exemption_paragraph, exemption_reason)
    if paper is not None and paper.board_id != meeting.board_id:
        errors["paper"] = ["The paper belongs to another board."]
    if errors:
        raise ValidationError(errors)
    last = meeting.agenda_items.aggregate(n=Max("order"))["n"] or 0
    item = AgendaItem(
        meeting=meeting,
        order=last + 1,
        title=title,
        purpose=purpose,
        presenter=presenter,
        paper=paper,
        exemption_regime=exemption_regime,
        exemption_paragraph=exemption_paragraph if exemption_regime == ExemptionRegime.SCHEDULE_12A else None,
        exemption_reason=exemption_reason if exemption_regime != ExemptionRegime.NONE else "",
        supplement_number=_next_supplement(meeting),
    )
    _save(item, by=by)
    _renumber(meeting, by=by)
    item.refresh_from_db()
    return item


AGENDA_ITEM_FIELDS = {
    "title",
    "purpose",
    "presenter",
    "paper",
    "exemption_regime",
    "exemption_paragraph",
    "exemption_reason",
}


@transaction.atomic
def agenda_item_update(*, item: AgendaItem, by: User | None, **fields: Any) -> AgendaItem:
    _check_fields(fields, AGENDA_ITEM_FIELDS, "agenda item")
    locked = AgendaItem.objects.select_for_update().get(pk=item.pk)
    for name, value in fields.items():
        setattr(locked, name, value)
    errors = _exemption_errors(locked.exemption_regime, locked.exemption_paragraph, locked.exemption_reason)
    if locked.paper_id and locked.paper.board_id != locked.meeting.board_id:
        errors["paper"] = ["The paper belongs to another board."]
    if errors:
        raise ValidationError(errors)
    if locked.exemption_regime == ExemptionRegime.NONE:
        locked.exemption_paragraph, locked.exemption_reason = None, ""
    _save(locked, by=by)
    _renumber(locked.meeting, by=by)
    locked.refresh_from_db()
    return locked


@transaction.atomic
def agenda_item_move(*, item: AgendaItem, direction: str, by: User | None) -> AgendaItem:
    """Swap an item with its neighbour in the same part of the agenda (standing items stay first)."""
    if direction not in ("up", "down"):
        raise ValidationError({"direction": ["Move an item up or down."]})
    meeting = Meeting.objects.select_for_update().get(pk=item.meeting_id)
    items = list(meeting.agenda_items.order_by("order"))
    index = next(i for i, it in enumerate(items) if it.pk == item.pk)
    other_index = index - 1 if direction == "up" else index + 1
    if not 0 <= other_index < len(items):
        return item
    mine, other = items[index], items[other_index]
    if (
        mine.standing_kind != StandingItem.NONE
        or other.standing_kind != StandingItem.NONE
        or mine.exempt != other.exempt
    ):
        raise ValidationError(
            {
                "direction": [
                    "Standing items keep their place, and exempt items stay after the exclusion "
                    "of the public."
                ]
            }
        )
    AgendaItem.objects.filter(pk=mine.pk).update(order=10000)
    AgendaItem.objects.filter(pk=other.pk).update(order=mine.order)
    AgendaItem.objects.filter(pk=mine.pk).update(order=other.order)
    _renumber(meeting, by=by)
    item.refresh_from_db()
    return item


@transaction.atomic
def meeting_set_status(*, meeting: Meeting, status: str, by: User | None) -> Meeting:
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    locked.status = status
    return _save(locked, by=by)


# --- Papers and appendices ------------------------------------------------------------------------

PAPER_FIELDS = {
    "board",
    "title",
    "session",
    "authors",
    "clinical_lead",
    "executive_sponsor",
    "executive_summary",
    "recommendations",
    "body",
    "equality_impact",
    "financial_impact",
    "legal_impact",
    "risk_impact",
    "conflicts_of_interest",
    "presented_before",
}


def _clean_recommendations(paper: Paper) -> None:
    paper.recommendations = [r.strip() for r in (paper.recommendations or []) if r and r.strip()]


@transaction.atomic
def paper_create(*, by: User | None, **fields: Any) -> Paper:
    _check_fields(fields, PAPER_FIELDS, "paper")
    paper = Paper(**fields)
    _clean_recommendations(paper)
    return _save(paper, by=by)


@transaction.atomic
def paper_update(*, paper: Paper, by: User | None, version: int | None = None, **fields: Any) -> Paper:
    """Change a paper. ``version`` is the one the editor loaded: a stale edit is refused."""
    _check_fields(fields, PAPER_FIELDS - {"board"}, "paper")
    locked = Paper.objects.select_for_update().get(pk=paper.pk)
    if version is not None and locked.version != version:
        raise StaleEdit(
            "Someone else changed this paper since you opened it. "
            "Your changes have not been saved: reload the page to see theirs."
        )
    for name, value in fields.items():
        setattr(locked, name, value)
    _clean_recommendations(locked)
    locked.version += 1
    return _save(locked, by=by)


def pdf_page_count(data: bytes) -> int:
    """Pages of an uploaded PDF, checked by content (not by name) and refused if it carries
    scripts, automatic actions or embedded files (commissioning.uploads)."""
    return uploads.check_pdf(data, field="file", label="The file").page_count


@transaction.atomic
def appendix_add(
    *,
    paper: Paper,
    title: str,
    filename: str,
    data: bytes,
    exemption_regime: str = ExemptionRegime.NONE,
    exemption_paragraph: int | None = None,
    exemption_reason: str = "",
    by: User | None,
) -> PaperAppendix:
    errors = _exemption_errors(exemption_regime, exemption_paragraph, exemption_reason)
    if not (title or "").strip():
        errors["title"] = ["Enter the title of the appendix."]
    if len(data) > APPENDIX_MAX_BYTES:
        errors["file"] = [f"The file must be smaller than {APPENDIX_MAX_BYTES // (1024 * 1024)} MB."]
    if errors:
        raise ValidationError(errors)
    pages = pdf_page_count(data)
    last = paper.appendices.aggregate(n=Max("order"))["n"] or 0
    appendix = PaperAppendix(
        paper=paper,
        order=last + 1,
        title=title.strip(),
        page_count=pages,
        exemption_regime=exemption_regime,
        exemption_paragraph=exemption_paragraph if exemption_regime == ExemptionRegime.SCHEDULE_12A else None,
        exemption_reason=exemption_reason if exemption_regime != ExemptionRegime.NONE else "",
        original_name=uploads.display_name(filename, fallback="appendix.pdf"),
    )
    # Stored under a generated name; the user's file name is kept only as display text.
    appendix.file.save(uploads.storage_name("pdf"), ContentFile(data), save=False)
    return _save(appendix, by=by)


@transaction.atomic
def paper_link_add(*, paper: Paper, target: models.Model, by: User | None) -> PaperLink:
    link, _ = PaperLink.objects.get_or_create(
        paper=paper, content_type=ContentType.objects.get_for_model(target), object_id=target.pk
    )
    return link


# --- Attendance and interests ---------------------------------------------------------------------


@transaction.atomic
def attendance_record(
    *, meeting: Meeting, person: Person, status: str, substitute_for: Person | None = None, by: User | None
) -> Attendance:
    if substitute_for is not None:
        day = timezone.localtime(meeting.starts_at).date()
        from governance.selectors import members_on

        if not members_on(meeting.board, day).filter(person=substitute_for).exists():
            raise ValidationError({"substitute_for": ["A substitute stands in for a member of the board."]})
        if substitute_for.pk == person.pk:
            raise ValidationError({"substitute_for": ["A member cannot substitute for themselves."]})
    row = Attendance.objects.filter(meeting=meeting, person=person).select_for_update().first()
    if row is None:
        row = Attendance(meeting=meeting, person=person)
    row.status = status
    row.substitute_for = substitute_for
    return _save(row, by=by)


def _own_person_or_secretary(person: Person, by: User | None) -> None:
    if by is None or sees_all_exempt(by):
        return
    if person.user_id != by.pk:
        raise ValidationError({"person": ["You can declare only your own interests."]})


@transaction.atomic
def declaration_record(
    *,
    person: Person,
    board: Board,
    nature: str,
    description: str,
    action: str,
    meeting: Meeting | None = None,
    agenda_item: AgendaItem | None = None,
    dispensation: str = "",
    declared_on: date | None = None,
    by: User | None,
) -> InterestDeclaration:
    _own_person_or_secretary(person, by)
    if agenda_item is not None:
        meeting = agenda_item.meeting
    if meeting is not None and meeting.board_id != board.pk:
        raise ValidationError({"meeting": ["The meeting is not one of this board's."]})
    return _save(
        InterestDeclaration(
            person=person,
            board=board,
            meeting=meeting,
            agenda_item=agenda_item,
            nature=nature,
            description=description,
            action=action,
            dispensation=dispensation,
            declared_on=declared_on or timezone.localdate(),
        ),
        by=by,
    )


@transaction.atomic
def register_entry_record(
    *, person: Person, partnership, year: int, nil_return: bool, interests: str = "", by: User | None
) -> RegisterEntry:
    """The annual declaration (a nil return included); a change within the year updates it."""
    _own_person_or_secretary(person, by)
    if not nil_return and not interests.strip():
        raise ValidationError({"interests": ["List your interests, or make a nil return."]})
    entry = (
        RegisterEntry.objects.select_for_update()
        .filter(person=person, partnership=partnership, year=year)
        .first()
    )
    entry = entry or RegisterEntry(person=person, partnership=partnership, year=year)
    entry.nil_return = nil_return
    entry.interests = "" if nil_return else interests.strip()
    entry.declared_on = timezone.localdate()
    return _save(entry, by=by)


@transaction.atomic
def register_change_record(
    *,
    person: Person,
    partnership,
    nature: str,
    description: str,
    arose_on: date,
    declared_on: date | None = None,
    by: User | None,
) -> RegisterChange:
    """A change to one's registered interests during the year. It is due within 28 days of the
    interest arising (or ending); a later declaration is kept and flagged late, never refused."""
    _own_person_or_secretary(person, by)
    declared_on = declared_on or timezone.localdate()
    errors: dict[str, list[str]] = {}
    if not (description or "").strip():
        errors["description"] = ["Describe the change to your interests."]
    if arose_on > declared_on:
        errors["arose_on"] = ["The date the interest arose or ended cannot be after the declaration."]
    if errors:
        raise ValidationError(errors)
    return _save(
        RegisterChange(
            person=person,
            partnership=partnership,
            nature=nature,
            description=description.strip(),
            arose_on=arose_on,
            declared_on=declared_on,
        ),
        by=by,
    )


# --- References -----------------------------------------------------------------------------------


def next_number(*, board: Board, year: int, kind: str) -> int:
    """The next number of a gapless counter per board, calendar year and kind.

    The counter row is created if missing (concurrent creators cannot both win: ON CONFLICT DO
    NOTHING), then locked for the rest of the caller's transaction, so two decisions recorded at once
    wait for each other and a rolled-back transaction gives its number back."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number must run inside the transaction that uses the number")
    ReferenceCounter.objects.bulk_create(
        [ReferenceCounter(board=board, year=year, kind=kind, last=0)], ignore_conflicts=True
    )
    counter = ReferenceCounter.objects.select_for_update().get(board=board, year=year, kind=kind)
    ReferenceCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
    counter.refresh_from_db(fields=["last"])
    return counter.last


def allocate_decision_reference(*, board: Board, year: int) -> str:
    return references.decision_reference(
        board.code, year, next_number(board=board, year=year, kind="decision")
    )


def allocate_minute_number(*, board: Board, year: int) -> str:
    return references.minute_number(next_number(board=board, year=year, kind="minute"), year)


def _item_minute_number(item: AgendaItem, year: int) -> str:
    """An item's minute number: the one its decision or minute entry already has, or a new one."""
    existing = (
        Decision.objects.filter(agenda_item=item)
        .exclude(minute_number="")
        .values_list("minute_number", flat=True)
        .first()
        or MinuteEntry.objects.filter(agenda_item=item).values_list("minute_number", flat=True).first()
    )
    return existing or allocate_minute_number(board=item.meeting.board, year=year)


# --- Decisions ------------------------------------------------------------------------------------


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
            f" Value above the delegated limit of £{board.delegated_limit:,.2f}: referred to "
            f"{board.parent.name if board.parent_id else 'the parent board'}."
        )
    decision = Decision(
        agenda_item=item,
        reference=allocate_decision_reference(board=board, year=decided_on.year),
        minute_number=_item_minute_number(item, decided_on.year),
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
    _save(decision, by=by)
    with _history(by):
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
    from governance.selectors import members_on

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
    return _save(locked, by=by)


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
    return _save(link, by=by)


# --- Actions and minutes --------------------------------------------------------------------------


@transaction.atomic
def action_add(
    *,
    meeting: Meeting,
    description: str,
    owner: Person,
    due: date | None = None,
    decision: Decision | None = None,
    agenda_item: AgendaItem | None = None,
    by: User | None,
) -> Action:
    if due is not None and due < timezone.localtime(meeting.starts_at).date():
        raise ValidationError({"due": ["An action falls due on or after the meeting that set it."]})
    return _save(
        Action(
            meeting=meeting,
            description=description,
            owner=owner,
            due=due,
            decision=decision,
            agenda_item=agenda_item,
        ),
        by=by,
    )


@transaction.atomic
def action_set_status(*, action: Action, status: str, by: User | None) -> Action:
    """Mark an action done or dropped (it leaves the next meetings' action log), or reopen it."""
    if status not in ActionStatus.values:
        raise ValidationError({"status": [f"Choose one of: {', '.join(ActionStatus.labels)}."]})
    locked = Action.objects.select_for_update().get(pk=action.pk)
    locked.status = status
    return _save(locked, by=by)


@transaction.atomic
def minutes_write(
    *, meeting: Meeting, entries: dict[int, str], part2_summary: str = "", by: User | None
) -> Minutes:
    """Write (or rewrite) the minutes: one numbered entry per item given (by agenda item id)."""
    minutes = Minutes.objects.select_for_update().filter(meeting=meeting).first()
    if minutes is not None and minutes.approved_on:
        raise ValidationError({"non_field_errors": ["These minutes are approved and can no longer change."]})
    minutes = minutes or _save(Minutes(meeting=meeting), by=by)
    minutes.part2_summary = part2_summary
    _save(minutes, by=by)
    year = timezone.localtime(meeting.starts_at).year
    items = {i.pk: i for i in meeting.agenda_items.filter(pk__in=entries)}
    missing = set(entries) - set(items)
    if missing:
        raise ValidationError({"entries": ["Every entry must be for an item of this meeting."]})
    if any(i.exempt for i in items.values()) and not part2_summary.strip():
        raise ValidationError({"part2_summary": ["Write the Part 2 summary for the public minutes."]})
    with _history(by):
        for item_id in sorted(entries, key=lambda pk: items[pk].order):
            item = items[item_id]
            entry = MinuteEntry.objects.filter(minutes=minutes, agenda_item=item).first()
            if entry is None:
                entry = MinuteEntry(
                    minutes=minutes, agenda_item=item, minute_number=_item_minute_number(item, year)
                )
            entry.text = entries[item_id]
            entry.save()
    return minutes


@transaction.atomic
def minutes_approve(*, minutes: Minutes, at_meeting: Meeting, by: User | None) -> Minutes:
    locked = Minutes.objects.select_for_update().select_related("meeting").get(pk=minutes.pk)
    if at_meeting.board_id != locked.meeting.board_id or at_meeting.starts_at <= locked.meeting.starts_at:
        raise ValidationError({"at_meeting": ["Minutes are approved at a later meeting of the same board."]})
    locked.approved_at = at_meeting
    locked.approved_on = timezone.localtime(at_meeting.starts_at).date()
    _save(locked, by=by)
    meeting = locked.meeting
    meeting.status = MeetingStatus.MINUTES_APPROVED
    _save(meeting, by=by)
    return locked


# --- Packs ----------------------------------------------------------------------------------------


@transaction.atomic
def pack_request(*, meeting: Meeting, audience: str, by: User) -> BoardPack:
    """Queue a new version of a meeting's pack; the Celery task renders it after commit."""
    if audience not in PackAudience.values:
        raise ValidationError({"audience": ["Choose public or members."]})
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    last = BoardPack.objects.filter(meeting=locked, audience=audience).aggregate(n=Max("version"))["n"] or 0
    supplement = locked.agenda_items.aggregate(n=Max("supplement_number"))["n"]
    pack = BoardPack.objects.create(
        meeting=locked,
        audience=audience,
        version=last + 1,
        supplement_number=supplement,
        requested_by=by,
        status=PackStatus.QUEUED,
    )
    if locked.status == MeetingStatus.SCHEDULED:
        locked.status = MeetingStatus.AGENDA_PUBLISHED
        _save(locked, by=by)
    from governance.tasks import generate_pack

    jobs.enqueue(generate_pack, pack.pk)  # broker down: the pack stays queued and is recovered later
    return pack
