"""The budgets panel of the dashboard and the index page: schedules forecast to overspend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.urls import reverse
from django.utils import timezone

from budgets.models import Schedule, financial_year_of
from budgets.selectors.monitoring import Monitoring, monitor_many, with_related
from commissioning.money import format_money
from commissioning.permissions import has_model_permission
from commissioning.selectors import Panel


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
