"""Interests: declarations at meetings, and the register (the annual declaration, a nil return
included, and changes during the year, due within 28 days of arising). Members declare their own
interests; board secretaries may record anyone's."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from commissioning.models import Person, User
from governance.models import (
    AgendaItem,
    Board,
    InterestDeclaration,
    Meeting,
    RegisterChange,
    RegisterEntry,
    acts_for_others,
)
from governance.services.common import check_fields, validated_save
from governance.services.meetings import require_started


def _own_person_or_secretary(person: Person, by: User | None) -> None:
    if by is None or acts_for_others(by):
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
    if meeting is not None:
        require_started(meeting, "declarations made at the meeting")
    return validated_save(
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


DECLARATION_FIELDS = {
    "person",
    "board",
    "meeting",
    "agenda_item",
    "nature",
    "description",
    "action",
    "dispensation",
    "declared_on",
}


@transaction.atomic
def declaration_update(*, declaration: InterestDeclaration, by: User | None, **fields) -> InterestDeclaration:
    """Correct a declaration, by the same rules as recording one (one's own, or a secretary's; the
    meeting, or the item's meeting, one of the board's)."""
    check_fields(fields, DECLARATION_FIELDS, "declaration")
    locked = InterestDeclaration.objects.select_for_update().get(pk=declaration.pk)
    _own_person_or_secretary(locked.person, by)
    for name, value in fields.items():
        setattr(locked, name, value)
    _own_person_or_secretary(locked.person, by)
    if locked.agenda_item_id is not None:
        locked.meeting = locked.agenda_item.meeting
    if locked.meeting_id is not None and locked.meeting.board_id != locked.board_id:
        raise ValidationError({"meeting": ["The meeting is not one of this board's."]})
    return validated_save(locked, by=by)


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
    return validated_save(entry, by=by)


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
    return validated_save(
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
