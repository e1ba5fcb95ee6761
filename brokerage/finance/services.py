"""Writes of recharges, invoices, payments and disputes (rules.md rule 1). Each service is one
transaction with keyword-only arguments and is what the pages, the API and the tasks call.

Safety against retries and concurrency:
- a run computes and writes its whole result in one transaction, under a transaction-level advisory
  lock per issuer, so two runs of one issuer never bill the same difference twice, and a worker that
  dies half way leaves nothing (the task is redelivered and runs again);
- only one run per issuer and month can be queued or running (a partial unique constraint);
- numbers come from a sequence row per issuer, financial year and kind, locked with
  ``select_for_update`` inside the issuing transaction: gapless, never shared;
- every service re-reads and locks the rows it changes and does nothing when its work is done.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

import pghistory
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, DecimalField, F, Sum, When
from django.utils import timezone

from commissioning import jobs
from commissioning.bulk import copy_line, copy_rows, copy_text
from commissioning.memory import collector_paused
from commissioning.models import Organisation, Partnership, User
from commissioning.money import format_money

from .. import rates, recharges
from ..models import (
    ACTIVE_RUN_STATUSES,
    DisputeStatus,
    FundingShare,
    FundingSplit,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    NumberSequence,
    Package,
    PackageCost,
    Payment,
    RechargeRun,
    RechargeRunStatus,
    Suspension,
    Waiver,
)
from . import ledger

logger = logging.getLogger(__name__)

RECHARGE_LOCK_CLASS = 75_001  # pg_advisory_xact_lock(class, issuer id)
ZERO = Decimal("0.00")


def _context(by: User | None):
    return pghistory.context(user=by.pk if by else None)


# --- Recharge runs ------------------------------------------------------------------------------


def recharge_run_validate(*, partnership: Partnership, issuer: Organisation, period: date) -> None:
    if issuer.pk not in (partnership.council_id, partnership.nhs_commissioner_id):
        raise ValidationError({"issuer": [f"{issuer.code} is not a partner of {partnership.name}."]})
    if period.day != 1:
        raise ValidationError({"period": ["Give the period as a month, YYYY-MM."]})
    if period > recharges.month_start(timezone.localdate()):
        raise ValidationError({"period": ["A month that has not started yet cannot be recharged."]})


def recharge_run_request(
    *, partnership: Partnership, issuer: Organisation, period: date, by: User | None
) -> RechargeRun:
    """Queue a run (the task starts when this transaction commits). If a run of this issuer and
    month is already queued or running, that run is the answer: asking twice starts one run."""
    recharge_run_validate(partnership=partnership, issuer=issuer, period=period)
    from ..tasks import run_recharge

    active = RechargeRun.objects.filter(issuer=issuer, period=period, status__in=ACTIVE_RUN_STATUSES)
    try:
        with transaction.atomic():
            run = RechargeRun.objects.create(
                partnership=partnership, issuer=issuer, period=period, requested_by=by
            )
    except IntegrityError:
        existing = active.first()
        if existing is None:  # it finished between the insert and this read
            raise ValidationError({"period": ["A run of this month has just finished; try again."]}) from None
        return existing
    jobs.enqueue(run_recharge, run.pk)  # broker down: the run stays queued and is recovered later
    return run


class _PackageRow(NamedTuple):
    """What a run needs of a package: its facts' header and the details its lines carry. A tuple,
    made in a third of a frozen dataclass's time: a run makes one per package of its scope."""

    pk: int
    start: date
    end: date | None
    payer: int
    client_reference: str
    nhs_number: str
    provider: str
    service_type: str

    @property
    def reference(self) -> str:
        return f"P{self.pk:06d}"


_PACKAGE_COLUMNS = (
    "pk",
    "start",
    "end",
    "paying_organisation_id",
    "client__case_reference",
    "client__nhs_number",
    "provider__organisation__name",
    "service_type",
)


