"""Budgets' links to records of the core: the page that says which schedule funds a contract."""

from __future__ import annotations

from budgets import services
from budgets.link_forms import ContractScheduleForm
from budgets.models import ContractSchedule
from commissioning.generic import ServiceFormView
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
