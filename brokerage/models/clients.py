"""Clients, their referrals (with the timeline of each) and the offers providers make."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pghistory
import pgtrigger
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Case, F, OuterRef, Q, Subquery, Value, When
from django.urls import reverse
from django.utils import timezone

from commissioning.choices import ServiceType
from commissioning.models import Organisation, Partnership, Provider, User
from commissioning.money import money_field
from commissioning.permissions import RestrictedManager, RestrictedQuerySet

from .. import rates
from ..nhs_number import format_nhs_number, validate_nhs_number
from .choices import (
    OPEN_STATUSES,
    URGENCY_TAG_CLASSES,
    URGENT,
    Cohort,
    OfferStatus,
    ReferralStatus,
    Unit,
    Urgency,
)
from .rate_cards import RateCard, financial_year_expression

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
    def urgency_tag_class(self) -> str:
        """The GOV.UK tag class its urgency is shown in, blank for plain text (``URGENCY_TAG_CLASSES``)."""
        return URGENCY_TAG_CLASSES[self.urgency]

    def is_overdue(self, today: date) -> bool:
        """The start it needed has passed and it has neither started nor been cancelled."""
        return (
            self.required_start is not None
            and self.required_start < today
            and self.status not in (ReferralStatus.STARTED, ReferralStatus.CANCELLED)
        )


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

    def clean(self):
        super().clean()
        # The amounts derived from the price must fit the money columns (issue 19: an overflowing
        # weekly cost saved, then broke every list and recharge run that derived from it).
        problem = rates.weekly_cost_problem(self.unit_rate, self.units_per_week)
        if problem:
            raise ValidationError({"unit_rate": [problem]})

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
    def rate_card_weekly(self) -> Decimal | None:
        """The rate card for the offer's units a week (card x units per week), None if no card."""
        card = self.get_rate_card_rate()
        return None if card is None else rates.weekly_cost(card, self.units_per_week)

    @property
    def weekly_difference(self) -> Decimal | None:
        """How far the weekly cost is above (positive) or below the card's for the same units."""
        card = self.rate_card_weekly
        return None if card is None else self.weekly_cost - card

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None
