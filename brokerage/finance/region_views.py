"""Region run pages: "Run every partnership for a month" (the month, then an "Are you sure?" step
listing the runs it starts) and the region run's progress and summary, which polls itself while
its members work. The service is ``brokerage.finance.region`` (the API calls the same)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from commissioning import jobs
from commissioning.forms import add_service_errors
from commissioning.generic import ObjectView

from ..models import RechargeRun, RegionRun
from . import forms, region
from .views import FinanceFormView, FinanceMixin

CONFIRMED = "confirmed"


class RegionRunCreateView(FinanceFormView):
    """Step 1: the month. Step 2 (the same URL, posted with the month): what will run, and the
    button that starts it (posted with ``confirmed``)."""

    model = RegionRun
    action = "add"
    requires = ((RechargeRun, "add"),)
    form_class = forms.RegionRunForm
    section = "index"
    heading = "Run every partnership for a month"
    submit = "Continue"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if "data" not in kwargs:
            last = timezone.localdate().replace(day=1) - timezone.timedelta(days=1)
            kwargs["initial"] = {"period": f"{last:%Y-%m}"}
        return kwargs

    def partnerships(self):
        return list(region.region_run_partnerships(self.request.user))

    def form_valid(self, form):
        if self.request.POST.get(CONFIRMED) != "yes":
            return self.confirm(form)
        return super().form_valid(form)

    def confirm(self, form):
        period = form.cleaned_data["period"]
        partnerships = self.partnerships()
        try:
            region.region_run_validate(period=period, partnerships=partnerships)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        count = len(region.region_run_plan(partnerships))
        context = self.get_context_data(form=form)
        context.update(
            heading=f"Run every partnership for {period:%B %Y}?",
            page_title=f"Run every partnership for {period:%B %Y}?",
            caption="Recharge runs",
            explanation=(
                f"This starts {count} recharge runs of {period:%B %Y}, one for each paying "
                "organisation of each partnership below. The task workers run them side by side; "
                "the next page shows their progress.",
                "Each is an ordinary recharge run: it bills the month and trues up every earlier "
                "month, and its invoices and credit notes are drafts to check before they are issued.",
            ),
            details=[(p.name, f"{p.council.code} and {p.nhs_commissioner.code}") for p in partnerships],
            warning="",
            warning_button=False,
            hidden=(("period", f"{period:%Y-%m}"), (CONFIRMED, "yes")),
            confirm_label=f"Start {count} runs",
            cancel_url=reverse("finance:index"),
            action_url=self.request.path,
        )
        return render(self.request, "brokerage/finance/confirm.html", context)

    def perform(self, form):
        return region.region_run_request(
            period=form.cleaned_data["period"], by=self.request.user, partnerships=self.partnerships()
        )

    def get_success_message(self, region_run) -> str:
        what = f"The region run for {region_run.period:%B %Y}"
        if jobs.deferred():  # the broker is down: the runs are recorded and start when it is back
            messages.warning(self.request, jobs.deferred_message(what))
            return ""
        return f"{what} has started: {region_run.run_count} runs."

    def cancel_url(self) -> str:
        return reverse("finance:index")


class RegionRunDetailView(FinanceMixin, ObjectView):
    """A region run's members and their runs; the summary once the last has ended."""

    model = RegionRun
    template_name = "brokerage/finance/region_run.html"
    context_object_name = "region_run"
    section = "index"

    def object_queryset(self, model, action):
        return super().object_queryset(model, action).select_related("requested_by")

    def get_template_names(self):
        if self.request.headers.get("HX-Request"):
            return ["brokerage/finance/_region_run_status.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        region_run = self.object
        members = list(region_run.members.select_related("partnership", "issuer", "run"))
        return super().get_context_data(
            heading=f"Region run: {region_run.period:%B %Y}",
            page_title=f"Region run {region_run.period:%B %Y}",
            members=members,
            finished=sum(1 for m in members if m.finished),
            **kwargs,
        )
