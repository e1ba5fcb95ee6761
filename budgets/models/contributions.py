"""Partners' contributions to a pooled schedule (rules.md rule 2): a plan per partner, schedule and
year says how often the host invoices it; an instalment is recorded when it is raised, with the
amount it was raised for and its invoice (kind ``contribution``), so that an instalment is raised
once (a unique constraint) and a change to the approved lines changes only the instalments still to
raise. The amounts themselves are derived (``budgets.contributions``), never typed."""

from __future__ import annotations

import pghistory
from django.db import models
from django.db.models import Q
from django.utils import timezone

from commissioning.models import Organisation, User
from commissioning.money import money_field
from commissioning.permissions import RestrictedManager

from . import YEAR_MAX, YEAR_MIN, Schedule, year_label


class Frequency(models.TextChoices):
    QUARTERLY = "quarterly", "Quarterly in advance"
    MONTHLY = "monthly", "Monthly in advance"


@pghistory.track()
class ContributionPlan(models.Model):
    """How a partner that does not host the pool pays its contribution to one pooled schedule for
    one financial year: quarterly (the default) or monthly instalments, invoiced by the host."""

    schedule = models.ForeignKey(Schedule, on_delete=models.PROTECT, related_name="contribution_plans")
    year = models.PositiveSmallIntegerField("financial year", help_text="By its starting year")
    partner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.QUARTERLY)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1, editable=False)

    partnership_path = "schedule__agreement__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["schedule", "year", "partner__code"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "year", "partner"], name="contribution_plan_once"),
            models.CheckConstraint(
                condition=Q(year__gte=YEAR_MIN, year__lte=YEAR_MAX), name="contribution_plan_year_range"
            ),
            models.CheckConstraint(
                condition=Q(frequency__in=["quarterly", "monthly"]), name="contribution_plan_frequency_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner.code} contribution to {self.schedule}, {year_label(self.year)}"

    @property
    def year_label(self) -> str:
        return year_label(self.year)

    @property
    def instalment_count(self) -> int:
        return 12 if self.frequency == Frequency.MONTHLY else 4


@pghistory.track()
class ContributionInstalment(models.Model):
    """An instalment as raised: its number in the plan, its due date, the amount it was raised for and
    the invoice. A draft deleted in finance leaves the instalment without an invoice: it is raised
    again, for the amount then due."""

    plan = models.ForeignKey(ContributionPlan, on_delete=models.PROTECT, related_name="instalments")
    number = models.PositiveSmallIntegerField()
    due = models.DateField()
    amount = money_field()
    invoice = models.OneToOneField(
        "brokerage.Invoice",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contribution_instalment",
    )
    raised_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    raised_at = models.DateTimeField(default=timezone.now)

    partnership_path = "plan__schedule__agreement__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="contribution_instalment_raised_once"),
            models.CheckConstraint(
                condition=Q(number__gte=1, number__lte=12), name="contribution_instalment_number_range"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="contribution_instalment_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"Instalment {self.number} of {self.plan}"
