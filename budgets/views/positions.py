"""Monthly positions of a schedule: entered for a whole period at once, and reported to a board
meeting (rules.md, rule 2: they lock once that meeting is held)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils import timezone

from budgets import selectors, services
from budgets.forms import PeriodForm, PositionFormSet, ReportPositionsForm
from budgets.models import (
    HELD_STATUSES,
    BudgetLine,
    MonthlyPosition,
    financial_year_of,
    year_label,
)
from budgets.views.base import ScheduleMixin, YearPeriodMixin
from commissioning.generic import ServiceFormView
from governance.models import Meeting


class PositionsView(YearPeriodMixin, ScheduleMixin, ServiceFormView):
    """The whole-schedule monthly positions form for one period (``?period=YYYY-MM``, by default
    this month): one row per line of its financial year, saved all or nothing."""

    model = MonthlyPosition
    action = "change"
    form_class = PositionFormSet
    template_name = "budgets/positions_form.html"
    choice_ids = {"period": "id_period"}

    def dispatch(self, request, *args, **kwargs):
        # Entering positions adds some and changes others: the role needs both (403 before any lookup).
        if request.user.is_authenticated:
            self.require_role("add")
        return super().dispatch(request, *args, **kwargs)

    def years(self) -> list[int]:
        if not hasattr(self, "_years"):
            self._years = selectors.schedule_years(self.get_schedule())
        return self._years

    def get_period(self) -> date | None:
        """The period asked for, or this month (April of the agreement's nearest year when it does not
        cover this month); None when the period asked for is not valid."""
        if not hasattr(self, "_period"):
            schedule = self.get_schedule()
            raw = self.request.GET.get("period") or self.request.POST.get("period")
            if raw:
                choice = self.choose(
                    period=raw,
                    years=self.years(),
                    default=selectors.current_year(schedule),
                    covering=f"the years of agreement {schedule.agreement.reference}",
                )
                self._period = choice.period if choice else None
            else:
                today = timezone.localdate()
                period = date(today.year, today.month, 1)
                if financial_year_of(period) not in self.years():
                    period = date(selectors.current_year(schedule), 4, 1)
                self._period = period
        return self._period

    def get_form_kwargs(self):
        period = self.get_period()
        if period is None:  # unbound and empty: never valid, so nothing is saved
            return {}
        lines = list(
            BudgetLine.objects.filter(schedule=self.get_schedule(), year=financial_year_of(period))
            .select_related("funding_stream__organisation")
            .order_by("pk")
        )
        positions = {
            p.budget_line_id: p
            for p in MonthlyPosition.objects.filter(budget_line__in=lines, period=period).select_related(
                "reported_at__board"
            )
        }
        kwargs = {"lines": lines, "positions": positions}
        if self.request.method == "POST":
            kwargs["data"] = self.request.POST
        return kwargs

    def perform(self, formset) -> list[MonthlyPosition]:
        return services.monthly_positions_save_period(
            schedule=self.get_schedule(),
            period=self.get_period(),
            entries=formset.entries(),
            by=self.request.user,
        )

    def form_valid(self, formset):
        # The generic flow, with a formset's errors: each line's on its row, the rest above.
        try:
            saved = self.write(lambda: self.perform(formset))
        except ValidationError as error:  # PositionErrors, or a position someone else changed meanwhile
            formset.add_service_errors(error)
            return self.form_invalid(formset)
        period = self.get_period()
        count = len(saved)
        messages.success(
            self.request, f"Positions for {period:%B %Y} saved ({count} line{'s' if count != 1 else ''})"
        )
        return redirect(self.get_success_url())

    def get_success_url(self, result=None) -> str:
        period = self.get_period()
        return (
            f"{self.get_schedule().get_absolute_url()}?year={financial_year_of(period)}"
            f"&period={period:%Y-%m}#monitoring"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        formset = context["form"]
        period = self.get_period()
        year = financial_year_of(period) if period else selectors.current_year(self.get_schedule())
        errors = formset.row_errors()
        failed = bool(errors or formset.non_form_errors() or context["choice_errors"])
        heading = f"Monthly positions for {period:%B %Y}" if period else "Monthly positions"
        month = period or date(year, 4, 1)
        context.update(
            {
                "page_title": ("Error: " if failed else "") + heading,
                "heading": heading,
                "period": period,
                "period_value": period.strftime("%Y-%m") if period else "",
                "period_form": PeriodForm(
                    initial={"period": period.isoformat()} if period else {}, year=year
                ),
                # The same month a year before and after, where the agreement covers it.
                "other_years": [
                    (label, f"{month.year + step}-{month:%m}")
                    for label, step in (("the year before", -1), ("the year after", 1))
                    if year + step in self.years()
                ],
                "formset": formset,
                "rows": formset.rows,
                "errors": errors,
                "year_label": year_label(year),
            }
        )
        return context


class ReportPositionsView(YearPeriodMixin, ScheduleMixin, ServiceFormView):
    """Report a schedule's monthly positions for one or more periods to a meeting of its board, in
    two steps: choose, then confirm. Once that meeting is held the positions lock (rule 2)."""

    model = MonthlyPosition
    action = "change"
    form_class = ReportPositionsForm
    template_name = "budgets/positions_report.html"
    heading = "Report positions to a board meeting"
    choice_ids = {"year": "report-year", "period": "report-year"}

    def get_choice(self):
        """The year (and period to preselect) asked for, or None when they are not valid."""
        if not hasattr(self, "_choice"):
            schedule = self.get_schedule()
            self._choice = self.choose(
                year=self.request.GET.get("year") or self.request.POST.get("year"),
                period=self.request.GET.get("period"),
                years=selectors.schedule_years(schedule),
                default=selectors.current_year(schedule),
                covering=f"the years of agreement {schedule.agreement.reference}",
            )
        return self._choice

    def get_year(self) -> int:
        choice = self.get_choice()
        return choice.year if choice else selectors.current_year(self.get_schedule())

    def get_reports(self):
        if not hasattr(self, "_reports"):
            choice = self.get_choice()
            self._reports = selectors.reporting_by_period(self.get_schedule(), choice.year) if choice else []
        return self._reports

    def get_meetings(self):
        schedule = self.get_schedule()
        meetings = self.restricted("view", Meeting).select_related("board")
        if schedule.board_id:
            meetings = meetings.filter(board=schedule.board_id)
        else:
            meetings = meetings.filter(board__partnership=schedule.agreement.partnership_id)
        return meetings.order_by("-starts_at", "-pk")

    def get_initial(self):
        choice = self.get_choice()
        return {"periods": [choice.period.isoformat()]} if choice and choice.period else {}

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if self.get_choice() is None:  # unbound: never valid, so nothing is reported
            kwargs.pop("data", None)
            kwargs.pop("files", None)
        kwargs.update(meetings=self.get_meetings(), reports=self.get_reports())
        return kwargs

    def form_valid(self, form):
        if not form.cleaned_data["confirmed"]:
            meeting = form.cleaned_data["meeting"]
            chosen = [r for r in self.get_reports() if r.period in form.cleaned_data["periods"]]
            return self.render_to_response(
                self.get_context_data(
                    form=form,
                    confirming=True,
                    meeting=meeting,
                    chosen=chosen,
                    chosen_positions=sum(r.positions - r.locked for r in chosen),
                    meeting_held=meeting.status in HELD_STATUSES,
                )
            )
        return super().form_valid(form)

    def perform(self, form) -> dict[date, int]:
        self.meeting, self.periods = form.cleaned_data["meeting"], sorted(form.cleaned_data["periods"])
        return services.positions_report_periods(
            schedule=self.get_schedule(), periods=self.periods, meeting=self.meeting, by=self.request.user
        )

    def get_success_message(self, marked: dict[date, int]) -> str:
        count = sum(marked.values())
        names = ", ".join(f"{p:%B %Y}" for p in self.periods)
        state = "locked" if self.meeting.status in HELD_STATUSES else "they lock once the meeting is held"
        return f"{count} position{'s' if count != 1 else ''} for {names} reported to {self.meeting} ({state})"

    def get_success_url(self, marked=None) -> str:
        return f"{self.get_schedule().get_absolute_url()}?year={self.get_year()}#reporting"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("confirming", False)
        context = super().get_context_data(**kwargs)
        year = self.get_year()
        failed = bool(context["form"].errors or context["choice_errors"])
        context.update(
            {
                "page_title": ("Error: " if failed else "")
                + (self.heading if context["choice_errors"] else f"{self.heading}, {year_label(year)}"),
                "year": year,
                "year_label": year_label(year),
                "years": [(y, year_label(y)) for y in selectors.schedule_years(self.get_schedule())],
                "reports": self.get_reports(),
                "has_meetings": self.get_meetings().exists(),
            }
        )
        return context
