"""Forms of budgets' linking pages: the schedule funding a contract, and what a decision or a paper
is linked to. Kept apart from ``budgets.forms`` (the pages of the budgets themselves)."""

from __future__ import annotations

from django import forms

from budgets.models import Schedule
from commissioning.forms import GovukFormMixin


class ContractScheduleForm(GovukFormMixin, forms.Form):
    """Which schedule funds a contract: one of an agreement of the contract's partnership."""

    schedule = forms.ModelChoiceField(
        queryset=Schedule.objects.none(),
        required=False,
        empty_label="None: no section 75 schedule funds this contract",
        label="Schedule funding the contract",
    )

    def __init__(self, *args, user, contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["schedule"].queryset = (
            Schedule.objects.restrict(user, "view")
            .filter(agreement__partnership=contract.partnership_id)
            .select_related("agreement")
            .order_by("agreement__reference", "number")
        )
        self.fields["schedule"].label_from_instance = lambda s: f"{s.agreement.reference}, {s}"
