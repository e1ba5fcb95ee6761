"""Actions (owned, due, closed) and minutes (one numbered entry per item, a Part 2 summary for the
public minutes, approved at a later meeting of the same board)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from commissioning.models import Person, User
from governance.models import (
    Action,
    ActionStatus,
    AgendaItem,
    Decision,
    Meeting,
    MeetingStatus,
    MinuteEntry,
    Minutes,
)
from governance.services.common import acting, check_fields, validated_save
from governance.services.meetings import require_started
from governance.services.numbering import item_minute_number


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
    return validated_save(
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


ACTION_FIELDS = {"meeting", "description", "owner", "due", "decision", "agenda_item", "status"}


@transaction.atomic
def action_update(*, action: Action, by: User | None, **fields) -> Action:
    """Change an action: what, who, when it falls due (on or after its meeting), its status."""
    check_fields(fields, ACTION_FIELDS, "action")
    status = fields.get("status")
    if status is not None and status not in ActionStatus.values:
        raise ValidationError({"status": [f"Choose one of: {', '.join(ActionStatus.labels)}."]})
    locked = Action.objects.select_for_update().select_related("meeting").get(pk=action.pk)
    for name, value in fields.items():
        setattr(locked, name, value)
    rescheduled = ("due" in fields or "meeting" in fields) and locked.due is not None
    if rescheduled and locked.due < timezone.localtime(locked.meeting.starts_at).date():
        raise ValidationError({"due": ["An action falls due on or after the meeting that set it."]})
    return validated_save(locked, by=by)


@transaction.atomic
def action_set_status(*, action: Action, status: str, by: User | None) -> Action:
    """Mark an action done or dropped (it leaves the next meetings' action log), or reopen it."""
    if status not in ActionStatus.values:
        raise ValidationError({"status": [f"Choose one of: {', '.join(ActionStatus.labels)}."]})
    return action_update(action=action, status=status, by=by)


@transaction.atomic
def minutes_write(
    *, meeting: Meeting, entries: dict[int, str], part2_summary: str = "", by: User | None
) -> Minutes:
    """Write (or rewrite) the draft minutes: one entry per item given (by agenda item id), numbered
    with the meeting's minute numbers (every item numbered at once, in agenda order)."""
    require_started(meeting, "minutes")
    minutes = Minutes.objects.select_for_update().filter(meeting=meeting).first()
    if minutes is not None and minutes.approved_on:
        raise ValidationError({"non_field_errors": ["These minutes are approved and can no longer change."]})
    minutes = minutes or validated_save(Minutes(meeting=meeting), by=by)
    minutes.part2_summary = part2_summary
    validated_save(minutes, by=by)
    items = {i.pk: i for i in meeting.agenda_items.filter(pk__in=entries)}
    missing = set(entries) - set(items)
    if missing:
        raise ValidationError({"entries": ["Every entry must be for an item of this meeting."]})
    if any(i.exempt for i in items.values()) and not part2_summary.strip():
        raise ValidationError({"part2_summary": ["Write the Part 2 summary for the public minutes."]})
    with acting(by):
        for item_id in sorted(entries, key=lambda pk: items[pk].order):
            item = items[item_id]
            entry = MinuteEntry.objects.filter(minutes=minutes, agenda_item=item).first()
            if entry is None:
                entry = MinuteEntry(minutes=minutes, agenda_item=item, minute_number=item_minute_number(item))
            entry.text = entries[item_id]
            entry.save()
    return minutes


@transaction.atomic
def minutes_publish_draft(*, minutes: Minutes, by: User | None) -> Minutes:
    """Publish the minutes before approval, marked "Draft, subject to approval"."""
    locked = Minutes.objects.select_for_update().get(pk=minutes.pk)
    if locked.approved_on is not None:
        raise ValidationError({"non_field_errors": ["These minutes are approved: they are public already."]})
    if locked.draft_published_on is not None:
        raise ValidationError(
            {"non_field_errors": [f"The draft was published on {locked.draft_published_on:%-d %B %Y}."]}
        )
    locked.draft_published_on = timezone.localdate()
    return validated_save(locked, by=by)


@transaction.atomic
def minutes_approve(*, minutes: Minutes, at_meeting: Meeting, by: User | None) -> Minutes:
    """Approve the minutes at a later meeting of the same board, once that meeting has started:
    they become the public minutes."""
    locked = Minutes.objects.select_for_update().select_related("meeting").get(pk=minutes.pk)
    if at_meeting.board_id != locked.meeting.board_id or at_meeting.starts_at <= locked.meeting.starts_at:
        raise ValidationError({"at_meeting": ["Minutes are approved at a later meeting of the same board."]})
    if locked.approved_on is not None:
        raise ValidationError({"non_field_errors": ["These minutes are already approved."]})
    require_started(at_meeting, "the approval of the minutes")
    locked.approved_at = at_meeting
    locked.approved_on = timezone.localtime(at_meeting.starts_at).date()
    validated_save(locked, by=by)
    meeting = locked.meeting
    meeting.status = MeetingStatus.MINUTES_APPROVED
    validated_save(meeting, by=by)
    return locked
