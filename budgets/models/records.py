"""What happens to a section 75 agreement after signature (domain.md): its variations, numbered and
effective dated, each approved by a decision and kept as a signed deed; and its reviews, due each
review period, held, and ending in an outcome that went to a decision or a paper."""

from __future__ import annotations

import uuid

import pghistory
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from commissioning.permissions import RestrictedManager


def deed_upload_to(instance, filename: str) -> str:
    """A generated name: nothing the uploader chose reaches the file system."""
    return f"agreements/variations/{uuid.uuid4().hex}.pdf"


class ReviewOutcome(models.TextChoices):
    CONTINUE = "continue", "Continue"
    VARY = "vary", "Vary"
    GIVE_NOTICE = "give_notice", "Give notice"


@pghistory.track()
class Variation(models.Model):
    agreement = models.ForeignKey(
        "budgets.Section75Agreement", on_delete=models.PROTECT, related_name="variations"
    )
    number = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)], editable=False)
    effective_from = models.DateField()
    changes = models.TextField(
        "what it changes", help_text="Schedules added, ended or changed; terms changed"
    )
    schedules = models.ManyToManyField(
        "budgets.Schedule", blank=True, related_name="variations", verbose_name="schedules it touches"
    )
    decision = models.ForeignKey(
        "governance.Decision",
        on_delete=models.PROTECT,
        related_name="variations",
        verbose_name="approving decision",
    )
    signed_deed = models.FileField(upload_to=deed_upload_to, blank=True)
    signed_deed_name = models.CharField(
        "signed deed", max_length=100, blank=True, help_text="The uploaded file's name, as display text"
    )

    partnership_path = "agreement__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["agreement", "number"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "number"], name="variation_number_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="variation_number_positive"),
        ]

    def __str__(self) -> str:
        return f"Variation {self.number}"

    def get_absolute_url(self) -> str:
        return reverse("budgets:agreement-detail", args=[self.agreement_id]) + f"#variation-{self.number}"


@pghistory.track()
class Review(models.Model):
    agreement = models.ForeignKey(
        "budgets.Section75Agreement", on_delete=models.PROTECT, related_name="reviews"
    )
    year = models.PositiveSmallIntegerField(
        "financial year",
        validators=[MinValueValidator(2000), MaxValueValidator(2100)],
        help_text="By its starting year: 2026 is 2026/27",
    )
    due = models.DateField()
    held_on = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=15, choices=ReviewOutcome.choices, blank=True)
    decision = models.ForeignKey(
        "governance.Decision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agreement_reviews",
        verbose_name="decision",
    )
    paper = models.ForeignKey(
        "governance.Paper",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agreement_reviews",
        verbose_name="paper",
    )
    notes = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    partnership_path = "agreement__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["agreement", "-due"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "year"], name="review_once_a_year"),
            models.CheckConstraint(
                condition=Q(outcome="") | Q(held_on__isnull=False), name="review_outcome_when_held"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=["", *ReviewOutcome.values]), name="review_outcome_known"
            ),
        ]

    def __str__(self) -> str:
        from budgets.models import year_label

        return f"Review {year_label(self.year)}"

    def get_absolute_url(self) -> str:
        return reverse("budgets:agreement-detail", args=[self.agreement_id]) + f"#review-{self.pk}"

    @property
    def held(self) -> bool:
        return self.held_on is not None
