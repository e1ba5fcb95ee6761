"""A schedule's derived figures: its Bromley-style table, and its monitoring for a financial year at a
period (variance per line and in total, risk share per partner, the chart), for the pages, the
API's summary and board packs.

Each function takes already-permitted objects (fetched through ``restrict``) and runs a fixed
number of queries whatever the number of lines or positions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils import timezone

from budgets import risk_share, tables
from budgets.charts import ChartPoint, budget_forecast_svg
from budgets.models import (
    BudgetLine,
    ContractSchedule,
    LineFeed,
    MonthlyPosition,
    RiskShareRule,
    Schedule,
    ScheduleFixedShare,
    Virement,
    financial_year_of,
    year_label,
    year_periods,
)
from commissioning.models import Partnership
from governance.models import DecisionLink

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


def schedule_table(
    schedule: Schedule, lines: Sequence[BudgetLine] | None = None, *, newest_first: bool = False
) -> tables.ScheduleTable:
    """The Bromley-style table of a schedule, from its lines (one query unless given them)."""
    if lines is None:
        lines = list(lines_of([schedule]))
    return tables.build_table(
        (tables.LineRecord(name=l.name, year=l.year, stream=_stream(l), amount=l.amount) for l in lines),  # noqa: E741
        partners=partners_of(schedule.agreement.partnership),
        newest_first=newest_first,
    )


# --- Monitoring: variance and risk share ------------------------------------------------------------


@dataclass
class LineMonitoring:
    """One line at the monitoring's period. A line without a position for that very month shows its
    latest earlier one, carried forward and said to be so, or, with none, its budget."""

    line: BudgetLine
    position: MonthlyPosition | None  # the latest position at or before the period
    at: date | None = None  # the monitoring's period

    @property
    def budget(self) -> Decimal:
        return self.line.amount

    @property
    def reported(self) -> bool:
        return self.position is not None

    @property
    def current(self) -> bool:
        """The line has a position for the monitoring's period itself."""
        return self.position is not None and self.position.period == self.at

    @property
    def carried_forward(self) -> bool:
        """The figures are an earlier month's, carried forward to the period."""
        return self.position is not None and self.at is not None and self.position.period < self.at

    @property
    def basis(self) -> str:
        """What the line's figures are, in words, when they are not the period's own."""
        if self.carried_forward:
            return f"{self.position.period:%B %Y} figure carried forward"
        if self.position is None:
            return "No position yet: forecast at budget"
        return ""

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
    def variance_size(self) -> Decimal:
        """The variance without its sign, for wording that already says its direction."""
        return abs(self.variance)

    @property
    def overspend(self) -> bool:
        return self.variance > 0

    # A position at a period is complete only when every line has a position for that month; the
    # totals and risk share otherwise rest partly on earlier months' figures (or on budgets).

    @property
    def current_lines(self) -> list[LineMonitoring]:
        return [m for m in self.lines if m.current]

    @property
    def carried_forward_lines(self) -> list[LineMonitoring]:
        return [m for m in self.lines if m.carried_forward]

    @property
    def unreported_lines(self) -> list[LineMonitoring]:
        return [m for m in self.lines if m.position is None]

    @property
    def complete(self) -> bool:
        return self.period is not None and bool(self.lines) and all(m.current for m in self.lines)

    @property
    def completeness(self) -> str:
        """In words: is the position at the period complete, and if not, what the totals rest on."""
        if self.period is None:
            return "No positions reported yet: every line is forecast at its budget."
        month = f"{self.period:%B %Y}"
        if self.complete:
            return f"Complete: every line has a {month} position."
        count = len(self.lines)
        have = len(self.current_lines)
        parts = []
        if self.carried_forward_lines:
            n = len(self.carried_forward_lines)
            parts.append(f"{n} {'line' if n == 1 else 'lines'} carried forward from an earlier month")
        if self.unreported_lines:
            n = len(self.unreported_lines)
            parts.append(f"{n} {'line' if n == 1 else 'lines'} with no position, forecast at budget")
        return (
            f"Not complete: {have} of {count} lines have a {month} position. The schedule total, "
            f"variance and risk share include {' and '.join(parts)}."
        )

    @property
    def rule_label(self) -> str:
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
            rows.append(LineMonitoring(line=line, position=history[-1] if history else None, at=at))
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


def with_section_flags(qs: models.QuerySet) -> models.QuerySet:
    """Schedules annotated with whether each has any virement (``has_virements``), funded contract
    (``has_contracts``), fed line (``has_feeds``), or decision linked to one of its lines
    (``has_line_links``) or virements (``has_virement_links``), whoever may see them: the schedule
    page reads nothing more for the sections that have none (often all of them)."""

    def linked(model) -> Exists:
        return Exists(
            DecisionLink.objects.filter(
                content_type=ContentType.objects.get_for_model(model),
                object_id__in=model.objects.filter(schedule=OuterRef(OuterRef("pk"))).values("pk"),
            )
        )

    return qs.annotate(
        has_virements=Exists(Virement.objects.filter(schedule=OuterRef("pk"))),
        has_contracts=Exists(ContractSchedule.objects.filter(schedule=OuterRef("pk"))),
        has_feeds=Exists(LineFeed.objects.filter(budget_line__schedule=OuterRef("pk"))),
        has_line_links=linked(BudgetLine),
        has_virement_links=linked(Virement),
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
        "complete": monitoring.complete,
        "lines_carried_forward": len(monitoring.carried_forward_lines),
        "lines_without_position": len(monitoring.unreported_lines),
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