def _load_facts(run: RechargeRun):
    """Everything a run needs, in a handful of queries whatever the number of packages.

    Plain tuples (``values_list``), not model instances: a borough run reads about 6,000 packages,
    20,000 costs and 30,000 shares, and building models for them cost more than the rule itself."""
    period_end = recharges.month_end(run.period)
    scope = {"client__partnership": run.partnership_id, "paying_organisation": run.issuer_id}
    packages = {
        row[0]: _PackageRow(*row)
        for row in Package.objects.filter(start__lte=period_end, **scope).values_list(*_PACKAGE_COLUMNS)
    }
    sub = {f"package__{k}": v for k, v in scope.items()} | {"package__start__lte": period_end}
    costs: dict[int, list] = defaultdict(list)
    for c in PackageCost.objects.filter(effective_from__lte=period_end, **sub).values_list(
        "package_id", "effective_from", "effective_to", "unit_rate", "units_per_week"
    ):
        costs[c[0]].append(recharges.CostRow.of(c[1], c[2], c[3], c[4]))
    shares: dict[int, list] = defaultdict(list)
    for split_id, organisation_id, percent in (
        FundingShare.objects.filter(
            **{f"split__{k}": v for k, v in sub.items()}, split__effective_from__lte=period_end
        )
        .order_by("split_id", "organisation__code")
        .values_list("split_id", "organisation_id", "percent")
    ):
        shares[split_id].append((organisation_id, percent))
    splits: dict[int, list] = defaultdict(list)
    for split_id, package_id, start, end in FundingSplit.objects.filter(
        effective_from__lte=period_end, **sub
    ).values_list("pk", "package_id", "effective_from", "effective_to"):
        splits[package_id].append(recharges.SplitRow(start, end, tuple(shares[split_id]), split_id))
    suspensions: dict[int, list] = defaultdict(list)
    for package_id, start, end, paid in Suspension.objects.filter(
        effective_from__lte=period_end, **sub
    ).values_list("package_id", "effective_from", "effective_to", "paid_percent"):
        suspensions[package_id].append(recharges.SuspensionRow(start, end, paid))
    signed = Case(
        When(invoice__kind=InvoiceKind.CREDIT_NOTE, then=-F("amount")),
        default=F("amount"),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )
    billed = {
        (package_id, recipient_id, month): net
        for package_id, recipient_id, month, net in InvoiceLine.objects.filter(
            invoice__issuer=run.issuer_id,
            invoice__partnership=run.partnership_id,
            package__isnull=False,  # contribution and settlement lines bill no package
            month__lte=run.period,
        )
        .values("package_id", "invoice__recipient_id", "month")
        .annotate(net=Sum(signed))
        .order_by()
        .values_list("package_id", "invoice__recipient_id", "month", "net")
    }
    waived = {
        (package_id, recipient_id, month): total
        for package_id, recipient_id, month, total in Waiver.objects.filter(
            issuer=run.issuer_id, partnership=run.partnership_id, month__lte=run.period
        )
        .values("package_id", "recipient_id", "month")
        .annotate(total=Sum("amount"))
        .order_by()
        .values_list("package_id", "recipient_id", "month", "total")
    }
    missing = {key[0] for key in (*billed, *waived)} - set(packages)
    if missing:  # billed before, no longer paid by this issuer: their lines need the details
        packages.update(
            (row[0], _PackageRow(*row))
            for row in Package.objects.filter(pk__in=missing).values_list(*_PACKAGE_COLUMNS)
        )
    facts = [
        recharges.PackageFacts(
            package=p.pk,
            start=p.start,
            end=p.end,
            payer=p.payer,
            costs=tuple(sorted(costs[p.pk], key=lambda r: r.start)),
            splits=tuple(sorted(splits[p.pk], key=lambda r: r.start)),
            suspensions=tuple(sorted(suspensions[p.pk], key=lambda r: r.start)),
        )
        for p in packages.values()
        if p.payer == run.issuer_id
    ]
    return packages, facts, billed, waived


_LINE_COLUMNS = ("invoice_id", *InvoiceLine.CONTENT_COLUMNS, "position")


def _line_rows(documents, packages):
    """The rows of ``_LINE_COLUMNS`` for each (invoice, sign, ordered lines) of a run."""
    for invoice, sign, ordered in documents:
        for position, line in enumerate(ordered):
            package = packages[line.package]
            yield (
                invoice.pk,
                package.pk,
                package.client_reference,
                package.nhs_number,
                package.provider[:200],
                package.service_type,
                line.month,
                line.start,
                line.end,
                line.days,
                line.weekly_cost,
                line.percent,
                line.paid_percent,
                sign * line.amount,
                line.adjustment,
                line.corrects_month,
                line.previously_billed,
                "",
                position,
            )


_NULL = copy_text(None)


