"""Forms of the governance pages. They check the shape of the input; the services apply the rules
and their errors come back onto the fields (``add_service_errors``)."""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.utils import timezone

from commissioning.forms import GovukDateField, GovukFormMixin, MoneyField
from commissioning.models import Person
from governance.models import (
    AttendanceStatus,
    ExemptionRegime,
    InterestAction,
    InterestNature,
    Outcome,
    PackAudience,
    Purpose,
    Session,
)
from governance.quorum import Attendee


class MeetingForm(GovukFormMixin, forms.Form):
    date = GovukDateField(label="Meeting date")
    start_time = forms.TimeField(
        label="Start time",
        help_text="24-hour clock, for example 14:00",
        widget=forms.TextInput(attrs={"class": "govuk-input--width-5"}),
    )
    venue = forms.CharField(label="Venue", max_length=300, required=False)

    def starts_at(self) -> datetime:
        return timezone.make_aware(
            datetime.combine(self.cleaned_data["date"], self.cleaned_data["start_time"] or time(14))
        )


class AgendaItemForm(GovukFormMixin, forms.Form):
    title = forms.CharField(label="Title", max_length=300)
    purpose = forms.ChoiceField(label="Purpose", choices=Purpose.choices, initial=Purpose.DECISION)
    presenter = forms.CharField(label="Presenter", max_length=200, required=False)
    paper = forms.ModelChoiceField(label="Paper", queryset=None, required=False)
    exemption_regime = forms.ChoiceField(
        label="Exempt from publication",
        choices=ExemptionRegime.choices,
        initial=ExemptionRegime.NONE,
        widget=forms.RadioSelect,
    )
    exemption_paragraph = forms.IntegerField(
        label="Paragraph of Schedule 12A",
        min_value=1,
        max_value=7,
        required=False,
        help_text="1 to 7, for council information",
    )
    exemption_reason = forms.CharField(label="Reason for exemption", max_length=300, required=False)

    def __init__(self, *args, papers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["paper"].queryset = papers
        self.fields["paper"].empty_label = "No paper"


class PaperForm(GovukFormMixin, forms.Form):
    title = forms.CharField(label="Title", max_length=300)
    session = forms.ChoiceField(label="Session", choices=Session.choices, widget=forms.RadioSelect)
    executive_summary = forms.CharField(label="Executive summary", widget=forms.Textarea(attrs={"rows": 5}))
    recommendations = forms.CharField(
        label="Recommendations",
        help_text="One recommendation per line; they are numbered in the pack",
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
    )
    body = forms.CharField(label="Report", widget=forms.Textarea(attrs={"rows": 10}), required=False)
    equality_impact = forms.CharField(
        label="Equality impact", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    financial_impact = forms.CharField(
        label="Financial impact", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    legal_impact = forms.CharField(
        label="Legal impact", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    risk_impact = forms.CharField(
        label="Risks and mitigations", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    conflicts_of_interest = forms.CharField(
        label="Conflicts of interest", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    presented_before = forms.CharField(label="Presented before", max_length=300, required=False)
    authors = forms.CharField(label="Author", max_length=300)
    clinical_lead = forms.CharField(label="Clinical lead", max_length=200, required=False)
    executive_sponsor = forms.CharField(label="Executive sponsor", max_length=200, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        data["recommendations"] = [
            line.strip() for line in data["recommendations"].splitlines() if line.strip()
        ]
        return data


class AppendixForm(GovukFormMixin, forms.Form):
    title = forms.CharField(label="Appendix title", max_length=300)
    file = forms.FileField(label="PDF file", help_text="PDF only, up to 10 MB")
    exemption_regime = forms.ChoiceField(
        label="Exempt from publication",
        choices=ExemptionRegime.choices,
        initial=ExemptionRegime.NONE,
        widget=forms.RadioSelect,
    )
    exemption_paragraph = forms.IntegerField(
        label="Paragraph of Schedule 12A", min_value=1, max_value=7, required=False
    )
    exemption_reason = forms.CharField(label="Reason for exemption", max_length=300, required=False)


class AttendanceForm(GovukFormMixin, forms.Form):
    person = forms.ModelChoiceField(label="Person", queryset=Person.objects.none())
    status = forms.ChoiceField(
        label="Attendance", choices=AttendanceStatus.choices, initial=AttendanceStatus.PRESENT
    )
    substitute_for = forms.ModelChoiceField(
        label="Substitute for", queryset=Person.objects.none(), required=False
    )

    def __init__(self, *args, people=None, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people
        self.fields["substitute_for"].queryset = members
        self.fields["substitute_for"].empty_label = "Not a substitute"


class DeclarationForm(GovukFormMixin, forms.Form):
    person = forms.ModelChoiceField(label="Member", queryset=Person.objects.none())
    nature = forms.ChoiceField(label="Nature of the interest", choices=InterestNature.choices)
    description = forms.CharField(label="Interest", widget=forms.Textarea(attrs={"rows": 2}))
    action = forms.ChoiceField(label="Action taken", choices=InterestAction.choices, widget=forms.RadioSelect)
    dispensation = forms.CharField(label="Dispensation", max_length=500, required=False)

    def __init__(self, *args, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people


VOTE_CHOICES = [("", "Did not vote"), ("for", "For"), ("against", "Against"), ("abstain", "Abstained")]


class DecisionForm(GovukFormMixin, forms.Form):
    resolution = forms.CharField(label="Resolution", widget=forms.Textarea(attrs={"rows": 4}))
    reasons = forms.CharField(
        label="Reasons for the decision", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    alternatives_rejected = forms.CharField(
        label="Alternatives considered and rejected", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    outcome = forms.ChoiceField(label="Outcome", choices=Outcome.choices)
    financial_value = MoneyField(label="Financial value", required=False)
    urgent = forms.BooleanField(label="Urgent decision", required=False)
    urgent_reason = forms.CharField(label="Reason for urgency", max_length=500, required=False)
    casting_vote = forms.ChoiceField(
        label="Chair's casting vote (only on a tie)",
        choices=[("", "None"), ("for", "For"), ("against", "Against")],
        required=False,
    )

    def __init__(self, *args, voters: list[Attendee] = (), casting: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.voters = list(voters)
        for attendee in self.voters:
            self.fields[f"vote_{attendee.person_id}"] = forms.ChoiceField(
                label=f"Vote of {attendee.name}", choices=VOTE_CHOICES, required=False
            )
        if not casting:
            del self.fields["casting_vote"]
        from commissioning.forms import govuk_style

        govuk_style(self)

    def vote_fields(self):
        return [self[f"vote_{a.person_id}"] for a in self.voters]

    def votes(self) -> list[tuple[int, str]]:
        return [
            (a.person_id, self.cleaned_data[f"vote_{a.person_id}"])
            for a in self.voters
            if self.cleaned_data.get(f"vote_{a.person_id}")
        ]


class PublishForm(GovukFormMixin, forms.Form):
    published_on = GovukDateField(label="Published on")


class PackRequestForm(forms.Form):
    audience = forms.ChoiceField(choices=PackAudience.choices)


class MinutesForm(GovukFormMixin, forms.Form):
    """One text box per agenda item, and the Part 2 summary for the public minutes."""

    part2_summary = forms.CharField(
        label="Part 2 summary (published)",
        help_text="A short public summary of the exempt business",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )

    def __init__(self, *args, items=(), minutes=None, **kwargs):
        super().__init__(*args, **kwargs)
        existing = {e.agenda_item_id: e for e in minutes.entries.all()} if minutes else {}
        self.items = list(items)
        for item in self.items:
            entry = existing.get(item.pk)
            self.fields[f"item_{item.pk}"] = forms.CharField(
                label=f"{item.item_number}. {item.title}"
                + (f" (minute {entry.minute_number})" if entry else ""),
                widget=forms.Textarea(attrs={"rows": 2}),
                required=False,
                initial=entry.text if entry else "",
            )
        if minutes:
            self.fields["part2_summary"].initial = minutes.part2_summary
        from commissioning.forms import govuk_style

        govuk_style(self)

    def entries(self) -> dict[int, str]:
        return {
            i.pk: self.cleaned_data[f"item_{i.pk}"]
            for i in self.items
            if self.cleaned_data.get(f"item_{i.pk}")
        }


class ActionForm(GovukFormMixin, forms.Form):
    description = forms.CharField(label="Action", widget=forms.Textarea(attrs={"rows": 2}))
    owner = forms.ModelChoiceField(label="Owner", queryset=Person.objects.none())
    due = GovukDateField(label="Due date", required=False)

    def __init__(self, *args, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = people
