"""Reads of the budgets app: the derived figures of a schedule (table, monitoring, variance, risk
share, chart), the partnership summary, the dashboard panel and the change history.

Each function takes already-permitted objects (fetched through ``restrict``) or a user and applies
the gate itself, and runs a fixed number of queries whatever the number of lines or positions.
"""

from __future__ import annotations

import contextlib
import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import models
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format
from pghistory.models import Events

from budgets import risk_share, tables
from budgets.charts import ChartPoint, budget_forecast_svg
from budgets.models import (
    HELD_STATUSES,
    Arrangement,
    BudgetLine,
    MonthlyPosition,
    Schedule,
    ScheduleFixedShare,
    Virement,
    financial_year_of,
    year_label,
    year_periods,
)
from commissioning.models import Organisation, Partnership, User
from commissioning.money import format_money
from commissioning.permissions import has_model_permission

ZERO = Decimal("0.00")


# --- Loading ------------------------------------------------------------------------------------


def partners_of(partnership: Partnership) -> list[tables.Partner]:
    return [
        tables.Partner(pk=o.pk, code=o.code, name=o.name)
        for o in (partnership.nhs_commissioner, partnership.council)
    ]


def _stream(line: BudgetLine) -> tables.Stream:
    stream = line.funding_stream
    return tables.Stream(
        pk=stream.pk,
        name=stream.name,
        organisation_pk=stream.organisation_id,
        organisation_code=stream.organisation.code,
        organisation_name=stream.organisation.name,
    )


def lines_of(schedules: Iterable[Schedule], year: int | None = None) -> models.QuerySet:
    qs = BudgetLine.objects.filter(schedule__in=list(schedules)).select_related(
        "funding_stream__organisation"
    )
    if year is not None:
        qs = qs.filter(year=year)
    return qs.order_by("schedule_id", "year", "pk")


def schedule_table(schedule: Schedule, lines: Sequence[BudgetLine] | None = None) -> tables.ScheduleTable:
    """The Bromley-style table of a schedule, from its lines (one query unless given them)."""
    if lines is None:
        lines = list(lines_of([schedule]))
    return tables.build_table(
        (tables.LineRecord(name=l.name, year=l.year, stream=_stream(l), amount=l.amount) for l in lines),  # noqa: E741
        partners=partners_of(schedule.agreement.partnership),
    )


# --- Monitoring: variance and risk share ------------------------------------------------------------


@dataclass
class LineMonitoring:
    line: BudgetLine
    position: MonthlyPosition | None  # the latest position at or before the period

    @property
    def budget(self) -> Decimal:
        return self.line.amount

    @property
    def reported(self) -> bool:
        return self.position is not None

    @property
    def actual(self) -> Decimal:
        return self.position.actual_to_date if self.position else ZERO

    @property
    def forecast(self) -> Decimal:
        """No position yet: the line is assumed on budget."""
        return self.position.forecast_outturn if self.position else self.line.amount

    @property
    def variance(self) -> Decimal:
        return self.forecast - self.budget


@dataclass
class Share:
    organisation: tables.Partner
    amount: Decimal
    contribution: Decimal = ZERO


@dataclass
class Monitoring:
    """A schedule's monitoring for one financial year at one period (rule 2)."""

    schedule: Schedule
    year: int
    period: date | None  # None: nothing reported yet this year
    lines: list[LineMonitoring]
    partners: list[tables.Partner]
    host_pk: int
    rule: str
    shares: list[Share]
    contributions: dict[int, Decimal]
    by_stream: list[dict[str, Any]]
    chart_points: list[ChartPoint] = field(default_factory=list)

    @property
    def year_label(self) -> str:
        return year_label(self.year)

    @property
    def budget(self) -> Decimal:
        return sum((m.budget for m in self.lines), ZERO)

    @property
    def actual(self) -> Decimal:
        return sum((m.actual for m in self.lines), ZERO)

    @property
    def forecast(self) -> Decimal:
        return sum((m.forecast for m in self.lines), ZERO)

    @property
    def variance(self) -> Decimal:
        return self.forecast - self.budget

    @property
    def overspend(self) -> bool:
        return self.variance > 0

    @property
    def rule_label(self) -> str:
        from budgets.models import RiskShareRule

        return RiskShareRule(self.rule).label

    def chart(self, chart_id: str = "chart") -> str:
        return budget_forecast_svg(
            self.chart_points,
            title=f"{self.schedule.title}: budget against forecast outturn by month, {self.year_label}",
            chart_id=chart_id,
        )


