"""Pages of section 75 budgets. Each view fetches through the permission gate, validates with a
form, calls one service and responds (conventions.md); the figures come from ``budgets.selectors``.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import DetailView, FormView, ListView, TemplateView

from budgets import imports, selectors, services, tables
from budgets.forms import (
    AgreementForm,
    BudgetLineForm,
    FundingStreamForm,
    ImportForm,
    PeriodForm,
    PositionFormSet,
    ReportPositionsForm,
    ScheduleForm,
    VirementApproveForm,
    VirementForm,
)
from budgets.models import (
    HELD_STATUSES,
    BudgetLine,
    FundingStream,
    MonthlyPosition,
    Schedule,
    Section75Agreement,
    Virement,
    VirementStatus,
    financial_year_of,
    year_label,
    year_periods,
)
from commissioning import exports
from commissioning.forms import add_service_errors
from commissioning.models import Partnership
from commissioning.permissions import has_model_permission
from commissioning.services import StaleEdit
from commissioning.views.mixins import RestrictedViewMixin


class _OutOfScope(Exception):
    pass


def _deny_unless(user, model, action: str) -> None:
    if not has_model_permission(user, model, action):
        raise PermissionDenied(f"Your role does not allow you to {action} {model._meta.verbose_name_plural}.")


def _parse_period(value: str | None) -> date | None:
    """``2022-05`` (or ``2022-05-01``) -> 1 May 2022; anything else None."""
    value = (value or "").strip()
    try:
        if len(value) == 7:
            return date.fromisoformat(f"{value}-01")
        if len(value) == 10:
            day = date.fromisoformat(value)
            return day if day.day == 1 else None
    except ValueError:
        return None
    return None


def _parse_year(value: str | None, allowed: list[int], default: int) -> int:
    try:
        year = int(value or "")
    except ValueError:
        return default
    return year if year in allowed else default


class BudgetViewMixin(RestrictedViewMixin):
    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        request.partnership = getattr(request, "partnership", None) or None


class ScheduleChildMixin(LoginRequiredMixin):
    """A page about one schedule (fetched through the gate: hidden is 404) that needs a permission
    on another model (``child_model``/``child_action``: 403 without it)."""

    child_model = None
    child_action = "view"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _deny_unless(request.user, Schedule, "view")
            _deny_unless(request.user, self.child_model, self.child_action)
        return super().dispatch(request, *args, **kwargs)

    def get_schedule(self) -> Schedule:
        if not hasattr(self, "_schedule"):
            qs = selectors.with_related(Schedule.objects.restrict(self.request.user, "view"))
            self._schedule = get_object_or_404(qs, pk=self.kwargs["pk"])
        return self._schedule

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["schedule"] = self.get_schedule()
        context["agreement"] = self.get_schedule().agreement
        return context


# --- Landing page and agreements ------------------------------------------------------------------


class IndexView(BudgetViewMixin, ListView):
    model = Section75Agreement
    template_name = "budgets/index.html"
    context_object_name = "agreements"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("partnership", "host")
            .prefetch_related("schedules")
            .order_by("partnership__name", "reference")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        partnerships = Partnership.objects.restrict(user, "view").in_partnership(self.request.partnership)
        context.update(
            {
                "page_title": "Section 75 budgets",
                "can_add": self.user_can("add"),
                "partnerships": list(partnerships),
                "current_year": financial_year_of(timezone.localdate()),
                "overspending": selectors.overspending_schedules(user, self.request.partnership),
            }
        )
        return context


class AgreementDetailView(BudgetViewMixin, DetailView):
    model = Section75Agreement
    template_name = "budgets/agreement_detail.html"
    context_object_name = "agreement"
    narrow_to_current_partnership = False

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("partnership__council", "partnership__nhs_commissioner", "host", "decision")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        agreement = self.object
        user = self.request.user
        schedules = list(
            selectors.with_related(Schedule.objects.restrict(user, "view").filter(agreement=agreement))
        )
        year = min(max(financial_year_of(timezone.localdate()), agreement.years[0]), agreement.years[-1])
        monitored = selectors.monitor_many(schedules, year)
        context.update(
            {
                "page_title": f"{agreement.reference}: {agreement.title}",
                "schedules": [monitored[s.pk] for s in schedules],
                "year_label": year_label(year),
                "streams": FundingStream.objects.restrict(user, "view")
                .filter(partnership=agreement.partnership)
                .select_related("organisation")
                .annotate(line_count=Count("lines"))
                .order_by("name"),
                "can_change_stream": has_model_permission(user, FundingStream, "change"),
                "decision_refs": selectors.decision_refs(user, [agreement])[agreement.pk],
                "history": selectors.agreement_history(agreement),
                "can_change": Section75Agreement.objects.restrict(user, "change")
                .filter(pk=agreement.pk)
                .exists(),
                "can_add_schedule": has_model_permission(user, Schedule, "add"),
                "can_add_stream": has_model_permission(user, FundingStream, "add"),
            }
        )
        return context


class _WriteMixin:
    """Run a service in a transaction, re-check scope, and put its errors back on the form."""

    scope_model = None
    scope_action = "change"

    def run_service(self, form, write):
        try:
            with transaction.atomic():
                result = write()
                if (
                    not self.scope_model.objects.restrict(self.request.user, self.scope_action)
                    .filter(pk=result.pk)
                    .exists()
                ):
                    raise _OutOfScope
        except StaleEdit as error:
            for message in error.messages:
                form.add_error(None, message)
        except ValidationError as error:
            add_service_errors(form, error)
        except _OutOfScope:
            form.add_error(None, "You can only change records of your own partnerships.")
        else:
            return result
        return None


class AgreementWriteMixin(_WriteMixin, BudgetViewMixin):
    model = Section75Agreement
    scope_model = Section75Agreement
    form_class = AgreementForm
    template_name = "budgets/agreement_form.html"
    narrow_to_current_partnership = False

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        kwargs["instance"] = getattr(self, "object", None) or Section75Agreement()
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["page_title"] = ("Error: " if context["form"].errors else "") + self.heading
        context["heading"] = self.heading
        context["agreement"] = getattr(self, "object", None)
        return context

    def form_valid(self, form):
        agreement = self.run_service(form, lambda: self.write(form))
        if agreement is None:
            return self.form_invalid(form)
        messages.success(self.request, f"Agreement {agreement.reference} saved")
        return redirect(agreement)


class AgreementCreateView(AgreementWriteMixin, FormView):
    action = "add"
    scope_action = "add"
    heading = "Add a section 75 agreement"

    def get_initial(self):
        granted = list(Partnership.objects.restrict(self.request.user, "view")[:2])
        partnership = self.request.partnership or (granted[0] if len(granted) == 1 else None)
        return {"partnership": partnership.pk} if partnership else {}

    def write(self, form):
        return services.agreement_create(by=self.request.user, **form.service_arguments())


class AgreementUpdateView(AgreementWriteMixin, FormView):
    action = "change"

    def dispatch(self, request, *args, **kwargs):
        self.object = None
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        self.object = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        return super().get_form_kwargs()

    @property
    def heading(self) -> str:
        return f"Change agreement {self.object.reference}" if self.object else "Change agreement"

    def write(self, form):
        return services.agreement_update(
            agreement=self.object,
            by=self.request.user,
            version=form.cleaned_data["version"],
            **form.service_arguments(),
        )


# --- Schedules --------------------------------------------------------------------------------------


class ScheduleWriteMixin(_WriteMixin, BudgetViewMixin):
    model = Schedule
    scope_model = Schedule
    form_class = ScheduleForm
    template_name = "budgets/schedule_form.html"
    narrow_to_current_partnership = False

    def get_agreement(self) -> Section75Agreement:
        raise NotImplementedError

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(
            user=self.request.user,
            agreement=self.get_agreement(),
            instance=getattr(self, "object", None) or Schedule(agreement=self.get_agreement()),
        )
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["page_title"] = ("Error: " if context["form"].errors else "") + self.heading
        context["heading"] = self.heading
        context["agreement"] = self.get_agreement()
        context["schedule"] = getattr(self, "object", None)
        return context

    def form_valid(self, form):
        schedule = self.run_service(form, lambda: self.write(form))
        if schedule is None:
            return self.form_invalid(form)
        messages.success(self.request, f"Schedule {schedule.number} saved")
        return redirect(schedule)


class ScheduleCreateView(ScheduleWriteMixin, FormView):
    action = "add"
    scope_action = "add"
    heading = "Add a schedule"

    def get_agreement(self):
        if not hasattr(self, "_agreement"):
            self._agreement = get_object_or_404(
                Section75Agreement.objects.restrict(self.request.user, "change").select_related(
                    "partnership__council", "partnership__nhs_commissioner"
                ),
                pk=self.kwargs["pk"],
            )
        return self._agreement

    def write(self, form):
        return services.schedule_create(
            by=self.request.user, agreement=self.get_agreement(), **form.service_arguments()
        )


class ScheduleUpdateView(ScheduleWriteMixin, FormView):
    action = "change"

    def dispatch(self, request, *args, **kwargs):
        self.object = None
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        self.object = get_object_or_404(selectors.with_related(self.get_queryset()), pk=self.kwargs["pk"])
        return super().get_form_kwargs()

    def get_agreement(self):
        return self.object.agreement

    @property
    def heading(self) -> str:
        return f"Change schedule {self.object.number}" if self.object else "Change schedule"

    def write(self, form):
        return services.schedule_update(
            schedule=self.object,
            by=self.request.user,
            version=form.cleaned_data["version"],
            **form.service_arguments(),
        )


SCHEDULE_PAGE_HISTORY = 20  # the latest changes on the schedule page; the rest on its history page
HISTORY_PAGE_SIZE = 50


class _ScheduleView(BudgetViewMixin, DetailView):
    """One schedule, behind the budgets gate, with what its pages show about it read alongside."""

    model = Schedule
    context_object_name = "schedule"
    narrow_to_current_partnership = False

    def get_queryset(self):
        return selectors.with_related(super().get_queryset())


class ScheduleDetailView(_ScheduleView):
    """The schedule page: the Bromley-style table, monitoring for a year and period (variance per
    line and schedule, risk share per partner), the chart, virements and who changed what."""

    template_name = "budgets/schedule_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        schedule = self.object
        user = self.request.user
        # The lines (every year) and fixed shares are read once and handed to each selector.
        lines = list(selectors.lines_of([schedule]))
        fixed_shares = list(schedule.fixed_shares.select_related("organisation"))
        years = selectors.schedule_years(schedule, lines=lines)
        year = _parse_year(self.request.GET.get("year"), years, selectors.current_year(schedule))
        period = _parse_period(self.request.GET.get("period"))
        if period is not None and financial_year_of(period) != year:
            period = None
        monitoring = selectors.monitor(
            schedule,
            year,
            period,
            lines=[line for line in lines if line.year == year],
            fixed_shares=fixed_shares,
        )
        can_see_virements = has_model_permission(user, Virement, "view")
        virements = (
            list(
                Virement.objects.restrict(user, "view")
                .filter(schedule=schedule)
                .select_related("from_line", "to_line", "decision", "proposed_by")
            )
            if can_see_virements
            else []
        )
        line_decisions = selectors.decision_refs(user, lines)
        virement_refs = selectors.decision_refs(user, virements)
        virement_changes = selectors.virement_line_changes(user, virements)
        history = selectors.schedule_history_page(schedule, user, lines=lines, limit=SCHEDULE_PAGE_HISTORY)
        context.update(
            {
                "page_title": f"Schedule {schedule.number}: {schedule.title}",
                "agreement": schedule.agreement,
                "table": selectors.schedule_table(schedule, lines),
                "monitoring": monitoring,
                "chart": monitoring.chart(),
                "years": [(y, year_label(y)) for y in years],
                "year": year,
                "periods": [(p.strftime("%Y-%m"), f"{p:%B %Y}") for p in year_periods(year)],
                "fixed_shares": fixed_shares,
                "virements": virements,
                "virement_rows": [
                    (virement, virement_refs[virement.pk], virement_changes.get(virement.pk, []))
                    for virement in virements
                ],
                "line_decisions": [(line, refs) for line in lines if (refs := line_decisions[line.pk])],
                "can_see_virements": can_see_virements,
                "can_propose_virement": has_model_permission(user, Virement, "add"),
                "can_approve_virement": has_model_permission(user, Virement, "change"),
                "can_change": Schedule.objects.restrict(user, "change").filter(pk=schedule.pk).exists(),
                "can_add_line": has_model_permission(user, BudgetLine, "add"),
                "can_change_line": has_model_permission(user, BudgetLine, "change"),
                "can_enter_positions": has_model_permission(user, MonthlyPosition, "add")
                and has_model_permission(user, MonthlyPosition, "change"),
                "reports": selectors.reporting_by_period(schedule, year),
                "can_report_positions": has_model_permission(user, MonthlyPosition, "change"),
                "history": history.entries,
                "history_has_more": history.has_more,
                # Only a proposed virement shows the approving decisions to choose from.
                "decisions": VirementApproveForm(user=user, schedule=schedule).fields["decision"].queryset
                if has_model_permission(user, Virement, "change")
                and any(virement.status == "proposed" for virement in virements)
                else [],
            }
        )
        return context


class ScheduleHistoryView(_ScheduleView):
    """A schedule's whole change history, newest first, ``HISTORY_PAGE_SIZE`` a page, behind the
    schedule page's gate. Pages by offset with Previous/Next links: no total is counted."""

    template_name = "budgets/schedule_history.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        schedule = self.object
        try:
            number = max(1, int(self.request.GET.get("page", 1)))
        except (TypeError, ValueError):
            number = 1
        page = selectors.schedule_history_page(
            schedule, self.request.user, offset=(number - 1) * HISTORY_PAGE_SIZE, limit=HISTORY_PAGE_SIZE
        )
        if number > 1 and not page.events:
            raise Http404("No such page of the change history")
        context.update(
            {
                "page_title": f"Change history of schedule {schedule.number}: {schedule.title}",
                "agreement": schedule.agreement,
                "history": page.entries,
                "page_number": number,
                "previous_page": number - 1 if number > 1 else None,
                "next_page": number + 1 if page.has_more else None,
            }
        )
        return context


