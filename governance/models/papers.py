"""Board papers, their PDF appendices and what they concern."""

from __future__ import annotations

import uuid

import pghistory
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from commissioning.permissions import RestrictedManager
from governance.models.access import ExemptContentMixin
from governance.models.boards import Board
from governance.models.choices import EXEMPT_REGIMES, ExemptionRegime, Session


@pghistory.track()
class Paper(ExemptContentMixin, models.Model):
    """A board paper with the cover-sheet fields of the NHS and council papers."""

    board = models.ForeignKey(Board, on_delete=models.PROTECT, related_name="papers")
    title = models.CharField(max_length=300)
    session = models.CharField(max_length=10, choices=Session.choices, default=Session.PUBLIC)
    authors = models.CharField(max_length=300, blank=True)
    clinical_lead = models.CharField(max_length=200, blank=True)
    executive_sponsor = models.CharField(max_length=200, blank=True)
    executive_summary = models.TextField(blank=True)
    recommendations = ArrayField(models.TextField(), default=list, blank=True)
    body = models.TextField(blank=True)
    equality_impact = models.TextField(blank=True)
    financial_impact = models.TextField(blank=True)
    legal_impact = models.TextField(blank=True)
    risk_impact = models.TextField(blank=True)
    conflicts_of_interest = models.TextField(blank=True)
    presented_before = models.CharField(max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    partnership_path = "board__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def exempt_q(cls) -> Q:
        return Q(session=Session.PRIVATE) | Q(agenda_item__exemption_regime__in=EXEMPT_REGIMES)

    @property
    def exempt(self) -> bool:
        item = getattr(self, "agenda_item", None) if self.pk else None
        return self.session == Session.PRIVATE or bool(item and item.exempt)


def appendix_upload_to(instance, filename: str) -> str:
    """A generated name: nothing the uploader chose reaches the file system (the original name is
    kept in ``original_name`` as display text only)."""
    return f"appendices/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.pdf"


@pghistory.track()
class PaperAppendix(ExemptContentMixin, models.Model):
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="appendices")
    order = models.PositiveSmallIntegerField(default=1)
    title = models.CharField(max_length=300)
    file = models.FileField(upload_to=appendix_upload_to)
    original_name = models.CharField(
        max_length=100, blank=True, help_text="The uploaded file's name, as display text only."
    )
    page_count = models.PositiveIntegerField(default=0)
    exemption_regime = models.CharField(
        max_length=20, choices=ExemptionRegime.choices, default=ExemptionRegime.NONE
    )
    exemption_paragraph = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(7)]
    )
    exemption_reason = models.CharField(max_length=300, blank=True)

    partnership_path = "paper__board__partnership"
    board_path = "paper__board"
    objects = RestrictedManager()

    class Meta:
        ordering = ["paper", "order"]
        verbose_name_plural = "paper appendices"
        constraints = [
            models.CheckConstraint(
                condition=Q(exemption_regime="none")
                | (~Q(exemption_reason="") & ~Q(exemption_regime="schedule_12a"))
                | (
                    Q(exemption_regime="schedule_12a")
                    & ~Q(exemption_reason="")
                    & Q(exemption_paragraph__gte=1, exemption_paragraph__lte=7)
                ),
                name="appendix_exemption_stated",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def exempt(self) -> bool:
        return self.exemption_regime != ExemptionRegime.NONE

    @classmethod
    def exempt_q(cls) -> Q:
        return (
            Q(exemption_regime__in=EXEMPT_REGIMES)
            | Q(paper__session=Session.PRIVATE)
            | Q(paper__agenda_item__exemption_regime__in=EXEMPT_REGIMES)
        )


@pghistory.track()
class PaperLink(models.Model):
    """What a paper concerns: agreements, schedules, budget lines, contracts (generic)."""

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="links")
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")

    partnership_path = "paper__board__partnership"
    objects = RestrictedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["paper", "content_type", "object_id"], name="paper_link_once")
        ]

    def __str__(self) -> str:
        return f"{self.paper} → {self.content_type.model} {self.object_id}"
