"""Meetings, their agendas and attendance.

A meeting starts with its standing items; the agenda keeps its order and numbers itself after
every change (standing items first, public business, the exclusion of the press and public, then
exempt business), and items added once the agenda is published go out as a numbered supplement."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from commissioning.models import Person, User
from governance.models import (
    AgendaItem,
    Attendance,
    AttendanceStatus,
    Board,
    ExemptionRegime,
    ForwardPlanEntry,
    Meeting,
    MeetingStatus,
    Paper,
    Purpose,
    StandingItem,
)
from governance.selectors import members_on
from governance.services.common import acting, check_fields, exemption_errors, unchanged, validated_save

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
    meeting = validated_save(Meeting(board=board, starts_at=starts_at, venue=venue), by=by)
    with acting(by):
        for order, (kind, title, purpose) in enumerate(STANDING_ITEMS, start=1):
            AgendaItem.objects.create(
                meeting=meeting, order=order, title=title, purpose=purpose, standing_kind=kind
            )
    _renumber(meeting, by=by)
    return meeting


def _renumber(meeting: Meeting, *, by: User | None) -> None:
    """Number the agenda: in full while it is a draft, only its new items once it is frozen."""
    if meeting.agenda_frozen:
        _number_late_items(meeting, by=by)
    else:
        _number_draft(meeting, by=by)


def _number_draft(meeting: Meeting, *, by: User | None) -> None:
    """Standing items first; public business in its order; the exclusion of press and public before
    exempt business (added or removed as needed); then exempt items. Item numbers follow the order;
    enclosures number the items with a paper (and the last meeting's minutes)."""
    items = list(AgendaItem.objects.select_for_update().filter(meeting=meeting).order_by("order", "pk"))
    exempt = [i for i in items if i.exempt and i.standing_kind == StandingItem.NONE]
    exclusion = [i for i in items if i.standing_kind == StandingItem.EXCLUSION]
    with acting(by):
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
    with acting(by):
        AgendaItem.objects.bulk_update(ordered, ["order", "item_number", "enclosure_number"])


_NUMBER = re.compile(r"^(\d+)([A-Z]*)$")


def _split(number: str) -> tuple[int, str]:
    match = _NUMBER.match(number or "")
    return (int(match.group(1)), match.group(2)) if match else (0, "")


def _letter_after(letters: str) -> str:
    """A, B, ... Z, then AA, AB (an agenda never needs more)."""
    if not letters:
        return "A"
    if letters[-1] != "Z":
        return letters[:-1] + chr(ord(letters[-1]) + 1)
    return letters + "A"


def _number_late_items(meeting: Meeting, *, by: User | None) -> None:
    """The frozen agenda: numbered items keep their item and enclosure numbers. A new public item
    goes after the last public item (before the exclusion of the press and public) and takes that
    item's number with a letter (5A, 5B); a new exempt item goes at the end and takes the next
    number, after an exclusion item added if there was none. A new paper takes the next enclosure
    number."""
    items = list(AgendaItem.objects.select_for_update().filter(meeting=meeting).order_by("order", "pk"))
    numbered = [i for i in items if i.item_number]
    late = [i for i in items if not i.item_number]
    ordered = list(numbered)
    with acting(by):
        for item in late:
            if item.exempt and item.standing_kind == StandingItem.NONE:
                if not any(i.standing_kind == StandingItem.EXCLUSION for i in ordered):
                    exclusion = AgendaItem.objects.create(
                        meeting=meeting,
                        order=max(i.order for i in items) + 500,
                        title=EXCLUSION_TITLE,
                        purpose=Purpose.DECISION,
                        standing_kind=StandingItem.EXCLUSION,
                        supplement_number=item.supplement_number,
                    )
                    _number_after(exclusion, ordered, len(ordered))
                    ordered.append(exclusion)
                position = len(ordered)
            else:
                first_private = next(
                    (
                        index
                        for index, other in enumerate(ordered)
                        if other.standing_kind == StandingItem.EXCLUSION
                        or (other.exempt and other.standing_kind == StandingItem.NONE)
                    ),
                    len(ordered),
                )
                position = first_private
            _number_after(item, ordered, position)
            ordered.insert(position, item)
    enclosures = [_split(i.enclosure_number)[0] for i in ordered if i.enclosure_number]
    next_enclosure = max(enclosures, default=0) + 1
    for item in ordered:
        if item.paper_id and not item.enclosure_number:
            item.enclosure_number = str(next_enclosure)
            next_enclosure += 1
    AgendaItem.objects.filter(meeting=meeting).update(order=F("order") + 1000)
    for position, item in enumerate(ordered, start=1):
        item.order = position
    with acting(by):
        AgendaItem.objects.bulk_update(ordered, ["order", "item_number", "enclosure_number"])


def _number_after(item: AgendaItem, ordered: list[AgendaItem], position: int) -> None:
    """The number of an item placed at ``position`` of the frozen agenda: the next number at the
    end, else the number of the item it follows with the next free letter."""
    if position >= len(ordered):
        item.item_number = str(max((_split(i.item_number)[0] for i in ordered), default=0) + 1)
        return
    base = _split(ordered[position - 1].item_number)[0] if position else 0
    taken = [letters for number, letters in (_split(i.item_number) for i in ordered) if number == base]
    letters = ""
    while letters in taken:
        letters = _letter_after(letters)
    item.item_number = f"{base}{letters}"


def _next_supplement(meeting: Meeting) -> int | None:
    """Items added once the agenda is published go out as a numbered supplement."""
    if not meeting.agenda_frozen:
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
    forward_plan_entry: ForwardPlanEntry | None = None,
    by: User | None,
) -> AgendaItem:
    """Add an item: at the end of its part of a draft agenda; once the agenda is published, as a
    late item (5A, or the next number at the end) in the next numbered supplement."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    errors = exemption_errors(exemption_regime, exemption_paragraph, exemption_reason)
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
        forward_plan_entry=forward_plan_entry,
    )
    validated_save(item, by=by)
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
    "forward_plan_entry",
}
FROZEN = "The agenda is published: item and enclosure numbers no longer change."


@transaction.atomic
def agenda_item_update(
    *, item: AgendaItem, by: User | None, meeting: Meeting | None = None, **fields: Any
) -> AgendaItem:
    """Change an item (``meeting``, if given, must be its own: an item does not move to another
    meeting); the agenda is numbered again."""
    check_fields(fields, AGENDA_ITEM_FIELDS, "agenda item")
    moved = unchanged(item, "meeting", meeting, "An item cannot move to another meeting.")
    if moved:
        raise ValidationError(moved)
    locked = AgendaItem.objects.select_for_update().select_related("meeting").get(pk=item.pk)
    was_exempt = locked.exempt
    for name, value in fields.items():
        setattr(locked, name, value)
    if locked.meeting.agenda_frozen and locked.exempt != was_exempt:
        raise ValidationError(
            {"exemption_regime": [f"{FROZEN} An item cannot move between public and exempt business now."]}
        )
    errors = exemption_errors(locked.exemption_regime, locked.exemption_paragraph, locked.exemption_reason)
    if locked.paper_id and locked.paper.board_id != locked.meeting.board_id:
        errors["paper"] = ["The paper belongs to another board."]
    if errors:
        raise ValidationError(errors)
    if locked.exemption_regime == ExemptionRegime.NONE:
        locked.exemption_paragraph, locked.exemption_reason = None, ""
    validated_save(locked, by=by)
    _renumber(locked.meeting, by=by)
    locked.refresh_from_db()
    return locked


@transaction.atomic
def agenda_item_move(*, item: AgendaItem, direction: str, by: User | None) -> AgendaItem:
    """Swap an item with its neighbour in the same part of the agenda (standing items stay first)."""
    if direction not in ("up", "down"):
        raise ValidationError({"direction": ["Move an item up or down."]})
    meeting = Meeting.objects.select_for_update().get(pk=item.meeting_id)
    if meeting.agenda_frozen:
        raise ValidationError({"direction": [FROZEN]})
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


MEETING_FIELDS = {"board", "starts_at", "venue", "status"}


@transaction.atomic
def meeting_update(*, meeting: Meeting, by: User | None, **fields: Any) -> Meeting:
    """Change a meeting's time, venue or status (a status through its own step: publishing the
    agenda, marking the meeting held; the minutes are approved by ``minutes_approve``)."""
    check_fields(fields, MEETING_FIELDS, "meeting")
    status = fields.pop("status", None)
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    for name, value in fields.items():
        setattr(locked, name, value)
    validated_save(locked, by=by)
    if status is not None and status != locked.status:
        locked = meeting_set_status(meeting=locked, status=status, by=by)
    return locked


@transaction.atomic
def meeting_set_status(*, meeting: Meeting, status: str, by: User | None) -> Meeting:
    """Move a meeting on: publish its agenda, or mark it held."""
    if status == MeetingStatus.AGENDA_PUBLISHED:
        return agenda_publish(meeting=meeting, by=by)
    if status == MeetingStatus.HELD:
        return meeting_mark_held(meeting=meeting, by=by)
    raise ValidationError(
        {"status": ["Publish the agenda or mark the meeting held; minutes are approved at a later meeting."]}
    )


@transaction.atomic
def agenda_publish(*, meeting: Meeting, by: User | None) -> Meeting:
    """Publish the agenda: from now on its item and enclosure numbers never change, and items added
    later go out in numbered supplements."""
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if locked.agenda_published_on is not None:
        raise ValidationError(
            {"status": [f"The agenda was published on {locked.agenda_published_on:%-d %B %Y}."]}
        )
    if locked.status == MeetingStatus.SCHEDULED:
        locked.status = MeetingStatus.AGENDA_PUBLISHED
    locked.agenda_published_on = timezone.localdate()
    return validated_save(locked, by=by)


def not_started_error(meeting: Meeting, what: str) -> ValidationError:
    local = timezone.localtime(meeting.starts_at)
    return ValidationError(
        {
            "non_field_errors": [
                f"The meeting starts at {local:%H:%M} on {local:%-d %B %Y}: {what} can be recorded only "
                "from its start."
            ]
        }
    )


def require_started(meeting: Meeting, what: str) -> None:
    """Attendance, declarations made at the meeting, votes and decisions are recorded only from the
    meeting's start; a meeting still in the future refuses them."""
    if not meeting.started:
        raise not_started_error(meeting, what)


