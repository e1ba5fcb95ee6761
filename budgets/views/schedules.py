"""Schedules: the schedule page (table, monitoring, chart, reporting, virements, latest changes),
its full change history and export, and adding and changing a schedule."""

from __future__ import annotations

from collections import defaultdict

from django.contrib.auth.context_processors import PermWrapper
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views import View

from budgets import imports, selectors, services
from budgets.forms import ScheduleForm
from budgets.models import (
    BudgetLine,
    LineFeed,
    MonthlyPosition,
    Schedule,
    Section75Agreement,
    Virement,
    year_label,
    year_periods,
)
from budgets.views.base import YearPeriodMixin
from commissioning import exports, versions
from commissioning.generic import GateMixin, ObjectView, ServiceFormView
from commissioning.models import Contract

SCHEDULE_PAGE_HISTORY = 5  # the latest changes on the schedule page; the rest on its history page
HISTORY_PAGE_SIZE = 50
# What the schedule page reads (commissioning.versions): budgets' tables, decisions and meetings,
# who may see what, and the packages behind lines fed by packages.
PAGE_SCOPES = ("budgets", "governance", "permissions", "packages")


class ScheduleView(ObjectView):
    """One schedule, behind the budgets gate, with its agreement, partnership, host and board."""

    model = Schedule
    context_object_name = "schedule"

    def object_queryset(self, model, action):
        qs = super().object_queryset(model, action)
        return selectors.with_related(qs) if model is Schedule else qs