class ScheduleExportView(BudgetViewMixin, View):
    model = Schedule

    def get(self, request, pk: int, fmt: str):
        if fmt not in exports.FORMATS:
            raise Http404("Unknown export format")
        schedule = get_object_or_404(selectors.with_related(self.get_queryset()), pk=pk)
        table = selectors.schedule_table(schedule)
        return exports.export_response(
            fmt,
            columns=tables.export_columns(table),
            rows=tables.export_rows(table),
            filename=f"{schedule.agreement.reference}-schedule-{schedule.number}",
            sheet_title=f"Schedule {schedule.number}",
        )

    def get_queryset(self):
        return Schedule.objects.restrict(self.request.user, "view")


# --- Budget lines and funding streams ---------------------------------------------------------------


class BudgetLineWriteView(_WriteMixin, ScheduleChildMixin, FormView):
    child_model = BudgetLine
    scope_model = BudgetLine
    form_class = BudgetLineForm
    template_name = "budgets/line_form.html"

    def get_line(self) -> BudgetLine | None:
        if "line" not in self.kwargs:
            return None
        if not hasattr(self, "_line"):
            self._line = get_object_or_404(
                BudgetLine.objects.restrict(self.request.user, "change").filter(schedule=self.get_schedule()),
                pk=self.kwargs["line"],
            )
        return self._line

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(
            user=self.request.user,
            schedule=self.get_schedule(),
            instance=self.get_line() or BudgetLine(schedule=self.get_schedule()),
        )
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        line = self.get_line()
        heading = f"Change budget line {line.name}" if line else "Add a budget line"
        context.update(
            {
                "line": line,
                "heading": heading,
                "page_title": ("Error: " if context["form"].errors else "") + heading,
            }
        )
        return context

    def form_valid(self, form):
        line = self.get_line()
        if line is None:
            write = lambda: services.budget_line_create(  # noqa: E731
                by=self.request.user, schedule=self.get_schedule(), **form.service_arguments()
            )
        else:
            write = lambda: services.budget_line_update(  # noqa: E731
                line=line,
                by=self.request.user,
                version=form.cleaned_data["version"],
                **form.service_arguments(),
            )
        saved = self.run_service(form, write)
        if saved is None:
            return self.form_invalid(form)
        messages.success(self.request, f"Budget line “{saved.name}” ({saved.year_label}) saved")
        return redirect(f"{self.get_schedule().get_absolute_url()}?year={saved.year}#table")


