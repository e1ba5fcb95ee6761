"""Actions and minutes."""

from __future__ import annotations

import pghistory
from django.db import models
from django.db.models import Q

from commissioning.models import Person
from commissioning.permissions import RestrictedManager
from governance.models.access import ExemptContentMixin
from governance.models.choices import EXEMPT_REGIMES, ActionStatus
from governance.models.decisions import Decision
from governance.models.meetings import AgendaItem, Meeting


@pghistory.track()
class Action(ExemptContentMixin, models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="actions")
    decision = models.ForeignKey(
        Decision, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions"
    )
    agenda_item = models.ForeignKey(
        AgendaItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions"
    )
    description = models.TextField()
    owner = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="actions")
    due = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=ActionStatus.choices, default=ActionStatus.OPEN)

    partnership_path = "meeting__board__partnership"
    board_path = "meeting__board"
    objects = RestrictedManager()

    class Meta:
        ordering = ["due", "pk"]

    def __str__(self) -> str:
        return self.description[:80]

    @classmethod
    def exempt_q(cls) -> Q:
        """An action is exempt when its item is, or when the decision it follows was taken on an
        exempt item (the same rule as minutes and decisions)."""
        return Q(agenda_item__exemption_regime__in=EXEMPT_REGIMES) | Q(
            decision__agenda_item__exemption_regime__in=EXEMPT_REGIMES
        )

    @property
    def exempt(self) -> bool:
        return bool(
            (self.agenda_item_id and self.agenda_item.exempt)
            or (self.decision_id and self.decision.agenda_item.exempt)
        )


@pghistory.track()
class Minutes(models.Model):
    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="minutes")
    part2_summary = models.TextField("Part 2 summary", blank=True)
    approved_at = models.ForeignKey(
        Meeting, on_delete=models.SET_NULL, null=True, blank=True, related_name="approved_minutes"
    )
    approved_on = models.DateField(null=True, blank=True)
    draft_published_on = models.DateField(
        null=True, blank=True, editable=False, help_text="Published marked “Draft, subject to approval”"
    )

    partnership_path = "meeting__board__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-meeting__starts_at"]
        verbose_name_plural = "minutes"

    def __str__(self) -> str:
        return f"Minutes of {self.meeting}"

    @property
    def public(self) -> bool:
        """The public sees minutes once approved, or earlier if published as a draft."""
        return self.approved_on is not None or self.draft_published_on is not None

    @property
    def draft(self) -> bool:
        return self.approved_on is None


@pghistory.track()
class MinuteEntry(ExemptContentMixin, models.Model):
    minutes = models.ForeignKey(Minutes, on_delete=models.CASCADE, related_name="entries")
    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.PROTECT, related_name="minute_entries")
    minute_number = models.CharField(max_length=20)
    text = models.TextField()

    partnership_path = "minutes__meeting__board__partnership"
    board_path = "minutes__meeting__board"
    objects = RestrictedManager()

    class Meta:
        ordering = ["minutes", "agenda_item__order"]
        verbose_name_plural = "minute entries"

    def __str__(self) -> str:
        return self.minute_number

    @classmethod
    def exempt_q(cls) -> Q:
        return Q(agenda_item__exemption_regime__in=EXEMPT_REGIMES)
