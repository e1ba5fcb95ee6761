"""The public record of boards that meet in public (no login): what the public pages and the public
API read. Built only from public rows, never from a user's scope: exempt items keep their title and
reason only; private papers, exempt appendices, decisions on exempt items and members' packs are
never read here."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from governance.models import (
    EXEMPT_REGIMES,
    AgendaItem,
    Board,
    BoardPack,
    Decision,
    ExemptionRegime,
    ForwardPlanEntry,
    Meeting,
    MinuteEntry,
    PackAudience,
    PackStatus,
    PaperAppendix,
    Session,
)


def public_boards() -> QuerySet[Board]:
    return Board.objects.filter(meets_in_public=True).select_related("partnership")


def public_board(code: str) -> Board:
    """The public board with this code (any case), or 404."""
    return get_object_or_404(public_boards(), code=code.upper())


def public_meeting(board: Board, pk) -> Meeting:
    """A meeting of the public board, or 404."""
    return get_object_or_404(board.meetings, pk=pk)


def published_decisions() -> QuerySet[Decision]:
    """Decisions whose notice is published (today or earlier): the only ones the public sees."""
    return Decision.objects.filter(published_on__isnull=False, published_on__lte=timezone.localdate())


def public_decisions(board: Board) -> QuerySet[Decision]:
    """The board's published decisions on public items, newest first, each with the reference it
    corrects (``corrects``) and its published corrections (``public_corrections``)."""
    return (
        published_decisions()
        .filter(agenda_item__meeting__board=board)
        .exclude(agenda_item__exemption_regime__in=EXEMPT_REGIMES)
        .select_related("agenda_item__meeting__board", "corrects")
        .prefetch_related(
            Prefetch(
                "corrections",
                queryset=published_decisions().order_by("reference"),
                to_attr="public_corrections",
            )
        )
        .order_by("-published_on", "-decided_on", "-reference")
    )


def public_forward_plan(board: Board) -> QuerySet[ForwardPlanEntry]:
    """The board's published forward plan: entries not yet published are not on it."""
    return (
        board.forward_plan.filter(first_published_on__isnull=False)
        .select_related("expected_meeting")
        .order_by("first_published_on", "title")
    )


def public_pack(code: str, pk: int, *, ready_only: bool = True) -> BoardPack:
    """A public pack of a meeting of the public board ``code``, or 404 (a members' pack always)."""
    packs = BoardPack.objects.select_related("meeting__board").filter(
        audience=PackAudience.PUBLIC, meeting__board__in=public_boards().filter(code=code.upper())
    )
    if ready_only:
        packs = packs.filter(status=PackStatus.READY)
    return get_object_or_404(packs, pk=pk)


def public_agenda(meeting: Meeting) -> list[AgendaItem]:
    """Every item of the meeting; each with ``public_paper`` (a public paper of a public item, else
    None) and ``public_appendices``: (number, appendix) for each appendix, the appendix None where
    it is exempt, so the numbers are those of the members' pack ("Appendix 1: exempt")."""
    numbered = PaperAppendix.objects.only("pk", "paper_id", "order", "title", "exemption_regime").order_by(
        "order", "pk"
    )
    items = list(
        meeting.agenda_items.select_related("paper")
        .prefetch_related(Prefetch("paper__appendices", numbered, to_attr="appendix_list"))
        .order_by("order")
    )
    for item in items:
        item.public_paper = (
            item.paper if item.paper and not item.exempt and item.paper.session == Session.PUBLIC else None
        )
        item.public_appendices = (
            [(n, None if a.exempt else a) for n, a in enumerate(item.public_paper.appendix_list, start=1)]
            if item.public_paper
            else []
        )
    return items


def public_minutes(meeting: Meeting):
    """The meeting's minutes (or None) and their entries on public items: approved minutes, or
    draft minutes the secretary published (``minutes.draft`` then says "Draft, subject to
    approval"). Unpublished draft minutes are for members only."""
    minutes = getattr(meeting, "minutes", None) if hasattr(meeting, "minutes") else None
    if minutes is None or not minutes.public:
        return None, []
    entries = MinuteEntry.objects.filter(
        minutes=minutes, agenda_item__exemption_regime=ExemptionRegime.NONE
    ).select_related("agenda_item")
    return minutes, entries