class ScheduleDetailView(YearPeriodMixin, ScheduleView):
    """The schedule page: the Bromley-style table, monitoring for a year and period (variance per
    line and schedule, risk share per partner), the chart, virements and who changed what."""

    template_name = "budgets/schedule_detail.html"
    choice_ids = {"year": "monitoring-year", "period": "monitoring-period"}

    def object_queryset(self, model, action):
        # The page's schedule is read through the gate with its agreement alone (the breadcrumbs):
        # a cached page needs no more, and the partnership, host, pool manager and board joined
        # too cost PostgreSQL more to plan than the rest of the query. The block reads them.
        if model is Schedule:
            return super(ScheduleView, self).object_queryset(model, action).select_related("agreement")
        return super().object_queryset(model, action)

    def get_context_data(self, **kwargs):
        schedule = self.object
        request = self.request
        # Everything below the breadcrumbs is one block, cached under the versions of the tables it
        # reads (commissioning.versions) and what else varies it: the user (their permissions and
        # the virements they proposed), the year and period asked for, and today (the default year
        # and fed lines' period, exempt content by current membership).
        block = versions.cached(
            "schedule-page",
            scopes=PAGE_SCOPES,
            parts=(
                schedule.pk,
                request.user.pk,
                request.GET.get("year"),
                request.GET.get("period"),
                timezone.localdate(),
            ),
            build=lambda: self.page_block(schedule),
        )
        return super().get_context_data(
            page_title=block["page_title"],
            agreement=schedule.agreement,
            page_block=mark_safe(versions.with_csrf(block["html"], request)),  # noqa: S308 - rendered escaped
            **kwargs,
        )

    def page_block(self, schedule) -> dict:
        """The page's content as HTML, with its title: no request in it (the user by id and
        permissions, the CSRF token a placeholder), so it can be kept for the next request."""
        # Read again after the versions (commissioning.versions: the gated object was read before
        # them, and a write committed in between would be kept under the newer versions), with
        # whether the sections that are often empty have any rows at all.
        schedule = selectors.with_section_flags(
            selectors.with_related(Schedule.objects.filter(pk=schedule.pk))
        ).get()
        context = self.block_data(schedule)
        errors = getattr(self, "choice_errors", {})
        context.update(
            schedule=schedule,
            choice_errors=defaultdict(list, errors),
            choice_summary=[
                (self.choice_ids.get(field, ""), message)
                for field, messages in errors.items()
                for message in messages
            ],
            perms=PermWrapper(self.request.user),
            user_pk=self.request.user.pk,
            asked_period=self.request.GET.get("period"),
            csrf_token=versions.CSRF_PLACEHOLDER,
        )
        return {
            "page_title": context["page_title"],
            "html": render_to_string("budgets/_schedule_page.html", context),
        }

    def block_data(self, schedule) -> dict:
        user = self.request.user
        # The lines (every year) and fixed shares are read once and handed to each selector.
        lines = list(selectors.lines_of([schedule]))
        fixed_shares = list(schedule.fixed_shares.select_related("organisation"))
        years = selectors.schedule_years(schedule, lines=lines)
        default = selectors.current_year(schedule)
        choice = self.choose(
            year=self.request.GET.get("year"),
            period=self.request.GET.get("period"),
            years=years,
            default=default,
            covering=f"the years of agreement {schedule.agreement.reference}",
        )
        year = choice.year if choice else default
        # The page shows one year (this one unless asked): its table, lines and virements; every
        # year side by side is on the years page.
        year_lines = [line for line in lines if line.year == year]
        monitoring = (
            selectors.monitor(
                schedule,
                year,
                choice.period,
                lines=year_lines,
                fixed_shares=fixed_shares,
            )
            if choice
            else None
        )
        can_see_virements = self.user_can("view", Virement)
        can_approve = self.user_can("change", Virement)
        virements = self.virements(schedule, year) if can_see_virements else []
        if (
            schedule.has_line_links
            or schedule.has_virement_links
            or any(o.decision_id for o in (*year_lines, *virements))
        ):
            line_decisions, virement_refs = selectors.decision_refs_of(user, year_lines, virements)
            virement_changes = selectors.virement_line_changes(user, virements)
        else:  # no decision behind any line or virement of the schedule: nothing to read
            line_decisions, virement_refs = defaultdict(list), defaultdict(list)
            virement_changes = {}
        history = selectors.schedule_history_page(schedule, user, lines=lines, limit=SCHEDULE_PAGE_HISTORY)
        return {
            "page_title": ("Error: " if monitoring is None else "")
            + f"Schedule {schedule.number}: {schedule.title}",
            "agreement": schedule.agreement,
            "table": selectors.schedule_table(schedule, year_lines),
            "year_label": year_label(year),
            "other_years": len({line.year for line in lines} - {year}),
            "monitoring": monitoring,
            "chart": monitoring.chart() if monitoring else "",
            "years": [(y, year_label(y)) for y in reversed(years)],  # the newest first
            "year": year,
            "periods": [(p.strftime("%Y-%m"), f"{p:%B %Y}") for p in year_periods(year)],
            "fixed_shares": fixed_shares,
            "virements": virements,
            "virement_rows": [
                (virement, virement_refs[virement.pk], virement_changes.get(virement.pk, []))
                for virement in virements
            ],
            "line_decisions": [(line, refs) for line in year_lines if (refs := line_decisions[line.pk])],
            "can_see_virements": can_see_virements,
            "can_propose_virement": self.user_can("add", Virement),
            "can_approve_virement": can_approve,
            "can_change": self.may("change", self.object),  # the object read through the gate
            "can_add_line": self.user_can("add", BudgetLine),
            "can_change_line": self.user_can("change", BudgetLine),
            "can_enter_positions": self.user_can("add", MonthlyPosition)
            and self.user_can("change", MonthlyPosition),
            "reports": selectors.reporting_by_period(schedule, year) if monitoring else [],
            "can_report_positions": self.user_can("change", MonthlyPosition),
            "history": history.entries,
            "history_has_more": history.has_more,
            "fed_lines": self.fed_rows(schedule, lines, year, choice, monitoring),
            "feedable_lines": [line for line in lines if line.year == year]
            if self.user_can("change", LineFeed)
            else [],
            "funded_contracts": self.funded_contracts(schedule) if self.user_can("view", Contract) else None,
        }

    def virements(self, schedule, year) -> list[Virement]:
        """The year's virements the user may see, newest first (none read when the schedule has none)."""
        if not schedule.has_virements:
            return []
        return list(
            self.restricted("view", Virement)
            .filter(schedule=schedule, year=year)
            .select_related("from_line", "to_line", "decision", "proposed_by", "approved_by", "applied_by")
        )

    def funded_contracts(self, schedule) -> list[Contract]:
        if not schedule.has_contracts:
            return []
        return list(
            self.restricted("view", Contract)
            .filter(funding_schedule_link__schedule=schedule)
            .select_related("provider__organisation")
            .order_by("reference")
        )

    def fed_rows(self, schedule, lines, year, choice, monitoring) -> list:
        """Lines fed by packages (rules.md, rule 2), each beside its typed position of the period."""
        if choice is None or not schedule.has_feeds:
            return []
        period = choice.period or (monitoring.period if monitoring else None)
        fed = selectors.fed_lines(schedule, lines, year, period)
        typed = {row.line.pk: row.position for row in monitoring.lines} if monitoring else {}
        return [(fed[line.pk], typed.get(line.pk)) for line in lines if line.pk in fed]


