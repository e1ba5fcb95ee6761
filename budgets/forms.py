"""Forms of the budgets pages. They check the shape of the input; the rules are in
``budgets.services``, whose errors come back onto the fields through ``add_service_errors``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django import forms
from django.db.models import Q

from budgets import services
from budgets.imports import MAX_BYTES
from budgets.models import (
    BudgetLine,
    FundingStream,
    Schedule,
    Section75Agreement,
    Virement,
    year_label,
    year_periods,
)
from budgets.services import FixedShare, PositionEntry
from commissioning import uploads
from commissioning.forms import (
    GovukFormMixin,
    MoneyField,
    ServiceModelForm,
    add_service_errors,
)
from commissioning.models import Organisation, Partnership, User
from commissioning.money import format_money


def visible_decisions(user, partnership_ids):
    from governance.models import Decision

    return (
        Decision.objects.restrict(user, "view")
        .filter(agenda_item__meeting__board__partnership__in=partnership_ids)
        .select_related("agenda_item")
        .order_by("-decided_on", "-reference")
    )


class ScheduleForm(ServiceModelForm):
    council_percent = forms.DecimalField(
        label="Council's fixed share (%)", required=False, max_digits=5, decimal_places=2
    )
    nhs_percent = forms.DecimalField(
        label="NHS commissioner's fixed share (%)", required=False, max_digits=5, decimal_places=2
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Schedule
        fields = [
            "number",
            "title",
            "arrangement",
            "integration_level",
            "pool_manager",
            "board",
            "overspend_rule",
            "underspend_rule",
        ]
        labels = {
            "number": "Schedule number",
            "title": "Title",
            "arrangement": "Arrangement",
            "integration_level": "Integration level",
            "pool_manager": "Pool manager",
            "board": "Approving board",
            "overspend_rule": "Risk share of an overspend",
            "underspend_rule": "Risk share of an underspend",
        }
        widgets = {
            "number": forms.TextInput(attrs={"class": "govuk-input--width-3", "inputmode": "numeric"}),
            "arrangement": forms.RadioSelect,
            "integration_level": forms.RadioSelect,
        }

    def __init__(self, *args, user: User, agreement: Section75Agreement, **kwargs):
        super().__init__(*args, **kwargs)
        from governance.models import Board

        self.agreement = agreement
        partnership = agreement.partnership
        self.fields["council_percent"].label = f"Fixed share of {partnership.council.name} (%)"
        self.fields["nhs_percent"].label = f"Fixed share of {partnership.nhs_commissioner.name} (%)"
        for name in ("council_percent", "nhs_percent"):
            self.fields[
                name
            ].help_text = "Only when a risk-share rule is fixed percentages; the two add up to 100"
            self.fields[name].widget.attrs.update(
                {"class": "govuk-input govuk-input--width-5", "inputmode": "decimal"}
            )
        self.fields["board"].queryset = Board.objects.restrict(user, "view").filter(partnership=partnership)
        self.fields["pool_manager"].queryset = (
            User.objects.filter(
                Q(is_active=True, grants__partnership=partnership) | Q(pk=self.instance.pool_manager_id)
            )
            .distinct()
            .order_by("last_name", "first_name", "username")
        )
        if self.instance.pk:
            shares = {s.organisation_id: s.percent for s in self.instance.fixed_shares.all()}
            self.fields["council_percent"].initial = shares.get(partnership.council_id)
            self.fields["nhs_percent"].initial = shares.get(partnership.nhs_commissioner_id)
            self.fields["version"].required = True
            self.fields["version"].initial = self.instance.version

    def service_arguments(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self._meta.fields}
        partnership = self.agreement.partnership
        shares = []
        for name, organisation in (
            ("council_percent", partnership.council),
            ("nhs_percent", partnership.nhs_commissioner),
        ):
            if self.cleaned_data.get(name) is not None:
                shares.append(FixedShare(organisation, self.cleaned_data[name]))
        data["fixed_shares"] = shares
        return data


class BudgetLineForm(ServiceModelForm):
    year = forms.TypedChoiceField(label="Financial year", coerce=int)
    amount = MoneyField(label="Amount")
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = BudgetLine
        fields = ["name", "year", "funding_stream", "amount", "status", "decision"]
        labels = {
            "name": "Budget line",
            "funding_stream": "Funding stream",
            "status": "Status",
            "decision": "Approving decision",
        }
        help_texts = {"name": "For example Placements and Brokerage"}
        widgets = {"status": forms.RadioSelect}

    def __init__(self, *args, user: User, schedule: Schedule, **kwargs):
        super().__init__(*args, **kwargs)
        partnership = schedule.agreement.partnership
        self.fields["year"].choices = [(y, year_label(y)) for y in schedule.agreement.years]
        self.fields["funding_stream"].queryset = (
            FundingStream.objects.restrict(user, "view")
            .filter(partnership=partnership)
            .select_related("organisation")
        )
        self.fields["funding_stream"].label_from_instance = lambda s: f"{s.name} ({s.organisation.code})"
        self.fields["decision"].queryset = visible_decisions(user, [partnership.pk])
        # A status is always chosen (indicative by default): no blank radio labelled "Select one".
        self.fields["status"].choices = [(v, t) for v, t in self.fields["status"].choices if v]
        if self.instance.pk:
            self.fields["version"].required = True
            self.fields["version"].initial = self.instance.version

    def service_arguments(self) -> dict:
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class FundingStreamForm(ServiceModelForm):
    class Meta:
        model = FundingStream
        fields = ["name", "organisation"]
        labels = {"name": "Name of the funding stream", "organisation": "Contributed by"}
        help_texts = {"name": "For example CCG, iBCF, LBB core"}

    def __init__(self, *args, partnership: Partnership, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(
            pk__in=[partnership.council_id, partnership.nhs_commissioner_id]
        )


class PeriodForm(GovukFormMixin, forms.Form):
    period = forms.TypedChoiceField(label="Period", coerce=date.fromisoformat)

    def __init__(self, *args, year: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = [(p.isoformat(), f"{p:%B %Y}") for p in year_periods(year)]


class PositionForm(GovukFormMixin, forms.Form):
    """One line of the whole-schedule positions form."""

    line = forms.IntegerField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    actual_to_date = MoneyField(label="Actual to date", required=False)
    forecast_outturn = MoneyField(label="Forecast outturn", required=False)
    commentary = forms.CharField(label="Commentary", required=False, max_length=2000, widget=forms.Textarea)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commentary"].widget.attrs["rows"] = 2
        for name in ("actual_to_date", "forecast_outturn"):
            self.fields[name].widget.attrs["class"] = "govuk-input govuk-input--width-10"

    def clean(self):
        data = super().clean()
        actual, forecast = data.get("actual_to_date"), data.get("forecast_outturn")
        if (actual is None) != (forecast is None) and not self.errors:
            missing = "actual_to_date" if actual is None else "forecast_outturn"
            label = str(self.fields[missing].label)  # a line's own name keeps its capitals: lower the 1st
            self.add_error(missing, f"Enter the {label[:1].lower()}{label[1:]} as well")
        return data


class BasePositionFormSet(forms.BaseFormSet):
    """The whole-schedule positions form for one period: a ``PositionForm`` for each of the period's
    budget ``lines`` (their stored ``positions`` by line pk as the initial values), labelled with
    the line, and ``rows`` to show them. A formset with no ``data`` is never valid: a page given a
    bad period shows it unbound, and nothing is saved."""

    def __init__(self, *args, lines: Sequence[BudgetLine] = (), positions: dict | None = None, **kwargs):
        self.lines = list(lines)
        self.positions = positions or {}
        kwargs.setdefault("prefix", "lines")
        kwargs["initial"] = [
            {
                "line": line.pk,
                "version": position.version if position else None,
                "actual_to_date": position.actual_to_date if position else None,
                "forecast_outturn": position.forecast_outturn if position else None,
                "commentary": position.commentary if position else "",
            }
            for line in self.lines
            for position in [self.positions.get(line.pk)]
        ]
        super().__init__(*args, **kwargs)
        for line, form in zip(self.lines, self.forms, strict=False):
            for name in ("actual_to_date", "forecast_outturn", "commentary"):
                field = form.fields[name]
                field.label = f"{field.label} for {line.name} ({line.funding_stream.name})"

    @property
    def rows(self) -> list[dict]:
        rows = []
        for line, form in zip(self.lines, self.forms, strict=False):
            position = self.positions.get(line.pk)
            rows.append(
                {
                    "line": line,
                    "form": form,
                    "position": position,
                    "locked": bool(position and position.is_locked),
                }
            )
        return rows

    def row_errors(self) -> list[tuple[dict, str, str]]:
        """(row, field name, message) of every error on a line's form, for the error summary."""
        return [
            (row, name, error)
            for row in self.rows
            for name, field_errors in row["form"].errors.items()
            for error in field_errors
        ]

    def clean(self):
        if any(self.errors):
            return
        posted = sorted(form.cleaned_data.get("line") for form in self.forms)
        if posted != sorted(line.pk for line in self.lines):
            raise forms.ValidationError(
                "The lines of this schedule changed while you were typing: check the form and save again."
            )

    def entries(self) -> list[PositionEntry]:
        """The figures entered, one entry per line (``services.monthly_positions_save_period``)."""
        by_pk = {line.pk: line for line in self.lines}
        return [
            PositionEntry(
                budget_line=by_pk[form.cleaned_data["line"]],
                actual_to_date=form.cleaned_data["actual_to_date"],
                forecast_outturn=form.cleaned_data["forecast_outturn"],
                commentary=form.cleaned_data["commentary"],
                version=form.cleaned_data["version"],
            )
            for form in self.forms
        ]

    def add_service_errors(self, error: forms.ValidationError) -> None:
        """The service's errors on the lines they are about (``PositionErrors``), the rest above."""
        by_line = getattr(error, "by_line", None)
        if by_line is None:
            self._non_form_errors = self.error_class(error.messages)
            return
        for form in self.forms:
            if form.cleaned_data.get("line") in by_line:
                add_service_errors(form, by_line[form.cleaned_data["line"]])