class BudgetLineCreateView(BudgetLineWriteView):
    child_action = "add"
    scope_action = "add"


class BudgetLineUpdateView(BudgetLineWriteView):
    child_action = "change"


class FundingStreamCreateView(_WriteMixin, BudgetViewMixin, FormView):
    model = FundingStream
    action = "add"
    scope_model = FundingStream
    scope_action = "add"
    form_class = FundingStreamForm
    template_name = "budgets/stream_form.html"

    def get_agreement(self):
        if not hasattr(self, "_agreement"):
            self._agreement = get_object_or_404(
                Section75Agreement.objects.restrict(self.request.user, "view").select_related(
                    "partnership__council", "partnership__nhs_commissioner"
                ),
                pk=self.kwargs["pk"],
            )
        return self._agreement

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["partnership"] = self.get_agreement().partnership
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["agreement"] = self.get_agreement()
        context["heading"] = "Add a funding stream"
        context["page_title"] = ("Error: " if context["form"].errors else "") + context["heading"]
        return context

    def form_valid(self, form):
        stream = self.run_service(
            form,
            lambda: services.funding_stream_create(
                by=self.request.user, partnership=self.get_agreement().partnership, **form.cleaned_data
            ),
        )
        if stream is None:
            return self.form_invalid(form)
        messages.success(self.request, f"Funding stream {stream.name} added")
        return redirect(self.get_agreement())


