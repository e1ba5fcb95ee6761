"""Budget lines of a schedule: added and changed."""

from __future__ import annotations

from budgets import selectors, services
from budgets.forms import BudgetLineForm
from budgets.models import BudgetLine
from budgets.views.base import ScheduleMixin
from commissioning.generic import ServiceFormView


class BudgetLineWriteView(ScheduleMixin, ServiceFormView):
    model = BudgetLine
    form_class = BudgetLineForm
    template_name = "budgets/line_form.html"

    def line(self) -> BudgetLine | None:
        return None

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        schedule = self.get_schedule()
        kwargs.update(
            user=self.request.user,
            schedule=schedule,
            instance=self.line() or BudgetLine(schedule=schedule),
        )
        return kwargs

    def get_success_message(self, line: BudgetLine) -> str:
        return f"Budget line “{line.name}” ({line.year_label}) saved"

    def get_success_url(self, line=None) -> str:
        return f"{self.get_schedule().get_absolute_url()}?year={line.year}#table"

    def get_context_data(self, **kwargs):
        return super().get_context_data(line=self.line(), **kwargs)


class BudgetLineCreateView(BudgetLineWriteView):
    action = "add"
    heading = "Add a budget line"

    def get_initial(self):
        # A new line is for the current financial year (the agreement's nearest), not its first.
        return {"year": selectors.current_year(self.get_schedule())}

    def perform(self, form) -> BudgetLine:
        return services.budget_line_create(
            by=self.request.user, schedule=self.get_schedule(), **form.service_arguments()
        )


class BudgetLineUpdateView(BudgetLineWriteView):
    """Change a line of the schedule in the URL (a line of another schedule is not found here)."""

    action = "change"
    hide_refused_objects = True

    def line(self) -> BudgetLine:
        return self.get_object(
            "change",
            pk=self.kwargs["line"],
            queryset=self.restricted("change").filter(schedule=self.get_schedule()),
        )

    def get_heading(self) -> str:
        return f"Change budget line {self.line().name}"

    def perform(self, form) -> BudgetLine:
        return services.budget_line_update(
            line=self.line(),
            by=self.request.user,
            version=form.cleaned_data["version"],
            **form.service_arguments(),
        )