PositionFormSet = forms.formset_factory(PositionForm, formset=BasePositionFormSet, extra=0, can_delete=False)


class ImportForm(GovukFormMixin, forms.Form):
    file = uploads.SpreadsheetUploadField(
        label="Spreadsheet of budget lines",
        help_text="An XLSX or CSV file with the columns name, year, funding_stream and amount, and "
        "optionally status, id and version (see the columns above)",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
        max_bytes=MAX_BYTES,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["class"] = "govuk-file-upload"


class VirementForm(ServiceModelForm):
    amount = MoneyField(label="Amount")
    year = forms.TypedChoiceField(label="Financial year", coerce=int)

    class Meta:
        model = Virement
        fields = ["year", "from_line", "to_line", "amount", "reason"]
        labels = {
            "from_line": "Line to move the money from",
            "to_line": "Line to move the money to",
            "reason": "Reason",
        }

    def __init__(self, *args, schedule: Schedule, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y, year_label(y)) for y in schedule.agreement.years]
        lines = BudgetLine.objects.filter(schedule=schedule).select_related("funding_stream")
        for name in ("from_line", "to_line"):
            self.fields[name].queryset = lines
            self.fields[name].label_from_instance = lambda line: (
                f"{line.name}, {line.funding_stream.name}, {line.year_label} ({format_money(line.amount)})"
            )

    def service_arguments(self) -> dict:
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class ReportPositionsForm(GovukFormMixin, forms.Form):
    """Choose a board meeting and the periods whose positions it receives (rule 2: they lock once
    the meeting is held). ``confirmed`` is set by the confirmation step."""

    meeting = forms.ModelChoiceField(
        label="Board meeting",
        queryset=None,
        empty_label="Choose a meeting",
        help_text="A meeting of the schedule's approving board",
    )
    periods = forms.TypedMultipleChoiceField(
        label="Periods to report",
        coerce=date.fromisoformat,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only periods with positions that are not yet locked",
        error_messages={"required": "Choose at least one period to report"},
    )
    confirmed = forms.BooleanField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, meetings, reports, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meeting"].queryset = meetings
        self.fields["meeting"].error_messages["required"] = (
            "Choose the board meeting that receives the positions"
        )
        self.fields["meeting"].label_from_instance = lambda m: (
            f"{m.board.name}, {m.local_date:%-d %B %Y} ({m.get_status_display().lower()})"
        )
        self.fields["periods"].choices = [
            (
                report.period.isoformat(),
                f"{report.label}: {report.positions} position{'s' if report.positions != 1 else ''}, "
                f"{report.status.lower()}",
            )
            for report in reports
            if report.reportable
        ]


