"""Virements: proposed on a schedule, approved (with the approving decision when above the board's
delegated limit) and applied to the budget lines."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect

from budgets import selectors, services
from budgets.forms import VirementApproveForm, VirementForm
from budgets.models import Virement, VirementStatus
from budgets.views.base import ScheduleMixin
from commissioning.generic import ServiceActionView, ServiceFormView
from commissioning.money import format_money


class VirementCreateView(ScheduleMixin, ServiceFormView):
    model = Virement
    action = "add"
    form_class = VirementForm
    template_name = "budgets/virement_form.html"
    heading = "Propose a virement"
    submit = "Propose virement"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        schedule = self.get_schedule()
        kwargs.update(schedule=schedule, instance=Virement(schedule=schedule))
        return kwargs

    def get_initial(self):
        return {"year": selectors.current_year(self.get_schedule())}

    def perform(self, form) -> Virement:
        return services.virement_propose(
            schedule=self.get_schedule(), by=self.request.user, **form.service_arguments()
        )

    def get_success_message(self, virement: Virement) -> str:
        return f"Virement of {format_money(virement.amount)} proposed"

    def get_success_url(self, virement=None) -> str:
        return f"{self.get_schedule().get_absolute_url()}#virements"


class VirementActionView(ServiceActionView):
    """A button on the schedule page's list of virements; back to that list afterwards."""

    model = Virement
    action = "change"

    def object_queryset(self, model, action):
        return (
            super()
            .object_queryset(model, action)
            .select_related("schedule__agreement__partnership", "schedule__board")
        )

    def back(self, virement: Virement) -> str:
        return f"{virement.schedule.get_absolute_url()}?year={virement.year}#virements"


class VirementApproveView(ServiceFormView):
    """Approve a proposed virement on its own page: the virement, and the decisions that may approve
    it (``VirementApproveForm``). Whoever proposed it is refused (403) before anything is shown."""

    model = Virement
    action = "change"
    form_class = VirementApproveForm
    template_name = "budgets/virement_approve.html"
    submit = "Approve the virement"

    def object_queryset(self, model, action):
        return (
            super()
            .object_queryset(model, action)
            .select_related(
                "schedule__agreement__partnership",
                "schedule__board",
                "from_line__funding_stream",
                "to_line__funding_stream",
                "proposed_by",
            )
        )

    def get_virement(self) -> Virement:
        virement = self.get_object("change")
        services.virement_check_approver(virement=virement, by=self.request.user)
        return virement

    def get(self, request, *args, **kwargs):
        virement = self.get_virement()
        if virement.status != VirementStatus.PROPOSED:
            messages.info(request, f"This virement is already {virement.get_status_display().lower()}.")
            return redirect(self.back(virement))
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.get_virement()
        return super().post(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(user=self.request.user, virement=self.get_virement())
        return kwargs

    def get_heading(self) -> str:
        return f"Approve the virement of {format_money(self.get_virement().amount)}"

    def perform(self, form) -> Virement:
        return services.virement_approve(
            virement=self.get_virement(), by=self.request.user, decision=form.cleaned_data["decision"]
        )

    def get_success_message(self, virement: Virement) -> str:
        return f"Virement of {format_money(virement.amount)} approved"

    def back(self, virement: Virement) -> str:
        return f"{virement.schedule.get_absolute_url()}?year={virement.year}#virements"

    def get_success_url(self, virement=None) -> str:
        return self.back(self.get_virement())

    def get_context_data(self, **kwargs):
        virement = self.get_virement()
        return super().get_context_data(
            virement=virement,
            schedule=virement.schedule,
            agreement=virement.schedule.agreement,
            proposed_on=services.virement_proposed_on(virement),
            cancel_url=self.back(virement),
            **kwargs,
        )


class VirementApplyView(VirementActionView):
    """Apply an approved virement: the money moves between the two lines."""

    def act(self, virement: Virement) -> str:
        services.virement_apply(virement=virement, by=self.request.user)
        return f"Virement of {format_money(virement.amount)} applied to the budget lines"
