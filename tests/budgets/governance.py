"""Governance rows the budget tests need (boards, meetings, decisions), built from its models."""

from datetime import date, datetime
from decimal import Decimal
from itertools import count

from django.utils import timezone

from governance.models import AgendaItem, Board, Decision, Meeting

_n = count(1)


def board_of(partnership, *, limit: Decimal | None = None) -> Board:
    n = next(_n)
    return Board.objects.create(
        partnership=partnership, name=f"Board {n}", code=f"BB{n}", delegated_limit=limit
    )


def meeting_of(partnership, *, status: str = "scheduled", board: Board | None = None) -> Meeting:
    board = board or board_of(partnership)
    return Meeting.objects.create(
        board=board, starts_at=timezone.make_aware(datetime(2021, 10, 7, 14, 0)), status=status
    )


def decision_of(board: Board, *, outcome: str = "approved") -> Decision:
    n = next(_n)
    meeting = meeting_of(board.partnership, status="held", board=board)
    item = AgendaItem.objects.create(meeting=meeting, order=n, title="Virement")
    return Decision.objects.create(
        agenda_item=item,
        reference=f"{board.code}/2021/{n:03d}",
        resolution="Approved",
        outcome=outcome,
        decided_on=date(2021, 10, 7),
    )
