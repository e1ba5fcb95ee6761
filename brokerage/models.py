"""Placements and brokerage (domain.md): clients, referrals and offers, rate cards, packages with
their effective-dated cost and funding histories, and joint funding panel decisions.

Recharges (runs, invoices, credit notes, disputes) come with their own issue."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pghistory
import pgtrigger
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import ExtractYear
from django.urls import reverse
from django.utils import timezone

from commissioning.choices import ServiceType
from commissioning.models import Organisation, Partnership, Provider, User
from commissioning.money import money_field
from commissioning.permissions import RestrictedManager, RestrictedQuerySet

from . import rates
from .nhs_number import format_nhs_number, validate_nhs_number


class Cohort(models.TextChoices):
    ADULT_SOCIAL_CARE = "adult_social_care", "Adult social care"
    CHILDREN_LOOKED_AFTER = "children_looked_after", "Children looked after"
    CONTINUING_HEALTHCARE = "continuing_healthcare", "NHS continuing healthcare (CHC)"
    CHILDRENS_CONTINUING_CARE = "childrens_continuing_care", "Children's continuing care"
    SECTION_117 = "section_117", "Section 117 aftercare"
    OTHER = "other", "Other"


class Urgency(models.TextChoices):
    ROUTINE = "routine", "Routine"
    HOSPITAL_DISCHARGE = "hospital_discharge", "Hospital discharge"
    AT_RISK = "at_risk", "At risk of no support"


URGENT = (Urgency.HOSPITAL_DISCHARGE, Urgency.AT_RISK)


class ReferralStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    SOURCING = "sourcing", "Sourcing"
    OFFERED = "offered", "Offered"
    ACCEPTED = "accepted", "Accepted"
    STARTED = "started", "Started"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATUSES = (ReferralStatus.RECEIVED, ReferralStatus.SOURCING, ReferralStatus.OFFERED)


class Unit(models.TextChoices):
    HOUR = "hour", "Hour"
    NIGHT = "night", "Night"
    WEEK = "week", "Week"


class OfferStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    DECLINED = "declined", "Declined"
    ACCEPTED = "accepted", "Accepted"


class PackageStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    ENDED = "ended", "Ended"


class FundingBasis(models.TextChoices):
    PANEL_DECISION = "panel_decision", "Joint funding panel decision"
    CHC_ELIGIBILITY = "chc_eligibility", "CHC eligibility"
    S117 = "s117", "Section 117 aftercare"
    SINGLE_FUNDER = "single_funder", "Single funder"


# The shares of a funding split sum to exactly 100, also in the database (a deferred constraint
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


def _percent_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        **kwargs,
    )


# --- Clients ------------------------------------------------------------------------------------


class ClientQuerySet(RestrictedQuerySet):
    def search(self, text: str) -> ClientQuerySet:
        """Name (given, family or both), NHS number (spaces allowed) or council case reference."""
        text = " ".join((text or "").split())
        if not text:
            return self
        digits = text.replace(" ", "").replace("-", "")
        query = (
            Q(case_reference__iexact=text) | Q(family_name__icontains=text) | Q(given_name__icontains=text)
        )
        if digits.isdigit():
            query |= Q(nhs_number__startswith=digits)
        parts = text.split(" ")
        if len(parts) > 1:
            query |= Q(given_name__icontains=parts[0], family_name__icontains=" ".join(parts[1:]))
        return self.filter(query)


@pghistory.track()
class Client(models.Model):
    """Someone whose care the office arranges. Special category data: every view is logged."""

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="clients")
    nhs_number = models.CharField(
        "NHS number",
        max_length=10,
        blank=True,
        validators=[validate_nhs_number],
        help_text="10 digits, for example 943 476 5919",
    )
    case_reference = models.CharField(
        "council case reference", max_length=30, help_text="The reference in the council's case system"
    )
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True, blank=True)
    cohort = models.CharField(max_length=30, choices=Cohort.choices)
    gp_practice = models.CharField("GP practice", max_length=200, blank=True)
    resident_borough = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    partnership_path = "partnership"
    objects = RestrictedManager.from_queryset(ClientQuerySet)()

    class Meta:
        ordering = ["family_name", "given_name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "nhs_number"],
                condition=~Q(nhs_number=""),
                name="client_nhs_number_unique",
            ),
            models.UniqueConstraint(
                fields=["partnership", "case_reference"], name="client_case_reference_unique"
            ),
            models.CheckConstraint(
                condition=Q(nhs_number="") | Q(nhs_number__regex=r"^[0-9]{10}$"),
                name="client_nhs_number_digits",
            ),
        ]
        indexes = [
            models.Index(fields=["partnership", "family_name"], name="client_name_idx"),
            models.Index(fields=["nhs_number"], name="client_nhs_number_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name} ({self.case_reference})"

    def get_absolute_url(self) -> str:
        return reverse("brokerage:client", args=[self.pk])

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def nhs_number_display(self) -> str:
        return format_nhs_number(self.nhs_number)


# --- Rate cards ---------------------------------------------------------------------------------


@pghistory.track()
class RateCard(models.Model):
    """The baseline (council) price of a service type in a partnership for one financial year."""

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="rate_cards")
    service_type = models.CharField(max_length=25, choices=ServiceType.choices)
    year = models.PositiveSmallIntegerField(
        "financial year",
        validators=[MinValueValidator(2000), MaxValueValidator(2100)],
        help_text="The year the financial year starts: 2024 is 2024/25",
    )
    unit_rate = money_field()
    unit = models.CharField(max_length=10, choices=Unit.choices)

    partnership_path = "partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-year", "service_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "service_type", "year"], name="rate_card_once_per_service_and_year"
            ),
            models.CheckConstraint(condition=Q(unit_rate__gte=0), name="rate_card_rate_non_negative"),
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2100), name="rate_card_year_range"),
        ]

    def __str__(self) -> str:
        return f"{self.get_service_type_display()} {self.year_label}: {self.unit_rate} per {self.unit}"

    @property
    def year_label(self) -> str:
        return rates.financial_year_label(self.year)


def financial_year_expression(field_name: str):
    """SQL for the financial year (its starting year) of a date column."""
    return Case(
        When(**{f"{field_name}__month__gte": 4}, then=ExtractYear(field_name)),
        default=ExtractYear(field_name) - 1,
        output_field=IntegerField(),
    )


# --- Referrals ----------------------------------------------------------------------------------


class ReferralQuerySet(RestrictedQuerySet):
    def open(self) -> ReferralQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def queue_order(self) -> ReferralQuerySet:
        """Urgent referrals (hospital discharge, at risk) first, oldest first within each tier.
        The open referrals are indexed in this order (``referral_queue_order_idx``)."""
        return self.annotate(urgency_rank=urgency_rank()).order_by("urgency_rank", "received_at", "pk")


def urgency_rank() -> Case:
    """0 for urgent referrals, 1 for the rest: the queue's first sort key."""
    return Case(When(urgency__in=URGENT, then=Value(0)), default=Value(1))


