"""Forms of a section 75 agreement's own pages: the agreement and its terms, its variations and its
reviews. Kept apart from ``budgets.forms`` (schedules, lines, positions and virements)."""

from __future__ import annotations

from django import forms
from django.db.models import Q

from budgets import services
from budgets.forms import visible_decisions
from budgets.models import Review, Schedule, Section75Agreement
from commissioning import uploads
from commissioning.forms import GovukDateField, GovukFormMixin, ServiceModelForm
from commissioning.models import Organisation, Partnership, User


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class FunctionsField(forms.CharField):
    """Named items, one a line (the functions an agreement delegates)."""

    widget = forms.Textarea(attrs={"rows": 4})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        return _lines(super().to_python(value))


class AgreementForm(ServiceModelForm):
    start = GovukDateField(label="Start date")
    end = GovukDateField(label="End date")
    nhs_functions = FunctionsField(
        label="NHS functions delegated",
        required=False,
        help_text="Regulation 5 of the 2000 Regulations: one named function a line",
    )
    council_functions = FunctionsField(
        label="Health-related council functions delegated",
        required=False,
        help_text="Regulation 6 of the 2000 Regulations: one named function a line",
    )
    next_review_due = GovukDateField(label="Next review due", required=False)
    signed_document = uploads.PdfUploadField(
        label="Signed agreement (PDF)",
        required=False,
        help_text="PDF only, without scripts or attachments; leave empty to keep the one already kept",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Section75Agreement
        fields = [*services.RECORD_FIELDS, *services.TERM_FIELDS]  # the service's; the PDF apart
        labels = {
            "partnership": "Partnership",
            "reference": "Agreement reference",
            "title": "Title",
            "host": "Host partner",
            "status": "Status",
            "decision": "Approving decision",
            "review_frequency_months": "Review frequency (months)",
            "notice_months": "Notice period (months)",
            "exit_provisions": "Exit provisions",
            "dispute_resolution": "Dispute resolution",
            "vat_position": "VAT position of the host",
            "population": "Population served",
        }
        help_texts = {
            "reference": "For example BR-S75-2021",
            "host": "The partner that holds the pooled fund",
            "notice_months": "The notice either partner must give to end the agreement",
        }
        widgets = {
            "reference": forms.TextInput(attrs={"class": "govuk-input--width-20", "spellcheck": "false"}),
            "exit_provisions": forms.Textarea(attrs={"rows": 4}),
            "dispute_resolution": forms.Textarea(attrs={"rows": 3}),
            "vat_position": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        granted = Partnership.objects.restrict(user, "view")
        partnerships = Partnership.objects.filter(
            Q(pk__in=granted.values("pk")) | Q(pk=instance.partnership_id)
        )
        self.fields["partnership"].queryset = partnerships.order_by("name")
        self.fields["host"].queryset = Organisation.objects.filter(
            Q(council_partnerships__in=partnerships) | Q(nhs_partnerships__in=partnerships)
        ).distinct()
        self.fields["decision"].queryset = visible_decisions(user, partnerships.values("pk"))
        if instance.signed_document_name:
            self.fields[
                "signed_document"
            ].help_text = f"Kept: {instance.signed_document_name}. Upload a PDF only to replace it."
        if instance.pk:
            self.fields["version"].required = True
            self.fields["version"].initial = instance.version

    def service_arguments(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self._meta.fields}
        data["signed_document"] = self.cleaned_data.get("signed_document")
        return data


# --- An agreement's variations and reviews ------------------------------------------------------


def _papers(user, partnership_id):
    from governance.models import Paper

    return Paper.objects.restrict(user, "view").filter(board__partnership=partnership_id).order_by("-pk")


class VariationForm(GovukFormMixin, forms.Form):
    decision = forms.ModelChoiceField(
        label="Approving decision",
        queryset=None,
        empty_label="Choose a decision",
        help_text="The board decision that approved the variation",
    )
    effective_from = GovukDateField(label="Effective from")
    changes = forms.CharField(
        label="What it changes",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Schedules added, ended or changed; terms changed",
    )
    schedules = forms.ModelMultipleChoiceField(
        label="Schedules it touches", queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    signed_deed = uploads.PdfUploadField(
        label="Signed deed of variation (PDF)", required=False, help_text="PDF only, without scripts"
    )

    def __init__(self, *args, user: User, agreement: Section75Agreement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].queryset = visible_decisions(user, [agreement.partnership_id])
        self.fields["schedules"].queryset = Schedule.objects.filter(agreement=agreement).order_by("number")

    def service_arguments(self) -> dict:
        return dict(self.cleaned_data)


class ReviewForm(ServiceModelForm):
    due = GovukDateField(label="Due")
    held_on = GovukDateField(label="Held on", required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Review
        fields = ["due", "held_on", "outcome", "decision", "paper", "notes"]
        labels = {"outcome": "Outcome", "decision": "Decision it went to", "paper": "Paper it went to"}
        help_texts = {"outcome": "Leave empty until the review is held"}

    def __init__(self, *args, user: User, agreement: Section75Agreement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].queryset = visible_decisions(user, [agreement.partnership_id])
        self.fields["paper"].queryset = _papers(user, agreement.partnership_id)
        if self.instance.pk:
            self.fields["version"].required = True
            self.fields["version"].initial = self.instance.version

    def service_arguments(self) -> dict:
        return {name: self.cleaned_data[name] for name in self._meta.fields}
