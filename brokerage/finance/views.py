"""Finance pages: the finance officer's overview, recharge runs (start, progress, result), invoice
review, issue, PDF, payments and disputes, and the reports (recharge report with CSV/XLSX, aged
debt, agreement of balances). Each view fetches through the permission gate, validates with a
form, calls one service (the same as the API) and responds."""

from __future__ import annotations

import logging
from collections import OrderedDict

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import FormView, TemplateView

from commissioning import jobs
from commissioning.audit import log_access
from commissioning.exports import FORMATS, export_response
from commissioning.forms import add_service_errors, style_filter_form
from commissioning.models import AccessLog, Partnership
from commissioning.permissions import has_model_permission
from commissioning.views.mixins import RestrictedViewMixin

from .. import invoice_pdf
from ..models import Dispute, DisputeStatus, Invoice, InvoiceLine, RechargeRun
from . import forms, selectors, services
from .filtersets import InvoiceFilterSet

logger = logging.getLogger(__name__)


class FinanceMixin(RestrictedViewMixin):
    model = Invoice
    section = ""
    heading = ""

    def get_object_or_404(self, model=None, pk=None, action="view"):
        # Subclasses fetch in dispatch() before RestrictedViewMixin checks the role: check it here
        # first, so a role without the permission gets 403 whatever the id (not a 404).
        self.require_role()
        model = model or self.model
        pk = pk if pk is not None else self.kwargs["pk"]
        try:
            return model.objects.restrict(self.request.user, action).get(pk=pk)
        except model.DoesNotExist:
            if action != "view" and model.objects.restrict(self.request.user, "view").filter(pk=pk).exists():
                raise PermissionDenied(
                    f"You may see this {model._meta.verbose_name} but not change it."
                ) from None
            raise Http404(f"No {model._meta.verbose_name} found") from None

    def partnerships(self):
        qs = Partnership.objects.restrict(self.request.user, "view").select_related(
            "council", "nhs_commissioner"
        )
        current = getattr(self.request, "partnership", None)
        pk = getattr(current, "pk", None)
        return qs.filter(pk=pk) if pk else qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        links = [
            ("index", "Overview", "finance:index"),
            ("invoices", "Invoices", "finance:invoices"),
            ("disputes", "Disputes", "finance:disputes"),
            ("report", "Recharge report", "finance:report"),
            ("aged-debt", "Aged debt", "finance:aged-debt"),
            ("balances", "Agreement of balances", "finance:balances"),
        ]
        context["subnav"] = [
            {"label": label, "url": reverse(name), "current": key == self.section}
            for key, label, name in links
        ]
        context.setdefault("page_title", self.heading)
        context.setdefault("heading", self.heading)
        context["can_change"] = has_model_permission(self.request.user, Invoice, "change")
        context["can_run"] = has_model_permission(self.request.user, RechargeRun, "add")
        return context


class IndexView(FinanceMixin, TemplateView):
    template_name = "brokerage/finance/index.html"
    section = "index"
    heading = "Finance"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, partnership = self.request.user, getattr(self.request, "partnership", None)
        context["runs"] = (
            RechargeRun.objects.restrict(user, "view")
            .in_partnership(partnership)
            .select_related("issuer")[:10]
        )
        context["drafts"] = self.get_queryset().drafts().select_related("issuer", "recipient", "run")[:50]
        context["disputes"] = (
            Dispute.objects.restrict(user, "view")
            .filter(status=DisputeStatus.OPEN, invoice__in=self.get_queryset())
            .select_related("invoice__recipient")[:20]
        )
        return context


class RunCreateView(FinanceMixin, FormView):
    model = RechargeRun
    action = "add"
    template_name = "brokerage/finance/form.html"
    form_class = forms.RunForm
    section = "index"
    heading = "Start a recharge run"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["partnerships"] = list(self.partnerships())
        if "data" not in kwargs:
            last = timezone.localdate().replace(day=1) - timezone.timedelta(days=1)
            kwargs["initial"] = {"period": f"{last:%Y-%m}"}
        return kwargs

    def form_valid(self, form):
        partnership, issuer = form.cleaned_data["issuer"]
        try:
            with transaction.atomic():
                run = services.recharge_run_request(
                    partnership=partnership,
                    issuer=issuer,
                    period=form.cleaned_data["period"],
                    by=self.request.user,
                )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        what = f"The run for {issuer.code} {run.period:%B %Y}"
        if jobs.deferred():  # the broker is down: the run is recorded and starts when it is back
            messages.warning(self.request, jobs.deferred_message(what))
        else:
            messages.success(self.request, f"{what} has started.")
        return redirect(run.get_absolute_url())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["cancel_url"] = reverse("finance:index")
        context["submit"] = "Start the run"
        if context["form"].errors:
            context["page_title"] = "Error: " + self.heading
        return context