def _latest_positions(line_ids: list[int], upto: date | None) -> dict[int, list[MonthlyPosition]]:
    """Positions of these lines (up to a period), by line, oldest first. One query."""
    if not line_ids:
        return {}
    qs = MonthlyPosition.objects.filter(budget_line_id__in=line_ids).select_related("reported_at")
    if upto is not None:
        qs = qs.filter(period__lte=upto)
    out: dict[int, list[MonthlyPosition]] = defaultdict(list)
    for position in qs.order_by("budget_line_id", "period"):
        out[position.budget_line_id].append(position)
    return out


def _share(
    schedule: Schedule,
    variance: Decimal,
    partners: list[tables.Partner],
    contributions: dict[int, Decimal],
    line_rows: list[LineMonitoring],
    fixed: dict[int, Decimal],
) -> tuple[str, dict[int, Decimal]]:
    rule = risk_share.rule_for(
        variance, overspend_rule=schedule.overspend_rule, underspend_rule=schedule.underspend_rule
    )
    own: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for row in line_rows:
        own[row.line.funding_stream.organisation_id] += row.variance
    shares = risk_share.share_variance(
        variance=variance,
        rule=rule,
        host=schedule.agreement.host_id,
        partners=[p.pk for p in partners],
        contributions=contributions,
        own_line_variances=dict(own),
        fixed_percentages=fixed or None,
    )
    return rule, shares


def monitor_many(
    schedules: Sequence[Schedule],
    year: int,
    period: date | None = None,
    *,
    lines: Sequence[BudgetLine] | None = None,
    fixed_shares: Sequence[ScheduleFixedShare] | None = None,
) -> dict[int, Monitoring]:
    """Monitoring of several schedules for one year, at ``period`` or else each schedule's latest
    reported period. Three queries, whatever the number of schedules, lines and positions (one
    when given the year's lines, as ``lines_of(schedules, year)``, and the fixed shares).

    The schedules must come with ``agreement__partnership__council`` and ``__nhs_commissioner``
    (``with_related``)."""
    schedules = list(schedules)
    if not schedules:
        return {}
    lines = list(lines_of(schedules, year)) if lines is None else list(lines)
    positions = _latest_positions([l.pk for l in lines], period)  # noqa: E741
    fixed: dict[int, dict[int, Decimal]] = defaultdict(dict)
    if fixed_shares is None:
        fixed_shares = ScheduleFixedShare.objects.filter(schedule__in=schedules)
    for share in fixed_shares:
        fixed[share.schedule_id][share.organisation_id] = share.percent
    lines_by_schedule: dict[int, list[BudgetLine]] = defaultdict(list)
    for line in lines:
        lines_by_schedule[line.schedule_id].append(line)

    out = {}
    for schedule in schedules:
        own_lines = lines_by_schedule.get(schedule.pk, [])
        own_positions = {l.pk: positions.get(l.pk, []) for l in own_lines}  # noqa: E741
        reported_periods = sorted({p.period for ps in own_positions.values() for p in ps})
        at = period or (reported_periods[-1] if reported_periods else None)
        rows = []
        for line in own_lines:
            history = [p for p in own_positions[line.pk] if at is not None and p.period <= at]
            rows.append(LineMonitoring(line=line, position=history[-1] if history else None))
        partners = partners_of(schedule.agreement.partnership)
        contributions = {p.pk: ZERO for p in partners}
        by_stream: dict[int, dict[str, Any]] = {}
        for line in own_lines:
            org = line.funding_stream.organisation_id
            contributions[org] = contributions.get(org, ZERO) + line.amount
            entry = by_stream.setdefault(
                line.funding_stream_id,
                {
                    "funding_stream": line.funding_stream.name,
                    "organisation": line.funding_stream.organisation.code,
                    "amount": ZERO,
                },
            )
            entry["amount"] += line.amount
        budget = sum((r.budget for r in rows), ZERO)
        variance = sum((r.forecast for r in rows), ZERO) - budget
        rule, shares = _share(schedule, variance, partners, contributions, rows, fixed.get(schedule.pk, {}))
        monitoring = Monitoring(
            schedule=schedule,
            year=year,
            period=at,
            lines=rows,
            partners=partners,
            host_pk=schedule.agreement.host_id,
            rule=rule,
            shares=[
                Share(organisation=p, amount=shares[p.pk], contribution=contributions[p.pk]) for p in partners
            ],
            contributions=contributions,
            by_stream=list(by_stream.values()),
        )
        monitoring.chart_points = _chart_points(own_lines, own_positions, year, at)
        out[schedule.pk] = monitoring
    return out


