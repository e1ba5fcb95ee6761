"""Price changes of packages: each one proposed with a reason, and, above the rate card, approved or
declined by a brokerage manager who did not propose it before it applies (issue 18)."""

from __future__ import annotations

from decimal import Decimal

import pghistory
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from commissioning.models import User
from commissioning.money import money_field
from commissioning.permissions import RestrictedManager, RestrictedQuerySet

from .. import rates
from .choices import Unit
from .packages import Package, PackageCost


class PriceChangeStatus(models.TextChoices):
    PENDING = "pending", "Awaiting approval"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"
    WITHIN_CARD = "within_card", "Within the rate card"


# The statuses whose price is (or was) applied to the package's cost history.
APPLIED_STATUSES = (PriceChangeStatus.APPROVED, PriceChangeStatus.WITHIN_CARD)


class PriceChangeQuerySet(RestrictedQuerySet):
    def pending(self) -> PriceChangeQuerySet:
        return self.filter(status=PriceChangeStatus.PENDING)


@pghistory.track()
class PriceChange(models.Model):
    """A price of a package from a date, as proposed: who proposed it and why, the rate card it was
    compared with, and who decided it and when. Applied prices point at the cost row they opened
    (emptied when a later backdated change replaces that row; ``replaced`` keeps what it replaced)."""

    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="price_changes")
    effective_from = models.DateField("price from")
    unit_rate = money_field()
    units_per_week = models.DecimalField(
        max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    unit = models.CharField(max_length=10, choices=Unit.choices)
    rate_card_rate = money_field(null=True, blank=True, help_text="The rate card it was compared with")
    reason = models.CharField(max_length=300)
    status = models.CharField(max_length=12, choices=PriceChangeStatus.choices)
    proposed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(max_length=300, blank=True)
    cost = models.ForeignKey(
        PackageCost, on_delete=models.SET_NULL, null=True, blank=True, related_name="price_changes"
    )
    replaced = models.CharField(
        max_length=500, blank=True, help_text="The later prices this change replaced, in words"
    )

    partnership_path = "package__client__partnership"
    objects = RestrictedManager.from_queryset(PriceChangeQuerySet)()

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["package"],
                condition=Q(status="pending"),
                name="price_change_one_pending_per_package",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["approved", "declined"], decided_by__isnull=False, decided_at__isnull=False
                )
                | Q(status__in=["pending", "within_card"], decided_by__isnull=True, decided_at__isnull=True),
                name="price_change_decision_names_who_and_when",
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""),
                name="price_change_decline_has_a_reason",
            ),
            models.CheckConstraint(condition=Q(unit_rate__gte=0), name="price_change_rate_non_negative"),
            models.CheckConstraint(condition=Q(units_per_week__gt=0), name="price_change_units_positive"),
        ]

    def __str__(self) -> str:
        return f"Price of P{self.package_id:06d} from {self.effective_from}: {self.unit_rate} per {self.unit}"

    def get_absolute_url(self) -> str:
        return reverse("brokerage:package", args=[self.package_id]) + "#prices"

    @property
    def weekly_cost(self) -> Decimal:
        return rates.weekly_cost(self.unit_rate, self.units_per_week)

    @property
    def rate_card_difference(self) -> Decimal | None:
        return rates.rate_card_difference(self.unit_rate, self.rate_card_rate)

    @property
    def is_pending(self) -> bool:
        return self.status == PriceChangeStatus.PENDING
