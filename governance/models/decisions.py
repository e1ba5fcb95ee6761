"""Decisions, the votes cast, what each decision changed, and the reference counters."""

from __future__ import annotations

import pghistory
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.urls import reverse

from commissioning.models import Organisation, Person
from commissioning.money import money_field
from commissioning.permissions import RestrictedManager, has_model_permission
from governance.models.access import ExemptContentMixin
from governance.models.boards import Board
from governance.models.choices import EXEMPT_REGIMES, Outcome, VoteChoice
from governance.models.meetings import AgendaItem


@pghistory.track()
class Decision(ExemptContentMixin, models.Model):
    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.PROTECT, related_name="decisions")
    reference = models.CharField(max_length=30, unique=True)
    minute_number = models.CharField(max_length=20, blank=True)
    resolution = models.TextField()
    reasons = models.TextField(blank=True)
    alternatives_rejected = models.TextField(blank=True)
    outcome = models.CharField(max_length=30, choices=Outcome.choices)
    quorate = models.BooleanField(default=False)
    financial_value = money_field(null=True, blank=True)
    key_decision = models.BooleanField(default=False)
    urgent = models.BooleanField(default=False)
    urgent_reason = models.TextField(blank=True)
    decided_on = models.DateField()
    published_on = models.DateField(null=True, blank=True)
    call_in_ends = models.DateTimeField(null=True, blank=True)
    effective_from = models.DateTimeField(null=True, blank=True)
    quorum_note = models.CharField(max_length=500, blank=True)
    vote_note = models.CharField(max_length=500, blank=True)
    notice_ok = models.BooleanField(
        "key-decision notice given",
        default=True,
        help_text="False: a key decision without 28 clear days' notice",
    )
    notice_note = models.CharField(max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        editable=False,
        help_text="The published decision this correction notice puts right",
    )

    partnership_path = "agenda_item__meeting__board__partnership"
    board_path = "agenda_item__meeting__board"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-decided_on", "-reference"]
        # The decision log reads its first page in this order without sorting every decision.
        indexes = [models.Index(fields=["decided_on", "reference"], name="decision_log_order_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(urgent=False) | ~Q(urgent_reason=""), name="decision_urgent_reason"
            ),
            models.CheckConstraint(
                condition=Q(financial_value__isnull=True) | Q(financial_value__gte=0),
                name="decision_value_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.agenda_item.title}"

    def get_absolute_url(self) -> str:
        return reverse("governance:decision", args=[self.pk])

    @classmethod
    def exempt_q(cls) -> Q:
        return Q(agenda_item__exemption_regime__in=EXEMPT_REGIMES)

    @property
    def board(self) -> Board:
        return self.agenda_item.meeting.board

    @property
    def flagged(self) -> bool:
        return self.key_decision and not self.notice_ok

    @property
    def published(self) -> bool:
        return self.published_on is not None


@pghistory.track()
class Vote(ExemptContentMixin, models.Model):
    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="votes")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="votes")
    representing = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    choice = models.CharField(max_length=10, choices=VoteChoice.choices)
    casting = models.BooleanField(default=False)

    partnership_path = "decision__agenda_item__meeting__board__partnership"
    board_path = "decision__agenda_item__meeting__board"
    objects = RestrictedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["decision", "person", "casting"], name="vote_once_per_member")
        ]

    def __str__(self) -> str:
        return f"{self.person}: {self.get_choice_display()}"

    @classmethod
    def exempt_q(cls) -> Q:
        return Q(decision__agenda_item__exemption_regime__in=EXEMPT_REGIMES)


@pghistory.track()
class DecisionLink(ExemptContentMixin, models.Model):
    """What a decision changed (agreements, budget lines, virements), with amounts before and after,
    so every pound traces back to the decision that allowed it. Generic so governance never imports
    budgets (conventions.md)."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="links")
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    description = models.CharField(max_length=300, blank=True)
    amount_before = money_field(non_negative=False, null=True, blank=True)
    amount_after = money_field(non_negative=False, null=True, blank=True)

    partnership_path = "decision__agenda_item__meeting__board__partnership"
    board_path = "decision__agenda_item__meeting__board"
    # Once removed, a link's history is seen where its decision is (the audit trail).
    deleted_visible_through = "decision"
    objects = RestrictedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["decision", "content_type", "object_id"], name="decision_link_once"
            )
        ]
        indexes = [models.Index(fields=["content_type", "object_id"], name="decision_link_target_idx")]

    def __str__(self) -> str:
        return f"{self.decision.reference} → {self.content_type.model} {self.object_id}"

    @classmethod
    def exempt_q(cls) -> Q:
        return Q(decision__agenda_item__exemption_regime__in=EXEMPT_REGIMES)

    @classmethod
    def restrict_objects(cls, qs, user, action):
        """A link is visible exactly where its decision is: the partnership and exemption rules
        already follow the decision (the same paths), so only the decision's own model permission
        is left to ask, here once rather than as a second subquery in every query."""
        if not has_model_permission(user, Decision, "view"):
            return qs.none()
        return super().restrict_objects(qs, user, action)


class ReferenceCounter(models.Model):
    """Gapless counters per board and calendar year, changed only under a row lock."""

    class Kind(models.TextChoices):
        DECISION = "decision", "Decision reference"
        MINUTE = "minute", "Minute number"

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="counters")
    year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["board", "year", "kind"], name="reference_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.board.code} {self.year} {self.kind}: {self.last}"
