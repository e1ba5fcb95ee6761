"""Recharges (rules.md rule 1): monthly runs, the invoices and credit notes they draft, their
lines, payments, disputes and the number sequences of issued documents."""

from __future__ import annotations

from decimal import Decimal

import pghistory
import pgtrigger
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.urls import reverse
from django.utils import timezone

from commissioning.choices import ServiceType
from commissioning.models import Organisation, Partnership, User
from commissioning.money import money_field
from commissioning.permissions import RestrictedManager, RestrictedQuerySet

from . import line_references
from .choices import percent_field
from .packages import Package

# --- Recharges (rules.md rule 1) ----------------------------------------------------------------


class RechargeRunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


ACTIVE_RUN_STATUSES = (RechargeRunStatus.QUEUED, RechargeRunStatus.RUNNING)


@pghistory.track()
class RechargeRun(models.Model):
    """A monthly true-up run of one paying organisation (the issuer) in one partnership."""

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="recharge_runs")
    issuer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="recharge_runs")
    period = models.DateField(help_text="The first day of the month billed")
    status = models.CharField(
        max_length=10, choices=RechargeRunStatus.choices, default=RechargeRunStatus.QUEUED
    )
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    package_count = models.PositiveIntegerField(default=0)
    invoice_count = models.PositiveIntegerField(default=0)
    credit_note_count = models.PositiveIntegerField(default=0)
    total_invoiced = money_field(default=Decimal("0.00"))
    total_credited = money_field(default=Decimal("0.00"))
    unfunded = models.JSONField(default=list, blank=True)
    errors = models.JSONField(default=list, blank=True)
    failure = models.TextField(blank=True)

    partnership_path = "partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "period"],
                condition=Q(status__in=["queued", "running"]),
                name="recharge_run_one_active_per_issuer_and_period",
            ),
            models.CheckConstraint(condition=Q(period__day=1), name="recharge_run_period_is_a_month"),
        ]

    def __str__(self) -> str:
        return f"Recharge run {self.issuer.code} {self.period:%Y-%m}"

    def get_absolute_url(self) -> str:
        return reverse("finance:run", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_RUN_STATUSES


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"
    # A partner's contribution instalment to a pooled fund, and the year-end settlement of its risk
    # share (rules.md rule 2): one line each, no package, raised by ``budgets``.
    CONTRIBUTION = "contribution", "Contribution"
    SETTLEMENT = "settlement", "Settlement"


# The kinds a recharge run writes (rule 1); the others are raised one at a time for a pooled fund.
RECHARGE_KINDS = (InvoiceKind.INVOICE, InvoiceKind.CREDIT_NOTE)


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ISSUED = "issued", "Issued"
    PART_PAID = "part_paid", "Part paid"
    PAID = "paid", "Paid"
    DISPUTED = "disputed", "Disputed"
    CREDITED = "credited", "Credited"


# Issued invoices are frozen in the database itself (security.md): once out of draft, nothing but
# the status, the amounts paid and credited, and (once, after issue) the kept PDF may change.
INVOICE_FROZEN_CONDITION = """
    OLD.status <> 'draft' AND (
        NEW.status = 'draft'
        OR NEW.total IS DISTINCT FROM OLD.total
        OR NEW.kind IS DISTINCT FROM OLD.kind
        OR NEW.is_credit IS DISTINCT FROM OLD.is_credit
        OR NEW.issuer_id IS DISTINCT FROM OLD.issuer_id
        OR NEW.recipient_id IS DISTINCT FROM OLD.recipient_id
        OR NEW.partnership_id IS DISTINCT FROM OLD.partnership_id
        OR NEW.period IS DISTINCT FROM OLD.period
        OR NEW.number IS DISTINCT FROM OLD.number
        OR NEW.issue_date IS DISTINCT FROM OLD.issue_date
        OR NEW.due_date IS DISTINCT FROM OLD.due_date
        OR NEW.credit_note_for_id IS DISTINCT FROM OLD.credit_note_for_id
        OR NEW.recipient_address IS DISTINCT FROM OLD.recipient_address
        OR NEW.issuer_address IS DISTINCT FROM OLD.issuer_address
        OR (OLD.pdf_checksum <> '' AND (NEW.pdf_checksum IS DISTINCT FROM OLD.pdf_checksum
                                        OR NEW.pdf_path IS DISTINCT FROM OLD.pdf_path))
    )
"""

# The body of a statement-level trigger on invoice lines: the statement is refused if any row it
# writes (or removes) is a line of an invoice that is not a draft. One set-based lookup per
# statement (a run's COPY writes thousands of lines) instead of one per line; the same error.
_LINES_FROZEN = """
    SELECT MIN(i.id) INTO issued FROM brokerage_invoice i
    WHERE i.status <> 'draft' AND i.id IN (INVOICE_IDS);
    IF issued IS NOT NULL THEN
        RAISE EXCEPTION 'Lines of issued invoice % cannot be changed', issued
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
"""


# The lines of an issued invoice are frozen (security.md). A trigger with transition tables serves
# one event, hence one per event, each seeing the rows its statement touched.
INVOICE_LINE_FROZEN = {
    "insert": _LINES_FROZEN.replace("INVOICE_IDS", "SELECT invoice_id FROM new_lines"),
    "update": _LINES_FROZEN.replace(
        "INVOICE_IDS", "SELECT invoice_id FROM old_lines UNION ALL SELECT invoice_id FROM new_lines"
    ),
    "delete": _LINES_FROZEN.replace("INVOICE_IDS", "SELECT invoice_id FROM old_lines"),
}


class InvoiceQuerySet(RestrictedQuerySet):
    def issued(self) -> InvoiceQuerySet:
        return self.exclude(status=InvoiceStatus.DRAFT)

    def drafts(self) -> InvoiceQuerySet:
        return self.filter(status=InvoiceStatus.DRAFT)


@pghistory.track()
class Invoice(models.Model):
    """An invoice or credit note from the paying organisation to another funder."""

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="invoices")
    kind = models.CharField(max_length=12, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE)
    is_credit = models.BooleanField(
        "credit", default=False, help_text="A settlement the issuer owes the recipient (a credit note)"
    )
    issuer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="invoices_issued")
    recipient = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="invoices_received")
    period = models.DateField(help_text="The first day of the month billed")
    number = models.CharField(max_length=40, null=True, blank=True, unique=True)
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT)
    total = money_field()
    amount_paid = money_field(default=Decimal("0.00"))
    amount_credited = money_field(default=Decimal("0.00"))
    issuer_address = models.TextField(blank=True)
    recipient_address = models.TextField(blank=True)
    pdf_path = models.CharField(max_length=300, blank=True)
    pdf_checksum = models.CharField("PDF SHA-256", max_length=64, blank=True)
    run = models.ForeignKey(
        RechargeRun, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    credit_note_for = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes"
    )
    created_at = models.DateTimeField(default=timezone.now)
    issued_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    partnership_path = "partnership"
    objects = RestrictedManager.from_queryset(InvoiceQuerySet)()

    class Meta:
        ordering = ["-period", "-pk"]
        triggers = [
            pgtrigger.Protect(
                name="issued_invoice_frozen",
                operation=pgtrigger.Update,
                condition=pgtrigger.Condition(INVOICE_FROZEN_CONDITION),
            ),
            pgtrigger.Protect(
                name="issued_invoice_never_deleted",
                operation=pgtrigger.Delete,
                condition=pgtrigger.Condition("OLD.status <> 'draft'"),
            ),
            *line_references.named_triggers("brokerage_invoice"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total__gt=0), name="invoice_total_positive"),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0, amount_credited__gte=0)
                & Q(amount_paid__lte=F("total") - F("amount_credited")),
                name="invoice_paid_and_credited_within_total",
            ),
            models.CheckConstraint(condition=Q(period__day=1), name="invoice_period_is_a_month"),
            models.CheckConstraint(
                condition=Q(is_credit=False) | Q(kind="settlement"), name="invoice_credit_only_settlement"
            ),
            models.CheckConstraint(condition=~Q(issuer=F("recipient")), name="invoice_issuer_not_recipient"),
            models.CheckConstraint(
                condition=Q(status="draft", number__isnull=True, issue_date__isnull=True)
                | (
                    ~Q(status="draft")
                    & Q(number__isnull=False, issue_date__isnull=False, due_date__isnull=False)
                ),
                name="invoice_number_exactly_when_issued",
            ),
        ]
        indexes = [models.Index(fields=["issuer", "recipient", "period"], name="invoice_parties_idx")]

    def __str__(self) -> str:
        label = self.kind_label
        return f"{label} {self.number}" if self.number else f"Draft {label.lower()} to {self.recipient.code}"

    def get_absolute_url(self) -> str:
        return reverse("finance:invoice", args=[self.pk])

    @property
    def kind_label(self) -> str:
        """In words: "Invoice", "Credit note", "Contribution invoice", "Settlement credit note"."""
        if self.kind == InvoiceKind.CONTRIBUTION:
            return "Contribution invoice"
        if self.kind == InvoiceKind.SETTLEMENT:
            return "Settlement credit note" if self.is_credit else "Settlement invoice"
        return self.get_kind_display()

    @property
    def is_credit_note(self) -> bool:
        """The issuer owes the recipient: a credit note, or a settlement in the recipient's favour."""
        return self.kind == InvoiceKind.CREDIT_NOTE or self.is_credit

    @staticmethod
    def sign_of(kind: str, is_credit: bool) -> int:
        """``sign`` from the two columns (a row of ``.values()``, no Invoice built)."""
        return -1 if kind == InvoiceKind.CREDIT_NOTE or is_credit else 1

    @staticmethod
    def outstanding_of(total: Decimal, amount_paid: Decimal, amount_credited: Decimal) -> Decimal:
        return total - amount_paid - amount_credited

    @property
    def is_recharge(self) -> bool:
        return self.kind in RECHARGE_KINDS

    @property
    def is_draft(self) -> bool:
        return self.status == InvoiceStatus.DRAFT

    @property
    def outstanding(self) -> Decimal:
        return self.outstanding_of(self.total, self.amount_paid, self.amount_credited)

    @property
    def sign(self) -> int:
        """-1 for a credit note: money in lists and reports is signed from the issuer's side."""
        return self.sign_of(self.kind, self.is_credit)

    @property
    def signed_total(self) -> Decimal:
        return self.sign * self.total

    @property
    def signed_outstanding(self) -> Decimal:
        return self.sign * self.outstanding

    @property
    def period_label(self) -> str:
        return f"{self.period:%B %Y}"