class FundingStreamUpdateView(_WriteMixin, BudgetViewMixin, FormView):
    """Rename a funding stream or correct its contributing partner; the page shows its history."""

    model = FundingStream
    action = "change"
    scope_model = FundingStream
    form_class = FundingStreamForm
    template_name = "budgets/stream_form.html"
    narrow_to_current_partnership = False

    def get_stream(self) -> FundingStream:
        if not hasattr(self, "_stream"):
            self._stream = get_object_or_404(
                self.get_queryset().select_related(
                    "partnership__council", "partnership__nhs_commissioner", "organisation"
                ),
                pk=self.kwargs["pk"],
            )
        return self._stream

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        stream = self.get_stream()
        kwargs.update(partnership=stream.partnership, instance=stream)
        return kwargs

    def get_back_url(self) -> str:
        raw = self.request.GET.get("agreement") or ""
        agreement = (
            Section75Agreement.objects.restrict(self.request.user, "view")
            .filter(pk=int(raw), partnership=self.get_stream().partnership_id)
            .first()
            if raw.isdigit()
            else None
        )
        return agreement.get_absolute_url() if agreement else reverse("budgets:index")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        stream = self.get_stream()
        context.update(
            {
                "stream": stream,
                "heading": f"Change funding stream {stream.name}",
                "back_url": self.get_back_url(),
                "lines_count": BudgetLine.objects.restrict(self.request.user, "view")
                .filter(funding_stream=stream)
                .count(),
                "history": selectors.stream_history(stream),
            }
        )
        context["page_title"] = ("Error: " if context["form"].errors else "") + context["heading"]
        return context

    def form_valid(self, form):
        stream = self.run_service(
            form,
            lambda: services.funding_stream_update(
                stream=self.get_stream(), by=self.request.user, **form.cleaned_data
            ),
        )
        if stream is None:
            return self.form_invalid(form)
        messages.success(self.request, f"Funding stream {stream.name} saved")
        return redirect(self.get_back_url())