def _chart_points(
    lines: list[BudgetLine], positions: dict[int, list[MonthlyPosition]], year: int, upto: date | None
) -> list[ChartPoint]:
    """Budget, forecast outturn and actual to date of the whole schedule for each month of the year.
    A month before the first report has no forecast; a line not yet reported counts at budget."""
    budget = sum((l.amount for l in lines), ZERO)  # noqa: E741
    first = min((p.period for ps in positions.values() for p in ps), default=None)
    points = []
    for period in year_periods(year):
        if first is None or period < first or (upto is not None and period > upto):
            points.append(ChartPoint(period=period, budget=budget, forecast=None, actual=None))
            continue
        forecast = actual = ZERO
        for line in lines:
            history = [p for p in positions.get(line.pk, []) if p.period <= period]
            forecast += history[-1].forecast_outturn if history else line.amount
            actual += history[-1].actual_to_date if history else ZERO
        points.append(ChartPoint(period=period, budget=budget, forecast=forecast, actual=actual))
    return points


def with_related(qs: models.QuerySet) -> models.QuerySet:
    return qs.select_related(
        "agreement__partnership__council",
        "agreement__partnership__nhs_commissioner",
        "agreement__host",
        "pool_manager",
        "board",
    )


def monitor(
    schedule: Schedule,
    year: int,
    period: date | None = None,
    *,
    lines: Sequence[BudgetLine] | None = None,
    fixed_shares: Sequence[ScheduleFixedShare] | None = None,
) -> Monitoring:
    return monitor_many([schedule], year, period, lines=lines, fixed_shares=fixed_shares)[schedule.pk]


def schedule_years(schedule: Schedule, lines: Sequence[BudgetLine] | None = None) -> list[int]:
    """The years of the agreement and of the schedule's lines (all its lines, when given them)."""
    if lines is None:
        with_lines = set(BudgetLine.objects.filter(schedule=schedule).values_list("year", flat=True))
    else:
        with_lines = {line.year for line in lines}
    return sorted(with_lines | set(schedule.agreement.years))


def current_year(schedule: Schedule, today: date | None = None) -> int:
    """This financial year if the agreement covers it, else its nearest year."""
    year = financial_year_of(today or timezone.localdate())
    years = schedule.agreement.years
    return min(max(year, years[0]), years[-1])


def summary_data(monitoring: Monitoring) -> dict:
    """The read-only API summary of a schedule (api.md)."""
    return {
        "year": monitoring.year,
        "period": monitoring.period.strftime("%Y-%m") if monitoring.period else None,
        "total": monitoring.budget,
        "by_partner": [
            {"organisation": p.code, "amount": monitoring.contributions.get(p.pk, ZERO)}
            for p in monitoring.partners
        ],
        "by_stream": monitoring.by_stream,
        "forecast_outturn": monitoring.forecast,
        "variance": monitoring.variance,
        "rule": monitoring.rule,
        "risk_share": [{"organisation": s.organisation.code, "amount": s.amount} for s in monitoring.shares],
    }


def schedule_pack_context(schedule: Schedule) -> dict:
    """For ``budgets/pack/schedule.html`` (board packs): live figures of the current year."""
    schedule = with_related(Schedule.objects.filter(pk=schedule.pk)).get()
    year = current_year(schedule)
    lines = list(lines_of([schedule]))
    monitoring = monitor(schedule, year)
    return {
        "schedule": schedule,
        "table": schedule_table(schedule, lines),
        "monitoring": monitoring,
        "chart": monitoring.chart(chart_id=f"pack-schedule-{schedule.pk}-chart"),
        "as_at": timezone.localdate(),
    }


