"""Governance pages. Each view fetches through the permission gate (``restrict``; out of scope is
404, a role without the permission 403), validates with a form, calls one service and responds.
Public pages (no login) read only public rows: exempt items keep their title and reason only."""

from __future__ import annotations

import re

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import DetailView, ListView, TemplateView

from commissioning import exports, jobs
from commissioning.audit import log_access
from commissioning.forms import add_service_errors, style_filter_form
from commissioning.models import AccessLog, Person
from commissioning.permissions import has_model_permission
from commissioning.services import StaleEdit
from commissioning.uploads import display_name
from commissioning.views.mixins import RestrictedViewMixin
from governance import selectors, services
from governance.api.views import pack_download, public_boards
from governance.filtersets import DecisionFilterSet
from governance.forms import (
    ActionForm,
    ActionStatusForm,
    AgendaItemForm,
    AppendixForm,
    AttendanceForm,
    BoardForm,
    DecisionForm,
    DeclarationForm,
    ForwardPlanForm,
    MeetingForm,
    MembershipForm,
    MinutesForm,
    PackRequestForm,
    PaperForm,
    PublishForm,
    RegisterChangeForm,
    RegisterEntryForm,
)
from governance.models import (
    DECLARE_CHANGES_WITHIN_DAYS,
    Action,
    AgendaItem,
    Attendance,
    Board,
    BoardPack,
    Decision,
    ExemptionRegime,
    ForwardPlanEntry,
    InterestDeclaration,
    Meeting,
    Membership,
    Minutes,
    PackAudience,
    PackStatus,
    Paper,
    PaperAppendix,
    RegisterChange,
    RegisterEntry,
    Session,
    entitled_board_ids,
    sees_all_exempt,
)


class GovernanceMixin(RestrictedViewMixin):
    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        request.partnership = getattr(request, "partnership", None) or None


def _can_see_members_pack(user, board: Board) -> bool:
    return sees_all_exempt(user) or entitled_board_ids(user).filter(board_id=board.pk).exists()


class IndexView(GovernanceMixin, TemplateView):
    """The governance landing page: boards and upcoming meetings."""

    model = Board
    template_name = "governance/index.html"

    def get_context_data(self, **kwargs):
        user, partnership = self.request.user, self.request.partnership
        return super().get_context_data(
            page_title="Boards and meetings",
            boards=Board.objects.restrict(user)
            .in_partnership(partnership)
            .select_related("partnership", "parent"),
            upcoming=selectors.upcoming_meetings(user, partnership)[:10],
            recent=Meeting.objects.restrict(user)
            .in_partnership(partnership)
            .filter(starts_at__lt=timezone.now())
            .select_related("board")
            .order_by("-starts_at")[:10],
            can_see_decisions=has_model_permission(user, Decision, "view"),
            can_add_board=has_model_permission(user, Board, "add"),
            **kwargs,
        )


class BoardDetailView(GovernanceMixin, DetailView):
    model = Board
    template_name = "governance/board_detail.html"
    context_object_name = "board"

    def get_context_data(self, **kwargs):
        board = self.object
        user = self.request.user
        today = timezone.localdate()
        memberships = list(
            Membership.objects.restrict(user)
            .filter(board=board)
            .select_related("person", "representing")
            .order_by("role", "person__name", "-start")
        )
        for membership in memberships:
            membership.current = membership.start <= today and (
                membership.end is None or membership.end >= today
            )
        memberships.sort(key=lambda m: not m.current)  # current members first, stable within
        kwargs.setdefault("meeting_form", MeetingForm())
        return super().get_context_data(
            page_title=board.name,
            today=today,
            memberships=memberships,
            meetings=Meeting.objects.restrict(user).filter(board=board).order_by("-starts_at"),
            forward_plan=ForwardPlanEntry.objects.restrict(user)
            .filter(board=board)
            .select_related("expected_meeting")
            .order_by("first_published_on"),
            can_add_meeting=has_model_permission(user, Meeting, "add"),
            can_change_board=has_model_permission(user, Board, "change"),
            can_add_member=has_model_permission(user, Membership, "add"),
            can_change_member=has_model_permission(user, Membership, "change"),
            can_plan=has_model_permission(user, ForwardPlanEntry, "add"),
            can_change_plan=has_model_permission(user, ForwardPlanEntry, "change"),
            history=selectors.board_history(board, user),
            **kwargs,
        )