class VirementApproveForm(GovukFormMixin, forms.Form):
    """The decision that approves a virement: one of the approvals of the schedule's board taken on
    or after the day it was proposed (``services.virement_decisions``), each shown with its title;
    "None" only when the amount is within the board's delegated limit."""

    decision = forms.ModelChoiceField(label="Approving decision", queryset=None, widget=forms.RadioSelect)

    def __init__(self, *args, user: User, virement: Virement, **kwargs):
        from governance.models import Decision

        super().__init__(*args, **kwargs)
        field = self.fields["decision"]
        visible = Decision.objects.restrict(user, "view")
        field.queryset = services.virement_decisions(virement, decisions=visible)
        field.label_from_instance = lambda d: f"{d.reference}: {d.agenda_item.title}"
        board = virement.schedule.board
        if services.virement_within_delegation(virement):
            field.required = False
            field.empty_label = (
                f"None: within the {format_money(board.delegated_limit)} delegated limit of {board.name}"
            )
        else:
            field.required = True
            field.empty_label = None
            field.error_messages["required"] = "Choose the board decision that approved this virement"
        proposed_on = services.virement_proposed_on(virement)
        whose = board.name if board else f"a {virement.schedule.agreement.partnership.name} board"
        field.help_text = (
            f"Approvals by {whose} taken on or after {proposed_on:%-d %B %Y}, when it was proposed"
        )

    def options(self):
        """(value, label, hint, decision) per radio, for the page: the date and board as a hint."""
        field = self.fields["decision"]
        rows = []
        if not field.required:
            rows.append(("", field.empty_label, "", None))
        for decision in field.queryset:
            rows.append(
                (
                    str(decision.pk),
                    field.label_from_instance(decision),
                    f"Decided on {decision.decided_on:%-d %B %Y} by "
                    f"{decision.agenda_item.meeting.board.name}: {decision.get_outcome_display().lower()}",
                    decision,
                )
            )
        return rows
