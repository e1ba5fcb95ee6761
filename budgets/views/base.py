"""What the budgets pages share: a page about one schedule, and the financial year and period a
page is asked for."""

from __future__ import annotations

from collections import defaultdict

from django.core.exceptions import ValidationError

from budgets import periods, selectors
from budgets.models import Schedule


class ScheduleMixin:
    """A page about one schedule (the URL's ``pk``), whatever the page's own model and action: the
    schedule is fetched through the gate for *view* (a role without it: 403; hidden: 404), with
    its agreement, partnership, host, pool manager and board."""

    def object_queryset(self, model, action):
        qs = super().object_queryset(model, action)
        return selectors.with_related(qs) if model is Schedule else qs

    def get_schedule(self) -> Schedule:
        return self.get_object("view", model=Schedule)

    def get_context_data(self, **kwargs):
        schedule = self.get_schedule()
        kwargs.setdefault("schedule", schedule)
        kwargs.setdefault("agreement", schedule.agreement)
        return super().get_context_data(**kwargs)


class YearPeriodMixin:
    """A page that shows one financial year (and period) asked for in its query or form, checked by
    the API's own validator (``budgets.periods.choose``). A bad year or period is said on the page,
    naming the field (GOV.UK's error summary, linking to the field's ``choice_ids``), and no figure
    of another year is shown in its place."""

    choice_ids: dict[str, str] = {}  # the id of the page's input of each field, for the summary's links

    def choose(
        self, *, year: str | None = None, period: str | None = None, years, default: int, covering: str
    ) -> periods.Choice | None:
        """The year and period asked for, or None (the errors kept for the page) when they are bad."""
        try:
            return periods.choose(year=year, period=period, years=years, default=default, covering=covering)
        except ValidationError as error:
            self.choice_errors = error.message_dict
            return None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)  # the page's form, if any, is built first
        errors = getattr(self, "choice_errors", {})
        # By field; a field without errors reads as none (templates ask for each field by name).
        context["choice_errors"] = defaultdict(list, errors)
        context["choice_summary"] = [
            (self.choice_ids.get(field, ""), message)
            for field, messages in errors.items()
            for message in messages
        ]
        return context