# --- Monthly positions --------------------------------------------------------------------------------


class PositionsView(ScheduleChildMixin, TemplateView):
    """The whole-schedule monthly positions form for one period: one row per line of its year."""

    child_model = MonthlyPosition
    template_name = "budgets/positions_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _deny_unless(request.user, MonthlyPosition, "add")
            _deny_unless(request.user, MonthlyPosition, "change")
        return super().dispatch(request, *args, **kwargs)

    def get_period(self) -> date:
        schedule = self.get_schedule()
        period = _parse_period(self.request.GET.get("period") or self.request.POST.get("period"))
        if period is None:
            today = timezone.localdate()
            period = date(today.year, today.month, 1)
        years = selectors.schedule_years(schedule)
        if financial_year_of(period) not in years:
            year = selectors.current_year(schedule)
            period = date(year, 4, 1)
        return period

    def get_lines(self, period: date) -> list[BudgetLine]:
        return list(
            BudgetLine.objects.filter(schedule=self.get_schedule(), year=financial_year_of(period))
            .select_related("funding_stream__organisation")
            .order_by("pk")
        )

    def build(self, period: date, data=None):
        lines = self.get_lines(period)
        existing = {
            p.budget_line_id: p
            for p in MonthlyPosition.objects.filter(budget_line__in=lines, period=period).select_related(
                "reported_at__board"
            )
        }
        initial = []
        for line in lines:
            position = existing.get(line.pk)
            initial.append(
                {
                    "line": line.pk,
                    "version": position.version if position else None,
                    "actual_to_date": position.actual_to_date if position else None,
                    "forecast_outturn": position.forecast_outturn if position else None,
                    "commentary": position.commentary if position else "",
                }
            )
        formset = PositionFormSet(data=data, initial=initial, prefix="lines")
        rows = []
        for line, form in zip(lines, formset.forms, strict=True):
            position = existing.get(line.pk)
            for name in ("actual_to_date", "forecast_outturn", "commentary"):
                form.fields[
                    name
                ].label = f"{form.fields[name].label} for {line.name} ({line.funding_stream.name})"
            rows.append(
                {
                    "line": line,
                    "form": form,
                    "position": position,
                    "locked": bool(position and position.is_locked),
                }
            )
        return formset, rows

    def get_context_data(self, formset=None, rows=None, **kwargs):
        context = super().get_context_data(**kwargs)
        period = self.get_period()
        if formset is None:
            formset, rows = self.build(period)
        errors = [
            (row, name, error)
            for row in rows
            for name, field_errors in row["form"].errors.items()
            for error in field_errors
        ]
        context.update(
            {
                "page_title": ("Error: " if errors or formset.non_form_errors() else "")
                + f"Monthly positions for {period:%B %Y}",
                "period": period,
                "period_value": period.strftime("%Y-%m"),
                "period_form": PeriodForm(
                    initial={"period": period.isoformat()}, year=financial_year_of(period)
                ),
                "formset": formset,
                "rows": rows,
                "errors": errors,
                "year_label": year_label(financial_year_of(period)),
            }
        )
        return context

    def post(self, request, *args, **kwargs):
        period = self.get_period()
        formset, rows = self.build(period, data=request.POST)
        by_line = {row["line"].pk: row for row in rows}
        if formset.is_valid():
            posted_lines = [form.cleaned_data.get("line") for form in formset.forms]
            if sorted(posted_lines) != sorted(by_line):
                formset._non_form_errors = formset.error_class(
                    [
                        "The lines of this schedule changed while you were typing: "
                        "check the form and save again."
                    ]
                )
            else:
                entries = [
                    services.PositionEntry(
                        budget_line=by_line[form.cleaned_data["line"]]["line"],
                        actual_to_date=form.cleaned_data["actual_to_date"],
                        forecast_outturn=form.cleaned_data["forecast_outturn"],
                        commentary=form.cleaned_data["commentary"],
                        version=form.cleaned_data["version"],
                    )
                    for form in formset.forms
                ]
                try:
                    saved = services.monthly_positions_save_period(
                        schedule=self.get_schedule(), period=period, entries=entries, by=request.user
                    )
                except StaleEdit as error:
                    formset._non_form_errors = formset.error_class(error.messages)
                except services.PositionErrors as error:
                    for line_pk, line_error in error.by_line.items():
                        add_service_errors(by_line[line_pk]["form"], line_error)
                else:
                    messages.success(
                        request,
                        f"Positions for {period:%B %Y} saved "
                        f"({len(saved)} line{'s' if len(saved) != 1 else ''})",
                    )
                    schedule = self.get_schedule()
                    return redirect(
                        f"{schedule.get_absolute_url()}?year={financial_year_of(period)}"
                        f"&period={period:%Y-%m}#monitoring"
                    )
        return self.render_to_response(self.get_context_data(formset=formset, rows=rows))


