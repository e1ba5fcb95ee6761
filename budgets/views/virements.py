"""Virements: proposed on a schedule, approved (with the approving decision when above the board's
delegated limit) and applied to the budget lines."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from budgets import selectors, services
from budgets.forms import VirementApproveForm, VirementForm
from budgets.models import Virement
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


class VirementApproveView(VirementActionView):
    """Approve a proposed virement: within the board's delegated limit, or with the decision chosen."""

    def act(self, virement: Virement) -> str:
        form = VirementApproveForm(self.request.POST, user=self.request.user, schedule=virement.schedule)
        if not form.is_valid():
            raise ValidationError(form.errors.get("decision") or "Choose a decision from the list.")
        services.virement_approve(
            virement=virement, by=self.request.user, decision=form.cleaned_data["decision"]
        )
        return f"Virement of {format_money(virement.amount)} approved"


class VirementApplyView(VirementActionView):
    """Apply an approved virement: the money moves between the two lines."""

    def act(self, virement: Virement) -> str:
        services.virement_apply(virement=virement, by=self.request.user)
        return f"Virement of {format_money(virement.amount)} applied to the budget lines"
