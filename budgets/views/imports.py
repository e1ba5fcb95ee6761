"""Budget lines imported from a spreadsheet: every row checked first, nothing written unless every
row is good (``budgets.imports``); the template to fill in is the import's layout without rows."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.views import View

from budgets import imports
from budgets.forms import ImportForm
from budgets.models import BudgetLine, FundingStream, financial_year_of, year_label
from budgets.views.base import ScheduleMixin
from commissioning import exports
from commissioning.generic import GateMixin, ServiceFormView


class ImportView(ScheduleMixin, ServiceFormView):
    model = BudgetLine
    action = "add"
    form_class = ImportForm
    template_name = "budgets/import.html"
    heading = "Import budget lines"

    def perform(self, form) -> imports.ImportReport:
        upload = form.cleaned_data["file"]  # size and type checked by content (commissioning.uploads)
        return imports.import_lines(
            schedule=self.get_schedule(),
            content=upload.data,
            filename=upload.display_name,
            by=self.request.user,
        )

    def form_valid(self, form):
        # The generic flow, except that a sheet with bad rows is shown again with its report.
        report = self.write(lambda: self.perform(form))
        if not report.ok:
            return self.render_to_response(self.get_context_data(form=form, report=report))
        messages.success(self.request, report.summary)
        return redirect(f"{self.get_schedule().get_absolute_url()}#table")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report = context.setdefault("report", None)
        failed = context["form"].errors or (report and not report.ok)
        context["page_title"] = ("Error: " if failed else "") + self.heading
        schedule = context["schedule"]
        context["streams"] = list(
            FundingStream.objects.filter(partnership=schedule.agreement.partnership)
            .order_by("name")
            .values_list("name", flat=True)
        )
        years = schedule.agreement.years
        current = financial_year_of(timezone.localdate())
        example = current if current in years else years[0]
        context["years"] = {
            "example": example,
            "example_label": year_label(example),
            "first": year_label(years[0]),
            "last": year_label(years[-1]),
        }
        return context


class ImportTemplateView(ScheduleMixin, GateMixin, View):
    """The sheet to fill in: the import's header row (``budgets.imports.COLUMNS``) and no rows, as
    CSV or XLSX, for whoever may import lines into the schedule."""

    model = BudgetLine
    action = "add"

    def get(self, request, pk: int, fmt: str):
        if fmt not in exports.FORMATS:
            raise Http404("Unknown template format")
        self.get_schedule()  # the schedule must be one the user sees (404 otherwise)
        return exports.export_response(
            fmt,
            columns=imports.COLUMNS,
            rows=(),
            filename="budget-lines-template",
            sheet_title="Budget lines",
        )
