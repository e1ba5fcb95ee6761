"""Decisions: recording one on an item, the decision notice and its publication, and the decision
log (one FilterSet for the page, its export and the API)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.generic.base import ContextMixin

from commissioning import exports, versions
from commissioning.generic import ObjectExportView, ObjectListMixin, ObjectListView, ObjectView
from commissioning.middleware import SESSION_KEY as PARTNERSHIP_SESSION_KEY
from commissioning.models import Person
from commissioning.money import format_money
from governance import selectors, services
from governance.filtersets import DecisionFilterSet
from governance.forms import CorrectionForm, DecisionForm, PublishForm
from governance.models import Decision, DecisionLink
from governance.views.base import ConfirmStep, FormOnPage, GovernanceFormView
from governance.views.items import OnItemPage


class DecisionRecordView(OnItemPage):
    """Record a decision on an item, with the votes of those present, voting and not conflicted."""

    model = Decision
    action = "add"
    item_action = "change"
    form_class = DecisionForm
    form_name = "decision_form"

    def voters(self):
        if not hasattr(self, "_voters"):
            self._voters = selectors.voters_for_item(self.page_object())
        return self._voters

    def get_form_kwargs(self):
        casting = self.page_object().meeting.board.chair_has_casting_vote
        return {**super().get_form_kwargs(), "voters": self.voters(), "casting": casting}

    def perform(self, form) -> Decision:
        people = Person.objects.in_bulk([attendee.person_id for attendee in self.voters()])
        data = form.cleaned_data
        return services.decision_record(
            agenda_item=self.page_object(),
            resolution=data["resolution"],
            reasons=data["reasons"],
            alternatives_rejected=data["alternatives_rejected"],
            outcome=data["outcome"],
            financial_value=data["financial_value"],
            urgent=data["urgent"],
            urgent_reason=data["urgent_reason"],
            casting_vote=data.get("casting_vote") or None,
            votes=[services.CastVote(person=people[pk], choice=choice) for pk, choice in form.votes()],
            by=self.request.user,
        )

    def get_success_message(self, decision: Decision) -> str:
        return f"Decision {decision.reference} recorded: {decision.get_outcome_display()}."


class DecisionDetailView(ObjectView):
    """The decision notice: everything rule 3 lists."""

    model = Decision
    template_name = "governance/decision_detail.html"
    context_object_name = "decision"

    def object_queryset(self, model, action):
        return super().object_queryset(model, action).select_related("agenda_item__meeting__board__parent")

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
            can_link=self.user_can("add", DecisionLink),
            can_remove_links=self.user_can("delete", DecisionLink),
            can_publish=self.user_can("change") and not decision.published_on,
            can_correct=self.user_can("add") and bool(decision.published_on),
            corrections=self.restricted("view", Decision).filter(corrects=decision).order_by("reference"),
            **kwargs,
        )


class DecisionPublishView(ConfirmStep, FormOnPage):
    """Publish the decision notice, after "Are you sure?" (GET): only then is it public."""

    model = Decision
    action = "change"
    form_class = PublishForm
    page_view = DecisionDetailView
    form_name = "publish_form"
    http_method_names = ["get", "post"]

    def confirm_target(self) -> Decision:
        return self.page_object()

    def confirm_context(self, decision: Decision) -> dict:
        board = decision.agenda_item.meeting.board
        explanation = [
            f"The notice is published today, {timezone.localdate():%-d %B %Y}.",
            f"It then appears on the public page of {board.name}, in the public API and in the "
            "board's feed of decisions"
            + (
                " (the item is exempt: the public sees its title and reason only)."
                if decision.agenda_item.exempt
                else "."
            ),
        ]
        if decision.corrects_id:
            explanation.append(f"It corrects {decision.corrects.reference}, which will be marked corrected.")
        if board.council_executive and not decision.urgent:
            explanation.append("Call-in runs from publication.")
        return {
            "caption": f"{board.name} · {decision.agenda_item.title}",
            "heading": f"Publish decision notice {decision.reference}?",
            "explanation": explanation,
            "warning": "Once published the decision is never edited: a mistake is put right by a "
            "correction notice.",
            "confirm_label": "Yes, publish the notice",
            "cancel_url": decision.get_absolute_url(),
        }

    def object_queryset(self, model, action):
        return super().object_queryset(model, action).select_related("agenda_item__meeting__board__parent")

    def page_object(self) -> Decision:
        return self.get_object()

    def perform(self, form) -> Decision:
        return services.decision_publish(
            decision=self.page_object(),
            published_on=form.cleaned_data.get("published_on") or timezone.localdate(),
            by=self.request.user,
        )

    def get_success_message(self, decision: Decision) -> str:
        return f"Decision {decision.reference} published."


class DecisionCorrectView(GovernanceFormView):
    """A correction notice for a published decision: a new record citing it, published the same way."""

    model = Decision
    action = "add"
    form_class = CorrectionForm
    submit = "Record the correction notice"

    def object_queryset(self, model, action):
        return super().object_queryset(model, action).select_related("agenda_item__meeting__board")

    def original(self) -> Decision:
        return self.get_object("change")

    def get_initial(self):
        original = self.original()
        return {
            "resolution": original.resolution,
            "reasons": original.reasons,
            "alternatives_rejected": original.alternatives_rejected,
            "financial_value": original.financial_value,
        }

    def get_heading(self) -> str:
        return f"Correct decision {self.original().reference}"

    def get_caption(self) -> str:
        return self.original().agenda_item.meeting.board.name

    def cancel_url(self) -> str:
        return self.original().get_absolute_url()

    def perform(self, form) -> Decision:
        return services.decision_correct(decision=self.original(), by=self.request.user, **form.cleaned_data)

    def get_success_message(self, decision: Decision) -> str:
        return f"Correction notice {decision.reference} recorded: publish it to put the record right."

    def get_success_url(self, decision=None) -> str:
        return decision.get_absolute_url()


# --- The decision log -----------------------------------------------------------------------------


def _link_text(link) -> str:
    """What a decision changed, for the CSV: "Placements (2022/23): £1,000.00 -> £990.00"."""
    text = link.description or f"{link.content_type.model} {link.object_id}"
    if link.amount_before is not None or link.amount_after is not None:
        before = format_money(link.amount_before) or "(none)"
        after = format_money(link.amount_after) or "(none)"
        text += f": {before} -> {after}"
    return text


# What the decision log reads (commissioning.versions): decisions, items, meetings and boards, the
# schedules its "linked schedule" filter offers and looks through, and who may see what.
LOG_SCOPES = ("governance", "budgets", "permissions")

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


class DecisionLog(ObjectListMixin):
    """The filtered decision log, newest first, shared by the page and its exports."""

    model = Decision
    filterset_class = DecisionFilterSet
    filter_checkboxes = ("outcome",)

    def base_queryset(self):
        return selectors.decision_log(self.request.user, self.request.partnership)

    def ordering(self) -> list[str]:
        return ["-decided_on", "-reference"]


class DecisionLogView(DecisionLog, ObjectListView):
    template_name = "governance/decision_log.html"
    context_object_name = "decisions"
    title = "Decision log"

    def get_queryset(self):
        return selectors.decision_log_rows(super().get_queryset())  # cells formatted in SQL

    def get(self, request, *args, **kwargs):
        # The filters, rows and pagination are one block, cached under the versions of the tables
        # they read (commissioning.versions) and what else varies them: the user (what they may
        # see), the partnership chosen in the header, the query as written (the pagination's links
        # repeat it) and today (exempt decisions by current membership).
        self.object_list = None  # read only when the block is built (``rows_block``)
        block = versions.cached(
            "decision-log",
            scopes=LOG_SCOPES,
            parts=(
                request.user.pk,
                request.session.get(PARTNERSHIP_SESSION_KEY),
                list(request.GET.lists()),
                timezone.localdate(),
            ),
            build=self.rows_block,
        )
        context = ContextMixin.get_context_data(
            self,
            page_title=block["page_title"],
            rows_block=mark_safe(block["html"]),  # noqa: S308 - rendered escaped
        )
        return self.render_to_response(context)

    def rows_block(self) -> dict:
        """The filters, rows and pagination as HTML, with the page's title (no request in them)."""
        self.object_list = self.get_queryset()
        context = self.get_context_data()
        return {
            "page_title": context["page_title"],
            "html": render_to_string("governance/_decision_log_rows.html", context),
        }


class DecisionLogExportView(DecisionLog, ObjectExportView):
    export_columns = DECISION_COLUMNS
    export_name = "decisions"
    sheet_title = "Decisions"

    def export_rows(self):
        return super().export_rows().prefetch_related("links__content_type")
