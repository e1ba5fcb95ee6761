"""Packages of care with their effective-dated cost and funding histories, and the joint funding
panel's decisions that change the funding."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import pghistory
import pgtrigger
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from commissioning.choices import ServiceType
from commissioning.models import Organisation, Provider, User
from commissioning.money import money_field
from commissioning.permissions import RestrictedManager, RestrictedQuerySet

from .. import rates
from . import line_references
from .choices import FundingBasis, PackageStatus, Unit, percent_field
from .clients import Client, Referral

# trigger, checked when the transaction commits; a deleted split needs no check).
SHARES_SUM_CHECK = """
    split := {split};
    IF EXISTS (SELECT 1 FROM brokerage_fundingsplit WHERE id = split)
       AND (SELECT COALESCE(SUM(percent), 0) FROM brokerage_fundingshare WHERE split_id = split) <> 100 THEN
        RAISE EXCEPTION 'The shares of funding split % do not sum to 100', split
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
"""


# Rows of a package's cost or funding history never overlap, also in the database. An exclusion
# constraint would need the btree_gist extension, which the embedded PostgreSQL (pgserver) does
# not ship, so a trigger checks each written row against its package's other rows (services also
# lock the package row, so two writers never race past it).
NO_OVERLAP_CHECK = """
    IF EXISTS (
        SELECT 1 FROM {table} other
        WHERE other.package_id = NEW.package_id AND other.id <> NEW.id
          AND daterange(other.effective_from, other.effective_to, '[]')
              && daterange(NEW.effective_from, NEW.effective_to, '[]')
    ) THEN
        RAISE EXCEPTION '{what} of package % overlap from %', NEW.package_id, NEW.effective_from
            USING ERRCODE = 'exclusion_violation';
    END IF;
    RETURN NULL;
"""


def _no_overlap_trigger(name: str, table: str, what: str) -> pgtrigger.Trigger:
    return pgtrigger.Trigger(
        name=name,
        operation=pgtrigger.Insert | pgtrigger.Update,
        when=pgtrigger.After,
        func=NO_OVERLAP_CHECK.format(table=table, what=what),
    )


# --- Packages -----------------------------------------------------------------------------------


@pghistory.track()
class Package(models.Model):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="packages")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="packages")
    service_type = models.CharField(max_length=25, choices=ServiceType.choices)
    start = models.DateField()
    end = models.DateField(null=True, blank=True)
    paying_organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="paid_packages",
        help_text="Contracts with and pays the provider; recharges the other funders",
    )
    referral = models.OneToOneField(
        Referral, on_delete=models.PROTECT, null=True, blank=True, related_name="package"
    )
    status = models.CharField(max_length=10, choices=PackageStatus.choices, default=PackageStatus.ACTIVE)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    partnership_path = "client__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-start", "-pk"]
        # The package lists (page and API) read the first page in this order.
        indexes = [models.Index(fields=["start", "id"], name="package_start_idx")]
        triggers = line_references.named_triggers("brokerage_package")
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=F("start")), name="package_end_not_before_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.get_service_type_display()} from {self.provider}"

    def get_absolute_url(self) -> str:
        return reverse("brokerage:package", args=[self.pk])

    @property
    def reference(self) -> str:
        return package_reference(self.pk) if self.pk else "P(new)"

    def is_live_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def cost_in_force_on(self, day: date, costs: Iterable[PackageCost] | None = None) -> PackageCost | None:
        """The cost row in force on ``day`` (rows never overlap, so one at most), or None: before the
        first, between two, after the last has ended. ``costs`` are the package's rows when already
        read (the package's page has them), else they are read (a prefetch of ``costs`` serves)."""
        rows = self.costs.all() if costs is None else costs
        return next((cost for cost in rows if cost.is_in_force_on(day)), None)


def package_reference(pk: int) -> str:
    """How people name a package (``P000008``): on its pages, invoices, exports and the API."""
    return f"P{pk:06d}"


@pghistory.track()
class PackageCost(models.Model):
    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="costs")
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    unit_rate = money_field()
    units_per_week = models.DecimalField(
        max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    unit = models.CharField(max_length=10, choices=Unit.choices)

    partnership_path = "package__client__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["package", "effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="package_cost_to_not_before_from",
            ),
            models.CheckConstraint(condition=Q(unit_rate__gte=0), name="package_cost_rate_non_negative"),
            models.CheckConstraint(condition=Q(units_per_week__gt=0), name="package_cost_units_positive"),
        ]
        triggers = [_no_overlap_trigger("package_costs_never_overlap", "brokerage_packagecost", "Costs")]

    def __str__(self) -> str:
        return f"{self.unit_rate} per {self.unit} x {self.units_per_week} from {self.effective_from}"

    def clean(self):
        super().clean()
        # The amounts derived from the price must fit the money columns (issue 19: an overflowing
        # weekly cost saved, then broke every list and recharge run that derived from it).
        problem = rates.weekly_cost_problem(self.unit_rate, self.units_per_week)
        if problem:
            raise ValidationError({"unit_rate": [problem]})

    def is_in_force_on(self, day: date) -> bool:
        """From ``effective_from`` to ``effective_to``, both days included (open-ended when blank)."""
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)

    @property
    def weekly_cost(self) -> Decimal:
        return rates.weekly_cost(self.unit_rate, self.units_per_week)