class InvoiceLineQuerySet(RestrictedQuerySet):
    def with_dispute_status(self) -> InvoiceLineQuerySet:
        """Annotate ``dispute_status``: the status of the line's latest dispute, by ``raised_at`` (of
        disputes raised at the same instant, the one with the lowest id): its outcome once resolved
        (``upheld``, ``credited``), else ``open``; None for a line never disputed.

        The one place a line's dispute status is worked out: the invoice page, the API's lines (JSON
        and CSV) and the line serializer all read it from here. One correlated subquery, so the
        lines of a whole invoice or of one page are read with their statuses in one query."""
        latest = (
            Dispute.objects.filter(lines=OuterRef("pk"))
            .order_by("-raised_at", "pk")
            .annotate(line_status=Coalesce(NullIf("outcome", Value("")), "status"))
            .values("line_status")[:1]
        )
        return self.annotate(dispute_status=Subquery(latest, output_field=models.CharField()))


# The history's copies of a line's invoice and package, with no index: a line's events are found by
# the line (pgh_obj) and by their context, never by these, and every index is written for each of
# the thousands of lines a run adds (a true-up's 14,000: 110 ms of history with them, 53 without).
_UNINDEXED = {
    "related_name": "+",
    "related_query_name": "+",
    "on_delete": models.DO_NOTHING,
    "db_constraint": False,
    "db_index": False,
}


