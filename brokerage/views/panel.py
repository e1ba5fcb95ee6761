"""The joint funding panel: its decisions (those due for review first when asked), one decision
with the form that applies it to a package, and recording a decision for a client."""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from django.views.generic import TemplateView

from commissioning.audit import log_access
from commissioning.generic import ObjectListMixin, ServiceFormView

from .. import forms, services
from ..filtersets import PanelDecisionFilterSet
from ..models import Client, PanelDecision
from ..roles import is_manager
from .base import BrokerageFormView, BrokerageMixin

SHOWN = 200


class PanelDecisionListView(BrokerageMixin, ObjectListMixin, TemplateView):
    model = PanelDecision
    template_name = "brokerage/panel_decisions.html"
    section = "panel"
    filterset_class = PanelDecisionFilterSet
    list_select_related = ("client", "package")
    list_prefetch_related = ("shares__organisation",)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        decisions = self.filtered_queryset()
        filter_form = self.get_filterset().form
        due = filter_form.is_bound and not self.filter_errors and filter_form.cleaned_data.get("due") is True
        if due:
            decisions = decisions.order_by("review_date")
        heading = "Panel decisions due for review" if due else "Joint funding panel decisions"
        context.update(
            {
                "heading": heading,
                "page_title": ("Error: " if self.filter_errors else "") + heading,
                "filter_form": filter_form,
                "decisions": decisions[:SHOWN],
                "due": due,
                "today": timezone.localdate(),
                "can_record": self.user_can("add", PanelDecision),
            }
        )
        return context


class PanelDecisionDetailView(BrokerageMixin, ServiceFormView):
    """One decision. Anyone whose role sees decisions reads it; applying it to one of the client's
    packages (POST) is a brokerage manager's change."""

    model = PanelDecision
    template_name = "brokerage/panel_decision.html"
    form_class = forms.PanelApplyForm
    section = "panel"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        if request.method == "POST":  # applying the decision changes it: a manager's to do
            self.action = "change"
            self.manager_only = "Only a brokerage manager applies panel decisions."

    def decision(self) -> PanelDecision:
        return self.get_object()

    def get_heading(self) -> str:
        return f"Panel decision {self.decision().reference}"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(user=self.request.user, client=self.decision().client)
        return kwargs

    def perform(self, form):
        return services.panel_decision_apply(
            decision=self.decision(), package=form.cleaned_data["package"], by=self.request.user
        )

    def written_object(self, result):
        return self.decision()

    def get_success_message(self, split):
        return f"Panel decision {self.decision().reference} applied to the package's funding"

    def get_success_url(self, split=None):
        return split.package.get_absolute_url()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        decision = self.decision()
        log_access(request=self.request, obj=decision.client)
        context.update(
            {
                "decision": decision,
                "shares": decision.shares.select_related("organisation"),
                "can_apply": is_manager(self.request.user) and decision.applied_at is None,
            }
        )
        return context


class PanelDecisionCreateView(BrokerageFormView):
    """A decision recorded for a client chosen first (``?client=``)."""

    model = PanelDecision
    action = "add"
    form_class = forms.PanelDecisionForm
    heading = "Record a panel decision"
    submit = "Save decision"
    section = "panel"

    def client(self) -> Client:
        pk = self.request.GET.get("client") or ""
        if not pk.isdigit():
            raise Http404("Choose the client first")
        return self.get_object("view", model=Client, pk=int(pk))

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["partnership"] = self.client().partnership
        return kwargs

    def perform(self, form):
        data = dict(form.cleaned_data)
        data.pop("council_percent")
        data.pop("nhs_percent")
        return services.panel_decision_record(
            client=self.client(), shares=form.shares(), by=self.request.user, **data
        )

    def get_success_message(self, decision):
        return f"Panel decision {decision.reference} recorded"

    def get_caption(self) -> str:
        client = self.client()
        return f"{client.name} ({client.case_reference})"

    def cancel_url(self):
        return self.client().get_absolute_url()