@pghistory.track()
class FundingSplit(models.Model):
    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="splits")
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    basis = models.CharField(max_length=20, choices=FundingBasis.choices)
    decision_reference = models.CharField("panel decision reference", max_length=40, blank=True)

    partnership_path = "package__client__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["package", "effective_from"]
        triggers = [
            pgtrigger.Trigger(
                name="funding_split_has_shares_summing_to_100",
                operation=pgtrigger.Insert,
                when=pgtrigger.After,
                timing=pgtrigger.Deferred,
                declare=[("split", "bigint")],
                func=SHARES_SUM_CHECK.format(split="NEW.id"),
            ),
            _no_overlap_trigger("funding_splits_never_overlap", "brokerage_fundingsplit", "Funding splits"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="funding_split_to_not_before_from",
            ),
        ]

    def __str__(self) -> str:
        return f"Funding from {self.effective_from}"

    def share_list(self) -> list[tuple[Organisation, Decimal]]:
        return [(s.organisation, s.percent) for s in self.shares.all()]


@pghistory.track()
class FundingShare(models.Model):
    split = models.ForeignKey(FundingSplit, on_delete=models.CASCADE, related_name="shares")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    percent = percent_field()

    partnership_path = "split__package__client__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["split", "organisation__code"]
        # Checked at commit (deferred), so a service may write a split and its shares in any order.
        triggers = [
            pgtrigger.Trigger(
                name="funding_shares_sum_to_100",
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                when=pgtrigger.After,
                timing=pgtrigger.Deferred,
                declare=[("split", "bigint")],
                func=SHARES_SUM_CHECK.format(
                    split="CASE WHEN TG_OP = 'DELETE' THEN OLD.split_id ELSE NEW.split_id END"
                ),
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["split", "organisation"], name="funding_share_once_per_funder"),
            models.CheckConstraint(
                condition=Q(percent__gte=0, percent__lte=100), name="funding_share_percent_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation.code} {self.percent}%"


# --- Joint funding panel ------------------------------------------------------------------------


class PanelDecisionQuerySet(RestrictedQuerySet):
    def due_for_review(self, *, by: date) -> PanelDecisionQuerySet:
        return self.filter(review_date__isnull=False, review_date__lte=by)


@pghistory.track()
class PanelDecision(models.Model):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="panel_decisions")
    reference = models.CharField(max_length=40, help_text="For example JFP-2024-031")
    meeting_date = models.DateField("panel meeting date")
    effective_from = models.DateField(help_text="May be in the past: the funding changes from this date")
    effective_to = models.DateField(null=True, blank=True)
    review_date = models.DateField(null=True, blank=True)
    basis = models.CharField(max_length=20, choices=FundingBasis.choices, default=FundingBasis.PANEL_DECISION)
    notes = models.TextField(blank=True)
    package = models.ForeignKey(
        Package, on_delete=models.PROTECT, null=True, blank=True, related_name="panel_decisions"
    )
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    partnership_path = "client__partnership"
    objects = RestrictedManager.from_queryset(PanelDecisionQuerySet)()

    class Meta:
        ordering = ["-meeting_date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="panel_decision_to_not_before_from",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.meeting_date:%d %b %Y})"

    def get_absolute_url(self) -> str:
        return reverse("brokerage:panel-decision", args=[self.pk])


@pghistory.track()
class PanelDecisionShare(models.Model):
    decision = models.ForeignKey(PanelDecision, on_delete=models.CASCADE, related_name="shares")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    percent = percent_field()

    partnership_path = "decision__client__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["decision", "organisation__code"]
        constraints = [
            models.UniqueConstraint(fields=["decision", "organisation"], name="panel_share_once_per_funder"),
            models.CheckConstraint(
                condition=Q(percent__gte=0, percent__lte=100), name="panel_share_percent_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation.code} {self.percent}%"


# --- Suspensions (rules.md rule 1) --------------------------------------------------------------


class SuspensionTreatment(models.TextChoices):
    RETAINED = "retained", "Retained: the provider is paid in full"
    REDUCED = "reduced", "Reduced: the provider is paid a percentage"
    STOPPED = "stopped", "Stopped: the provider is not paid"


@pghistory.track()
class Suspension(models.Model):
    """A dated suspension of a package (a hospital stay, a respite break) and what the provider is
    still paid for its days; the recharge engine bills the funders' shares of that."""

    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="suspensions")
    effective_from = models.DateField("from")
    effective_to = models.DateField("to")
    treatment = models.CharField(max_length=10, choices=SuspensionTreatment.choices)
    paid_percent = percent_field(verbose_name="provider paid (%)")
    reason = models.CharField(max_length=200)
    version = models.PositiveIntegerField(default=1, editable=False)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    partnership_path = "package__client__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["package", "effective_from"]
        triggers = [_no_overlap_trigger("suspensions_never_overlap", "brokerage_suspension", "Suspensions")]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__gte=F("effective_from")), name="suspension_to_not_before_from"
            ),
            models.CheckConstraint(
                condition=Q(treatment="retained", paid_percent=100)
                | Q(treatment="stopped", paid_percent=0)
                | Q(treatment="reduced", paid_percent__gt=0, paid_percent__lt=100),
                name="suspension_paid_percent_matches_treatment",
            ),
        ]

    def __str__(self) -> str:
        return f"Suspended {self.effective_from} to {self.effective_to} ({self.get_treatment_display()})"
