"""Meetings, their agendas and attendance.

A meeting starts with its standing items; the agenda keeps its order and numbers itself after
every change (standing items first, public business, the exclusion of the press and public, then
exempt business), and items added once the agenda is published go out as a numbered supplement."""

from __future__ import annotations

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
    Board,
    ExemptionRegime,
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
}


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
    locked = AgendaItem.objects.select_for_update().get(pk=item.pk)
    for name, value in fields.items():
        setattr(locked, name, value)
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
    """Change a meeting's time, venue or status."""
    check_fields(fields, MEETING_FIELDS, "meeting")
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    for name, value in fields.items():
        setattr(locked, name, value)
    return validated_save(locked, by=by)


@transaction.atomic
def meeting_set_status(*, meeting: Meeting, status: str, by: User | None) -> Meeting:
    return meeting_update(meeting=meeting, status=status, by=by)


# --- Attendance ----------------------------------------------------------------------------------


@transaction.atomic
def attendance_record(
    *, meeting: Meeting, person: Person, status: str, substitute_for: Person | None = None, by: User | None
) -> Attendance:
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
