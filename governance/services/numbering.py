"""Gapless numbers per board and calendar year: decision references (``BBB/2021/001``) and minute
numbers (``references`` formats them). An item keeps one minute number, whether its decision or
its minute entry takes it first."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from governance import references
from governance.models import AgendaItem, Board, Decision, MinuteEntry, ReferenceCounter


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


def item_minute_number(item: AgendaItem, year: int) -> str:
    """An item's minute number: the one its decision or minute entry already has, or a new one."""
    existing = (
        Decision.objects.filter(agenda_item=item)
        .exclude(minute_number="")
        .values_list("minute_number", flat=True)
        .first()
        or MinuteEntry.objects.filter(agenda_item=item).values_list("minute_number", flat=True).first()
    )
    return existing or allocate_minute_number(board=item.meeting.board, year=year)