# --- Reporting positions to the board --------------------------------------------------------------


@dataclass
class PeriodReport:
    """Where one period's positions of a schedule were reported (rule 2: they lock once the board
    meeting that received them is held)."""

    period: date
    positions: int
    unreported: int
    meetings: list[Any]  # governance.Meeting, oldest first
    locked: int

    @property
    def label(self) -> str:
        return date_format(self.period, "F Y")

    @property
    def value(self) -> str:
        return self.period.strftime("%Y-%m")

    @property
    def all_locked(self) -> bool:
        return self.locked == self.positions

    @property
    def status(self) -> str:
        if self.all_locked:
            return "Locked"
        if not self.meetings:
            return "Not reported"
        if self.unreported:
            return "Partly reported"
        return "Reported, meeting not yet held"

    @property
    def reportable(self) -> bool:
        """Some of its positions are still open (not locked)."""
        return self.locked < self.positions


def reporting_by_period(schedule: Schedule, year: int) -> list[PeriodReport]:
    """Each period of a year with positions on the schedule: how many, and which board meetings
    received them. Two queries, whatever the number of lines, positions and meetings."""
    from governance.models import Meeting

    rows = (
        MonthlyPosition.objects.filter(budget_line__schedule=schedule, budget_line__year=year)
        .values("period", "reported_at")
        .annotate(count=models.Count("pk"))
        .order_by("period", "reported_at")
    )
    rows = list(rows)
    meetings = {
        m.pk: m
        for m in Meeting.objects.filter(pk__in={r["reported_at"] for r in rows if r["reported_at"]})
        .select_related("board")
        .order_by("starts_at")
    }
    by_period: dict[date, PeriodReport] = {}
    for row in rows:
        period = row["period"]
        if period not in by_period:
            by_period[period] = PeriodReport(period=period, positions=0, unreported=0, meetings=[], locked=0)
        report = by_period[period]
        report.positions += row["count"]
        meeting = meetings.get(row["reported_at"])
        if meeting is None:
            report.unreported += row["count"]
            continue
        report.meetings.append(meeting)
        if meeting.status in HELD_STATUSES:
            report.locked += row["count"]
    for report in by_period.values():
        report.meetings.sort(key=lambda m: (m.starts_at, m.pk))
    return [by_period[p] for p in sorted(by_period)]


# --- Partnership summary --------------------------------------------------------------------------


@dataclass
class PartnershipSummary:
    partnership: Partnership
    year: int
    schedules: list[Monitoring]
    partners: list[tables.Partner]

    @property
    def year_label(self) -> str:
        return year_label(self.year)

    def _sum(self, attribute: str, arrangement: str | None = None) -> Decimal:
        return sum(
            (
                getattr(m, attribute)
                for m in self.schedules
                if arrangement is None or m.schedule.arrangement == arrangement
            ),
            ZERO,
        )

    @property
    def budget(self) -> Decimal:
        return self._sum("budget")

    @property
    def forecast(self) -> Decimal:
        return self._sum("forecast")

    @property
    def variance(self) -> Decimal:
        return self._sum("variance")

    @property
    def by_arrangement(self) -> list[dict]:
        rows = []
        for value, label in Arrangement.choices:
            members = [m for m in self.schedules if m.schedule.arrangement == value]
            if members:
                rows.append(
                    {
                        "label": label,
                        "count": len(members),
                        "budget": self._sum("budget", value),
                        "forecast": self._sum("forecast", value),
                        "variance": self._sum("variance", value),
                    }
                )
        return rows

    @property
    def by_partner(self) -> list[dict]:
        rows = []
        for partner in self.partners:
            rows.append(
                {
                    "partner": partner,
                    "contribution": sum(
                        (m.contributions.get(partner.pk, ZERO) for m in self.schedules), ZERO
                    ),
                    "pooled": sum(
                        (
                            m.contributions.get(partner.pk, ZERO)
                            for m in self.schedules
                            if m.schedule.arrangement == Arrangement.POOLED
                        ),
                        ZERO,
                    ),
                    "risk_share": sum(
                        (
                            s.amount
                            for m in self.schedules
                            for s in m.shares
                            if s.organisation.pk == partner.pk
                        ),
                        ZERO,
                    ),
                }
            )
        return rows