# Statement-level history: a run writes thousands of lines in one INSERT, and a row-level trigger
# would upsert the history context once per line (most of the run's time).
@pghistory.track(
    pghistory.InsertEvent(level=pghistory.Statement),
    pghistory.UpdateEvent(level=pghistory.Statement),
    pghistory.DeleteEvent(level=pghistory.Statement),
    attrs={
        "invoice": models.ForeignKey("brokerage.Invoice", **_UNINDEXED),
        "package": models.ForeignKey("brokerage.Package", null=True, blank=True, **_UNINDEXED),
    },
)
class InvoiceLine(models.Model):
    # Both checked once per statement by triggers, not per line by foreign key constraints
    # (brokerage.models.line_references: a run writes thousands of lines at once).
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines", db_constraint=False)
    # Blank on a contribution or settlement line, which says what it is for in ``description``.
    # No index of its own: invoice_line_package_month_idx (package, month) serves every lookup by
    # package, and a run writing thousands of lines would maintain both.
    package = models.ForeignKey(
        Package,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoice_lines",
        db_index=False,
        db_constraint=False,
    )
    client_reference = models.CharField(max_length=30)
    nhs_number = models.CharField("NHS number", max_length=10, blank=True)
    provider = models.CharField(max_length=200)
    service_type = models.CharField(max_length=25, choices=ServiceType.choices)
    month = models.DateField(help_text="The package month this line bills")
    start = models.DateField("from")
    end = models.DateField("to")
    days = models.PositiveSmallIntegerField(null=True, blank=True)
    weekly_cost = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    percent = percent_field(null=True, blank=True)
    paid_percent = percent_field(
        null=True, blank=True, help_text="What the provider is paid on suspended days (blank: in full)"
    )
    amount = money_field(non_negative=False)
    adjustment = models.BooleanField(default=False)
    corrects_month = models.DateField(null=True, blank=True)
    previously_billed = models.BooleanField(
        default=False, help_text="Deducts what was billed before for a package month billed again"
    )
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveIntegerField(default=0)

    # What a line says, as columns: a run writes them (with the invoice and position) and the API
    # reads them (with the id), both as plain rows.
    CONTENT_COLUMNS = (
        "package_id",
        "client_reference",
        "nhs_number",
        "provider",
        "service_type",
        "month",
        "start",
        "end",
        "days",
        "weekly_cost",
        "percent",
        "paid_percent",
        "amount",
        "adjustment",
        "corrects_month",
        "previously_billed",
        "description",
    )

    partnership_path = "invoice__partnership"
    objects = RestrictedManager.from_queryset(InvoiceLineQuerySet)()

    class Meta:
        ordering = ["invoice", "position", "pk"]
        triggers = [
            pgtrigger.Trigger(
                name="issued_invoice_lines_frozen_insert",
                level=pgtrigger.Statement,
                operation=pgtrigger.Insert,
                when=pgtrigger.After,
                referencing=pgtrigger.Referencing(new="new_lines"),
                declare=[("issued", "bigint")],
                func=INVOICE_LINE_FROZEN["insert"],
            ),
            pgtrigger.Trigger(
                name="issued_invoice_lines_frozen_update",
                level=pgtrigger.Statement,
                operation=pgtrigger.Update,
                when=pgtrigger.After,
                referencing=pgtrigger.Referencing(old="old_lines", new="new_lines"),
                declare=[("issued", "bigint")],
                func=INVOICE_LINE_FROZEN["update"],
            ),
            pgtrigger.Trigger(
                name="issued_invoice_lines_frozen_delete",
                level=pgtrigger.Statement,
                operation=pgtrigger.Delete,
                when=pgtrigger.After,
                referencing=pgtrigger.Referencing(old="old_lines"),
                declare=[("issued", "bigint")],
                func=INVOICE_LINE_FROZEN["delete"],
            ),
            *line_references.line_triggers(),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(month__day=1), name="invoice_line_month_is_a_month"),
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="invoice_line_to_not_before_from"),
            models.CheckConstraint(
                condition=Q(package__isnull=False) | ~Q(description=""),
                name="invoice_line_names_package_or_description",
            ),
            models.CheckConstraint(
                condition=Q(adjustment=False, corrects_month__isnull=True)
                | Q(adjustment=True, corrects_month=F("month")),
                name="invoice_line_adjustment_names_its_month",
            ),
        ]
        indexes = [models.Index(fields=["package", "month"], name="invoice_line_package_month_idx")]

    def __str__(self) -> str:
        return f"{self.client_reference or self.description} {self.month:%Y-%m} {self.amount}"


