"""Forms of the finance pages. They check shapes; ``brokerage.finance.services`` applies the rules."""

from __future__ import annotations

from django import forms

from commissioning.forms import GovukDateField, GovukFormMixin, MoneyField
from commissioning.models import Organisation
from commissioning.money import format_money

from ..models import DisputeOutcome, DisputeReason, InvoiceKind
from ..recharges import parse_period


class PeriodField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "The month as YYYY-MM, for example 2022-05")
        kwargs.setdefault("widget", forms.TextInput(attrs={"class": "govuk-input--width-10"}))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        try:
            return parse_period(value)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


class RunForm(GovukFormMixin, forms.Form):
    issuer = forms.ChoiceField(label="Paying organisation (issuer)")
    period = PeriodField(label="Month to recharge")

    def __init__(self, *args, partnerships, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["issuer"].choices = [
            (f"{p.pk}:{org.pk}", f"{org.name} ({org.code}) in {p.name}")
            for p in partnerships
            for org in (p.council, p.nhs_commissioner)
        ]
        self.partnerships = {p.pk: p for p in partnerships}

    def clean_issuer(self):
        partnership_id, org_id = (int(x) for x in self.cleaned_data["issuer"].split(":"))
        partnership = self.partnerships[partnership_id]
        issuer = next(o for o in partnership.partners if o.pk == org_id)
        return partnership, issuer


class RegionRunForm(GovukFormMixin, forms.Form):
    """The month of a region run: every partnership the user may run, both issuers of each."""

    period = PeriodField(label="Month to recharge")


class PaymentForm(GovukFormMixin, forms.Form):
    amount = MoneyField(label="Amount paid")
    date = GovukDateField(label="Date paid")
    reference = forms.CharField(label="Remittance reference", max_length=60, required=False)


class DisputeForm(GovukFormMixin, forms.Form):
    lines = forms.MultipleChoiceField(label="Lines disputed", widget=forms.CheckboxSelectMultiple)
    reason = forms.ChoiceField(label="Reason", choices=DisputeReason.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label="Note",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
        help_text="Required when the reason is Other: say what is wrong",
    )

    def clean(self):
        data = super().clean()
        if data.get("reason") == DisputeReason.OTHER and not (data.get("note") or "").strip():
            self.add_error("note", "Enter a note saying what is wrong: the reason is Other.")
        return data

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lines"].choices = [
            (
                str(li.pk),
                f"{li.client_reference} {li.month:%b %Y} {li.start:%d %b}–{li.end:%d %b}: "
                f"{format_money(li.amount)}",
            )
            for li in lines
        ]


class ResolveForm(GovukFormMixin, forms.Form):
    """How a dispute is settled; a corrected one names the change to its package that corrects it."""

    outcome = forms.ChoiceField(
        label="How is the dispute settled?", choices=DisputeOutcome.choices, widget=forms.RadioSelect
    )
    change = forms.ChoiceField(
        label="The change that corrects the lines",
        required=False,
        help_text=(
            "Only when corrected. Record the price, funding or suspension change on the package "
            "first (past dates are allowed); the next run credits the difference."
        ),
    )
    note = forms.CharField(
        label="Note (optional)", widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )

    def __init__(self, *args, changes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["change"].choices = [("", "Choose a change"), *changes]

    def clean(self):
        data = super().clean()
        if data.get("outcome") == DisputeOutcome.CORRECTED and not data.get("change"):
            self.add_error("change", "Choose the change that corrects the lines")
        return data

    def change_dict(self) -> dict | None:
        if self.cleaned_data["outcome"] != DisputeOutcome.CORRECTED:
            return None
        kind, _, pk = self.cleaned_data["change"].partition(":")
        return {"kind": kind, "id": int(pk)}


class ReportForm(GovukFormMixin, forms.Form):
    issuer = forms.ModelChoiceField(
        queryset=Organisation.objects.none(), required=False, to_field_name="code", empty_label="Any"
    )
    recipient = forms.ModelChoiceField(
        queryset=Organisation.objects.none(), required=False, to_field_name="code", empty_label="Any"
    )
    period = PeriodField(label="Invoice period", required=False)
    period_from = PeriodField(label="From month", required=False)
    period_to = PeriodField(label="To month", required=False)
    service_from = PeriodField(
        label="Service from",
        required=False,
        help_text="The month the lines are for (adjustments included), for example 2026-01",
    )
    service_to = PeriodField(label="Service to", required=False, help_text="For example 2026-06")
    kind = forms.ChoiceField(label="Kind", required=False, choices=[("", "Any"), *InvoiceKind.choices])

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["issuer"].queryset = organisations
        self.fields["recipient"].queryset = organisations

    def clean(self):
        data = super().clean()
        if data.get("period_from") and data.get("period_to") and data["period_from"] > data["period_to"]:
            self.add_error("period_to", "The end of the range is before its start.")
        if data.get("service_from") and data.get("service_to") and data["service_from"] > data["service_to"]:
            self.add_error("service_to", "The end of the range is before its start.")
        return data


class AsAtForm(GovukFormMixin, forms.Form):
    as_at = GovukDateField(label="Date to age the debt at", help_text="For example, 30 9 2026")


class BalancesForm(GovukFormMixin, forms.Form):
    first = forms.ModelChoiceField(
        queryset=Organisation.objects.none(), label="Organisation", to_field_name="code"
    )
    second = forms.ModelChoiceField(
        queryset=Organisation.objects.none(), label="Other organisation", to_field_name="code"
    )
    as_at = GovukDateField(
        label="Date to agree balances at",
        help_text="Usually the end of month 6, 9 or 12, for example 30 9 2026",
    )

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first"].queryset = organisations
        self.fields["second"].queryset = organisations

    def clean(self):
        data = super().clean()
        if data.get("first") and data.get("first") == data.get("second"):
            self.add_error("second", "Choose two different organisations.")
        return data


def partner_organisations(partnerships):
    """The councils and NHS commissioners of the given partnerships."""
    ids = {o.pk for p in partnerships for o in p.partners}
    return Organisation.objects.filter(pk__in=ids).order_by("code")
