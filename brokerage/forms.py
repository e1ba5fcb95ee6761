"""Forms of the brokerage pages. They check the shape of the input; the services apply the rules
and their errors come back onto the fields (``add_service_errors``)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from commissioning.choices import ServiceType
from commissioning.forms import GovukDateField, GovukFormMixin, MoneyField, ServiceModelForm
from commissioning.models import Organisation, Partnership, Provider, User

from .models import (
    Client,
    FundingBasis,
    Package,
    PackageStatus,
    RateCard,
    Referral,
    SuspensionTreatment,
    Unit,
    Urgency,
)
from .nhs_number import normalise, validate_nhs_number


def _partners(partnership: Partnership):
    return Organisation.objects.filter(pk__in=[partnership.council_id, partnership.nhs_commissioner_id])


class PercentField(forms.DecimalField):
    def __init__(self, *, label: str, **kwargs):
        kwargs.setdefault("max_digits", 5)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault("max_value", Decimal("100"))
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "class": "govuk-input--width-5"})
        )
        super().__init__(label=label, **kwargs)
        # Django formats the messages raised with parameters (all but "invalid") with ``%``: the
        # "(%)" of a label must be escaped there, or an out-of-range share is a server error.
        escaped = label.replace("%", "%%")
        self.error_messages.update(
            {
                "invalid": f"{label} must be a number, like 50 or 33.33",
                "min_value": f"{escaped} must be 0 or more",
                "max_value": f"{escaped} must be 100 or less",
                "max_decimal_places": f"{escaped} must not have more than 2 decimal places",
                "max_digits": f"{escaped} must be 100 or less",
            }
        )


class UnitsField(forms.DecimalField):
    def __init__(self, **kwargs):
        super().__init__(
            label="Units per week",
            max_digits=6,
            decimal_places=2,
            min_value=Decimal("0.01"),
            widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "govuk-input--width-5"}),
            help_text="Hours, nights or weeks a week, for example 14 or 10.5 (1 for a weekly price)",
            **kwargs,
        )
        self.error_messages.update(
            {
                "invalid": "Units per week must be a number, like 14 or 10.5",
                "min_value": "Units per week must be more than 0",
                "max_decimal_places": "Units per week must not have more than 2 decimal places",
                "max_digits": "Units per week must be less than 10,000",
                "max_whole_digits": "Units per week must be less than 10,000",
            }
        )


class ClientForm(ServiceModelForm):
    date_of_birth = GovukDateField(label="Date of birth", required=False)

    class Meta:
        model = Client
        fields = [
            "partnership",
            "given_name",
            "family_name",
            "date_of_birth",
            "nhs_number",
            "case_reference",
            "cohort",
            "gp_practice",
            "resident_borough",
        ]
        labels = {
            "given_name": "Given name",
            "family_name": "Family name",
            "nhs_number": "NHS number",
            "case_reference": "Council case reference",
            "cohort": "Cohort",
            "gp_practice": "GP practice",
            "resident_borough": "Resident borough",
        }
        widgets = {
            "nhs_number": forms.TextInput(
                attrs={"class": "govuk-input--width-10", "inputmode": "numeric", "spellcheck": "false"}
            ),
            "case_reference": forms.TextInput(
                attrs={"class": "govuk-input--width-10", "spellcheck": "false"}
            ),
        }

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partnership"].queryset = Partnership.objects.restrict(user, "view")
        self.fields["nhs_number"].max_length = 20
        self.fields["nhs_number"].widget.attrs["maxlength"] = 20
        self.fields["nhs_number"].validators = []

    def clean_nhs_number(self):
        value = normalise(self.cleaned_data.get("nhs_number", ""))
        if value:
            validate_nhs_number(value)
        return value

    def service_arguments(self) -> dict:
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class ReferralForm(ServiceModelForm):
    required_start = GovukDateField(label="Required start date", required=False)

    class Meta:
        model = Referral
        fields = [
            "client",
            "service_type",
            "urgency",
            "needs_summary",
            "requirement",
            "required_start",
            "proposed_funder",
            "requested_by",
        ]
        labels = {
            "client": "Client",
            "service_type": "Service type",
            "urgency": "Urgency",
            "needs_summary": "Needs",
            "requirement": "Hours or placement required",
            "proposed_funder": "Proposed funder",
            "requested_by": "Referred by",
        }
        widgets = {"urgency": forms.RadioSelect, "client": forms.HiddenInput}

    def __init__(self, *args, user: User, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.restrict(user, "view").filter(pk=client.pk)
        self.fields["urgency"].choices = Urgency.choices
        self.fields["proposed_funder"].queryset = _partners(client.partnership)
        self.fields["proposed_funder"].empty_label = "Not known yet (a panel will decide)"

    def service_arguments(self) -> dict:
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class AssignForm(GovukFormMixin, forms.Form):
    assigned_to = forms.ModelChoiceField(queryset=User.objects.none(), label="Assign to", required=False)

    def __init__(self, *args, referral: Referral, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["assigned_to"]
        field.queryset = (
            User.objects.filter(
                is_active=True,
                groups__name__in=["Broker", "Brokerage manager"],
                grants__partnership=referral.client.partnership_id,
            )
            .distinct()
            .order_by("last_name", "first_name")
        )
        field.empty_label = "Nobody (back to the queue)"
        field.initial = referral.assigned_to_id


class CancelForm(GovukFormMixin, forms.Form):
    reason = forms.CharField(label="Why is the referral cancelled?", max_length=300, widget=forms.Textarea)


class OfferForm(GovukFormMixin, forms.Form):
    provider = forms.ModelChoiceField(queryset=Provider.objects.none(), label="Provider")
    unit_rate = MoneyField(label="Unit rate")
    unit = forms.ChoiceField(label="Unit", choices=Unit.choices, widget=forms.RadioSelect)
    units_per_week = UnitsField()
    earliest_start = GovukDateField(label="Earliest start date")
    notes = forms.CharField(label="Notes", max_length=300, required=False)

    def __init__(self, *args, user: User, referral: Referral, **kwargs):
        super().__init__(*args, **kwargs)
        providers = Provider.objects.restrict(user, "view").select_related("organisation")
        offering = providers.filter(service_types__contains=[referral.service_type])
        self.fields["provider"].queryset = offering if offering.exists() else providers
        self.fields[
            "provider"
        ].help_text = f"Providers offering {ServiceType(referral.service_type).label.lower()}"
        self.fields["unit_rate"].help_text = "The price per hour, night or week"


class AcceptForm(GovukFormMixin, forms.Form):
    start = GovukDateField(label="Package start date")
    paying_organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        label="Paying organisation",
        help_text="Contracts with and pays the provider, and recharges the other funders",
    )

    def __init__(self, *args, partnership: Partnership, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["paying_organisation"].queryset = _partners(partnership)
        self.fields["paying_organisation"].widget = forms.RadioSelect(
            choices=self.fields["paying_organisation"].choices
        )
        self.fields["paying_organisation"].widget.attrs["class"] = "govuk-radios__input"


class CostChangeForm(GovukFormMixin, forms.Form):
    effective_from = GovukDateField(
        label="New price from", help_text="Past dates are allowed, for example 1 4 2025"
    )
    unit_rate = MoneyField(label="Unit rate")
    unit = forms.ChoiceField(label="Unit", choices=Unit.choices, widget=forms.RadioSelect)
    units_per_week = UnitsField()
    reason = forms.CharField(
        label="Why does the price change?",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example, the annual uplift agreed with the provider, or more hours of care",
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class OfferDeclineForm(GovukFormMixin, forms.Form):
    reason = forms.CharField(
        label="Why is the offer declined?",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example, another provider can start sooner. The referral's timeline keeps it.",
        error_messages={"required": "Say why the offer is declined."},
    )
    back = forms.CharField(required=False, widget=forms.HiddenInput)


class PriceDeclineForm(GovukFormMixin, forms.Form):
    reason = forms.CharField(
        label="Why is the price change declined?",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The broker who proposed it sees this on the package's page",
    )
    back = forms.CharField(required=False, widget=forms.HiddenInput)


class FundingChangeForm(GovukFormMixin, forms.Form):
    effective_from = GovukDateField(
        label="New funding from", help_text="Past dates are allowed, for example 1 4 2025"
    )
    effective_to = GovukDateField(
        label="Until",
        required=False,
        help_text="Leave blank for an open-ended change. With a date, the earlier funding resumes after it.",
    )
    council_percent = PercentField(label="Council share (%)")
    nhs_percent = PercentField(label="NHS share (%)")
    basis = forms.ChoiceField(label="Basis", choices=FundingBasis.choices, widget=forms.RadioSelect)
    decision_reference = forms.CharField(label="Panel decision reference", max_length=40, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, partnership: Partnership, decision_references: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.partnership = partnership
        self.fields["council_percent"].label = f"{partnership.council.name} share (%)"
        self.fields["nhs_percent"].label = f"{partnership.nhs_commissioner.name} share (%)"
        recorded = ", ".join(decision_references) or "none yet"
        self.fields["decision_reference"].help_text = (
            "For a joint funding panel decision, the reference of a decision recorded for this client "
            f"(recorded: {recorded})."
        )

    def shares(self):
        from .services import Share

        return [
            Share(self.partnership.council, self.cleaned_data["council_percent"]),
            Share(self.partnership.nhs_commissioner, self.cleaned_data["nhs_percent"]),
        ]


class SuspensionForm(GovukFormMixin, forms.Form):
    effective_from = GovukDateField(
        label="First day of the suspension", help_text="Past dates are allowed, for example 11 6 2026"
    )
    effective_to = GovukDateField(label="Last day of the suspension", help_text="For example 20 6 2026")
    treatment = forms.ChoiceField(
        label="What the provider is still paid", choices=SuspensionTreatment.choices, widget=forms.RadioSelect
    )
    paid_percent = PercentField(
        label="Percentage paid (%)",
        required=False,
        help_text="Only for a reduced payment: for example 80",
    )
    reason = forms.CharField(
        label="Reason", max_length=200, help_text="For example a hospital stay or a respite break"
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class EndForm(GovukFormMixin, forms.Form):
    end = GovukDateField(label="Last day of the package")
    version = forms.IntegerField(widget=forms.HiddenInput)


_SUSPEND_OR_RESUME = "Choose to suspend or resume the package."
_NO_VERSION = "The form did not say which version of the package you changed: reload the page."


_NO_REFERRAL_VERSION = "The form did not say which version of the referral you changed: reload the page."


class ReferralVersionForm(forms.Form):
    """The version of the referral a button on its page was shown with (claim, sourcing, assign,
    cancel), so a click on a page someone else has since changed is refused."""

    version = forms.IntegerField(
        min_value=1,
        error_messages={
            "required": _NO_REFERRAL_VERSION,
            "invalid": _NO_REFERRAL_VERSION,
            "min_value": _NO_REFERRAL_VERSION,
        },
    )


def referral_version(data) -> int:
    """The version a referral button was sent with; missing or malformed: a ValidationError."""
    form = ReferralVersionForm(data)
    if not form.is_valid():
        raise ValidationError(form.errors["version"][0])
    return form.cleaned_data["version"]


class PackageStatusForm(forms.Form):
    """The suspend and resume buttons of a package's page, with the version the page showed."""

    status = forms.ChoiceField(
        choices=[(PackageStatus.ACTIVE, "Resume"), (PackageStatus.SUSPENDED, "Suspend")],
        error_messages={"required": _SUSPEND_OR_RESUME, "invalid_choice": _SUSPEND_OR_RESUME},
    )
    version = forms.IntegerField(
        min_value=1,
        error_messages={"required": _NO_VERSION, "invalid": _NO_VERSION, "min_value": _NO_VERSION},
    )

    def first_error(self) -> str:
        """The first field's first error (the status before the version)."""
        return next(self.errors[name][0] for name in self.fields if name in self.errors)