def _line_text(documents, packages):
    """``_line_rows`` as COPY text, one line per row: the same text as ``copy_line`` of each row
    (tests/brokerage/finance/test_line_text.py), made knowing each column's type (a run writes
    thousands of lines of nineteen values), with each package's columns formatted once."""
    heads: dict = {}
    iso: dict = {}  # each date's text once: a run's lines share a few hundred dates
    for invoice, sign, ordered in documents:
        invoice_text = str(invoice.pk)
        for position, line in enumerate(ordered):
            head = heads.get(line.package)
            if head is None:
                package = packages[line.package]
                head = heads[line.package] = copy_line(
                    (
                        package.pk,
                        package.client_reference,
                        package.nhs_number,
                        package.provider[:200],
                        package.service_type,
                    )
                )
            days, weekly_cost, percent = line.days, line.weekly_cost, line.percent
            paid_percent, month, start, end = line.paid_percent, line.month, line.start, line.end
            month_text = iso.get(month) or iso.setdefault(month, month.isoformat())
            start_text = iso.get(start) or iso.setdefault(start, start.isoformat())
            end_text = iso.get(end) or iso.setdefault(end, end.isoformat())
            yield (
                f"{invoice_text}\t{head}\t{month_text}\t{start_text}\t"
                f"{end_text}\t{_NULL if days is None else str(days)}\t"
                f"{_NULL if weekly_cost is None else str(weekly_cost)}\t"
                f"{_NULL if percent is None else str(percent)}\t"
                f"{_NULL if paid_percent is None else str(paid_percent)}\t{sign * line.amount!s}\t"
                f"{'t' if line.adjustment else 'f'}\t"
                f"{month_text if line.adjustment else _NULL}\t"  # corrects_month
                f"{'t' if line.previously_billed else 'f'}\t\t{position}"
            )


def _issue_json(issue: recharges.Issue, packages) -> dict:
    package = packages.get(issue.package)
    out = {
        "package": issue.package,
        "reference": package.reference if package else "",
        "client_reference": package.client_reference if package else "",
        "from": issue.start.isoformat(),
        "to": issue.end.isoformat(),
    }
    if issue.kind != "unfunded":
        out.update(kind=issue.kind, message=issue.message)
    return out


def recharge_run_execute(*, run_id: int, incremental: bool = True) -> RechargeRun:
    """Compute and write a run's drafts. Idempotent: a finished run is returned as it is.

    ``incremental`` (the default) recomputes only the package months whose facts changed, through
    the recharge ledger (``ledger``); ``False`` recomputes every package month since each package
    started. Both bill the same, to the penny (tests/brokerage/finance/test_ledger.py)."""
    with transaction.atomic():
        run = RechargeRun.objects.select_for_update().get(pk=run_id)
        if run.status not in ACTIVE_RUN_STATUSES:
            return run
        if run.status == RechargeRunStatus.QUEUED:
            run.status = RechargeRunStatus.RUNNING
            run.started_at = timezone.now()
            run.save(update_fields=["status", "started_at"])
    try:
        with collector_paused():
            return _execute(run_id, run.issuer_id, incremental=incremental)
    except Exception as exc:
        logger.exception("recharge run %s failed", run_id)
        with transaction.atomic():
            RechargeRun.objects.filter(pk=run_id, status=RechargeRunStatus.RUNNING).update(
                status=RechargeRunStatus.FAILED, finished_at=timezone.now(), failure=str(exc)[:2000]
            )
        return RechargeRun.objects.get(pk=run_id)