def partnership_summary(user, partnership: Partnership, year: int) -> PartnershipSummary:
    schedules = list(
        with_related(
            Schedule.objects.restrict(user, "view").filter(agreement__partnership=partnership)
        ).order_by("agreement__reference", "number")
    )
    monitored = monitor_many(schedules, year)
    return PartnershipSummary(
        partnership=partnership,
        year=year,
        schedules=[monitored[s.pk] for s in schedules if monitored[s.pk].lines],
        partners=partners_of(partnership),
    )


# --- Dashboard panel ------------------------------------------------------------------------------


def overspending_schedules(user, partnership=None, *, today: date | None = None) -> list[Monitoring]:
    """Schedules the user may see whose forecast for this financial year is above budget."""
    year = financial_year_of(today or timezone.localdate())
    qs = Schedule.objects.restrict(user, "view").in_partnership(partnership)
    schedules = list(with_related(qs.filter(lines__year=year).distinct()))
    monitored = monitor_many(schedules, year)
    return sorted((m for m in monitored.values() if m.overspend), key=lambda m: (-m.variance, m.schedule.pk))


def overspend_panel(user, partnership):
    if not has_model_permission(user, Schedule, "view"):
        return None
    from django.urls import reverse

    from commissioning.selectors import Panel

    overspending = overspending_schedules(user, partnership or None)
    rows = [
        OverspendRow(
            text=f"{m.schedule.title}: forecast overspend {format_money(m.variance)} ({m.year_label})",
            url=m.schedule.get_absolute_url(),
        )
        for m in overspending[:6]
    ]
    return Panel(
        title="Schedules with a forecast overspend",
        count=len(overspending),
        link=reverse("budgets:index"),
        link_text="View all section 75 budgets",
        rows=rows,
        attention=bool(overspending),
    )


@dataclass
class OverspendRow:
    text: str
    url: str

    def __str__(self) -> str:
        return self.text

    def get_absolute_url(self) -> str:
        return self.url


# --- Change history -------------------------------------------------------------------------------


@dataclass
class Change:
    label: str
    before: Any
    after: Any


@dataclass
class HistoryEntry:
    when: datetime
    who: User | None
    summary: str
    changes: list[Change] = field(default_factory=list)

    @property
    def when_label(self) -> str:
        """``when|date:"j F Y, H:i"`` in the current time zone (the day's part cached)."""
        local = timezone.localtime(self.when) if timezone.is_aware(self.when) else self.when
        return f"{_format_date(local.date(), 'j F Y')}{local:, %H:%M}"


@functools.lru_cache(maxsize=2048)
def _date_label(value: date, fmt: str, language: str | None) -> str:
    return date_format(value, fmt)


def _format_date(value: date, fmt: str) -> str:
    """``date_format`` of a date, cached by language: a history names the same months again and
    again, and each month name is a lazy translation, slow to resolve."""
    return _date_label(value, fmt, translation.get_language())


_SKIP = {"id", "version", "schedule_id", "proposed_at"}
_LIMIT = 100
_NAMES = {
    "budgets.Section75Agreement": "Agreement",
    "budgets.FundingStream": "Funding stream",
    "budgets.Schedule": "Schedule",
    "budgets.ScheduleFixedShare": "Fixed share",
    "budgets.BudgetLine": "Budget line",
    "budgets.MonthlyPosition": "Monthly position",
    "budgets.Virement": "Virement",
}


@functools.cache
def _choices(field_obj: models.Field) -> dict:
    return dict(field_obj.flatchoices)


