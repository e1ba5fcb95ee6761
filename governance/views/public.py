"""Public pages of boards that meet in public (no login): their meetings, agendas, public papers,
decisions, forward plans and public packs, from the public record only (``governance.public``)."""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.views import View
from django.views.generic import TemplateView

from governance import downloads, public


class PublicIndexView(TemplateView):
    """Every board that meets in public, with its page and its feed of decisions."""

    template_name = "governance/public/index.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            page_title="Boards that meet in public",
            boards=public.public_boards().order_by("partnership__name", "name"),
            **kwargs,
        )


class PublicDecisionFeed(Feed):
    """An Atom feed of a board's published decisions (what councillors' and journalists' tools
    subscribe to): decisions appear when their notice is published, corrections cite the original."""

    feed_type = Atom1Feed

    def get_object(self, request, code: str):
        return public.public_board(code)

    def title(self, board) -> str:
        return f"Decisions of {board.name}"

    def subtitle(self, board) -> str:
        return f"Published decision notices of {board.name} ({board.partnership.name})"

    def link(self, board) -> str:
        return reverse("governance:public-board", args=[board.code])

    def items(self, board):
        return public.public_decisions(board)[:50]

    def item_title(self, decision) -> str:
        prefix = f"Correction to {decision.corrects.reference}: " if decision.corrects_id else ""
        return (
            f"{decision.reference}: {prefix}{decision.agenda_item.title} ({decision.get_outcome_display()})"
        )

    def item_description(self, decision) -> str:
        lines = [decision.resolution]
        if decision.public_corrections:
            lines.append("Corrected by " + ", ".join(c.reference for c in decision.public_corrections) + ".")
        return "\n\n".join(lines)

    def item_link(self, decision) -> str:
        board = decision.agenda_item.meeting.board
        return reverse("governance:public-board", args=[board.code]) + f"#{decision.reference}"

    def item_guid(self, decision) -> str:
        return f"urn:jco:decision:{decision.reference}"

    item_guid_is_permalink = False

    def item_pubdate(self, decision):
        return timezone.make_aware(
            timezone.datetime.combine(decision.published_on, timezone.datetime.min.time())
        )

    def item_updateddate(self, decision):
        return self.item_pubdate(decision)


class PublicDecisionFeedView(View):
    """The feed as a class-based view (GET only), like every other route."""

    http_method_names = ["get"]

    def get(self, request, code: str):
        return PublicDecisionFeed()(request, code=code)


class PublicBoardView(TemplateView):
    template_name = "governance/public/board.html"

    def get_context_data(self, **kwargs):
        board = public.public_board(self.kwargs["code"])
        return super().get_context_data(
            page_title=f"{board.name} (public record)",
            board=board,
            meetings=board.meetings.order_by("-starts_at"),
            decisions=public.public_decisions(board),
            forward_plan=public.public_forward_plan(board),
            **kwargs,
        )


class PublicMeetingView(TemplateView):
    template_name = "governance/public/meeting.html"

    def get_context_data(self, **kwargs):
        board = public.public_board(self.kwargs["code"])
        meeting = public.public_meeting(board, self.kwargs["pk"])
        minutes, public_minutes = public.public_minutes(meeting)
        return super().get_context_data(
            page_title=f"{board.name}, {meeting.local_date:%-d %B %Y}",
            board=board,
            meeting=meeting,
            items=public.public_agenda(meeting),
            minutes=minutes,
            public_minutes=public_minutes,
            pack=public.latest_public_pack(meeting),
            **kwargs,
        )


class PublicPackDownloadView(View):
    def get(self, request, code: str, pk: int):
        pack = public.public_pack(code, pk)
        try:
            return downloads.pack_response(request, pack)
        except downloads.PackNotReady as not_ready:
            raise Http404(str(not_ready)) from not_ready
