"""Public pages of boards that meet in public (no login): their meetings, agendas, public papers,
decisions, forward plans and public packs, from the public record only (``governance.public``)."""

from __future__ import annotations

from django.http import Http404
from django.views import View
from django.views.generic import TemplateView

from governance import downloads, public


class PublicBoardView(TemplateView):
    template_name = "governance/public/board.html"

    def get_context_data(self, **kwargs):
        board = public.public_board(self.kwargs["code"])
        return super().get_context_data(
            page_title=f"{board.name} (public record)",
            board=board,
            meetings=board.meetings.order_by("-starts_at"),
            decisions=public.public_decisions(board),
            forward_plan=board.forward_plan.order_by("first_published_on"),
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