@transaction.atomic
def meeting_mark_held(*, meeting: Meeting, by: User | None) -> Meeting:
    """Mark the meeting held: it has started and its attendance is recorded."""
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    require_started(locked, "the meeting")
    if locked.status in (MeetingStatus.HELD, MeetingStatus.MINUTES_APPROVED):
        raise ValidationError({"status": ["The meeting is already marked held."]})
    present = Attendance.objects.filter(
        meeting=locked, status__in=(AttendanceStatus.PRESENT, AttendanceStatus.PRESENT_VIRTUALLY)
    )
    if not present.exists():
        raise ValidationError({"status": ["Record who attended before marking the meeting held."]})
    locked.status = MeetingStatus.HELD
    locked.held_at = timezone.now()
    return validated_save(locked, by=by)


# --- Attendance ----------------------------------------------------------------------------------


@transaction.atomic
def attendance_record(
    *, meeting: Meeting, person: Person, status: str, substitute_for: Person | None = None, by: User | None
) -> Attendance:
    """Record who attended. Apologies and expected attendance may be recorded beforehand; who was
    present, absent or in attendance only from the meeting's start."""
    if status not in (AttendanceStatus.EXPECTED, AttendanceStatus.APOLOGIES):
        require_started(meeting, "attendance")
    if substitute_for is not None:
        day = timezone.localtime(meeting.starts_at).date()
        if not members_on(meeting.board, day).filter(person=substitute_for).exists():
            raise ValidationError({"substitute_for": ["A substitute stands in for a member of the board."]})
        if substitute_for.pk == person.pk:
            raise ValidationError({"substitute_for": ["A member cannot substitute for themselves."]})
    row = Attendance.objects.filter(meeting=meeting, person=person).select_for_update().first()
    if row is None:
        row = Attendance(meeting=meeting, person=person)
    row.status = status
    row.substitute_for = substitute_for
    return validated_save(row, by=by)