class ReportPositionsView(ScheduleChildMixin, FormView):
    """Report a schedule's monthly positions for one or more periods to a meeting of its board, in
    two steps: choose, then confirm. Once that meeting is held the positions lock (rule 2)."""

    child_model = MonthlyPosition
    child_action = "change"
    form_class = ReportPositionsForm
    template_name = "budgets/positions_report.html"

    def get_year(self) -> int:
        schedule = self.get_schedule()
        raw = self.request.GET.get("year") or self.request.POST.get("year")
        return _parse_year(raw, selectors.schedule_years(schedule), selectors.current_year(schedule))

    def get_reports(self):
        if not hasattr(self, "_reports"):
            self._reports = selectors.reporting_by_period(self.get_schedule(), self.get_year())
        return self._reports

    def get_meetings(self):
        from governance.models import Meeting

        schedule = self.get_schedule()
        meetings = Meeting.objects.restrict(self.request.user, "view").select_related("board")
        if schedule.board_id:
            meetings = meetings.filter(board=schedule.board_id)
        else:
            meetings = meetings.filter(board__partnership=schedule.agreement.partnership_id)
        return meetings.order_by("-starts_at", "-pk")

    def get_initial(self):
        period = _parse_period(self.request.GET.get("period"))
        return {"periods": [period.isoformat()]} if period else {}

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(meetings=self.get_meetings(), reports=self.get_reports())
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        year = self.get_year()
        context.update(
            {
                "page_title": ("Error: " if form.errors else "")
                + f"Report positions to a board meeting, {year_label(year)}",
                "heading": "Report positions to a board meeting",
                "year": year,
                "year_label": year_label(year),
                "years": [(y, year_label(y)) for y in selectors.schedule_years(self.get_schedule())],
                "reports": self.get_reports(),
                "has_meetings": self.get_meetings().exists(),
                "confirming": kwargs.get("confirming", False),
            }
        )
        return context

    def form_valid(self, form):
        meeting = form.cleaned_data["meeting"]
        periods = sorted(form.cleaned_data["periods"])
        if not form.cleaned_data["confirmed"]:
            chosen = [r for r in self.get_reports() if r.period in periods]
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
        schedule = self.get_schedule()
        try:
            marked = services.positions_report_periods(
                schedule=schedule, periods=periods, meeting=meeting, by=self.request.user
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        count = sum(marked.values())
        names = ", ".join(f"{p:%B %Y}" for p in periods)
        state = "locked" if meeting.status in HELD_STATUSES else "they lock once the meeting is held"
        messages.success(
            self.request,
            f"{count} position{'s' if count != 1 else ''} for {names} reported to {meeting} ({state})",
        )
        return redirect(f"{schedule.get_absolute_url()}?year={self.get_year()}#reporting")


# --- Import -------------------------------------------------------------------------------------------


class ImportView(ScheduleChildMixin, FormView):
    child_model = BudgetLine
    child_action = "add"
    form_class = ImportForm
    template_name = "budgets/import.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("report", None)
        report = context["report"]
        context["page_title"] = (
            "Error: " if context["form"].errors or (report and not report.ok) else ""
        ) + "Import budget lines"
        return context

    def form_valid(self, form):
        upload = form.cleaned_data["file"]  # size and type checked by content (commissioning.uploads)
        report = imports.import_lines(
            schedule=self.get_schedule(),
            content=upload.data,
            filename=upload.display_name,
            by=self.request.user,
        )
        if not report.ok:
            return self.render_to_response(self.get_context_data(form=form, report=report))
        messages.success(self.request, f"{len(report.created)} budget lines imported")
        return redirect(f"{self.get_schedule().get_absolute_url()}#table")


# --- Virements ------------------------------------------------------------------------------------------


class VirementCreateView(ScheduleChildMixin, FormView):
    child_model = Virement
    child_action = "add"
    form_class = VirementForm
    template_name = "budgets/virement_form.html"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(schedule=self.get_schedule(), instance=Virement(schedule=self.get_schedule()))
        return kwargs

    def get_initial(self):
        return {"year": selectors.current_year(self.get_schedule())}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["heading"] = "Propose a virement"
        context["submit_label"] = "Propose virement"
        context["page_title"] = ("Error: " if context["form"].errors else "") + context["heading"]
        return context

    def form_valid(self, form):
        try:
            virement = services.virement_propose(
                schedule=self.get_schedule(), by=self.request.user, **form.service_arguments()
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"Virement of £{virement.amount:,.2f} proposed")
        return redirect(f"{self.get_schedule().get_absolute_url()}#virements")


class VirementActionView(LoginRequiredMixin, View):
    """Approve (with a decision when above the board's limit) or apply a virement."""

    verb = "approve"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _deny_unless(request.user, Virement, "change")
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, pk: int):
        virement = get_object_or_404(
            Virement.objects.restrict(request.user, "change").select_related(
                "schedule__agreement__partnership", "schedule__board"
            ),
            pk=pk,
        )
        schedule = virement.schedule
        try:
            if self.verb == "approve":
                form = VirementApproveForm(request.POST, user=request.user, schedule=schedule)
                if not form.is_valid():
                    raise ValidationError(form.errors.get("decision") or "Choose a decision from the list.")
                services.virement_approve(
                    virement=virement, by=request.user, decision=form.cleaned_data["decision"]
                )
                messages.success(request, f"Virement of £{virement.amount:,.2f} approved")
            else:
                services.virement_apply(virement=virement, by=request.user)
                messages.success(request, f"Virement of £{virement.amount:,.2f} applied to the budget lines")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect(f"{schedule.get_absolute_url()}?year={virement.year}#virements")


# --- Partnership summary ----------------------------------------------------------------------------------


class SummaryView(LoginRequiredMixin, TemplateView):
    template_name = "budgets/summary.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _deny_unless(request.user, Schedule, "view")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        partnership = get_object_or_404(Partnership.objects.restrict(user, "view"), pk=self.kwargs["pk"])
        this_year = financial_year_of(timezone.localdate())
        years = sorted(
            set(
                BudgetLine.objects.restrict(user, "view")
                .filter(schedule__agreement__partnership=partnership)
                .values_list("year", flat=True)
            )
            | {this_year}
        )
        year = _parse_year(self.request.GET.get("year"), years, this_year)
        summary = selectors.partnership_summary(user, partnership, year)
        context.update(
            {
                "page_title": f"{partnership.name} budgets summary {year_label(year)}",
                "summary": summary,
                "partnership": partnership,
                "years": [(y, year_label(y)) for y in years],
                "year": year,
                "VirementStatus": VirementStatus,
            }
        )
        return context
