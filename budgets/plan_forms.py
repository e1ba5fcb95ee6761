"""The form of a partner's contribution plan (rules.md rule 2): for which year and partner, and how
often the host invoices it. The amount and the instalments are derived, never typed: the page shows
them. Kept apart from ``budgets.forms`` (the pages of the budgets themselves)."""

from __future__ import annotations

from django import forms

from budgets.models import ContributionPlan, Frequency, Schedule, year_label
from budgets.selectors.contributions import contributing_partners
from commissioning.forms import GovukFormMixin
from commissioning.models import Organisation


class ContributionPlanForm(GovukFormMixin, forms.Form):
    """Creating a plan: the year, the contributing partner and the frequency. Changing one: the
    frequency only (with the version it was read at); its schedule, year and partner never change.
    ``confirmed`` is set by the page's confirmation step."""

    year = forms.TypedChoiceField(coerce=int, label="Financial year")
    partner = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        label="Contributing partner",
        help_text="The partner that does not host the pool: the host invoices it",
    )
    frequency = forms.ChoiceField(
        choices=Frequency.choices,
        widget=forms.RadioSelect,
        label="Instalments",
        help_text="Each instalment is due on the first day of the quarter or month it pays for",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    confirmed = forms.BooleanField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, schedule: Schedule, plan: ContributionPlan | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        if plan is not None:
            del self.fields["year"], self.fields["partner"]
            self.fields["version"].required = True
            self.fields["version"].initial = plan.version
            self.fields["frequency"].initial = plan.frequency
            return
        self.fields["year"].choices = [(y, year_label(y)) for y in schedule.agreement.years]
        self.fields["year"].error_messages["required"] = "Select the financial year"
        partners = contributing_partners(schedule)
        self.fields["partner"].queryset = Organisation.objects.filter(pk__in=[p.pk for p in partners])
        self.fields["partner"].label_from_instance = lambda org: f"{org.name} ({org.code})"
        self.fields["partner"].error_messages["required"] = "Select the contributing partner"
        self.fields["frequency"].initial = Frequency.QUARTERLY
        self.fields["frequency"].error_messages["required"] = "Select how often the partner is invoiced"
