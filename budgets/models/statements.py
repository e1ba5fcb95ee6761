"""Pooled fund statements as produced (rules.md rule 2): each request for a statement's PDF is a row,
rendered by the worker, its figures kept as rendered; a year's statement approved by a board decision
is what the year-end settlement invoices and credit notes are raised from, once per partner."""

from __future__ import annotations

import pghistory
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from commissioning.models import Organisation, User
from commissioning.money import money_field
from commissioning.permissions import RestrictedManager

from . import Section75Agreement, year_label


class StatementStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


@pghistory.track()
class FundStatement(models.Model):
    agreement = models.ForeignKey(Section75Agreement, on_delete=models.PROTECT, related_name="statements")
    year = models.PositiveSmallIntegerField("financial year", help_text="By its starting year")
    quarter = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1-4; blank for the year")
    status = models.CharField(max_length=10, choices=StatementStatus.choices, default=StatementStatus.QUEUED)
    figures = models.JSONField(
        default=dict, blank=True, help_text="The statement as rendered (the API's shape)"
    )
    pdf_path = models.CharField(max_length=300, blank=True, help_text="Path under PDF_ROOT")
    pdf_checksum = models.CharField("PDF SHA-256", max_length=64, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    decision = models.ForeignKey(
        "governance.Decision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fund_statements",
        verbose_name="approving decision",
    )
    approved_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    partnership_path = "agreement__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["agreement", "-year", "-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quarter__isnull=True) | Q(quarter__gte=1, quarter__lte=4),
                name="fund_statement_quarter_range",
            ),
            models.CheckConstraint(
                condition=Q(status="ready") | Q(pdf_checksum=""), name="fund_statement_pdf_when_ready"
            ),
            models.CheckConstraint(
                condition=Q(decision__isnull=True) | Q(status="ready", quarter__isnull=True),
                name="fund_statement_approved_when_a_ready_year",
            ),
        ]

    def __str__(self) -> str:
        span = f"Q{self.quarter} " if self.quarter else ""
        return f"Pooled fund statement {self.agreement.reference} {span}{year_label(self.year)}"

    def get_absolute_url(self) -> str:
        url = reverse("budgets:statement", args=[self.agreement_id])
        return f"{url}?year={self.year}" + (f"&quarter={self.quarter}" if self.quarter else "")


@pghistory.track()
class StatementSettlement(models.Model):
    """The year-end settlement of one partner, raised once from an approved statement: an invoice
    (the partner owes the host) or a credit note (the host owes the partner), kind ``settlement``."""

    statement = models.ForeignKey(FundStatement, on_delete=models.PROTECT, related_name="settlements")
    partner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    amount = money_field(non_negative=False)
    invoice = models.OneToOneField(
        "brokerage.Invoice", on_delete=models.SET_NULL, null=True, blank=True, related_name="settlement_of"
    )
    raised_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    raised_at = models.DateTimeField(default=timezone.now)

    partnership_path = "statement__agreement__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["statement", "partner__code"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "partner"], name="statement_settlement_once"),
            models.CheckConstraint(condition=~Q(amount=0), name="statement_settlement_not_zero"),
        ]

    def __str__(self) -> str:
        return f"Settlement of {self.partner.code} for {self.statement}"