@pghistory.track()
class Payment(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = money_field()
    paid_on = models.DateField()
    reference = models.CharField(max_length=60, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    partnership_path = "invoice__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["paid_on", "pk"]
        triggers = [
            pgtrigger.Protect(name="payments_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")]

    def __str__(self) -> str:
        return f"Payment of {self.amount} on {self.paid_on}"


class DisputeReason(models.TextChoices):
    ELIGIBILITY = "eligibility_not_agreed", "Eligibility not agreed"
    WRONG_DATES = "wrong_dates", "Wrong dates"
    WRONG_RATE = "wrong_rate", "Wrong rate"
    MISSING_INFORMATION = "information_missing", "Supporting information missing"
    OTHER = "other", "Other"


class DisputeStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class DisputeOutcome(models.TextChoices):
    """How a dispute was settled (rules.md rule 1)."""

    UPHELD = "upheld", "Upheld: the lines stand"
    CORRECTED = "corrected", "Corrected: the package data was wrong"
    WAIVED = "waived", "Waived: not billed, as a settlement"


class CorrectionKind(models.TextChoices):
    COST = "cost", "Price change"
    FUNDING = "funding", "Funding change"
    SUSPENSION = "suspension", "Suspension"


@pghistory.track()
class Dispute(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="disputes")
    lines = models.ManyToManyField(InvoiceLine, related_name="disputes")
    reason = models.CharField(max_length=30, choices=DisputeReason.choices)
    note = models.TextField(blank=True)
    amount = money_field(non_negative=False)
    status = models.CharField(max_length=10, choices=DisputeStatus.choices, default=DisputeStatus.OPEN)
    outcome = models.CharField(max_length=10, choices=DisputeOutcome.choices, blank=True)
    raised_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    raised_at = models.DateTimeField(default=timezone.now)
    resolved_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    credit_note = models.OneToOneField(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="resolved_dispute"
    )
    # ``corrected``: the change to the package data that settled it (kind and row id), described in
    # words as it was when named (the row may later be replaced by another change).
    correction_kind = models.CharField(max_length=12, choices=CorrectionKind.choices, blank=True)
    correction_id = models.PositiveIntegerField(null=True, blank=True)
    correction = models.CharField("correcting change", max_length=300, blank=True)
    resolution_note = models.TextField(blank=True)

    partnership_path = "invoice__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", outcome="") | Q(status="resolved") & ~Q(outcome=""),
                name="dispute_outcome_exactly_when_resolved",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="corrected") | ~Q(correction_kind="") & Q(correction_id__isnull=False),
                name="dispute_corrected_names_its_change",
            ),
        ]

    def __str__(self) -> str:
        return f"Dispute {self.pk} on {self.invoice}: {self.get_reason_display()}"


