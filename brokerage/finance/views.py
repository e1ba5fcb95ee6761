"""Finance pages, on the generic page layer (``commissioning.generic``): the finance officer's
overview, recharge runs (start, progress, result), invoice review, issue, PDF, payments and disputes,
and the reports (recharge report with CSV/XLSX, aged debt, agreement of balances). Each page fetches
through the gate, validates with a form, calls one service (the same as the API) and responds."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from commissioning import jobs
from commissioning.audit import log_access
from commissioning.exports import XLSX_CONTENT_TYPE
from commissioning.generic import (
    ConfirmStep,
    GateMixin,
    ObjectListMixin,
    ObjectView,
    ServiceActionView,
    ServiceFormView,
)
from commissioning.models import AccessLog, Partnership
from commissioning.money import format_money

from .. import invoice_pdf
from ..models import Dispute, DisputeStatus, Invoice, InvoiceLine, Payment, RechargeRun, RegionRun
from . import balances, forms, reports, selectors, services
from .filtersets import InvoiceFilterSet

SHOWN = 200

# The section's sub-navigation: (key, label, URL name).
SECTIONS = [
    ("index", "Overview", "finance:index"),
    ("invoices", "Invoices", "finance:invoices"),
    ("disputes", "Disputes", "finance:disputes"),
    ("report", "Recharge report", "finance:report"),
    ("aged-debt", "Aged debt", "finance:aged-debt"),
    ("balances", "Agreement of balances", "finance:balances"),
]


class FinanceMixin(GateMixin):
    """The gate, plus the section's sub-navigation, the page's heading and what the user may do."""

    model = Invoice
    section = ""
    heading = ""

    def partnerships(self):
        """The partnerships the user may see (the one chosen in the header, if any)."""
        qs = self.restricted("view", Partnership).select_related("council", "nhs_commissioner")
        partnership = self.request.partnership
        return qs.filter(pk=partnership.pk) if partnership else qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["subnav"] = [
            {"label": label, "url": reverse(name), "current": key == self.section}
            for key, label, name in SECTIONS
        ]
        context.setdefault("page_title", self.heading)
        context.setdefault("heading", self.heading)
        context["can_change"] = self.user_can("change", Invoice)
        context["can_run"] = self.user_can("add", RechargeRun)
        return context


class FinanceFormView(FinanceMixin, ServiceFormView):
    """A finance form (``brokerage/finance/form.html``: the section's navigation)."""

    template_name = "brokerage/finance/form.html"

    def get_heading(self) -> str:
        return self.heading


class FinanceActionView(ServiceActionView):
    """A finance button (POST only). A job the service queued that the task service could not take
    (the broker is down) is said to be recorded, to start when the service is back."""

    deferred_job = ""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        if self.deferred_job and jobs.deferred():
            messages.warning(request, jobs.deferred_message(self.deferred_job))
        return response


# --- Overview and recharge runs -------------------------------------------------------------------


class IndexView(FinanceMixin, TemplateView):
    template_name = "brokerage/finance/index.html"
    section = "index"
    heading = "Finance"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        partnership = self.request.partnership
        context["runs"] = (
            self.restricted("view", RechargeRun).in_partnership(partnership).select_related("issuer")[:10]
        )
        context["region_runs"] = self.restricted("view", RegionRun)[:5]
        context["can_run_region"] = self.user_can("add", RegionRun)
        context["drafts"] = self.get_queryset().drafts().select_related("issuer", "recipient", "run")[:50]
        context["disputes"] = (
            self.restricted("view", Dispute)
            .filter(status=DisputeStatus.OPEN, invoice__in=self.get_queryset())
            .select_related("invoice__recipient")[:20]
        )
        return context


class RunCreateView(FinanceFormView):
    model = RechargeRun
    action = "add"
    form_class = forms.RunForm
    section = "index"
    heading = "Start a recharge run"
    submit = "Start the run"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["partnerships"] = list(self.partnerships())
        if "data" not in kwargs:
            last = timezone.localdate().replace(day=1) - timezone.timedelta(days=1)
            kwargs["initial"] = {"period": f"{last:%Y-%m}"}
        return kwargs

    def perform(self, form):
        partnership, issuer = form.cleaned_data["issuer"]
        return services.recharge_run_request(
            partnership=partnership, issuer=issuer, period=form.cleaned_data["period"], by=self.request.user
        )

    def get_success_message(self, run) -> str:
        what = f"The run for {run.issuer.code} {run.period:%B %Y}"
        if jobs.deferred():  # the broker is down: the run is recorded and starts when it is back
            messages.warning(self.request, jobs.deferred_message(what))
            return ""  # a warning instead of "has started"
        return f"{what} has started."

    def cancel_url(self) -> str:
        return reverse("finance:index")


class RunDetailView(FinanceMixin, ObjectView):
    """A run's progress (the page polls its status fragment while it works) and its result."""

    model = RechargeRun
    template_name = "brokerage/finance/run.html"
    context_object_name = "run"
    section = "index"

    def object_queryset(self, model, action):
        return super().object_queryset(model, action).select_related("issuer")

    def get_template_names(self):
        if self.request.headers.get("HX-Request"):
            return ["brokerage/finance/_run_status.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        run = self.object
        return super().get_context_data(
            heading=f"Recharge run: {run.issuer.name}, {run.period:%B %Y}",
            page_title=f"Recharge run {run.issuer.code} {run.period:%B %Y}",
            documents=run.invoices.select_related("recipient").order_by("recipient__code"),
            **kwargs,
        )


# --- Invoices and credit notes --------------------------------------------------------------------


class InvoiceListView(FinanceMixin, ObjectListMixin, TemplateView):
    template_name = "brokerage/finance/invoices.html"
    section = "invoices"
    heading = "Invoices and credit notes"
    filterset_class = InvoiceFilterSet
    list_select_related = ("issuer", "recipient")

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            page_title=("Error: " if self.filter_errors else "") + self.heading,
            filter_form=self.get_filterset().form,
            invoices=self.filtered_queryset()[:SHOWN],
            **kwargs,
        )


class InvoiceDetailView(FinanceMixin, ObjectView):
    template_name = "brokerage/finance/invoice.html"
    context_object_name = "invoice"
    section = "invoices"

    def object_queryset(self, model, action):
        return (
            super()
            .object_queryset(model, action)
            .select_related("issuer", "recipient", "run", "credit_note_for")
        )

    def get_context_data(self, **kwargs):
        invoice = self.object
        return super().get_context_data(
            heading=str(invoice),
            groups=selectors.invoice_line_groups(invoice),
            payments=invoice.payments.all(),
            disputes=invoice.disputes.select_related("credit_note").prefetch_related(
                Prefetch("lines", queryset=InvoiceLine.objects.all()), "waivers"
            ),
            credit_notes=invoice.credit_notes.all(),
            payable=invoice.outstanding,
            **kwargs,
        )


class ConfirmedActionView(ConfirmStep, FinanceActionView):
    """A finance button with the generic "Are you sure?" step (``commissioning.generic.confirm``):
    GET shows what will happen and the button that does it; POST acts, as before. Subclasses say
    what to show in ``confirmation`` (heading, details, warning, confirm_label, warning_button)."""

    http_method_names = ["get", "post"]
    confirm_template = "brokerage/finance/confirm.html"

    def confirm_target(self):
        return self.get_target()

    def confirmation(self, obj) -> dict:
        raise ImproperlyConfigured(f"{type(self).__name__} must say what the confirmation shows.")

    def confirm_context(self, obj) -> dict:
        return {
            "object": obj,
            "caption": str(obj),
            "cancel_url": obj.get_absolute_url(),
            "subnav": [
                {"label": label, "url": reverse(name), "current": key == "invoices"}
                for key, label, name in SECTIONS
            ],
            **self.confirmation(obj),
        }


def _invoice_details(invoice: Invoice) -> list[tuple[str, str]]:
    return [
        ("From", f"{invoice.issuer.name} ({invoice.issuer.code})"),
        ("To", f"{invoice.recipient.name} ({invoice.recipient.code})"),
        ("Period", f"{invoice.period:%B %Y}"),
        ("Total", format_money(invoice.total)),
        ("Lines", str(invoice.lines.count())),
    ]


class InvoiceIssueView(ConfirmedActionView):
    model = Invoice
    deferred_job = "Rendering its PDF"

    def confirmation(self, invoice) -> dict:
        noun = invoice.kind_label.lower()
        return {
            "heading": f"Are you sure you want to issue this {noun}?",
            "details": _invoice_details(invoice),
            "warning": (
                f"Issuing gives the {noun} its number and freezes it: it cannot be changed or deleted "
                "afterwards, only corrected by a credit note."
            ),
            "confirm_label": f"Yes, issue the {noun}",
        }

    def act(self, invoice):
        issued = services.invoice_issue(invoice=invoice, by=self.request.user)
        if issued.is_credit_note:
            return f"Issued {issued.number}."
        return f"Issued {issued.number}, due {issued.due_date:%-d %B %Y}."


class InvoiceDeleteView(ConfirmedActionView):
    model = Invoice
    action = "delete"

    def confirmation(self, invoice) -> dict:
        return {
            "heading": "Are you sure you want to delete this draft?",
            "details": _invoice_details(invoice),
            "warning": "The next recharge run bills these amounts again.",
            "confirm_label": "Yes, delete the draft",
            "warning_button": True,
        }

    def act(self, invoice):
        services.invoice_delete_draft(invoice=invoice, by=self.request.user)
        self.deleted = True
        return "The draft was deleted; the next run will bill its amounts again."

    def back(self, invoice):
        return reverse("finance:index") if getattr(self, "deleted", False) else invoice.get_absolute_url()


class InvoicePdfView(GateMixin, View):
    """The kept PDF of an issued invoice or credit note (rendered now if its task has not run yet).
    A kept file gone or altered is an incident: 503 with a page saying so, never re-rendered."""

    model = Invoice

    def get(self, request, pk):
        invoice = self.get_object()
        if invoice.is_draft:
            raise Http404("A draft has no PDF")
        try:
            data = services.invoice_pdf_read(invoice=invoice)
        except invoice_pdf.PdfMissing:
            return render(request, "brokerage/finance/pdf_missing.html", {"invoice": invoice}, status=503)
        log_access(request=request, obj=invoice, action=AccessLog.Action.DOWNLOAD)
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
        return response


# --- Payments and disputes ------------------------------------------------------------------------


class InvoiceFormView(FinanceFormView):
    """A form about one issued invoice (a payment, a dispute): back to the invoice after."""

    action = "add"
    section = "invoices"

    def invoice(self) -> Invoice:
        return self.get_object("change", model=Invoice)

    def get_caption(self) -> str:
        return str(self.invoice())

    def cancel_url(self) -> str:
        return self.invoice().get_absolute_url()

    def get_success_url(self, result=None) -> str:
        return self.invoice().get_absolute_url()


class PaymentCreateView(InvoiceFormView):
    model = Payment
    form_class = forms.PaymentForm
    heading = "Record a payment"
    submit = "Record the payment"

    def perform(self, form):
        return services.invoice_record_payment(
            invoice=self.invoice(),
            amount=form.cleaned_data["amount"],
            paid_on=form.cleaned_data["date"],
            reference=form.cleaned_data["reference"],
            by=self.request.user,
        )

    def get_success_message(self, payment) -> str:
        return f"Payment of {format_money(payment.amount)} recorded."


class DisputeCreateView(InvoiceFormView):
    model = Dispute
    form_class = forms.DisputeForm
    heading = "Dispute lines"
    submit = "Raise the dispute"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["lines"] = list(self.invoice().lines.order_by("position", "pk"))
        return kwargs

    def perform(self, form):
        lines = list(self.invoice().lines.filter(pk__in=form.cleaned_data["lines"]))
        self.lines_disputed = len(lines)
        return services.dispute_raise(
            invoice=self.invoice(),
            lines=lines,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
            by=self.request.user,
        )

    def get_success_message(self, dispute) -> str:
        return (
            f"Dispute raised on {self.lines_disputed} line(s), {format_money(dispute.amount)}. "
            "The other lines can still be paid."
        )


class DisputeResolveView(FinanceFormView):
    """Settle a dispute (rules.md rule 1): upheld, corrected (naming the change to the package that
    corrects it) or waived (a credit note at once; the amount is never billed again)."""

    model = Dispute
    action = "change"
    form_class = forms.ResolveForm
    section = "disputes"
    heading = "Settle the dispute"
    submit = "Settle the dispute"
    template_name = "brokerage/finance/resolve.html"

    def dispute(self) -> Dispute:
        if not hasattr(self, "_dispute"):
            self._dispute = self.get_object("change", model=Dispute)
        return self._dispute

    def object_queryset(self, model, action):
        return super().object_queryset(model, action).select_related("invoice__recipient", "invoice__issuer")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["changes"] = selectors.correcting_changes(self.dispute())
        return kwargs

    def get_caption(self) -> str:
        return str(self.dispute().invoice)

    def cancel_url(self) -> str:
        return self.dispute().invoice.get_absolute_url()

    def get_success_url(self, result=None) -> str:
        return self.dispute().invoice.get_absolute_url()

    def get_context_data(self, **kwargs):
        dispute = self.dispute()
        lines = list(dispute.lines.order_by("position", "pk"))
        return super().get_context_data(
            dispute=dispute,
            lines=lines,
            packages=sorted({(line.package_id, f"P{line.package_id:06d}") for line in lines}),
            **kwargs,
        )

    def perform(self, form):
        return services.dispute_resolve(
            dispute=self.dispute(),
            outcome=form.cleaned_data["outcome"],
            change=form.change_dict(),
            note=form.cleaned_data["note"],
            by=self.request.user,
        )

    def get_success_message(self, resolved) -> str:
        if resolved.outcome == "waived":
            return (
                f"Waived: credit note {resolved.credit_note.number} issued for "
                f"{format_money(resolved.amount)}. No later run bills this amount again."
            )
        if resolved.outcome == "corrected":
            return f"Corrected by {resolved.correction}. The next run credits the difference."
        return "Upheld: the lines stand and can be paid."


class DisputeListView(FinanceMixin, TemplateView):
    model = Dispute
    template_name = "brokerage/finance/disputes.html"
    section = "disputes"
    heading = "Disputes"

    def get_context_data(self, **kwargs):
        invoices = self.restricted("view", Invoice).in_partnership(self.request.partnership)
        disputes = (
            self.restricted("view", Dispute)
            .filter(invoice__in=invoices)
            .select_related("invoice__issuer", "invoice__recipient")
            .order_by("status", "-raised_at")[:SHOWN]
        )
        return super().get_context_data(disputes=disputes, **kwargs)


# --- Reports --------------------------------------------------------------------------------------


class ReportView(FinanceMixin, TemplateView):
    """The recharge report: the lines of issued invoices and credit notes in range, on the page (the
    first 500) or every row as CSV or XLSX (``?format=``)."""

    template_name = "brokerage/finance/report.html"
    section = "report"
    heading = "Recharge report"

    def get(self, request, *args, **kwargs):
        partnerships = list(self.partnerships())
        form = forms.ReportForm(request.GET or None, organisations=forms.partner_organisations(partnerships))
        rows = None
        if form.is_bound and form.is_valid():
            filters = {"partnership": request.partnership}
            filters.update({k: v for k, v in form.cleaned_data.items() if v})
            rows = selectors.recharge_report(request.user, **filters)
            fmt = request.GET.get("format")
            if fmt == "csv":
                return reports.report_csv(request.user, **filters)
            if fmt == "xlsx":
                response = HttpResponse(
                    reports.report_xlsx(selectors.recharge_report_values(request.user, **filters)),
                    content_type=XLSX_CONTENT_TYPE,
                )
                response["Content-Disposition"] = f'attachment; filename="{reports.FILENAME}.xlsx"'
                return response
        context = self.get_context_data(form=form, rows=rows[:500] if rows is not None else None)
        context["query"] = request.GET.urlencode()
        if form.errors:
            context["page_title"] = "Error: " + self.heading
        return self.render_to_response(context)


class AgedDebtView(FinanceMixin, TemplateView):
    template_name = "brokerage/finance/aged_debt.html"
    section = "aged-debt"
    heading = "Aged debt"

    def get(self, request, *args, **kwargs):
        data = request.GET if request.GET else None
        form = forms.AsAtForm(data, initial={"as_at": timezone.localdate()})
        as_at = (
            form.cleaned_data["as_at"]
            if data and form.is_valid()
            else (None if data else timezone.localdate())
        )
        rows = totals = None
        if as_at:
            rows = selectors.aged_debt(request.user, as_at=as_at, partnership=request.partnership)
            totals = selectors.aged_debt_totals(rows)
        context = self.get_context_data(form=form, rows=rows, totals=totals, as_at=as_at)
        context["bucket_labels"] = selectors.BUCKET_LABELS
        if form.errors:
            context["page_title"] = "Error: " + self.heading
        return self.render_to_response(context)


class BalancesView(FinanceMixin, TemplateView):
    template_name = "brokerage/finance/balances.html"
    section = "balances"
    heading = "Agreement of balances"

    def get(self, request, *args, **kwargs):
        form = forms.BalancesForm(
            request.GET or None, organisations=forms.partner_organisations(list(self.partnerships()))
        )
        statement = None
        if form.is_bound and form.is_valid():
            statement = balances.balance_statement(request.user, **form.cleaned_data)
            fmt = request.GET.get("format")
            if fmt in ("csv", "xlsx", "pdf"):
                return balances.statement_file(statement, fmt)
        context = self.get_context_data(
            form=form, statement=statement, balances=statement.balances if statement else None
        )
        context["query"] = request.GET.urlencode()
        if form.errors:
            context["page_title"] = "Error: " + self.heading
        return self.render_to_response(context)
