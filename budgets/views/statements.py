"""The pooled fund statement of an agreement (rules.md rule 2): the page for a year or a quarter,
its CSV, and its PDF produced by the worker and kept."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.views import View

from budgets import services, statement_pdf
from budgets.models import FundStatement, Section75Agreement, year_label
from budgets.periods import parse_statement_choice as parse_choice
from budgets.selectors.statement import fund_statement, statement_rows
from budgets.statement_forms import SettleStatementForm
from commissioning.exports import csv_response
from commissioning.generic import GateMixin, ObjectView, ServiceActionView, ServiceFormView


class StatementView(ObjectView):
    model = Section75Agreement
    template_name = "budgets/statement.html"
    context_object_name = "agreement"

    def object_queryset(self, model, action):
        return super().object_queryset(model, action).select_related("partnership", "host")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        agreement = self.object
        errors = {}
        try:
            year, quarter = parse_choice(agreement, self.request.GET)
        except ValidationError as error:
            errors = error.message_dict
            year, quarter = None, None
        statement = None
        produced = []
        if not errors:
            statement = fund_statement(agreement, year=year, quarter=quarter, user=self.request.user)
            produced = list(
                self.restricted("view", FundStatement)
                .filter(agreement=agreement, year=year, quarter=quarter)
                .select_related("requested_by", "decision")
                .prefetch_related("settlements__invoice", "settlements__partner")[:5]
            )
        query = f"?year={year}" + (f"&quarter={quarter}" if quarter else "") if statement else ""
        context.update(
            {
                "page_title": ("Error: " if errors else "")
                + (statement.title if statement else "Pooled fund statement")
                + f": {agreement.reference}",
                "statement": statement,
                "totals": statement.totals() if statement else None,
                "errors": errors,
                "error_summary": [(f"id_{field}", m) for field, ms in errors.items() for m in ms],
                "years": [(y, year_label(y)) for y in agreement.years],
                "quarter_choices": [
                    ("1", "Quarter 1 (April to June)"),
                    ("2", "Quarter 2 (to September)"),
                    ("3", "Quarter 3 (to December)"),
                    ("4", "Quarter 4 (to March)"),
                ],
                "chosen_year": str(year) if year else self.request.GET.get("year", ""),
                "chosen_quarter": str(quarter) if quarter else "",
                "csv_url": reverse("budgets:statement-csv", args=[agreement.pk]) + query,
                "produced": produced,
                "can_produce": self.user_can("add", FundStatement),
                "can_settle": self.user_can("change", FundStatement),
            }
        )
        return context


class StatementCsvView(GateMixin, View):
    """One row per schedule and partner, in the one CSV dialect (``commissioning.exports``)."""

    model = Section75Agreement

    def get(self, request, pk):
        agreement = self.get_object("view")
        try:
            year, quarter = parse_choice(agreement, request.GET)
        except ValidationError as error:
            return HttpResponse(
                " ".join(error.messages), status=400, content_type="text/plain; charset=utf-8"
            )
        statement = fund_statement(agreement, year=year, quarter=quarter, user=request.user)
        span = f"-q{quarter}" if quarter else ""
        return csv_response(f"statement-{agreement.reference}-{year}{span}", statement_rows(statement))


class StatementProduceView(ServiceActionView):
    """POST: queue the statement's PDF for the year (and quarter) in the form; the worker renders it."""

    model = FundStatement
    action = "add"

    def get_target(self) -> Section75Agreement:
        self.require_role("add", FundStatement)
        return self.get_object("view", model=Section75Agreement)

    def act(self, agreement) -> str:
        year, quarter = parse_choice(agreement, self.request.POST)
        services.fund_statement_request(agreement=agreement, year=year, quarter=quarter, by=self.request.user)
        self.query = f"?year={year}" + (f"&quarter={quarter}" if quarter else "")
        return "The statement's PDF is being produced: it appears below when it is ready."

    def back(self, agreement) -> str:
        return reverse("budgets:statement", args=[agreement.pk]) + getattr(self, "query", "")


class StatementPdfView(GateMixin, View):
    """A produced statement's kept PDF, through the gate (hidden: 404; not ready: 404 saying so)."""

    model = FundStatement

    def get(self, request, pk):
        row = self.get_object("view")
        try:
            data = statement_pdf.read_kept(row)
        except statement_pdf.PdfMissing as error:
            raise Http404(f"The statement's PDF is not available: {error}.") from error
        response = HttpResponse(data, content_type="application/pdf")
        span = f"-q{row.quarter}" if row.quarter else ""
        response["Content-Disposition"] = f'inline; filename="statement-{row.year}{span}-{row.pk}.pdf"'
        return response


class SettleStatementView(ServiceFormView):
    """A year's produced statement: record the board decision that approved it and raise the
    settlement, an invoice or credit note (kind ``settlement``) per partner, as drafts."""

    model = FundStatement
    action = "change"
    form_class = SettleStatementForm
    template_name = "budgets/settle_statement.html"
    submit = "Record the approval and raise the settlement"

    def object_queryset(self, model, action):
        return super().object_queryset(model, action).select_related("agreement__host", "decision")

    def statement(self) -> FundStatement:
        return self.get_object("change")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(user=self.request.user, statement=self.statement())
        return kwargs

    def get_heading(self) -> str:
        return f"Settle the pooled funds for {year_label(self.statement().year)}"

    def get_context_data(self, **kwargs):
        statement = self.statement()
        amounts = services.settlement_amounts(statement)
        context = super().get_context_data(**kwargs)
        context.update(
            {
                "statement": statement,
                "agreement": statement.agreement,
                "amounts": sorted(amounts.items()),
                "settlements": list(statement.settlements.select_related("partner", "invoice")),
            }
        )
        return context

    def perform(self, form):
        return services.fund_statement_settle(
            statement=self.statement(), decision=form.cleaned_data["decision"], by=self.request.user
        )

    def get_success_message(self, raised) -> str:
        if not raised:
            return "The approval is recorded; no settlement was left to raise."
        plural = "s" if len(raised) != 1 else ""
        return f"Raised {len(raised)} settlement document{plural} as draft{plural}: finance issues them."

    def get_success_url(self, result=None) -> str:
        return self.statement().get_absolute_url() + "#pdf"