class MeetingCreateView(GovernanceMixin, View):
    model = Meeting
    action = "add"

    def post(self, request, pk):
        board = get_object_or_404(Board.objects.restrict(request.user, "change"), pk=pk)
        form = MeetingForm(request.POST)
        if form.is_valid():
            try:
                meeting = services.meeting_create(
                    board=board, starts_at=form.starts_at(), venue=form.cleaned_data["venue"], by=request.user
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Meeting of {board.name} planned with its standing items.")
                return redirect(meeting)
        view = BoardDetailView(request=request, kwargs={"pk": pk}, object=board)
        view.setup(request, pk=pk)
        view.object = board
        return view.render_to_response(view.get_context_data(meeting_form=form))


class MeetingDetailView(GovernanceMixin, DetailView):
    model = Meeting
    template_name = "governance/meeting_detail.html"
    context_object_name = "meeting"

    def get_queryset(self):
        return super().get_queryset().select_related("board__partnership")

    def get_context_data(self, **kwargs):
        meeting = self.object
        user = self.request.user
        board = meeting.board
        items = list(selectors.agenda_for(meeting, user))
        day = meeting.local_date
        kwargs.setdefault(
            "item_form", AgendaItemForm(papers=Paper.objects.restrict(user).filter(board=board))
        )
        kwargs.setdefault(
            "attendance_form",
            AttendanceForm(
                people=Person.objects.filter(memberships__board=board).distinct().order_by("name")
                | Person.objects.filter(attendance__meeting=meeting).distinct(),
                members=Person.objects.filter(
                    pk__in=selectors.members_on(board, day).values("person_id")
                ).order_by("name"),
            ),
        )
        packs = BoardPack.objects.restrict(user).filter(meeting=meeting).order_by("audience", "-version")
        minutes = Minutes.objects.filter(meeting=meeting).prefetch_related("entries").first()
        kwargs.setdefault("minutes_form", MinutesForm(items=items, minutes=minutes))
        kwargs.setdefault("action_form", ActionForm(people=_board_people(board, meeting)))
        previous = (
            Meeting.objects.filter(board=board, starts_at__lt=meeting.starts_at)
            .order_by("-starts_at")
            .first()
        )
        previous_minutes = Minutes.objects.filter(meeting=previous).first() if previous else None
        return super().get_context_data(
            page_title=str(meeting),
            board=board,
            items=items,
            hidden_count=meeting.agenda_items.count() - len(items),
            attendance=Attendance.objects.filter(meeting=meeting).select_related("person", "substitute_for"),
            action_log=selectors.action_log_for(meeting),
            actions=meeting.actions.select_related("owner"),
            minutes=minutes,
            minute_entries=[e for e in minutes.entries.all() if e.agenda_item_id in {i.pk for i in items}]
            if minutes
            else [],
            previous_minutes=previous_minutes,
            packs=packs,
            packs_busy=any(p.status in (PackStatus.QUEUED, PackStatus.RENDERING) for p in packs),
            can_change=has_model_permission(user, Meeting, "change")
            and has_model_permission(user, AgendaItem, "add"),
            can_generate=has_model_permission(user, BoardPack, "add"),
            can_close_actions=has_model_permission(user, Action, "change"),
            can_members_pack=_can_see_members_pack(user, board),
            **kwargs,
        )


def _board_people(board: Board, meeting: Meeting):
    return (
        Person.objects.filter(memberships__board=board).distinct()
        | Person.objects.filter(attendance__meeting=meeting).distinct()
    ).order_by("name")


class MinutesWriteView(GovernanceMixin, View):
    model = Minutes
    action = "add"

    def post(self, request, pk):
        meeting = get_object_or_404(Meeting.objects.restrict(request.user, "change"), pk=pk)
        items = list(selectors.agenda_for(meeting, request.user))
        minutes = Minutes.objects.filter(meeting=meeting).first()
        form = MinutesForm(request.POST, items=items, minutes=minutes)
        if form.is_valid():
            try:
                services.minutes_write(
                    meeting=meeting,
                    entries=form.entries(),
                    part2_summary=form.cleaned_data["part2_summary"],
                    by=request.user,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Minutes saved and numbered.")
                return redirect(reverse("governance:meeting", args=[meeting.pk]) + "#minutes")
        return _rerender_meeting(request, meeting, minutes_form=form)


class MinutesApproveView(GovernanceMixin, View):
    """Approve the previous meeting's minutes at this meeting."""

    model = Minutes
    action = "change"

    def post(self, request, pk):
        meeting = get_object_or_404(Meeting.objects.restrict(request.user, "change"), pk=pk)
        minutes = get_object_or_404(
            Minutes.objects.restrict(request.user, "change"), pk=request.POST.get("minutes")
        )
        try:
            services.minutes_approve(minutes=minutes, at_meeting=meeting, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Minutes of {minutes.meeting} approved.")
        return redirect(meeting)


class ActionAddView(GovernanceMixin, View):
    model = Action
    action = "add"

    def post(self, request, pk):
        meeting = get_object_or_404(Meeting.objects.restrict(request.user, "change"), pk=pk)
        form = ActionForm(request.POST, people=_board_people(meeting.board, meeting))
        if form.is_valid():
            try:
                services.action_add(meeting=meeting, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Action added.")
                return redirect(reverse("governance:meeting", args=[meeting.pk]) + "#actions")
        return _rerender_meeting(request, meeting, action_form=form)


class MeetingPacksPartial(MeetingDetailView):
    """The packs table alone, polled by htmx while a pack renders."""

    template_name = "governance/_packs.html"


class AgendaItemAddView(GovernanceMixin, View):
    model = AgendaItem
    action = "add"

    def post(self, request, pk):
        meeting = get_object_or_404(Meeting.objects.restrict(request.user, "change"), pk=pk)
        form = AgendaItemForm(
            request.POST, papers=Paper.objects.restrict(request.user).filter(board=meeting.board)
        )
        if form.is_valid():
            try:
                services.agenda_item_add(meeting=meeting, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Item “{form.cleaned_data['title']}” added to the agenda.")
                return redirect(meeting)
        return _rerender_meeting(request, meeting, item_form=form)


def _rerender_meeting(request, meeting, **forms):
    view = MeetingDetailView()
    view.setup(request, pk=meeting.pk)
    view.object = meeting
    return view.render_to_response(view.get_context_data(**forms))


class AgendaItemMoveView(GovernanceMixin, View):
    model = AgendaItem
    action = "change"

    def post(self, request, pk):
        item = get_object_or_404(AgendaItem.objects.restrict(request.user, "change"), pk=pk)
        try:
            services.agenda_item_move(item=item, direction=request.POST.get("direction", ""), by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect(item.meeting)


class AttendanceRecordView(GovernanceMixin, View):
    model = Attendance
    action = "add"

    def post(self, request, pk):
        meeting = get_object_or_404(Meeting.objects.restrict(request.user, "change"), pk=pk)
        board = meeting.board
        form = AttendanceForm(
            request.POST,
            people=Person.objects.restrict(request.user),
            members=Person.objects.filter(
                pk__in=selectors.members_on(board, meeting.local_date).values("person_id")
            ),
        )
        if form.is_valid():
            try:
                services.attendance_record(meeting=meeting, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Attendance recorded.")
                return redirect(meeting)
        return _rerender_meeting(request, meeting, attendance_form=form)


class AgendaItemDetailView(GovernanceMixin, DetailView):
    """One item: its paper, declarations, whether it is quorate before the vote, and its decisions."""

    model = AgendaItem
    template_name = "governance/item_detail.html"
    context_object_name = "item"

    def get_queryset(self):
        return super().get_queryset().select_related("meeting__board__partnership", "paper")

    def get_context_data(self, **kwargs):
        item = self.object
        user = self.request.user
        board = item.meeting.board
        quorum = selectors.quorum_for_item(item)
        voters = [
            a for a in selectors.attendees_for_item(item) if a.present and a.voting and not a.conflicted
        ]
        members = Person.objects.filter(
            pk__in=selectors.members_on(board, item.meeting.local_date).values("person_id")
        )
        kwargs.setdefault("decision_form", DecisionForm(voters=voters, casting=board.chair_has_casting_vote))
        kwargs.setdefault("declaration_form", DeclarationForm(people=members.order_by("name")))
        paper = item.paper
        appendices = PaperAppendix.objects.restrict(user).filter(paper=paper) if paper else []
        return super().get_context_data(
            page_title=item.title,
            meeting=item.meeting,
            board=board,
            quorum=quorum,
            paper=paper if paper and Paper.objects.restrict(user).filter(pk=paper.pk).exists() else None,
            appendices=appendices,
            declarations=item.declarations.select_related("person"),
            decisions=Decision.objects.restrict(user).filter(agenda_item=item),
            can_decide=has_model_permission(user, Decision, "add"),
            can_declare=has_model_permission(user, item.declarations.model, "add"),
            **kwargs,
        )


class DecisionRecordView(GovernanceMixin, View):
    model = Decision
    action = "add"

    def post(self, request, pk):
        item = get_object_or_404(AgendaItem.objects.restrict(request.user, "change"), pk=pk)
        board = item.meeting.board
        voters = [
            a for a in selectors.attendees_for_item(item) if a.present and a.voting and not a.conflicted
        ]
        form = DecisionForm(request.POST, voters=voters, casting=board.chair_has_casting_vote)
        if form.is_valid():
            people = {p.pk: p for p in Person.objects.filter(pk__in=[a.person_id for a in voters])}
            data = dict(form.cleaned_data)
            votes = [services.CastVote(person=people[pk], choice=choice) for pk, choice in form.votes()]
            try:
                decision = services.decision_record(
                    agenda_item=item,
                    resolution=data["resolution"],
                    reasons=data["reasons"],
                    alternatives_rejected=data["alternatives_rejected"],
                    outcome=data["outcome"],
                    financial_value=data["financial_value"],
                    urgent=data["urgent"],
                    urgent_reason=data["urgent_reason"],
                    casting_vote=data.get("casting_vote") or None,
                    votes=votes,
                    by=request.user,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request, f"Decision {decision.reference} recorded: {decision.get_outcome_display()}."
                )
                return redirect(decision)
        view = AgendaItemDetailView()
        view.setup(request, pk=pk)
        view.object = item
        return view.render_to_response(view.get_context_data(decision_form=form))


class DeclarationRecordView(GovernanceMixin, View):
    model = AgendaItem
    action = "view"

    def post(self, request, pk):
        # The role first (403 whatever the id), then the scope (hidden: 404).
        self.require_role("add", InterestDeclaration)
        item = get_object_or_404(AgendaItem.objects.restrict(request.user, "view"), pk=pk)
        board = item.meeting.board
        members = Person.objects.filter(
            pk__in=selectors.members_on(board, item.meeting.local_date).values("person_id")
        )
        form = DeclarationForm(request.POST, people=members)
        if form.is_valid():
            try:
                services.declaration_record(
                    board=board, agenda_item=item, by=request.user, **form.cleaned_data
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Declaration of interest recorded.")
                return redirect("governance:item", pk=item.pk)
        view = AgendaItemDetailView()
        view.setup(request, pk=pk)
        view.object = item
        return view.render_to_response(view.get_context_data(declaration_form=form))


class DecisionDetailView(GovernanceMixin, DetailView):
    """The decision notice: everything rule 3 lists."""

    model = Decision
    template_name = "governance/decision_detail.html"
    context_object_name = "decision"

    def get_queryset(self):
        return super().get_queryset().select_related("agenda_item__meeting__board__parent")

    def get_context_data(self, **kwargs):
        decision = self.object
        kwargs.setdefault("publish_form", PublishForm(initial={"published_on": timezone.localdate()}))
        return super().get_context_data(
            page_title=f"Decision {decision.reference}",
            item=decision.agenda_item,
            meeting=decision.agenda_item.meeting,
            board=decision.agenda_item.meeting.board,
            votes=decision.votes.select_related("person", "representing").order_by("casting", "person__name"),
            interests=decision.agenda_item.declarations.select_related("person"),
            links=decision.links.select_related("content_type").prefetch_related("target"),
            can_publish=has_model_permission(self.request.user, Decision, "change")
            and not decision.published_on,
            **kwargs,
        )


class DecisionPublishView(GovernanceMixin, View):
    model = Decision
    action = "change"

    def post(self, request, pk):
        decision = get_object_or_404(Decision.objects.restrict(request.user, "change"), pk=pk)
        form = PublishForm(request.POST)
        if form.is_valid():
            try:
                services.decision_publish(
                    decision=decision, published_on=form.cleaned_data["published_on"], by=request.user
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Decision {decision.reference} published.")
                return redirect(decision)
        view = DecisionDetailView()
        view.setup(request, pk=pk)
        view.object = decision
        return view.render_to_response(view.get_context_data(publish_form=form))


DECISION_COLUMNS: list[exports.Column] = [
    ("Reference", "reference"),
    ("Minute", "minute_number"),
    ("Board", "agenda_item.meeting.board.name"),
    ("Item", "agenda_item.title"),
    ("Resolution", "resolution"),
    ("Outcome", "get_outcome_display"),
    ("Quorate", "quorate"),
    ("Financial value", "financial_value"),
    ("Key decision", "key_decision"),
    ("Notice flag", lambda d: d.notice_note if d.flagged else ""),
    ("Decided on", "decided_on"),
    ("Published on", "published_on"),
    ("Effective from", lambda d: timezone.localtime(d.effective_from).date() if d.effective_from else None),
    ("Changed", lambda d: "; ".join(_link_text(link) for link in d.links.all())),
]


def _link_text(link) -> str:
    """What a decision changed, for the CSV: "Placements (2022/23): £1,000.00 -> £990.00"."""
    money = lambda v: "" if v is None else f"£{v:,.2f}"  # noqa: E731
    text = link.description or f"{link.content_type.model} {link.object_id}"
    if link.amount_before is not None or link.amount_after is not None:
        text += f": {money(link.amount_before) or '(none)'} -> {money(link.amount_after) or '(none)'}"
    return text


class DecisionLogMixin(GovernanceMixin):
    model = Decision

    def get_filterset(self) -> DecisionFilterSet:
        if not hasattr(self, "_filterset"):
            base = selectors.decision_log(self.request.user, self.request.partnership)
            self._filterset = DecisionFilterSet(self.request.GET or None, queryset=base, request=self.request)
            style_filter_form(self._filterset.form, checkboxes=("outcome",))
        return self._filterset

    def get_queryset(self):
        return self.get_filterset().qs.order_by("-decided_on", "-reference")


class DecisionLogView(DecisionLogMixin, ListView):
    template_name = "governance/decision_log.html"
    context_object_name = "decisions"
    paginate_by = 25

    def get_context_data(self, **kwargs):
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(
            page_title="Decision log",
            filter_form=self.get_filterset().form,
            export_query=query.urlencode(),
            querystring_without_page=f"{query.urlencode()}&" if query else "",
            **kwargs,
        )


class DecisionLogExportView(DecisionLogMixin, View):
    def get(self, request, fmt: str):
        if fmt not in exports.FORMATS:
            raise Http404("Unknown export format")
        return exports.export_response(
            fmt,
            columns=DECISION_COLUMNS,
            rows=self.get_queryset().prefetch_related("links__content_type"),
            filename=f"decisions-{timezone.localdate():%Y-%m-%d}",
            sheet_title="Decisions",
        )


class PackRequestView(GovernanceMixin, View):
    model = BoardPack
    action = "add"

    def post(self, request, pk):
        meeting = get_object_or_404(Meeting.objects.restrict(request.user, "view"), pk=pk)
        form = PackRequestForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose the members' or the public pack.")
            return redirect(meeting)
        audience = form.cleaned_data["audience"]
        if audience == PackAudience.MEMBERS and not _can_see_members_pack(request.user, meeting.board):
            raise PermissionDenied("Only the board's members and secretaries may generate the members' pack.")
        pack = services.pack_request(meeting=meeting, audience=audience, by=request.user)
        if jobs.deferred():  # the broker is down: the version is recorded and renders when it is back
            what = f"{pack.get_audience_display()} pack version {pack.version}"
            messages.warning(request, jobs.deferred_message(what))
        else:
            messages.success(
                request, f"{pack.get_audience_display()} pack version {pack.version} is being generated."
            )
        return redirect(reverse("governance:meeting", args=[meeting.pk]) + "#packs")


class PackDownloadView(GovernanceMixin, View):
    model = BoardPack

    def get(self, request, pk):
        pack = get_object_or_404(
            BoardPack.objects.restrict(request.user).select_related("meeting__board"), pk=pk
        )
        return _as_django(pack_download, request, pack)


class AppendixDownloadView(GovernanceMixin, View):
    """A paper's PDF appendix, served only through the permission check (security.md): out of
    scope, or exempt (the appendix, a private paper or an exempt item) to anyone but that board's
    members and secretaries, answers 404. Every download is logged."""

    model = PaperAppendix

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.require_role("view", Paper)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, pk):
        appendix = get_object_or_404(
            PaperAppendix.objects.restrict(request.user)
            .filter(paper__in=Paper.objects.restrict(request.user).values("pk"))
            .select_related("paper__board__partnership"),
            pk=pk,
        )
        try:
            handle = appendix.file.open("rb")
        except (FileNotFoundError, ValueError) as exc:
            raise Http404("The appendix file is missing.") from exc
        log_access(request=request, obj=appendix, action=AccessLog.Action.DOWNLOAD)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=appendix_download_name(appendix.original_name),
            content_type="application/pdf",
        )


def appendix_download_name(name: str | None) -> str:
    """The file name to offer: the upload's display name, sanitised again for a header (letters,
    digits, spaces, ``.``, ``-``, ``_``, ``(``, ``)`` only), always ending ``.pdf``."""
    text = display_name(name, fallback="appendix.pdf")
    text = re.sub(r"[^\w .()-]", "_", text).strip(" .") or "appendix"
    if not text.lower().endswith(".pdf"):
        text = f"{text[:96]}.pdf"
    return text


def _as_django(func, request, pack):
    from commissioning.api.exceptions import Conflict

    try:
        return func(request, pack)
    except Conflict as exc:
        messages.error(request, str(exc.detail))
        return redirect(pack.meeting)


class PaperCreateView(GovernanceMixin, TemplateView):
    model = Paper
    action = "add"
    template_name = "governance/paper_form.html"

    def get_board(self):
        return get_object_or_404(Board.objects.restrict(self.request.user), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", PaperForm(initial={"session": Session.PUBLIC}))
        return super().get_context_data(page_title="New paper", board=self.get_board(), **kwargs)

    def post(self, request, pk):
        board = self.get_board()
        form = PaperForm(request.POST)
        if form.is_valid():
            try:
                paper = services.paper_create(board=board, by=request.user, **form.service_fields())
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Paper “{paper.title}” saved.")
                return redirect("governance:paper", pk=paper.pk)
        return self.render_to_response(self.get_context_data(form=form))


class PaperDetailView(GovernanceMixin, DetailView):
    model = Paper
    template_name = "governance/paper_detail.html"
    context_object_name = "paper"

    def get_context_data(self, **kwargs):
        paper = self.object
        user = self.request.user
        kwargs.setdefault("form", PaperForm(initial={**_paper_initial(paper)}))
        kwargs.setdefault("appendix_form", AppendixForm())
        return super().get_context_data(
            page_title=paper.title,
            board=paper.board,
            appendices=PaperAppendix.objects.restrict(user).filter(paper=paper),
            can_change=Paper.objects.restrict(user, "change").filter(pk=paper.pk).exists(),
            can_upload=has_model_permission(user, PaperAppendix, "add"),
            **kwargs,
        )

    def post(self, request, pk):
        self.require_role("change", Paper)
        self.object = paper = get_object_or_404(Paper.objects.restrict(request.user, "change"), pk=pk)
        form = PaperForm(request.POST, editing=True)
        if form.is_valid():
            try:
                services.paper_update(
                    paper=paper,
                    version=form.cleaned_data.get("version"),
                    by=request.user,
                    **form.service_fields(),
                )
            except (StaleEdit, ValidationError) as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Paper saved.")
                return redirect("governance:paper", pk=paper.pk)
        response = self.render_to_response(self.get_context_data(form=form))
        return response


def _paper_initial(paper: Paper) -> dict:
    fields = [
        "title",
        "session",
        "executive_summary",
        "body",
        "equality_impact",
        "financial_impact",
        "legal_impact",
        "risk_impact",
        "conflicts_of_interest",
        "presented_before",
        "authors",
        "clinical_lead",
        "executive_sponsor",
        "version",
    ]
    initial = {name: getattr(paper, name) for name in fields}
    initial["recommendations"] = "\n".join(paper.recommendations)
    return initial


class AppendixUploadView(GovernanceMixin, View):
    model = PaperAppendix
    action = "add"

    def post(self, request, pk):
        paper = get_object_or_404(Paper.objects.restrict(request.user, "view"), pk=pk)
        form = AppendixForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                with transaction.atomic():
                    services.appendix_add(
                        paper=paper,
                        title=form.cleaned_data["title"],
                        filename=upload.display_name,
                        data=upload.data,
                        exemption_regime=form.cleaned_data["exemption_regime"],
                        exemption_paragraph=form.cleaned_data["exemption_paragraph"],
                        exemption_reason=form.cleaned_data["exemption_reason"],
                        by=request.user,
                    )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Appendix uploaded.")
                return redirect("governance:paper", pk=paper.pk)
        view = PaperDetailView()
        view.setup(request, pk=pk)
        view.object = paper
        return view.render_to_response(view.get_context_data(appendix_form=form))


class RegisterView(GovernanceMixin, TemplateView):
    """The register of interests for the year and the members who have not declared."""

    # The register's own permission (governance/roles.py), not the board's: brokers and finance
    # may read boards and decisions but not members' interests.
    model = RegisterEntry
    template_name = "governance/register.html"

    def get_context_data(self, **kwargs):
        year = selectors.register_year(timezone.localdate())
        partnerships = (
            [self.request.partnership]
            if self.request.partnership
            else list(self.request.user.partnerships.all() if not self.request.user.is_superuser else [])
        )
        if self.request.user.is_superuser and not partnerships:
            from commissioning.models import Partnership

            partnerships = list(Partnership.objects.all())
        return super().get_context_data(
            page_title="Register of interests",
            year=year,
            entries=RegisterEntry.objects.restrict(self.request.user)
            .filter(year=year)
            .select_related("person", "partnership"),
            missing=[(p, selectors.members_not_declared(p, year)) for p in partnerships],
            changes=selectors.register_changes(self.request.user, partnerships, year),
            within_days=DECLARE_CHANGES_WITHIN_DAYS,
            can_declare=has_model_permission(self.request.user, RegisterEntry, "add"),
            can_declare_change=has_model_permission(self.request.user, RegisterChange, "add"),
            **kwargs,
        )


# --- Boards, memberships and the forward plan (board secretaries) ---------------------------------


def _granted_partnerships(user):
    from commissioning.models import Partnership

    if user.is_superuser:
        return Partnership.objects.all()
    return Partnership.objects.filter(grants__user=user).distinct()


class FormPageMixin(GovernanceMixin):
    """A page with one GOV.UK form: GET shows it, POST validates it and calls one service; the
    service's errors go back on the fields they name."""

    template_name = "governance/form_page.html"
    submit_label = "Save"

    def get_form(self, data=None):  # pragma: no cover - each view defines it
        raise NotImplementedError

    def page_context(self) -> dict:
        return {}

    def render_form(self, form, status=200):
        context = {"form": form, "submit_label": self.submit_label, **self.page_context()}
        return self.render_to_response(TemplateView.get_context_data(self, **context), status=status)

    def get(self, request, *args, **kwargs):
        return self.render_form(self.get_form())

    def post(self, request, *args, **kwargs):
        form = self.get_form(request.POST)
        if form.is_valid():
            try:
                target = self.save(form)
            except (StaleEdit, ValidationError) as error:
                add_service_errors(form, error)
            else:
                messages.success(request, self.success_message(target))
                return redirect(self.success_url(target))
        return self.render_form(form)


class BoardCreateView(FormPageMixin, TemplateView):
    model = Board
    action = "add"
    submit_label = "Create board"

    def get_form(self, data=None):
        user = self.request.user
        return BoardForm(
            data,
            partnerships=_granted_partnerships(user),
            boards=Board.objects.restrict(user),
            initial={"partnership": self.request.partnership} if self.request.partnership else None,
        )

    def page_context(self):
        return {
            "page_title": "New board",
            "caption": "Boards and meetings",
            "back": reverse("governance:index"),
        }

    def save(self, form):
        return services.board_create(by=self.request.user, **form.cleaned_data)

    def success_message(self, board):
        return f"Board “{board.name}” created. Add its members next."

    def success_url(self, board):
        return board.get_absolute_url()


class BoardEditView(FormPageMixin, TemplateView):
    model = Board
    action = "change"
    submit_label = "Save board"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.board = None

    def get_board(self) -> Board:
        if self.board is None:
            self.board = get_object_or_404(
                Board.objects.restrict(self.request.user, "change").select_related("partnership"),
                pk=self.kwargs["pk"],
            )
        return self.board

    def get_form(self, data=None):
        return BoardForm(
            data,
            instance=self.get_board(),
            partnerships=_granted_partnerships(self.request.user),
            boards=Board.objects.restrict(self.request.user),
        )

    def page_context(self):
        board = self.get_board()
        return {
            "page_title": f"Change {board.name}",
            "caption": f"{board.partnership.name} · {board.code}",
            "board": board,
            "back": board.get_absolute_url(),
        }

    def save(self, form):
        return services.board_update(board=self.get_board(), by=self.request.user, **form.cleaned_data)

    def success_message(self, board):
        return f"Board “{board.name}” saved."

    def success_url(self, board):
        return board.get_absolute_url()


class MembershipCreateView(FormPageMixin, TemplateView):
    model = Membership
    action = "add"
    submit_label = "Add member"

    def get_board(self) -> Board:
        if not hasattr(self, "_board"):
            self._board = get_object_or_404(
                Board.objects.restrict(self.request.user).select_related("partnership"), pk=self.kwargs["pk"]
            )
        return self._board

    def get_form(self, data=None):
        return MembershipForm(
            data,
            board=self.get_board(),
            people=Person.objects.restrict(self.request.user).order_by("name"),
            initial={"start": timezone.localdate(), "voting": True},
        )

    def page_context(self):
        board = self.get_board()
        return {
            "page_title": f"Add a member to {board.name}",
            "caption": f"{board.partnership.name} · {board.code}",
            "board": board,
            "back": board.get_absolute_url() + "#members",
        }

    def save(self, form):
        return services.membership_add(board=self.get_board(), by=self.request.user, **form.cleaned_data)

    def success_message(self, membership):
        return f"{membership.person} added as {membership.get_role_display().lower()}."

    def success_url(self, membership):
        return membership.board.get_absolute_url() + "#members"


class MembershipEditView(FormPageMixin, TemplateView):
    model = Membership
    action = "change"
    submit_label = "Save membership"

    def get_membership(self) -> Membership:
        if not hasattr(self, "_membership"):
            self._membership = get_object_or_404(
                Membership.objects.restrict(self.request.user, "change").select_related(
                    "board__partnership", "person"
                ),
                pk=self.kwargs["pk"],
            )
        return self._membership

    def get_form(self, data=None):
        membership = self.get_membership()
        return MembershipForm(data, instance=membership, board=membership.board)

    def page_context(self):
        membership = self.get_membership()
        return {
            "page_title": f"Change the membership of {membership.person}",
            "caption": membership.board.name,
            "board": membership.board,
            "back": membership.board.get_absolute_url() + "#members",
        }

    def save(self, form):
        return services.membership_update(
            membership=self.get_membership(), by=self.request.user, **form.cleaned_data
        )

    def success_message(self, membership):
        return f"Membership of {membership.person} saved."

    def success_url(self, membership):
        return membership.board.get_absolute_url() + "#members"


class ForwardPlanEntryView(FormPageMixin, TemplateView):
    """Add an entry to a board's forward plan (``board_pk``) or change one (``pk``)."""

    model = ForwardPlanEntry
    submit_label = "Save entry"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.action = "change" if "pk" in kwargs else "add"

    def get_entry(self) -> ForwardPlanEntry | None:
        if "pk" not in self.kwargs:
            return None
        if not hasattr(self, "_entry"):
            self._entry = get_object_or_404(
                ForwardPlanEntry.objects.restrict(self.request.user, "change").select_related(
                    "board__partnership"
                ),
                pk=self.kwargs["pk"],
            )
        return self._entry

    def get_board(self) -> Board:
        entry = self.get_entry()
        if entry is not None:
            return entry.board
        if not hasattr(self, "_board"):
            self._board = get_object_or_404(
                Board.objects.restrict(self.request.user).select_related("partnership"),
                pk=self.kwargs["board_pk"],
            )
        return self._board

    def get_form(self, data=None):
        entry = self.get_entry()
        initial = None if entry else {"first_published_on": timezone.localdate(), "key_decision": True}
        return ForwardPlanForm(data, instance=entry, board=self.get_board(), initial=initial)

    def page_context(self):
        board = self.get_board()
        entry = self.get_entry()
        return {
            "page_title": f"Change “{entry.title}”" if entry else f"Add to the forward plan of {board.name}",
            "caption": f"{board.name} · forward plan",
            "board": board,
            "back": board.get_absolute_url() + "#forward-plan",
        }

    def save(self, form):
        return services.forward_plan_save(
            board=self.get_board(), entry=self.get_entry(), by=self.request.user, **form.cleaned_data
        )

    def success_message(self, entry):
        return f"Forward plan entry “{entry.title}” saved."

    def success_url(self, entry):
        return entry.board.get_absolute_url() + "#forward-plan"


class ActionStatusView(GovernanceMixin, View):
    """Mark an action done or dropped: it leaves the action log of the board's next meetings."""

    model = Action
    action = "change"

    def post(self, request, pk):
        action = get_object_or_404(Action.objects.restrict(request.user, "change"), pk=pk)
        form = ActionStatusForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose open, done or dropped for the action.")
        else:
            action = services.action_set_status(
                action=action, status=form.cleaned_data["status"], by=request.user
            )
            messages.success(request, f"Action marked {action.get_status_display().lower()}.")
        back = request.POST.get("meeting")
        meeting = (
            Meeting.objects.restrict(request.user).filter(pk=back).first()
            if back and back.isdigit()
            else None
        )
        return redirect(reverse("governance:meeting", args=[(meeting or action.meeting).pk]) + "#action-log")


# --- The register of interests --------------------------------------------------------------------


def _register_people(user, partnerships):
    """Whom the user may declare for: board secretaries, anyone on the partnerships' boards; others,
    only themselves."""
    people = Person.objects.filter(memberships__board__partnership__in=partnerships).distinct()
    if not sees_all_exempt(user):
        people = people.filter(user=user)
    return people.order_by("name")


class RegisterDeclareView(FormPageMixin, TemplateView):
    """The annual declaration of interests (a nil return included)."""

    model = RegisterEntry
    action = "add"
    submit_label = "Make declaration"

    def get_form(self, data=None):
        user = self.request.user
        partnerships = _granted_partnerships(user).order_by("name")
        people = _register_people(user, partnerships)
        initial = {"person": people.first()} if people.count() == 1 else {}
        if self.request.partnership:
            initial["partnership"] = self.request.partnership
        elif partnerships.count() == 1:
            initial["partnership"] = partnerships.first()
        return RegisterEntryForm(data, people=people, partnerships=partnerships, initial=initial)

    def page_context(self):
        year = selectors.register_year(timezone.localdate())
        return {
            "page_title": f"Declare interests for {year}/{str(year + 1)[2:]}",
            "caption": "Register of interests",
            "back": reverse("governance:register"),
        }

    def save(self, form):
        data = form.cleaned_data
        return services.register_entry_record(
            person=data["person"],
            partnership=data["partnership"],
            year=selectors.register_year(timezone.localdate()),
            nil_return=data["nil_return"],
            interests=data["interests"],
            by=self.request.user,
        )

    def success_message(self, entry):
        return f"Declaration of {entry.person} recorded{' (nil return)' if entry.nil_return else ''}."

    def success_url(self, entry):
        return reverse("governance:register-person", args=[entry.person_id])


class RegisterChangeView(RegisterDeclareView):
    """A change to one's interests during the year, due within 28 days of arising."""

    model = RegisterChange
    submit_label = "Declare change"

    def get_form(self, data=None):
        base = super().get_form()
        return RegisterChangeForm(
            data,
            people=base.fields["person"].queryset,
            partnerships=base.fields["partnership"].queryset,
            initial=base.initial,
        )

    def page_context(self):
        return {**super().page_context(), "page_title": "Declare a change to your interests"}

    def save(self, form):
        return services.register_change_record(by=self.request.user, **form.cleaned_data)

    def success_message(self, change):
        if change.late:
            return (
                f"Change recorded for {change.person}. It was declared {change.days_to_declare} days after "
                "it arose, later than the 28 days allowed, so the register flags it as late."
            )
        return f"Change recorded for {change.person}."


class RegisterPersonView(GovernanceMixin, TemplateView):
    """One person's register: annual declarations, changes during the year (late ones flagged) and
    their declarations at meetings."""

    model = RegisterEntry
    template_name = "governance/register_person.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        partnerships = _granted_partnerships(user)
        if self.request.partnership:
            partnerships = partnerships.filter(pk=self.request.partnership.pk)
        person = get_object_or_404(
            Person.objects.filter(memberships__board__partnership__in=partnerships).distinct(),
            pk=self.kwargs["pk"],
        )
        changes = list(
            RegisterChange.objects.restrict(user)
            .filter(person=person, partnership__in=partnerships)
            .select_related("partnership")
        )
        return super().get_context_data(
            page_title=f"Register of interests: {person.name}",
            person=person,
            memberships=Membership.objects.restrict(user)
            .filter(person=person, board__partnership__in=partnerships)
            .select_related("board"),
            entries=RegisterEntry.objects.restrict(user)
            .filter(person=person, partnership__in=partnerships)
            .select_related("partnership"),
            changes=changes,
            late_count=sum(1 for c in changes if c.late),
            declarations=InterestDeclaration.objects.restrict(user)
            .filter(person=person, board__partnership__in=partnerships)
            .select_related("board", "meeting", "agenda_item")
            .order_by("-declared_on"),
            can_declare=has_model_permission(user, RegisterEntry, "add"),
            can_change=has_model_permission(user, RegisterChange, "add"),
            **kwargs,
        )


# --- Public pages (no login) ----------------------------------------------------------------------


class PublicBoardView(TemplateView):
    template_name = "governance/public/board.html"

    def get_context_data(self, **kwargs):
        board = get_object_or_404(public_boards(), code=self.kwargs["code"].upper())
        exempt = (ExemptionRegime.SCHEDULE_12A, ExemptionRegime.ACT_1960)
        return super().get_context_data(
            page_title=f"{board.name} (public record)",
            board=board,
            meetings=board.meetings.order_by("-starts_at"),
            decisions=Decision.objects.filter(agenda_item__meeting__board=board)
            .exclude(agenda_item__exemption_regime__in=exempt)
            .select_related("agenda_item")
            .order_by("-decided_on", "-reference"),
            forward_plan=board.forward_plan.order_by("first_published_on"),
            **kwargs,
        )


class PublicMeetingView(TemplateView):
    template_name = "governance/public/meeting.html"

    def get_context_data(self, **kwargs):
        board = get_object_or_404(public_boards(), code=self.kwargs["code"].upper())
        meeting = get_object_or_404(board.meetings, pk=self.kwargs["pk"])
        public_appendices = PaperAppendix.objects.filter(exemption_regime=ExemptionRegime.NONE)
        items = list(
            meeting.agenda_items.select_related("paper")
            .prefetch_related(
                Prefetch("paper__appendices", public_appendices, to_attr="public_appendix_list")
            )
            .order_by("order")
        )
        for item in items:
            item.public_paper = (
                item.paper
                if item.paper and not item.exempt and item.paper.session == Session.PUBLIC
                else None
            )
            item.public_appendices = item.public_paper.public_appendix_list if item.public_paper else []
        minutes = getattr(meeting, "minutes", None) if hasattr(meeting, "minutes") else None
        return super().get_context_data(
            page_title=f"{board.name}, {meeting.local_date:%-d %B %Y}",
            board=board,
            meeting=meeting,
            items=items,
            minutes=minutes,
            public_minutes=minutes.entries.filter(
                agenda_item__exemption_regime=ExemptionRegime.NONE
            ).select_related("agenda_item")
            if minutes
            else [],
            pack=meeting.packs.filter(audience=PackAudience.PUBLIC, status=PackStatus.READY)
            .order_by("-version")
            .first(),
            **kwargs,
        )


class PublicPackDownloadView(View):
    def get(self, request, code: str, pk: int):
        pack = get_object_or_404(
            BoardPack.objects.select_related("meeting__board"),
            pk=pk,
            audience=PackAudience.PUBLIC,
            status=PackStatus.READY,
            meeting__board__in=public_boards().filter(code=code.upper()),
        )
        return pack_download(request, pack)
