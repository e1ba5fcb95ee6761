"""A partnership's section 75 budgets for one financial year: every schedule's monitoring, totalled
by partner and by arrangement."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from budgets import tables
from budgets.models import Arrangement, Schedule, year_label
from budgets.selectors.monitoring import ZERO, Monitoring, monitor_many, partners_of, with_related
from commissioning.models import Partnership


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
