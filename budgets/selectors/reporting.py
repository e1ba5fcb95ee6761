"""Where a schedule's monthly positions were reported: by period, which board meetings received
them and how many are locked (rules.md, rule 2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import models
from django.utils.dateformat import format as date_format

from budgets.models import HELD_STATUSES, MonthlyPosition, Schedule
from governance.models import Meeting


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