@pghistory.track()
class Referral(models.Model):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="referrals")
    service_type = models.CharField(max_length=25, choices=ServiceType.choices)
    needs_summary = models.TextField(blank=True, help_text="What the person needs, in a few lines")
    requirement = models.CharField(
        "hours or placement required",
        max_length=200,
        blank=True,
        help_text="For example: 14 hours a week, two carers mornings; or a nursing bed with dementia care",
    )
    required_start = models.DateField(null=True, blank=True)
    urgency = models.CharField(max_length=20, choices=Urgency.choices, default=Urgency.ROUTINE)
    proposed_funder = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_by = models.CharField(
        max_length=200, blank=True, help_text="Who referred, for example the hospital discharge team"
    )
    assigned_to = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="assigned_referrals"
    )
    status = models.CharField(max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.RECEIVED)
    received_at = models.DateTimeField(default=timezone.now)
    sourcing_at = models.DateTimeField(null=True, blank=True)
    offered_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    partnership_path = "client__partnership"
    objects = RestrictedManager.from_queryset(ReferralQuerySet)()

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "urgency", "received_at"], name="referral_queue_idx"),
            # The queue's page of open referrals read in order, without sorting them all first.
            models.Index(
                urgency_rank(),
                F("received_at"),
                F("id"),
                condition=Q(status__in=OPEN_STATUSES),
                name="referral_queue_order_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.get_service_type_display()}"

    def get_absolute_url(self) -> str:
        return reverse("brokerage:referral", args=[self.pk])

    @property
    def reference(self) -> str:
        return f"R{self.pk:06d}" if self.pk else "R(new)"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_urgent(self) -> bool:
        return self.urgency in URGENT


@pghistory.track()
class ReferralActivity(models.Model):
    """One step of a referral's timeline: what happened, who did it and when. Append-only."""

    class Kind(models.TextChoices):
        RECEIVED = "received", "Referral received"
        ASSIGNED = "assigned", "Assigned"
        SOURCING = "sourcing", "Sourcing started"
        OFFER = "offer", "Offer recorded"
        APPROVED = "approved", "Offer approved above the rate card"
        DECLINED = "declined", "Offer declined"
        ACCEPTED = "accepted", "Offer accepted"
        STARTED = "started", "Package started"
        CANCELLED = "cancelled", "Referral cancelled"
        NOTE = "note", "Note"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="activities")
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.CharField(max_length=500, blank=True)

    partnership_path = "referral__client__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["at", "pk"]
        triggers = [
            pgtrigger.Protect(name="referral_activity_append_only", operation=pgtrigger.Update),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.text}".strip()