class RunDetailView(FinanceMixin, TemplateView):
    model = RechargeRun
    template_name = "brokerage/finance/run.html"
    section = "index"

    def get_template_names(self):
        if self.request.headers.get("HX-Request"):
            return ["brokerage/finance/_run_status.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = self.get_object_or_404()
        context.update(
            run=run,
            heading=f"Recharge run: {run.issuer.name}, {run.period:%B %Y}",
            page_title=f"Recharge run {run.issuer.code} {run.period:%B %Y}",
            documents=run.invoices.select_related("recipient").order_by("recipient__code"),
        )
        return context


class InvoiceListView(FinanceMixin, TemplateView):
    template_name = "brokerage/finance/invoices.html"
    section = "invoices"
    heading = "Invoices and credit notes"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = InvoiceFilterSet(self.request.GET or None, queryset=self.get_queryset())
        style_filter_form(filterset.form)
        qs = filterset.qs if filterset.is_bound and filterset.is_valid() else self.get_queryset()
        context["filter_form"] = filterset.form
        context["invoices"] = qs.select_related("issuer", "recipient")[:200]
        return context


def grouped_lines(invoice: Invoice) -> list[dict]:
    groups: OrderedDict[int, dict] = OrderedDict()
    lines = invoice.lines.select_related("package").prefetch_related("disputes").order_by("position", "pk")
    for line in lines:
        group = groups.setdefault(
            line.package_id, {"package": line.package, "first": line, "lines": [], "total": 0}
        )
        disputes = sorted(line.disputes.all(), key=lambda d: d.raised_at)
        line.dispute_label = (disputes[-1].get_outcome_display() or "In dispute") if disputes else ""
        group["lines"].append(line)
        group["total"] += line.amount
    return list(groups.values())


class InvoiceDetailView(FinanceMixin, TemplateView):
    template_name = "brokerage/finance/invoice.html"
    section = "invoices"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        invoice = self.get_object_or_404()
        invoice = Invoice.objects.select_related("issuer", "recipient", "run", "credit_note_for").get(
            pk=invoice.pk
        )
        context.update(
            invoice=invoice,
            heading=str(invoice),
            groups=grouped_lines(invoice),
            payments=invoice.payments.all(),
            disputes=invoice.disputes.prefetch_related(Prefetch("lines", queryset=InvoiceLine.objects.all())),
            credit_notes=invoice.credit_notes.all(),
            payable=invoice.outstanding,
        )
        return context


class InvoiceActionView(FinanceMixin, View):
    http_method_names = ["post"]
    action = "change"

    def act(self, invoice) -> str:
        raise NotImplementedError

    def post(self, request, pk):
        invoice = self.get_object_or_404(action=self.action)
        try:
            with transaction.atomic():
                message, target = self.act(invoice)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(invoice.get_absolute_url())
        messages.success(request, message)
        if jobs.deferred():  # issued, but its PDF could not be queued: the broker is down
            messages.warning(request, jobs.deferred_message("Rendering its PDF"))
        return redirect(target)


class InvoiceIssueView(InvoiceActionView):
    def act(self, invoice):
        issued = services.invoice_issue(invoice=invoice, by=self.request.user)
        return f"Issued {issued.number}, due {issued.due_date:%-d %B %Y}.", issued.get_absolute_url()


class InvoiceDeleteView(InvoiceActionView):
    action = "delete"

    def act(self, invoice):
        services.invoice_delete_draft(invoice=invoice, by=self.request.user)
        return "The draft was deleted; the next run will bill its amounts again.", reverse("finance:index")


class InvoicePdfView(FinanceMixin, View):
    def get(self, request, pk):
        invoice = self.get_object_or_404()
        if invoice.is_draft:
            raise Http404("A draft has no PDF")
        if not invoice.pdf_checksum:
            invoice = services.invoice_pdf_ensure(invoice_id=invoice.pk)
        try:
            data = invoice_pdf.read_kept(invoice)
        except invoice_pdf.PdfMissing as exc:
            logger.error("kept PDF of invoice %s (%s): %s", invoice.pk, invoice.number, exc)
            return render(request, "brokerage/finance/pdf_missing.html", {"invoice": invoice}, status=503)
        log_access(request=request, obj=invoice, action=AccessLog.Action.DOWNLOAD)
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
        return response


class InvoiceFormView(FinanceMixin, FormView):
    action = "change"
    template_name = "brokerage/finance/form.html"
    section = "invoices"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.invoice = self.get_object_or_404(action="change")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            caption=str(self.invoice), cancel_url=self.invoice.get_absolute_url(), submit=self.submit
        )
        if context["form"].errors:
            context["page_title"] = "Error: " + self.heading
        return context

    def form_valid(self, form):
        try:
            with transaction.atomic():
                message = self.perform(form)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, message)
        return redirect(self.invoice.get_absolute_url())