def latest_public_pack(meeting: Meeting) -> BoardPack | None:
    return (
        meeting.packs.filter(audience=PackAudience.PUBLIC, status=PackStatus.READY)
        .order_by("-version")
        .first()
    )


def public_board_data(board: Board) -> dict:
    """What anyone may read about a board that meets in public, as the public API answers it:
    meetings with their agendas (exempt items by title and reason only), public papers and
    appendices, decisions on public items, the public forward plan."""
    meetings = board.meetings.order_by("-starts_at").prefetch_related(
        Prefetch("agenda_items", queryset=AgendaItem.objects.select_related("paper").order_by("order")),
        Prefetch(
            "agenda_items__paper__appendices",
            queryset=PaperAppendix.objects.filter(exemption_regime=ExemptionRegime.NONE).order_by("order"),
        ),
        Prefetch(
            "packs",
            queryset=BoardPack.objects.filter(audience=PackAudience.PUBLIC, status=PackStatus.READY).order_by(
                "-version"
            ),
        ),
    )
    out_meetings = []
    for meeting in meetings:
        items = []
        for item in meeting.agenda_items.all():
            row = {
                "item_number": item.item_number,
                "title": item.title,
                "purpose": item.purpose,
                "exempt": item.exempt,
            }
            if item.exempt:
                row["exemption"] = {
                    "regime": item.exemption_regime,
                    "paragraph": item.exemption_paragraph,
                    "reason": item.exemption_reason,
                }
            elif item.paper is not None and item.paper.session == Session.PUBLIC:
                paper = item.paper
                row["paper"] = {
                    "title": paper.title,
                    "executive_summary": paper.executive_summary,
                    "recommendations": paper.recommendations,
                    "authors": paper.authors,
                    "appendices": [a.title for a in paper.appendices.all()],
                }
            items.append(row)
        packs_ready = list(meeting.packs.all())
        out_meetings.append(
            {
                "id": meeting.pk,
                "starts_at": meeting.starts_at.isoformat(),
                "venue": meeting.venue,
                "status": meeting.status,
                "agenda": items,
                "public_pack": packs_ready[0].pk if packs_ready else None,
            }
        )
    return {
        "code": board.code,
        "name": board.name,
        "partnership": board.partnership.name,
        "meetings": out_meetings,
        "decisions": [
            {
                "reference": d.reference,
                "corrects": d.corrects.reference if d.corrects_id else None,
                "corrected_by": [c.reference for c in d.public_corrections],
                "minute_number": d.minute_number,
                "title": d.agenda_item.title,
                "resolution": d.resolution,
                "reasons": d.reasons,
                "alternatives_rejected": d.alternatives_rejected,
                "outcome": d.outcome,
                "key_decision": d.key_decision,
                "decided_on": d.decided_on.isoformat(),
                "published_on": d.published_on.isoformat() if d.published_on else None,
                "call_in_ends": d.call_in_ends.isoformat() if d.call_in_ends else None,
                "effective_from": d.effective_from.isoformat() if d.effective_from else None,
            }
            for d in public_decisions(board)
        ],
        "forward_plan": [forward_plan_row(e) for e in public_forward_plan(board)],
    }


def forward_plan_row(entry: ForwardPlanEntry) -> dict:
    meeting = entry.expected_meeting
    return {
        "title": entry.title,
        "key_decision": entry.key_decision,
        "exempt": entry.exempt,
        "exemption_reason": entry.exemption_reason if entry.exempt else "",
        "first_published_on": entry.first_published_on.isoformat(),
        "expected_meeting": meeting.pk if meeting else None,
        "expected_meeting_starts_at": meeting.starts_at.isoformat() if meeting else None,
        "contact": entry.contact,
        "consultation": entry.consultation,
    }


def public_index_data(request=None) -> list[dict]:
    """Every board that meets in public: what the public index answers."""
    rows = []
    for board in public_boards().order_by("partnership__name", "name"):
        rows.append(
            {
                "code": board.code,
                "name": board.name,
                "partnership": board.partnership.name,
                "url": reverse("governance-api:public-board", args=[board.code]),
                "page": reverse("governance:public-board", args=[board.code]),
                "feed": reverse("governance:public-feed", args=[board.code]),
            }
        )
    return rows
