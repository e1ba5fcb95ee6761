"""Funding streams of a partnership: added from an agreement's page, renamed or given another
contributing partner (while no line uses them) on a page that shows their history."""

from __future__ import annotations

from django.urls import reverse

from budgets import selectors, services
from budgets.forms import FundingStreamForm
from budgets.models import BudgetLine, FundingStream, Section75Agreement
from commissioning.generic import ServiceFormView


class FundingStreamCreateView(ServiceFormView):
    model = FundingStream
    action = "add"
    form_class = FundingStreamForm
    template_name = "budgets/stream_form.html"
    heading = "Add a funding stream"

    def agreement(self) -> Section75Agreement:
        return self.get_object("view", model=Section75Agreement)

    def object_queryset(self, model, action):
        return (
            super()
            .object_queryset(model, action)
            .select_related("partnership__council", "partnership__nhs_commissioner")
        )

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["partnership"] = self.agreement().partnership
        return kwargs

    def perform(self, form) -> FundingStream:
        return services.funding_stream_create(
            by=self.request.user, partnership=self.agreement().partnership, **form.cleaned_data
        )

    def get_success_message(self, stream) -> str:
        return f"Funding stream {stream.name} added"

    def get_success_url(self, stream=None) -> str:
        return self.agreement().get_absolute_url()

    def get_context_data(self, **kwargs):
        return super().get_context_data(agreement=self.agreement(), **kwargs)


class FundingStreamUpdateView(ServiceFormView):
    """Rename a funding stream or correct its contributing partner; the page shows its history."""

    model = FundingStream
    action = "change"
    form_class = FundingStreamForm
    template_name = "budgets/stream_form.html"

    def stream(self) -> FundingStream:
        return self.get_object("change")

    def object_queryset(self, model, action):
        return (
            super()
            .object_queryset(model, action)
            .select_related("partnership__council", "partnership__nhs_commissioner", "organisation")
        )

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        stream = self.stream()
        kwargs.update(partnership=stream.partnership, instance=stream)
        return kwargs

    def get_heading(self) -> str:
        return f"Change funding stream {self.stream().name}"

    def back_url(self) -> str:
        """The agreement page the user came from (``?agreement=``), else the budgets index."""
        raw = self.request.GET.get("agreement") or ""
        agreement = (
            self.restricted("view", Section75Agreement)
            .filter(pk=int(raw), partnership=self.stream().partnership_id)
            .first()
            if raw.isdigit() and len(raw) < 19  # a bigint
            else None
        )
        return agreement.get_absolute_url() if agreement else reverse("budgets:index")

    def perform(self, form) -> FundingStream:
        return services.funding_stream_update(stream=self.stream(), by=self.request.user, **form.cleaned_data)

    def get_success_message(self, stream) -> str:
        return f"Funding stream {stream.name} saved"

    def get_success_url(self, stream=None) -> str:
        return self.back_url()

    def get_context_data(self, **kwargs):
        stream = self.stream()
        return super().get_context_data(
            stream=stream,
            back_url=self.back_url(),
            lines_count=self.restricted("view", BudgetLine).filter(funding_stream=stream).count(),
            history=selectors.stream_history(stream),
            **kwargs,
        )
