"""Forms of the governance pages. They check the shape of the input; the services apply the rules
and their errors come back onto the fields (``add_service_errors``)."""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.utils import timezone

from commissioning import uploads
from commissioning.forms import GovukDateField, GovukFormMixin, MoneyField, ServiceModelForm
from commissioning.models import Organisation, Partnership, Person
from governance.models import (
    ActionStatus,
    AttendanceStatus,
    Board,
    ExemptionRegime,
    ForwardPlanEntry,
    InterestAction,
    InterestNature,
    Membership,
    Outcome,
    PackAudience,
    Purpose,
    Session,
    board_code_validator,
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
    forward_plan_entry = forms.ModelChoiceField(
        label="Forward plan entry",
        queryset=ForwardPlanEntry.objects.none(),
        required=False,
        help_text="For a key decision: the published forward plan entry this item takes",
    )

    def __init__(self, *args, papers=None, entries=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["paper"].queryset = papers
        self.fields["paper"].empty_label = "No paper"
        self.fields["forward_plan_entry"].queryset = (
            entries if entries is not None else ForwardPlanEntry.objects.none()
        )
        self.fields["forward_plan_entry"].empty_label = "Not on the forward plan"


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

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        # An edit must say which version it was made from, so a stale edit can be refused.
        self.fields["version"].required = editing
        self.fields["version"].error_messages["required"] = (
            "The form did not say which version of the paper you changed: reload the page and try again."
        )

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        data["recommendations"] = [
            line.strip() for line in data["recommendations"].splitlines() if line.strip()
        ]
        return data


class AppendixForm(GovukFormMixin, forms.Form):
    title = forms.CharField(label="Appendix title", max_length=300)
    file = uploads.PdfUploadField(
        label="PDF file",
        help_text=f"PDF only, up to {settings.MAX_UPLOAD_MB} MB, without scripts or attachments",
    )
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
    published_on = GovukDateField(label="Published on", required=False, help_text="Blank: today")


class CorrectionForm(GovukFormMixin, forms.Form):
    """A correction notice: what the decision should have said."""

    resolution = forms.CharField(label="Corrected resolution", widget=forms.Textarea(attrs={"rows": 4}))
    reasons = forms.CharField(
        label="Reasons for the decision", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    alternatives_rejected = forms.CharField(
        label="Alternatives considered and rejected", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    financial_value = MoneyField(label="Financial value", required=False)
    correction_note = forms.CharField(
        label="What is corrected",
        help_text="For example: the value was mistyped",
        max_length=300,
        required=False,
    )


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


class BoardForm(ServiceModelForm):
    """A board's constitution: what the quorum, voting and delegation rules read."""

    delegated_limit = MoneyField(
        label="Delegated limit",
        required=False,
        help_text="Decisions of a higher value are referred to the parent board. Leave blank for no limit",
    )
    key_decision_threshold = MoneyField(
        label="Key-decision threshold",
        required=False,
        help_text="Decisions of this value or more must be on the forward plan 28 clear days before",
    )

    class Meta:
        model = Board
        fields = [
            "partnership",
            "name",
            "code",
            "terms_of_reference",
            "quorum_min_voting",
            "quorum_min_per_partner",
            "voting_mode",
            "chair_has_casting_vote",
            "delegated_limit",
            "key_decision_threshold",
            "parent",
            "council_executive",
            "meets_in_public",
        ]
        labels = {
            "name": "Name",
            "code": "Code",
            "terms_of_reference": "Terms of reference",
            "quorum_min_voting": "Quorum: voting members present",
            "quorum_min_per_partner": "Quorum: voting members present for each partner",
            "voting_mode": "Voting",
            "chair_has_casting_vote": "The chair has a casting vote on a tie",
            "parent": "Parent board",
            "council_executive": "Council executive body",
            "meets_in_public": "Meets in public (has public pages)",
        }
        help_texts = {
            "code": "2 to 10 capital letters and digits, e.g. BBB; decision references begin with it",
            "parent": "Where decisions above the delegated limit are referred",
        }
        widgets = {
            "terms_of_reference": forms.Textarea(attrs={"rows": 6}),
            "voting_mode": forms.RadioSelect,
            "quorum_min_voting": forms.TextInput(
                attrs={"class": "govuk-input--width-3", "inputmode": "numeric"}
            ),
            "quorum_min_per_partner": forms.TextInput(
                attrs={"class": "govuk-input--width-3", "inputmode": "numeric"}
            ),
        }

    def __init__(self, *args, partnerships, boards, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].validators.append(
            RegexValidator(
                board_code_validator.regex, "Code must be 2 to 10 capital letters and digits, for example BBB"
            )
        )
        if self.instance.pk:
            del self.fields["partnership"]
            boards = boards.filter(partnership=self.instance.partnership).exclude(pk=self.instance.pk)
        else:
            self.fields["partnership"].queryset = partnerships.order_by("name")
            self.fields["partnership"].label = "Partnership"
        self.fields["parent"].queryset = boards.order_by("name")
        self.fields["parent"].empty_label = "None"
        self.fields["voting_mode"].choices = [c for c in self.fields["voting_mode"].choices if c[0]]
        from commissioning.forms import govuk_style

        govuk_style(self)


class MembershipForm(ServiceModelForm):
    start = GovukDateField(label="Member from")
    end = GovukDateField(label="Member until", required=False, help_text="Leave blank while they serve")

    class Meta:
        model = Membership
        fields = ["person", "role", "voting", "representing", "start", "end"]
        labels = {
            "person": "Person",
            "role": "Role",
            "voting": "Has a vote",
            "representing": "Organisation represented",
        }
        help_texts = {
            "representing": "The partner this member counts for in quorum and in block votes",
        }

    def __init__(self, *args, board: Board, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        partnership = board.partnership
        self.fields["representing"].queryset = Organisation.objects.filter(
            pk__in=[partnership.council_id, partnership.nhs_commissioner_id]
        ).order_by("name")
        if self.instance.pk:
            del self.fields["person"]
        else:
            self.fields["person"].queryset = people
        from commissioning.forms import govuk_style

        govuk_style(self)
        self.fields["representing"].empty_label = "Both partners jointly"
        self.fields["representing"].widget.choices = self.fields["representing"].choices


class ForwardPlanForm(ServiceModelForm):
    """An entry of the forward plan. Its first-published date is not typed: the system sets it when
    the entry is published (``publish``), and it never changes after."""

    publish = forms.BooleanField(
        label="Publish on the forward plan now",
        help_text="The first-published date is set to today when you publish; the 28 clear days run from it",
        required=False,
    )

    class Meta:
        model = ForwardPlanEntry
        fields = [
            "title",
            "key_decision",
            "expected_meeting",
            "consultation",
            "contact",
            "exempt",
            "exemption_reason",
        ]
        labels = {
            "title": "Decision to be taken",
            "key_decision": "Key decision",
            "expected_meeting": "Expected meeting",
            "consultation": "Consultation",
            "contact": "Contact",
            "exempt": "Exempt (the report will be taken in private)",
            "exemption_reason": "Reason for exemption",
        }
        widgets = {"consultation": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, board: Board, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expected_meeting"].queryset = board.meetings.order_by("starts_at")
        self.fields["expected_meeting"].label_from_instance = lambda m: f"{m.local_date:%-d %B %Y}"
        if self.instance.pk and self.instance.first_published_on:
            del self.fields["publish"]
        from commissioning.forms import govuk_style

        govuk_style(self)


class ActionStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ActionStatus.choices)


class RegisterEntryForm(GovukFormMixin, forms.Form):
    """The annual declaration, a nil return included."""

    person = forms.ModelChoiceField(label="Member", queryset=Person.objects.none())
    partnership = forms.ModelChoiceField(label="Partnership", queryset=Partnership.objects.none())
    nil_return = forms.BooleanField(label="I have no interests to declare (nil return)", required=False)
    interests = forms.CharField(
        label="Interests",
        help_text="Each interest on its own line: the organisation, your role and its nature",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )

    def __init__(self, *args, people=None, partnerships=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people
        self.fields["partnership"].queryset = partnerships


class RegisterChangeForm(GovukFormMixin, forms.Form):
    """A change to one's registered interests during the year, due within 28 days of it arising."""

    person = forms.ModelChoiceField(label="Member", queryset=Person.objects.none())
    partnership = forms.ModelChoiceField(label="Partnership", queryset=Partnership.objects.none())
    nature = forms.ChoiceField(label="Nature of the interest", choices=InterestNature.choices)
    description = forms.CharField(
        label="Change to interests",
        help_text="The interest gained or ended: the organisation, your role and its nature",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    arose_on = GovukDateField(
        label="Date the interest arose or ended", help_text="Declare within 28 days. For example, 27 3 2025"
    )

    def __init__(self, *args, people=None, partnerships=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people
        self.fields["partnership"].queryset = partnerships


class _LinkTargetField(forms.ChoiceField):
    """A record to link, by its key (``governance.linking``), grouped by registered record."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def set_targets(self, targets) -> None:
        self.targets = {t.key: t for t in targets}
        self.choices = [("", "Choose a record")] + [
            (t.key, ("\u2003" if t.part else "") + t.label) for t in targets
        ]

    def clean(self, value):
        value = super().clean(value)
        return self.targets[value].obj


class DecisionLinkForm(GovukFormMixin, forms.Form):
    """Link a decision to what it changed, with the amounts before and after."""

    decision = forms.ModelChoiceField(queryset=None, label="Decision")
    target = _LinkTargetField(label="What the decision approved or changed")
    description = forms.CharField(
        label="What changed",
        max_length=300,
        required=False,
        help_text="For example: Variation 2 adds Schedule 4",
    )
    amount_before = MoneyField(label="Amount before", required=False, min_value=None)
    amount_after = MoneyField(
        label="Amount after",
        required=False,
        min_value=None,
        help_text="For a virement: the amount moved as proposed (before) and as approved (after)",
    )

    def __init__(self, *args, user, decisions, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].queryset = decisions
        self.fields["decision"].label_from_instance = lambda d: (
            f"{d.reference}: {d.agenda_item.title} ({d.decided_on:%-d %b %Y})"
        )
        self.fields["target"].set_targets(targets)
        self.fields["target"].error_messages.update(
            required="Choose the record the decision approved or changed",
            invalid_choice="Choose a record of the decision's partnership from the list",
        )


class PaperLinkForm(GovukFormMixin, forms.Form):
    """Carry a record's live table (a schedule's budget) in a paper's packs."""

    paper = forms.ModelChoiceField(queryset=None, label="Paper")
    target = _LinkTargetField(label="Table to carry live in the pack")

    def __init__(self, *args, user, papers, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["paper"].queryset = papers
        self.fields["paper"].label_from_instance = lambda p: f"{p.title} ({p.board.name})"
        self.fields["target"].set_targets(targets)
        self.fields["target"].error_messages.update(
            required="Choose the table the paper carries",
            invalid_choice="Choose a table of the paper's partnership from the list",
        )