def _display(field_obj: models.Field, raw: Any, related: dict) -> Any:
    if raw is None or raw == "":
        return None
    if field_obj.is_relation:
        return related.get((field_obj.related_model, raw), f"#{raw}")
    if field_obj.choices:
        return _choices(field_obj).get(raw, raw)
    if (
        isinstance(field_obj, models.DecimalField)
        and field_obj.decimal_places == 2
        and field_obj.max_digits == 14
    ):
        return format_money(Decimal(str(raw)))
    if isinstance(field_obj, models.DateField) and not isinstance(field_obj, models.DateTimeField):
        try:
            return _format_date(date.fromisoformat(raw), "F Y" if field_obj.name == "period" else "j F Y")
        except (TypeError, ValueError):
            return raw
    return raw


def _subject(model_label: str, data: dict, related: dict) -> str:
    if model_label == "budgets.BudgetLine":
        return f"“{data.get('name', '')}” {year_label(int(data['year']))}" if data.get("year") else ""
    if model_label == "budgets.MonthlyPosition":
        line = related.get((BudgetLine, data.get("budget_line_id")))
        period = data.get("period", "")
        with contextlib.suppress(TypeError, ValueError):
            period = _format_date(date.fromisoformat(period), "F Y")
        return f"of “{line.name if line else '?'}” for {period}"
    if model_label == "budgets.ScheduleFixedShare":
        organisation = related.get((Organisation, data.get("organisation_id")))
        return organisation.code if organisation else ""
    if model_label == "budgets.FundingStream":
        return f"“{data.get('name', '')}”"
    if model_label == "budgets.Section75Agreement":
        return data.get("reference", "")
    if model_label == "budgets.Virement":
        return format_money(Decimal(str(data.get("amount") or 0)))
    return ""


_ORDER = ("-pgh_created_at", "-pgh_id", "-pgh_model")  # newest first; unique, so pages never overlap


def _newest_first(event) -> tuple:
    """The sort key of ``_ORDER`` (reversed), to merge events read by separate queries."""
    return (event.pgh_created_at, event.pgh_id, event.pgh_model)


@dataclass
class HistoryPage:
    """A slice of a history, newest first: ``entries`` from the ``offset``-th event on, at most
    ``limit`` of them, and whether older events remain (no total is counted)."""

    entries: list[HistoryEntry]
    offset: int
    limit: int
    events: int  # read for this page: more than the entries when an update changed no shown field
    has_more: bool


def schedule_history(
    schedule: Schedule, user, lines: Sequence[BudgetLine] | None = None
) -> list[HistoryEntry]:
    """The latest ``_LIMIT`` changes of a schedule (``schedule_history_page``)."""
    return schedule_history_page(schedule, user, lines=lines, limit=_LIMIT).entries


def schedule_history_page(
    schedule: Schedule,
    user,
    lines: Sequence[BudgetLine] | None = None,
    *,
    offset: int = 0,
    limit: int = _LIMIT,
) -> HistoryPage:
    """Who changed what on a schedule, its fixed shares, lines, positions and virements, newest
    first, with each field's before and after (django-pghistory's trigger rows): the events from
    the ``offset``-th, at most ``limit``, and whether there are older ones. Each source reads its
    newest ``offset + limit + 1`` events, merged and sliced here (the extra one tells if more
    remain). Three queries plus one per kind of related object named, whatever the offset; one
    fewer when given the schedule's lines (all years, as ``lines_of([schedule])``: the lines named
    need no query then). An update that changed no shown field has no entry, so a page may hold
    fewer than ``limit`` entries."""
    offset, limit = max(0, offset), max(0, limit)
    wanted_count = offset + limit + 1
    event = lambda name: apps.get_model("budgets", f"{name}Event")  # noqa: E731
    wanted = [event("Schedule"), event("ScheduleFixedShare"), event("BudgetLine")]
    if has_model_permission(user, Virement, "view"):
        wanted.append(event("Virement"))
    events = list(Events.objects.references(schedule).across(*wanted).order_by(*_ORDER)[:wanted_count])
    lines = list(BudgetLine.objects.filter(schedule=schedule) if lines is None else lines)
    if lines and has_model_permission(user, MonthlyPosition, "view"):
        events += list(
            Events.objects.references(lines).across(event("MonthlyPosition")).order_by(*_ORDER)[:wanted_count]
        )
    events.sort(key=_newest_first, reverse=True)
    window = events[offset:wanted_count]
    return HistoryPage(
        entries=_history_entries(window[:limit], known={(BudgetLine, line.pk): line for line in lines}),
        offset=offset,
        limit=limit,
        events=len(window[:limit]),
        has_more=len(window) > limit,
    )


