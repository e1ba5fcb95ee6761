"""Budgets' links to records of the core: the page that says which schedule funds a contract."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.views.generic import TemplateView

from budgets import selectors, services
from budgets.link_forms import ContractScheduleForm, LineFeedForm
from budgets.models import BudgetLine, ContractSchedule, LineFeed
from budgets.views.base import ScheduleMixin, YearPeriodMixin
from commissioning.generic import GateMixin, ServiceFormView
from commissioning.models import Contract


class ContractScheduleView(ServiceFormView):
    """Choose the schedule funding a contract (or none). Needs the budgets role to link, and the
    right to change that contract (hidden: 404; visible but not changeable: 403)."""

    model = ContractSchedule
    action = "change"
    form_class = ContractScheduleForm
    template_name = "generic/form.html"
    submit = "Save funding schedule"
    scope_model = Contract

    def contract(self) -> Contract:
        if not hasattr(self, "_contract"):
            self._contract = self.get_object("change", model=Contract)
        return self._contract

    def object_queryset(self, model, action):
        qs = super().object_queryset(model, action)
        return qs.select_related("partnership") if model is Contract else qs

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(user=self.request.user, contract=self.contract())
        return kwargs

    def get_initial(self):
        link = ContractSchedule.objects.filter(contract=self.contract()).first()
        return {"schedule": link.schedule_id if link else None}

    def get_heading(self) -> str:
        return f"Schedule funding contract {self.contract().reference}"

    def get_caption(self) -> str:
        return f"{self.contract().partnership.name} · {self.contract().service}"

    def cancel_url(self) -> str:
        return self.contract().get_absolute_url()

    def perform(self, form) -> Contract:
        contract = self.contract()
        services.contract_schedule_set(
            contract=contract, schedule=form.cleaned_data["schedule"], by=self.request.user
        )
        return contract

    def get_success_message(self, contract) -> str:
        link = getattr(contract, "funding_schedule_link", None)
        if link is None:
            return f"Contract {contract.reference} is funded by no schedule"
        return f"Contract {contract.reference} is funded by {link.schedule}"

    def get_success_url(self, contract=None) -> str:
        return contract.get_absolute_url()


class LinePackagesView(ScheduleMixin, YearPeriodMixin, GateMixin, TemplateView):
    """The packages behind a fed line's figures (rules.md, rule 2): each package's cost in the
    period's month, to date and committed to the year's end, summing to the line's figures."""

    model = BudgetLine
    action = "view"
    template_name = "budgets/line_packages.html"
    choice_ids = {"period": "period"}

    def get_context_data(self, **kwargs):
        kwargs.pop("line", None)  # the URL's line id: the line itself goes in below
        schedule = self.get_schedule()
        line = get_object_or_404(
            self.restricted("view").select_related("funding_stream"),
            pk=self.kwargs["line"],
            schedule=schedule,
        )
        choice = self.choose(
            year=str(line.year),
            period=self.request.GET.get("period") or None,
            years=[line.year],
            default=line.year,
            covering=f"the year of the line, {line.year_label}",
        )
        fed = selectors.fed_lines(schedule, [line], line.year, choice.period if choice else None).get(line.pk)
        user = self.request.user
        return super().get_context_data(
            page_title=f"Packages behind {line.name} ({line.funding_stream.name}, {line.year_label})",
            line=line,
            fed=fed,
            packages=[
                (p, p.months.get(fed.period, 0)) for p in sorted(fed.packages, key=lambda p: p.reference)
            ]
            if fed is not None
            else [],
            show_clients=user.has_perm("brokerage.view_client"),
            link_packages=user.has_perm("brokerage.view_package"),
            **kwargs,
        )


class LineFeedView(ScheduleMixin, ServiceFormView):
    """Say which packages feed a budget line (none: its actuals are typed again)."""

    model = LineFeed
    action = "change"
    form_class = LineFeedForm
    template_name = "generic/form.html"
    submit = "Save the packages feeding this line"
    scope_model = BudgetLine

    def line(self) -> BudgetLine:
        if not hasattr(self, "_line"):
            self._line = get_object_or_404(
                self.restricted("change", BudgetLine).select_related("funding_stream"),
                pk=self.kwargs["line"],
                schedule=self.get_schedule(),
            )
        return self._line

    def get_initial(self):
        feed = LineFeed.objects.filter(budget_line=self.line()).first()
        if feed is None:
            return {}
        return {
            "service_types": feed.service_types,
            "packages": ", ".join(f"P{pk:06d}" for pk in feed.package_ids),
        }

    def get_heading(self) -> str:
        line = self.line()
        return f"Packages feeding {line.name} ({line.funding_stream.name}, {line.year_label})"

    def get_caption(self) -> str:
        schedule = self.get_schedule()
        return f"{schedule.agreement.reference} · Schedule {schedule.number}: {schedule.title}"

    def cancel_url(self) -> str:
        return self.get_schedule().get_absolute_url() + "#fed-lines"

    def perform(self, form) -> BudgetLine:
        services.budget_line_feed_set(
            line=self.line(),
            service_types=form.cleaned_data["service_types"],
            package_ids=form.cleaned_data["packages"],
            by=self.request.user,
        )
        return self.line()

    def get_success_message(self, line) -> str:
        return f"The packages feeding {line.name} are saved"

    def get_success_url(self, line=None) -> str:
        return self.cancel_url()
