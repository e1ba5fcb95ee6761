"""Gapless numbers per board and calendar year: decision references (``BBB/2021/001``) and minute
numbers (``references`` formats them). Every item of a meeting is numbered at once, in agenda
order, when the first minute or decision of the meeting is recorded; the item keeps its number."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from governance import references
from governance.models import AgendaItem, Board, Meeting, ReferenceCounter


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


def allocate_meeting_minute_numbers(meeting: Meeting) -> None:
    """Minute numbers follow the agenda: the first minute or decision of a meeting numbers every
    item at once, in agenda order, gapless per board and calendar year (an item added after that
    takes the next number when it is first minuted). Runs inside the caller's transaction."""
    items = list(
        AgendaItem.objects.select_for_update()
        .filter(meeting=meeting, minute_number="")
        .order_by("order", "pk")
    )
    if not items:
        return
    year = timezone.localtime(meeting.starts_at).year
    for item in items:
        item.minute_number = allocate_minute_number(board=meeting.board, year=year)
    AgendaItem.objects.bulk_update(items, ["minute_number"])


def item_minute_number(item: AgendaItem, year: int | None = None) -> str:
    """An item's minute number: allocated with the rest of its meeting's agenda when the first
    minute or decision of the meeting is recorded (``year`` is the meeting's; kept for callers)."""
    number = AgendaItem.objects.filter(pk=item.pk).values_list("minute_number", flat=True).first()
    if not number:
        allocate_meeting_minute_numbers(item.meeting)
        number = AgendaItem.objects.filter(pk=item.pk).values_list("minute_number", flat=True).get()
    item.minute_number = number
    return number