def stream_history(stream) -> list[HistoryEntry]:
    """Who changed a funding stream, newest first (two queries plus one per kind of object named)."""
    events = list(
        Events.objects.tracks(stream)
        .across(apps.get_model("budgets", "FundingStreamEvent"))
        .order_by("-pgh_created_at", "-pgh_id")[:_LIMIT]
    )
    return _history_entries(events)


def agreement_history(agreement) -> list[HistoryEntry]:
    """Who changed an agreement itself (its schedules keep their own history), newest first."""
    events = list(
        Events.objects.tracks(agreement)
        .across(apps.get_model("budgets", "Section75AgreementEvent"))
        .order_by("-pgh_created_at", "-pgh_id")[:_LIMIT]
    )
    return _history_entries(events)


@functools.cache
def _fields_by_model() -> dict[str, dict[str, models.Field]]:
    return {label: {f.attname: f for f in apps.get_model(label)._meta.concrete_fields} for label in _NAMES}


def _history_entries(events: list, known: dict[tuple, Any] | None = None) -> list[HistoryEntry]:
    """``known``: objects already loaded, by (model, pk), that the entries may name."""
    fields_by_model = _fields_by_model()
    known = known or {}
    needed: dict[type[models.Model], set] = defaultdict(set)
    for item in events:
        user_pk = (item.pgh_context or {}).get("user")
        if user_pk:
            needed[User].add(user_pk)
        data = item.pgh_data or {}
        if data.get("budget_line_id"):
            needed[BudgetLine].add(data["budget_line_id"])
        if data.get("organisation_id"):
            needed[Organisation].add(data["organisation_id"])
        for column, (before, after) in (item.pgh_diff or {}).items():
            field_obj = fields_by_model[item.pgh_obj_model].get(column)
            if field_obj is not None and field_obj.is_relation and column not in _SKIP:
                needed[field_obj.related_model].update(v for v in (before, after) if v)
    related: dict[tuple, Any] = {}
    for model, pks in needed.items():
        pks = {pk for pk in pks if (model, pk) not in known}
        related.update({(model, pk): known[(model, pk)] for pk in needed[model] - pks})
        if not pks:
            continue
        qs = model._default_manager.filter(pk__in=pks)
        if model._meta.label == "governance.Decision":  # its str() names its agenda item
            qs = qs.select_related("agenda_item")
        for obj in qs:
            related[(model, obj.pk)] = obj

    entries = []
    for item in events:
        data = item.pgh_data or {}
        noun = _NAMES[item.pgh_obj_model]
        subject = _subject(item.pgh_obj_model, data, related)
        verb = {"insert": "added", "update": "changed", "delete": "deleted"}.get(
            item.pgh_label, item.pgh_label
        )
        summary = f"{noun} {subject} {verb}".replace("  ", " ")
        changes = []
        model_fields = fields_by_model[item.pgh_obj_model]
        source = item.pgh_diff if item.pgh_label == "update" else None
        if source is None and item.pgh_label == "insert":
            source = {k: (None, v) for k, v in data.items()}
        for column, (before, after) in sorted((source or {}).items()):
            field_obj = model_fields.get(column)
            if field_obj is None or column in _SKIP or (column == "budget_line_id"):
                continue
            if item.pgh_label == "insert" and after in (None, ""):
                continue
            label = str(field_obj.verbose_name)
            changes.append(
                Change(
                    label=label[:1].upper() + label[1:],
                    before=_display(field_obj, before, related),
                    after=_display(field_obj, after, related),
                )
            )
        if item.pgh_label == "update" and not changes:
            continue
        user_pk = (item.pgh_context or {}).get("user")
        entries.append(
            HistoryEntry(
                when=item.pgh_created_at,
                who=related.get((User, user_pk)) if user_pk else None,
                summary=summary,
                changes=changes,
            )
        )
    return entries


# --- Decision traceability (issue 6) --------------------------------------------------------------