class PaymentCreateView(InvoiceFormView):
    form_class = forms.PaymentForm
    heading = "Record a payment"
    submit = "Record the payment"

    def perform(self, form):
        payment = services.invoice_record_payment(
            invoice=self.invoice,
            amount=form.cleaned_data["amount"],
            paid_on=form.cleaned_data["date"],
            reference=form.cleaned_data["reference"],
            by=self.request.user,
        )
        return f"Payment of £{payment.amount:,.2f} recorded."


class DisputeCreateView(InvoiceFormView):
    form_class = forms.DisputeForm
    heading = "Dispute lines"
    submit = "Raise the dispute"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["lines"] = list(self.invoice.lines.order_by("position", "pk"))
        return kwargs

    def perform(self, form):
        lines = list(self.invoice.lines.filter(pk__in=form.cleaned_data["lines"]))
        dispute = services.dispute_raise(
            invoice=self.invoice,
            lines=lines,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
            by=self.request.user,
        )
        return (
            f"Dispute raised on {len(lines)} line(s), £{dispute.amount:,.2f}. "
            "The other lines can still be paid."
        )


class DisputeResolveView(FinanceMixin, View):
    model = Dispute
    action = "change"
    http_method_names = ["post"]

    def post(self, request, pk):
        dispute = self.get_object_or_404(action="change")
        form = forms.ResolveForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose upheld or credited.")
            return redirect(dispute.invoice.get_absolute_url())
        try:
            with transaction.atomic():
                resolved = services.dispute_resolve(
                    dispute=dispute, outcome=form.cleaned_data["outcome"], by=request.user
                )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if resolved.credit_note_id:
                messages.success(
                    request,
                    f"Credited: credit note {resolved.credit_note.number} issued. Correct the package's "
                    "cost or funding too, or the next run will bill these amounts again.",
                )
            else:
                messages.success(request, "Upheld: the lines stand and can be paid.")
            if jobs.deferred():
                messages.warning(request, jobs.deferred_message("Rendering the credit note's PDF"))
        return redirect(dispute.invoice.get_absolute_url())


class DisputeListView(FinanceMixin, TemplateView):
    model = Dispute
    template_name = "brokerage/finance/disputes.html"
    section = "disputes"
    heading = "Disputes"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        partnership = getattr(self.request, "partnership", None)
        invoices = Invoice.objects.restrict(self.request.user, "view").in_partnership(partnership)
        context["disputes"] = (
            Dispute.objects.restrict(self.request.user, "view")
            .filter(invoice__in=invoices)
            .select_related("invoice__issuer", "invoice__recipient")
            .order_by("status", "-raised_at")[:200]
        )
        return context


class ReportView(FinanceMixin, TemplateView):
    template_name = "brokerage/finance/report.html"
    section = "report"
    heading = "Recharge report"

    def get(self, request, *args, **kwargs):
        partnerships = list(self.partnerships())
        form = forms.ReportForm(request.GET or None, organisations=forms.partner_organisations(partnerships))
        rows = None
        if form.is_bound and form.is_valid():
            rows = selectors.recharge_report(
                request.user,
                partnership=getattr(request, "partnership", None),
                **{k: v for k, v in form.cleaned_data.items() if v},
            )
            fmt = request.GET.get("format")
            if fmt in FORMATS:
                return export_response(
                    fmt,
                    columns=selectors.REPORT_COLUMNS,
                    rows=rows.iterator(),
                    filename="recharge-report",
                    sheet_title="Recharge report",
                )
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
            rows = selectors.aged_debt(
                request.user, as_at=as_at, partnership=getattr(request, "partnership", None)
            )
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
        balances = None
        if form.is_bound and form.is_valid():
            balances = selectors.agreement_of_balances(request.user, **form.cleaned_data)
        context = self.get_context_data(form=form, balances=balances)
        if form.errors:
            context["page_title"] = "Error: " + self.heading
        return self.render_to_response(context)
