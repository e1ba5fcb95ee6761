"""Board papers: writing one for a board, its page (which is also where it is edited), and its PDF
appendices, uploaded and downloaded through the permission check (security.md)."""

from __future__ import annotations

from django import forms
from django.urls import reverse
from django.views import View

from commissioning.generic import GateMixin
from governance import downloads, services
from governance.forms import AppendixForm, PaperForm
from governance.models import Board, Paper, PaperAppendix, PaperLink, Session
from governance.views.base import FormOnPage, GovernanceFormView

PAPER_FIELDS = [
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


def paper_initial(paper: Paper) -> dict:
    """The edit form as the paper stands (recommendations one a line; the version it was loaded at)."""
    initial = {name: getattr(paper, name) for name in PAPER_FIELDS}
    initial["recommendations"] = "\n".join(paper.recommendations)
    return initial


class PaperCreateView(GovernanceFormView):
    model = Paper
    action = "add"
    form_class = PaperForm
    heading = "New paper"
    submit = "Save paper"
    initial = {"session": Session.PUBLIC}
    scope_action = "view"

    def object_queryset(self, model, action):
        qs = super().object_queryset(model, action)
        return qs.select_related("partnership") if model is Board else qs

    def board(self) -> Board:
        return self.get_object("view", model=Board)

    def get_caption(self) -> str:
        return self.board().name

    def get_context_data(self, **kwargs):
        return super().get_context_data(board=self.board(), **kwargs)

    def perform(self, form) -> Paper:
        return services.paper_create(board=self.board(), by=self.request.user, **form.service_fields())

    def written_object(self, paper: Paper) -> Board:
        # A private paper is exempt content its author may not see afterwards (a commissioner writes
        # it for the board's members): what must stay in scope is the board it was written for.
        return paper.board

    def get_success_message(self, paper: Paper) -> str:
        return f"Paper “{paper.title}” saved."

    def get_success_url(self, paper=None) -> str:
        return reverse("governance:paper", args=[paper.pk])


class PaperDetailView(GovernanceFormView):
    """A paper's page (GET: to read it, the view permission) with its edit form (POST: the change
    permission, and the version the editor loaded, so a stale edit is refused)."""

    model = Paper
    template_name = "governance/paper_detail.html"
    form_class = PaperForm
    success_message = "Paper saved."

    def dispatch(self, request, *args, **kwargs):
        # Set here, not in setup: shown again by another form's view (an appendix refused), the
        # page is read, not changed.
        self.action = "change" if request.method == "POST" else "view"
        return super().dispatch(request, *args, **kwargs)

    def object_queryset(self, model, action):
        qs = super().object_queryset(model, action)
        return qs.select_related("board") if model is Paper else qs

    def paper(self) -> Paper:
        return self.get_object()

    def post(self, request, *args, **kwargs):
        self.paper()  # the role, then the scope: 403 or 404 before the input is read
        return super().post(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "editing": True}

    def get_heading(self) -> str:
        return self.paper().title

    def get_context_data(self, **kwargs):
        paper = self.object = self.paper()
        kwargs.setdefault("form", PaperForm(initial=paper_initial(paper)))
        kwargs.setdefault("appendix_form", AppendixForm())
        return super().get_context_data(
            paper=paper,
            board=paper.board,
            appendices=self.restricted("view", PaperAppendix).filter(paper=paper),
            can_change=self.may("change", paper),
            can_upload=self.user_can("add", PaperAppendix),
            can_remove_appendices=self.user_can("delete", PaperAppendix),
            # The live tables the paper carries in its packs (a schedule's budget table).
            live_tables=[
                link
                for link in self.restricted("view", PaperLink).filter(paper=paper).prefetch_related("target")
                if link.target is not None
            ],
            can_link=self.user_can("add", PaperLink),
            can_remove_links=self.user_can("delete", PaperLink),
            **kwargs,
        )

    def perform(self, form) -> Paper:
        return services.paper_update(
            paper=self.paper(),
            version=form.cleaned_data.get("version"),
            by=self.request.user,
            **form.service_fields(),
        )

    def get_success_url(self, paper=None) -> str:
        return reverse("governance:paper", args=[paper.pk])


class AppendixUploadView(FormOnPage):
    model = PaperAppendix
    action = "add"
    form_class = AppendixForm
    page_view = PaperDetailView
    form_name = "appendix_form"
    success_message = "Appendix uploaded."
    scope_action = "view"

    def page_object(self) -> Paper:
        return self.get_object("view", model=Paper)

    def perform(self, form) -> PaperAppendix:
        upload = form.cleaned_data["file"]
        return services.appendix_add(
            paper=self.page_object(),
            title=form.cleaned_data["title"],
            filename=upload.display_name,
            data=upload.data,
            exemption_regime=form.cleaned_data["exemption_regime"],
            exemption_paragraph=form.cleaned_data["exemption_paragraph"],
            exemption_reason=form.cleaned_data["exemption_reason"],
            by=self.request.user,
        )

    def written_object(self, appendix: PaperAppendix) -> Paper:
        # An exempt appendix may be hidden from the officer who uploads it: the paper must stay in scope.
        return appendix.paper

    def get_success_url(self, appendix=None) -> str:
        return reverse("governance:paper", args=[appendix.paper_id])


class AppendixRemoveView(GovernanceFormView):
    """A confirmation page, then the removal (a board secretary's: the role to delete appendices).
    The appendix is looked up among those of papers the user may see, as for its download."""

    model = PaperAppendix
    action = "delete"
    form_class = forms.Form
    submit = "Remove appendix"

    def object_queryset(self, model, action):
        qs = super().object_queryset(model, action)
        if model is PaperAppendix:
            qs = qs.filter(paper__in=self.restricted("view", Paper).values("pk")).select_related(
                "paper__board"
            )
        return qs

    def appendix(self) -> PaperAppendix:
        return self.get_object()

    def get(self, request, *args, **kwargs):
        self.appendix()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.appendix()  # the role, then the scope: 403 or 404 before the input is read
        return super().post(request, *args, **kwargs)

    def get_heading(self) -> str:
        appendix = self.appendix()
        return f"Remove appendix {appendix.order}: {appendix.title}?"

    def get_caption(self) -> str:
        return self.appendix().paper.title

    def cancel_url(self) -> str:
        return reverse("governance:paper", args=[self.appendix().paper_id])

    def get_context_data(self, **kwargs):
        return super().get_context_data(intro_template="governance/_appendix_remove_intro.html", **kwargs)

    def perform(self, form) -> Paper:
        return services.appendix_remove(appendix=self.appendix(), by=self.request.user)

    def written_object(self, paper):
        return None  # the appendix is gone; the paper was not changed

    def get_success_message(self, paper) -> str:
        return "Appendix removed."

    def get_success_url(self, paper=None) -> str:
        return reverse("governance:paper", args=[paper.pk])


class AppendixDownloadView(GateMixin, View):
    """A paper's PDF appendix, served only through the permission check (security.md): out of
    scope, or exempt (the appendix, a private paper or an exempt item) to anyone but that board's
    members and secretaries, answers 404. Every download is logged."""

    model = PaperAppendix

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.require_role("view", Paper)
        return super().dispatch(request, *args, **kwargs)

    def object_queryset(self, model, action):
        papers = self.restricted("view", Paper).values("pk")
        return (
            super()
            .object_queryset(model, action)
            .filter(paper__in=papers)
            .select_related("paper__board__partnership")
        )

    def get(self, request, pk):
        return downloads.appendix_response(request, self.get_object())