@dataclass(frozen=True)
class DecisionRef:
    """A decision that approved an agreement, budget line or virement, as the budgets pages show
    it. ``decision`` is None when the user may not see it (an exempt item they are not entitled
    to): then only its reference, already on the record, is shown. The amounts are those the
    decision's link records, when it records them."""

    reference: str
    decision: Any = None  # governance.Decision, with its meeting and board
    amount_before: Decimal | None = None
    amount_after: Decimal | None = None
    description: str = ""

    @property
    def has_amounts(self) -> bool:
        return self.amount_before is not None or self.amount_after is not None


def decision_refs(user, objects: Sequence[models.Model]) -> dict[int, list[DecisionRef]]:
    """The decisions behind each object (all of one model with a ``decision`` foreign key): its
    approving decision and every decision linked to it (governance.DecisionLink), by the object's
    pk, approving decision first, then by date. At most three queries, whatever the number of
    objects (the third only when some approving decision is hidden from the user)."""
    from django.contrib.contenttypes.models import ContentType

    from governance.models import Decision, DecisionLink

    objects = list(objects)
    if not objects:
        return {}
    content_type = ContentType.objects.get_for_model(type(objects[0]))
    links = list(
        DecisionLink.objects.restrict(user)
        .filter(content_type=content_type, object_id__in=[o.pk for o in objects])
        .select_related("decision__agenda_item__meeting__board")
    )
    by_object: dict[int, list] = defaultdict(list)
    for link in links:
        by_object[link.object_id].append(link)
    decisions = {link.decision_id: link.decision for link in links}
    approving = {o.decision_id for o in objects if o.decision_id} - decisions.keys()
    if approving:
        decisions |= {
            d.pk: d
            for d in Decision.objects.restrict(user)
            .filter(pk__in=approving)
            .select_related("agenda_item__meeting__board")
        }
    hidden = dict(
        Decision.objects.filter(pk__in=approving - decisions.keys()).values_list("pk", "reference")
        if approving - decisions.keys()
        else ()
    )
    refs: dict[int, list[DecisionRef]] = {}
    for obj in objects:
        found = []
        own = {link.decision_id: link for link in by_object.get(obj.pk, ())}
        if obj.decision_id:
            decision = decisions.get(obj.decision_id)
            found.append(_ref(own.pop(obj.decision_id, None), decision, hidden.get(obj.decision_id, "")))
        others = sorted(own.values(), key=lambda link: (link.decision.decided_on, link.decision.reference))
        found.extend(_ref(link, link.decision) for link in others)
        refs[obj.pk] = found
    return refs


def _ref(link, decision, reference: str = "") -> DecisionRef:
    return DecisionRef(
        reference=decision.reference if decision is not None else reference,
        decision=decision,
        amount_before=link.amount_before if link else None,
        amount_after=link.amount_after if link else None,
        description=link.description if link else "",
    )


@dataclass(frozen=True)
class LineChange:
    line: BudgetLine
    amount_before: Decimal | None
    amount_after: Decimal | None


def virement_line_changes(user, virements: Sequence[Virement]) -> dict[int, list[LineChange]]:
    """For each virement with an approving decision the user may see: the amounts that decision's
    links record on the virement's two lines (written when it applied), from line first. One
    query; the virements come with their lines (``select_related``)."""
    from django.contrib.contenttypes.models import ContentType

    from governance.models import DecisionLink

    decided = [v for v in virements if v.decision_id]
    if not decided:
        return {}
    links = {
        (link.decision_id, link.object_id): link
        for link in DecisionLink.objects.restrict(user).filter(
            content_type=ContentType.objects.get_for_model(BudgetLine),
            decision_id__in={v.decision_id for v in decided},
            object_id__in={pk for v in decided for pk in (v.from_line_id, v.to_line_id)},
        )
    }
    changes: dict[int, list[LineChange]] = {}
    for virement in decided:
        for line in (virement.from_line, virement.to_line):
            link = links.get((virement.decision_id, line.pk))
            if link is not None and (link.amount_before is not None or link.amount_after is not None):
                changes.setdefault(virement.pk, []).append(
                    LineChange(line, link.amount_before, link.amount_after)
                )
    return changes