@pghistory.track()
class Waiver(models.Model):
    """An amount the issuer agreed not to bill for one package month (a dispute settled as
    ``waived``): every later run counts it as settled, billing ``owed - net billed - waived``."""

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    issuer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="waivers")
    month = models.DateField(help_text="The package month waived")
    amount = money_field(non_negative=False)
    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="waivers")
    created_at = models.DateTimeField(default=timezone.now)

    partnership_path = "partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["month", "package", "pk"]
        triggers = [
            pgtrigger.Protect(name="waivers_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]
        constraints = [
            models.CheckConstraint(condition=Q(month__day=1), name="waiver_month_is_a_month"),
            models.UniqueConstraint(
                fields=["dispute", "package", "month"], name="waiver_once_per_dispute_month"
            ),
        ]
        indexes = [models.Index(fields=["issuer", "package", "month"], name="waiver_issuer_package_idx")]

    def __str__(self) -> str:
        return f"Waived {self.amount} for {self.package_id} {self.month:%Y-%m}"


class NumberSequence(models.Model):
    """The last number issued per issuer, financial year and kind; locked row by row."""

    issuer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(help_text="The financial year's starting year")
    kind = models.CharField(max_length=12, choices=InvoiceKind.choices)
    last = models.PositiveIntegerField(default=0)

    partnership_path = None
    objects = RestrictedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "year", "kind"], name="number_sequence_once"),
        ]

    def __str__(self) -> str:
        return f"{self.issuer_id} {self.year} {self.kind}: {self.last}"