class OfferQuerySet(RestrictedQuerySet):
    def with_rate_card(self) -> OfferQuerySet:
        """Annotate ``rate_card_rate``: the rate card of the referral's partnership and service
        type, in the offer's unit, for the financial year of the earliest start (None if none)."""
        card = RateCard.objects.filter(
            partnership=OuterRef("referral__client__partnership"),
            service_type=OuterRef("referral__service_type"),
            unit=OuterRef("unit"),
            year=OuterRef("_fy"),
        ).values("unit_rate")[:1]
        return self.annotate(_fy=financial_year_expression("earliest_start")).annotate(
            rate_card_rate=Subquery(card, output_field=models.DecimalField(max_digits=14, decimal_places=2))
        )


@pghistory.track()
class Offer(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="offers")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="offers")
    unit_rate = money_field()
    units_per_week = models.DecimalField(
        max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    unit = models.CharField(max_length=10, choices=Unit.choices)
    earliest_start = models.DateField()
    status = models.CharField(max_length=10, choices=OfferStatus.choices, default=OfferStatus.RECEIVED)
    notes = models.CharField(max_length=300, blank=True)
    decline_reason = models.CharField(max_length=300, blank=True)
    approved_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    partnership_path = "referral__client__partnership"
    objects = RestrictedManager.from_queryset(OfferQuerySet)()

    class Meta:
        ordering = ["created_at", "pk"]
        permissions = [("approve_offer", "Can approve offers above the rate card")]
        constraints = [
            models.CheckConstraint(condition=Q(unit_rate__gte=0), name="offer_rate_non_negative"),
            models.CheckConstraint(condition=Q(units_per_week__gt=0), name="offer_units_positive"),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True, approved_at__isnull=True)
                | Q(approved_by__isnull=False, approved_at__isnull=False),
                name="offer_approval_names_who_and_when",
            ),
        ]

    def __str__(self) -> str:
        return f"Offer from {self.provider} at {self.unit_rate} per {self.unit}"

    @property
    def weekly_cost(self) -> Decimal:
        return rates.weekly_cost(self.unit_rate, self.units_per_week)

    def get_rate_card_rate(self) -> Decimal | None:
        if hasattr(self, "rate_card_rate"):
            return self.rate_card_rate
        card = RateCard.objects.filter(
            partnership_id=self.referral.client.partnership_id,
            service_type=self.referral.service_type,
            unit=self.unit,
            year=rates.financial_year(self.earliest_start),
        ).first()
        return card.unit_rate if card else None

    @property
    def rate_card_difference(self) -> Decimal | None:
        return rates.rate_card_difference(self.unit_rate, self.get_rate_card_rate())

    @property
    def needs_approval(self) -> bool:
        return rates.needs_approval(self.unit_rate, self.get_rate_card_rate())

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None


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
        return f"P{self.pk:06d}" if self.pk else "P(new)"

    def is_live_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


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
    percent = _percent_field()

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
    percent = _percent_field()

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