@transaction.atomic
def _execute(run_id: int, issuer_id: int, *, incremental: bool = True) -> RechargeRun:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [RECHARGE_LOCK_CLASS, issuer_id])
    run = (
        RechargeRun.objects.select_for_update(of=("self",))
        .select_related("issuer", "partnership", "requested_by")
        .get(pk=run_id)
    )
    if run.status != RechargeRunStatus.RUNNING or run.invoices.exists():
        return run
    if incremental:
        prepared, result = ledger.bill(run, _PackageRow)
        packages, package_count, issues = prepared.packages, prepared.package_count, prepared.issues
    else:
        packages, facts, billed, waived = _load_facts(run)
        result = recharges.true_up(facts, period=run.period, billed=billed, waived=waived)
        package_count, issues = len(facts), result.issues
    recipients = Organisation.objects.in_bulk([doc.recipient for doc in result.documents])
    invoices: list[Invoice] = []
    lines: list[tuple[Invoice, int, list[recharges.Line]]] = []
    for doc in sorted(result.documents, key=lambda d: recipients[d.recipient].code):
        recipient = recipients[doc.recipient]
        sign = 1 if doc.kind == InvoiceKind.INVOICE else -1
        invoice = Invoice(
            partnership=run.partnership,
            kind=doc.kind,
            issuer=run.issuer,
            recipient=recipient,
            period=run.period,
            total=doc.total,
            run=run,
            issuer_address=run.issuer.address,
            recipient_address=recipient.address,
        )
        invoices.append(invoice)
        ordered = sorted(
            doc.lines,
            key=lambda li: (
                packages[li.package].client_reference,
                li.package,
                li.month,
                li.previously_billed,
                li.start,
            ),
        )
        lines.append((invoice, sign, ordered))
    with _context(run.requested_by):
        Invoice.objects.bulk_create(invoices)  # also sets the history context for the COPY below
        copy_rows(InvoiceLine._meta.db_table, _LINE_COLUMNS, _line_text(lines, packages), as_text=True)
    if incremental:
        ledger.settle(run, prepared, result)  # the package months that now agree need no comparing again
    run.package_count = package_count
    run.invoice_count = sum(1 for i in invoices if i.kind == InvoiceKind.INVOICE)
    run.credit_note_count = sum(1 for i in invoices if i.kind == InvoiceKind.CREDIT_NOTE)
    run.total_invoiced = sum((i.total for i in invoices if i.kind == InvoiceKind.INVOICE), ZERO)
    run.total_credited = sum((i.total for i in invoices if i.kind == InvoiceKind.CREDIT_NOTE), ZERO)
    run.unfunded = [_issue_json(i, packages) for i in issues if i.kind == "unfunded"]
    run.errors = [_issue_json(i, packages) for i in issues if i.kind != "unfunded"]
    run.status = RechargeRunStatus.DONE
    run.finished_at = timezone.now()
    run.save()
    return run


# --- Drafts and issue ---------------------------------------------------------------------------


def _lock_invoice(invoice: Invoice) -> Invoice:
    return (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("issuer", "recipient", "partnership")
        .get(pk=invoice.pk)
    )


@transaction.atomic
def invoice_delete_draft(*, invoice: Invoice, by: User) -> None:
    """Delete a draft: the next run bills its amounts again. An issued invoice cannot be deleted."""
    locked = _lock_invoice(invoice)
    if not locked.is_draft:
        raise ValidationError(
            {"status": ["Only a draft can be deleted; correct an issued invoice with a credit note."]}
        )
    with _context(by):
        locked.lines.all().delete()
        locked.delete()


# Each kind is its own series: recharge invoices ``LBB-2223-00001``, credit notes ``LBB-CN-...``,
# contribution instalments ``LBB-PF-...`` (pooled fund), settlements ``LBB-ST-...``.
SERIES = {InvoiceKind.CREDIT_NOTE: "CN-", InvoiceKind.CONTRIBUTION: "PF-", InvoiceKind.SETTLEMENT: "ST-"}


def invoice_number(*, issuer_code: str, kind: str, year: int, sequence: int) -> str:
    """``LBB-2223-00001``; credit notes ``LBB-CN-2223-00001``; see ``SERIES``."""
    years = f"{year % 100:02d}{(year + 1) % 100:02d}"
    middle = SERIES.get(kind, "")
    return f"{issuer_code}-{middle}{years}-{sequence:05d}"


def _allocate_number(issuer: Organisation, kind: str, day: date) -> str:
    year = rates.financial_year(day)
    NumberSequence.objects.bulk_create(
        [NumberSequence(issuer=issuer, year=year, kind=kind, last=0)], ignore_conflicts=True
    )
    sequence = NumberSequence.objects.select_for_update().get(issuer=issuer, year=year, kind=kind)
    NumberSequence.objects.filter(pk=sequence.pk).update(last=F("last") + 1)
    sequence.refresh_from_db(fields=["last"])
    return invoice_number(issuer_code=issuer.code, kind=kind, year=year, sequence=sequence.last)


def _issue_locked(invoice: Invoice, by: User | None, today: date) -> None:
    invoice.number = _allocate_number(invoice.issuer, invoice.kind, today)
    invoice.issue_date = today
    invoice.due_date = today + timedelta(days=invoice.recipient.payment_terms_days)
    invoice.status = InvoiceStatus.ISSUED
    invoice.issued_by = by
    invoice.issuer_address = invoice.issuer.address
    invoice.recipient_address = invoice.recipient.address


@transaction.atomic
def invoice_issue(*, invoice: Invoice, by: User, today: date | None = None) -> Invoice:
    """Assign the next number, set the dates, freeze; the PDF is rendered (and kept) by a task
    queued on commit. Issuing an issued invoice again changes nothing."""
    locked = _lock_invoice(invoice)
    if not locked.is_draft:
        return locked
    if locked.run_id and locked.run.status != RechargeRunStatus.DONE:
        raise ValidationError({"status": ["The run that made this draft has not finished."]})
    _issue_locked(locked, by, today or timezone.localdate())
    with _context(by):
        locked.save()
    _queue_pdf(locked.pk)
    return locked


