"""Forms of budgets' linking pages: the schedule funding a contract, and what a decision or a paper
is linked to. Kept apart from ``budgets.forms`` (the pages of the budgets themselves)."""

from __future__ import annotations

import re

from django import forms

from budgets.models import Schedule
from commissioning.choices import ServiceType
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


class LineFeedForm(GovukFormMixin, forms.Form):
    """Which packages feed a budget line: by service type, and one by one by reference."""

    service_types = forms.MultipleChoiceField(
        choices=ServiceType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Packages of these service types",
        help_text="Every package of the partnership of a service type ticked feeds the line",
    )
    packages = forms.CharField(
        required=False,
        label="And these packages",
        help_text="Package references separated by commas or spaces, for example P000008, P000012",
        max_length=2000,
    )

    def clean_packages(self) -> list[int]:
        ids = []
        for word in re.split(r"[\s,]+", self.cleaned_data.get("packages") or ""):
            if not word:
                continue
            match = re.fullmatch(r"[Pp]?0*(\d{1,12})", word)
            if not match or int(match.group(1)) == 0:
                raise forms.ValidationError(f"“{word[:20]}” is not a package reference like P000008.")
            ids.append(int(match.group(1)))
        return ids
