"""A partnership's section 75 budgets for one financial year, totalled by partner and arrangement."""

from __future__ import annotations

from django.utils import timezone
from django.views.generic import TemplateView

from budgets import selectors
from budgets.models import BudgetLine, Schedule, VirementStatus, financial_year_of, year_label
from budgets.views.base import YearPeriodMixin
from commissioning.generic import GateMixin
from commissioning.models import Partnership


class SummaryView(YearPeriodMixin, GateMixin, TemplateView):
    model = Schedule
    template_name = "budgets/summary.html"
    choice_ids = {"year": "summary-year"}

    def get_context_data(self, **kwargs):
        user = self.request.user
        partnership = self.get_object("view", model=Partnership)
        this_year = financial_year_of(timezone.localdate())
        years = sorted(
            set(
                self.restricted("view", BudgetLine)
                .filter(schedule__agreement__partnership=partnership)
                .values_list("year", flat=True)
            )
            | {this_year}
        )
        choice = self.choose(
            year=self.request.GET.get("year"),
            years=years,
            default=this_year,
            covering=f"the years of the section 75 budgets of {partnership.name}",
        )
        year = choice.year if choice else this_year
        title = f"{partnership.name} budgets summary {year_label(year)}"
        return super().get_context_data(
            page_title=("Error: " if choice is None else "") + title,
            heading=title,
            summary=selectors.partnership_summary(user, partnership, year) if choice else None,
            partnership=partnership,
            years=[(y, year_label(y)) for y in years],
            year=year,
            VirementStatus=VirementStatus,
            **kwargs,
        )