def _queue_pdf(invoice_id: int) -> None:
    from ..tasks import render_invoice_pdf

    jobs.enqueue(render_invoice_pdf, invoice_id)  # broker down: recovered later (commissioning/jobs.py)


@transaction.atomic
def invoice_pdf_ensure(*, invoice_id: int) -> Invoice:
    """Render and keep the PDF of an issued invoice once (idempotent; the lock makes a retry wait)."""
    from .. import invoice_pdf

    invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=invoice_id)
    if invoice.is_draft or invoice.pdf_checksum:
        return invoice
    path, checksum = invoice_pdf.render_and_store(invoice)
    Invoice.objects.filter(pk=invoice.pk, pdf_checksum="").update(pdf_path=path, pdf_checksum=checksum)
    invoice.refresh_from_db()
    return invoice


def invoice_pdf_read(*, invoice: Invoice) -> bytes:
    """The kept PDF of an issued invoice, rendered and kept first if its task has not run yet (the
    page and the API serve this). ``invoice_pdf.PdfMissing`` if the kept file is gone or does not
    match its checksum: an incident, logged, never re-rendered silently."""
    from .. import invoice_pdf

    if not invoice.pdf_checksum:
        invoice = invoice_pdf_ensure(invoice_id=invoice.pk)
    try:
        return invoice_pdf.read_kept(invoice)
    except invoice_pdf.PdfMissing as exc:
        logger.error("kept PDF of invoice %s (%s): %s", invoice.pk, invoice.number, exc)
        raise


# --- Payments and disputes ----------------------------------------------------------------------


def _open_disputed(invoice: Invoice) -> Decimal:
    return invoice.disputes.filter(status=DisputeStatus.OPEN).aggregate(s=Sum("amount"))["s"] or ZERO


def invoice_status_for(*, total: Decimal, paid: Decimal, credited: Decimal, open_disputes: bool) -> str:
    if credited >= total:
        return InvoiceStatus.CREDITED
    if paid + credited >= total:
        return InvoiceStatus.PAID
    if open_disputes:
        return InvoiceStatus.DISPUTED
    if paid > 0 or credited > 0:
        return InvoiceStatus.PART_PAID
    return InvoiceStatus.ISSUED


def _refresh_status(invoice: Invoice) -> None:
    invoice.status = invoice_status_for(
        total=invoice.total,
        paid=invoice.amount_paid,
        credited=invoice.amount_credited,
        open_disputes=invoice.disputes.filter(status=DisputeStatus.OPEN).exists(),
    )


def _payable(invoice: Invoice) -> None:
    if invoice.is_credit_note:
        raise ValidationError(
            {"invoice": ["Payments and disputes are recorded against invoices, not credit notes."]}
        )
    if invoice.is_draft:
        raise ValidationError({"invoice": ["Issue the invoice first."]})


@transaction.atomic
def invoice_record_payment(
    *, invoice: Invoice, amount: Decimal, paid_on: date, by: User, reference: str = ""
) -> Payment:
    """A part or full payment. Disputed lines wait: a payment covers at most the undisputed rest."""
    locked = _lock_invoice(invoice)
    _payable(locked)
    amount = Decimal(amount)
    if amount <= 0:
        raise ValidationError({"amount": ["A payment must be more than £0.00."]})
    payable = locked.outstanding - _open_disputed(locked)
    if amount > payable:
        raise ValidationError(
            {
                "amount": [
                    f"Only {format_money(payable)} is payable now (outstanding less any lines in dispute)."
                ]
            }
        )
    if paid_on < locked.issue_date:
        raise ValidationError({"date": ["A payment cannot be dated before the invoice was issued."]})
    if paid_on > timezone.localdate():
        raise ValidationError({"date": ["A payment cannot be dated in the future."]})
    with _context(by):
        payment = Payment.objects.create(
            invoice=locked, amount=amount, paid_on=paid_on, reference=reference[:60], recorded_by=by
        )
        locked.amount_paid = locked.amount_paid + amount
        _refresh_status(locked)
        locked.save(update_fields=["amount_paid", "status"])
    return payment


# Disputes (raise, resolve) live in ``disputes``, importing the helpers above; re-exported here so
# that the pages, the API and the tasks call every finance service from this one module.
from .disputes import dispute_raise, dispute_resolve  # noqa: E402, F401
from .documents import invoice_draft_single  # noqa: E402, F401