class PanelDecisionForm(GovukFormMixin, forms.Form):
    reference = forms.CharField(
        label="Decision reference", max_length=40, help_text="For example JFP-2024-031"
    )
    meeting_date = GovukDateField(label="Panel meeting date")
    effective_from = GovukDateField(
        label="Funding from", help_text="May be in the past, for example 1 4 2025"
    )
    effective_to = GovukDateField(label="Funding until", required=False)
    review_date = GovukDateField(label="Review date", required=False)
    council_percent = PercentField(label="Council share (%)")
    nhs_percent = PercentField(label="NHS share (%)")
    basis = forms.ChoiceField(label="Basis", choices=FundingBasis.choices, widget=forms.RadioSelect)
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea)

    def __init__(self, *args, partnership: Partnership, **kwargs):
        super().__init__(*args, **kwargs)
        self.partnership = partnership
        self.fields["council_percent"].label = f"{partnership.council.name} share (%)"
        self.fields["nhs_percent"].label = f"{partnership.nhs_commissioner.name} share (%)"
        self.fields["basis"].initial = FundingBasis.PANEL_DECISION

    shares = FundingChangeForm.shares


class PanelApplyForm(GovukFormMixin, forms.Form):
    package = forms.ModelChoiceField(queryset=Package.objects.none(), label="Package")

    def __init__(self, *args, user: User, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["package"].queryset = Package.objects.restrict(user, "change").filter(client=client)


class RateCardForm(ServiceModelForm):
    unit_rate = MoneyField(label="Unit rate")

    class Meta:
        model = RateCard
        fields = ["partnership", "service_type", "year", "unit", "unit_rate"]
        labels = {"service_type": "Service type", "year": "Financial year (starting year)", "unit": "Unit"}
        widgets = {"year": forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-4"})}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partnership"].queryset = Partnership.objects.restrict(user, "view").filter(
            Q(pk__in=Partnership.objects.restrict(user, "view").values("pk"))
        )

    def service_arguments(self) -> dict:
        return {name: self.cleaned_data[name] for name in self._meta.fields}
