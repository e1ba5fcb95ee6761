"""Budget lines imported from a spreadsheet: every row checked first, nothing written unless every
row is good (``budgets.imports``)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect

from budgets import imports
from budgets.forms import ImportForm
from budgets.models import BudgetLine
from budgets.views.base import ScheduleMixin
from commissioning.generic import ServiceFormView


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
        count = len(report.created)
        messages.success(self.request, f"{count} budget line{'' if count == 1 else 's'} imported")
        return redirect(f"{self.get_schedule().get_absolute_url()}#table")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report = context.setdefault("report", None)
        failed = context["form"].errors or (report and not report.ok)
        context["page_title"] = ("Error: " if failed else "") + self.heading
        return context