INVOICE_LINE_FROZEN = """
    IF TG_OP <> 'INSERT' AND (SELECT status FROM brokerage_invoice WHERE id = OLD.invoice_id) <> 'draft' THEN
        RAISE EXCEPTION 'Lines of issued invoice % cannot be changed', OLD.invoice_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP <> 'DELETE' AND (SELECT status FROM brokerage_invoice WHERE id = NEW.invoice_id) <> 'draft' THEN
        RAISE EXCEPTION 'Lines of issued invoice % cannot be changed', NEW.invoice_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
"""


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
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total__gt=0), name="invoice_total_positive"),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0, amount_credited__gte=0)
                & Q(amount_paid__lte=F("total") - F("amount_credited")),
                name="invoice_paid_and_credited_within_total",
            ),
            models.CheckConstraint(condition=Q(period__day=1), name="invoice_period_is_a_month"),
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
        label = self.get_kind_display()
        return f"{label} {self.number}" if self.number else f"Draft {label.lower()} to {self.recipient.code}"

    def get_absolute_url(self) -> str:
        return reverse("finance:invoice", args=[self.pk])

    @property
    def is_draft(self) -> bool:
        return self.status == InvoiceStatus.DRAFT

    @property
    def outstanding(self) -> Decimal:
        return self.total - self.amount_paid - self.amount_credited

    @property
    def period_label(self) -> str:
        return f"{self.period:%B %Y}"


# Statement-level history: a run writes thousands of lines in one INSERT, and a row-level trigger
# would upsert the history context once per line (most of the run's time).
@pghistory.track(
    pghistory.InsertEvent(level=pghistory.Statement),
    pghistory.UpdateEvent(level=pghistory.Statement),
    pghistory.DeleteEvent(level=pghistory.Statement),
)
class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="invoice_lines")
    client_reference = models.CharField(max_length=30)
    nhs_number = models.CharField("NHS number", max_length=10, blank=True)
    provider = models.CharField(max_length=200)
    service_type = models.CharField(max_length=25, choices=ServiceType.choices)
    month = models.DateField(help_text="The package month this line bills")
    start = models.DateField("from")
    end = models.DateField("to")
    days = models.PositiveSmallIntegerField(null=True, blank=True)
    weekly_cost = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    percent = _percent_field(null=True, blank=True)
    amount = money_field(non_negative=False)
    adjustment = models.BooleanField(default=False)
    corrects_month = models.DateField(null=True, blank=True)
    previously_billed = models.BooleanField(
        default=False, help_text="Deducts what was billed before for a package month billed again"
    )
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
        "amount",
        "adjustment",
        "corrects_month",
        "previously_billed",
    )

    partnership_path = "invoice__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["invoice", "position", "pk"]
        triggers = [
            pgtrigger.Trigger(
                name="issued_invoice_lines_frozen",
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                when=pgtrigger.Before,
                func=INVOICE_LINE_FROZEN,
            )
        ]
        constraints = [
            models.CheckConstraint(condition=Q(month__day=1), name="invoice_line_month_is_a_month"),
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="invoice_line_to_not_before_from"),
            models.CheckConstraint(
                condition=Q(adjustment=False, corrects_month__isnull=True)
                | Q(adjustment=True, corrects_month=F("month")),
                name="invoice_line_adjustment_names_its_month",
            ),
        ]
        indexes = [models.Index(fields=["package", "month"], name="invoice_line_package_month_idx")]

    def __str__(self) -> str:
        return f"{self.client_reference} {self.month:%Y-%m} {self.amount}"


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
    UPHELD = "upheld", "Upheld: the lines stand"
    CREDITED = "credited", "Credited"


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

    partnership_path = "invoice__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", outcome="") | Q(status="resolved") & ~Q(outcome=""),
                name="dispute_outcome_exactly_when_resolved",
            ),
        ]

    def __str__(self) -> str:
        return f"Dispute {self.pk} on {self.invoice}: {self.get_reason_display()}"


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
