"""Region runs: a recharge month across every partnership a finance officer may run, both issuers
of each, as one request. Each partnership and issuer is a member with its own recharge run (the
ordinary run: its statuses, its lock per issuer, its drafts); the members fan out across the Celery
workers as a chord, and the chord's callback records the summary once the last one has ended
(``brokerage.finance.region``)."""

from __future__ import annotations

from decimal import Decimal

import pghistory
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from commissioning.models import Organisation, Partnership, User
from commissioning.money import money_field
from commissioning.permissions import RestrictedManager, granted_partnership_ids

from .finance import ACTIVE_RUN_STATUSES, RechargeRun, RechargeRunStatus


@pghistory.track()
class RegionRun(models.Model):
    """One month recharged across many partnerships. Its status follows its members: queued, then
    running once the first starts, then done when every member run is done, or failed when at least
    one failed (the others keep their drafts; the summary says which failed)."""

    period = models.DateField(help_text="The first day of the month billed")
    status = models.CharField(
        max_length=10, choices=RechargeRunStatus.choices, default=RechargeRunStatus.QUEUED
    )
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    run_count = models.PositiveIntegerField(default=0)
    done_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    invoice_count = models.PositiveIntegerField(default=0)
    credit_note_count = models.PositiveIntegerField(default=0)
    total_invoiced = money_field(default=Decimal("0.00"))
    total_credited = money_field(default=Decimal("0.00"))

    # Spans partnerships: visible only when every one of its members is in the user's partnerships
    # (``restrict_objects``), so its totals never tell anyone about a partnership not theirs.
    partnership_path = None
    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["requested_by", "period"],
                condition=Q(status__in=["queued", "running"]),
                name="region_run_one_active_per_user_and_period",
            ),
            models.CheckConstraint(condition=Q(period__day=1), name="region_run_period_is_a_month"),
        ]

    def __str__(self) -> str:
        return f"Region run {self.period:%Y-%m}"

    def get_absolute_url(self) -> str:
        return reverse("finance:region-run", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_RUN_STATUSES

    @classmethod
    def restrict_objects(cls, qs, user, action):
        if user.is_superuser:
            return qs
        outside = RegionRunMember.objects.filter(region_run=OuterRef("pk")).exclude(
            partnership__in=granted_partnership_ids(user)
        )
        return qs.filter(~Exists(outside))


@pghistory.track()
class RegionRunMember(models.Model):
    """One partnership and issuer of a region run, and its recharge run. The run is made when the
    region run is requested, or by the member's task when the issuer was busy then (an issuer in
    several partnerships has one run at a time: ``recharge_run_one_active_per_issuer_and_period``)."""

    region_run = models.ForeignKey(RegionRun, on_delete=models.CASCADE, related_name="members")
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    issuer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    run = models.ForeignKey(
        RechargeRun, on_delete=models.PROTECT, null=True, blank=True, related_name="region_members"
    )
    failure = models.TextField(blank=True, help_text="Why no run could be made for this member")

    partnership_path = "partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["region_run", "partnership__name", "issuer__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["region_run", "partnership", "issuer"], name="region_member_once_per_issuer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.issuer.code} in {self.partnership.name}"

    @property
    def status(self) -> str:
        if self.run_id is None:
            return RechargeRunStatus.FAILED if self.failure else RechargeRunStatus.QUEUED
        return self.run.status

    @property
    def finished(self) -> bool:
        return self.status not in ACTIVE_RUN_STATUSES