class ScheduleYearsView(ScheduleView):
    """Every year of a schedule's table side by side, the newest first (the schedule page shows one
    year)."""

    template_name = "budgets/schedule_years.html"

    def get_context_data(self, **kwargs):
        schedule = self.object
        return super().get_context_data(
            page_title=f"Every year of schedule {schedule.number}: {schedule.title}",
            agreement=schedule.agreement,
            table=selectors.schedule_table(schedule, newest_first=True),
            **kwargs,
        )


class ScheduleHistoryView(ScheduleView):
    """A schedule's whole change history, newest first, ``HISTORY_PAGE_SIZE`` a page, behind the
    schedule page's gate. Pages by offset with Previous/Next links: no total is counted."""

    template_name = "budgets/schedule_history.html"

    def get_context_data(self, **kwargs):
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
        return super().get_context_data(
            page_title=f"Change history of schedule {schedule.number}: {schedule.title}",
            agreement=schedule.agreement,
            history=page.entries,
            page_number=number,
            previous_page=number - 1 if number > 1 else None,
            next_page=number + 1 if page.has_more else None,
            **kwargs,
        )


class ScheduleExportView(GateMixin, View):
    """The schedule's budget lines as CSV or XLSX, one row a line in the import's layout
    (``budgets.imports.COLUMNS``), so the file can be edited and imported back."""

    model = Schedule

    def get(self, request, pk: int, fmt: str):
        if fmt not in exports.FORMATS:
            raise Http404("Unknown export format")
        schedule = self.get_object("view", queryset=selectors.with_related(self.restricted("view")))
        return exports.export_response(
            fmt,
            columns=imports.COLUMNS,
            rows=imports.sheet_lines(schedule),
            filename=f"{schedule.agreement.reference}-schedule-{schedule.number}-budget-lines",
            sheet_title=f"Schedule {schedule.number}",
        )


class ScheduleWriteView(ServiceFormView):
    model = Schedule
    form_class = ScheduleForm
    template_name = "budgets/schedule_form.html"

    def schedule(self) -> Schedule | None:
        return None

    def agreement(self) -> Section75Agreement:
        return self.schedule().agreement

    def object_queryset(self, model, action):
        qs = super().object_queryset(model, action)
        if model is Schedule:
            return selectors.with_related(qs)
        return qs.select_related("partnership__council", "partnership__nhs_commissioner")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(
            user=self.request.user,
            agreement=self.agreement(),
            instance=self.schedule() or Schedule(agreement=self.agreement()),
        )
        return kwargs

    def get_success_message(self, schedule) -> str:
        return f"Schedule {schedule.number} saved"

    def get_context_data(self, **kwargs):
        return super().get_context_data(agreement=self.agreement(), schedule=self.schedule(), **kwargs)


class ScheduleCreateView(ScheduleWriteView):
    """Add a schedule to an agreement the user may change."""

    action = "add"
    heading = "Add a schedule"

    def agreement(self) -> Section75Agreement:
        return self.get_object("change", model=Section75Agreement)

    def perform(self, form) -> Schedule:
        return services.schedule_create(
            by=self.request.user, agreement=self.agreement(), **form.service_arguments()
        )


class ScheduleUpdateView(ScheduleWriteView):
    action = "change"

    def schedule(self) -> Schedule:
        return self.get_object("change")

    def get_heading(self) -> str:
        return f"Change schedule {self.schedule().number}"

    def perform(self, form) -> Schedule:
        return services.schedule_update(
            schedule=self.schedule(),
            by=self.request.user,
            version=form.cleaned_data["version"],
            **form.service_arguments(),
        )
