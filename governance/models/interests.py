"""Declarations of interest at meetings and the register of interests."""

from __future__ import annotations

import pghistory
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from commissioning.models import Partnership, Person
from commissioning.permissions import RestrictedManager
from governance.models.access import ExemptContentMixin
from governance.models.boards import Board
from governance.models.choices import EXEMPT_REGIMES, InterestAction, InterestNature
from governance.models.meetings import AgendaItem, Meeting


@pghistory.track()
class InterestDeclaration(ExemptContentMixin, models.Model):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="declarations")
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="declarations")
    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, null=True, blank=True, related_name="declarations"
    )
    agenda_item = models.ForeignKey(
        AgendaItem, on_delete=models.CASCADE, null=True, blank=True, related_name="declarations"
    )
    nature = models.CharField(max_length=30, choices=InterestNature.choices)
    description = models.TextField()
    action = models.CharField(max_length=20, choices=InterestAction.choices, default=InterestAction.REMAINED)
    dispensation = models.TextField(blank=True)
    declared_on = models.DateField(default=timezone.localdate)

    partnership_path = "board__partnership"
    board_path = "board"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-declared_on"]

    def __str__(self) -> str:
        return f"{self.person}: {self.get_nature_display()}"

    @classmethod
    def exempt_q(cls) -> Q:
        return Q(agenda_item__exemption_regime__in=EXEMPT_REGIMES)


@pghistory.track()
class RegisterEntry(models.Model):
    """The standing register: one annual declaration per person and year (nil returns included)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="register_entries")
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="register_entries")
    year = models.PositiveSmallIntegerField(help_text="Financial year, by its starting year")
    nil_return = models.BooleanField(default=False)
    interests = models.TextField(blank=True)
    declared_on = models.DateField(default=timezone.localdate)

    partnership_path = "partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-year", "person__name"]
        verbose_name_plural = "register entries"
        constraints = [
            models.UniqueConstraint(fields=["person", "partnership", "year"], name="register_once_a_year"),
            models.CheckConstraint(
                condition=Q(nil_return=True) | ~Q(interests=""), name="register_interests_or_nil"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.year}"


DECLARE_CHANGES_WITHIN_DAYS = 28


def declared_late(arose_on, declared_on) -> bool:
    """domain.md: a change to a person's registered interests is declared within 28 days of it
    arising. Declared on day 28 after it arose is in time; day 29 is late."""
    return (declared_on - arose_on).days > DECLARE_CHANGES_WITHIN_DAYS


@pghistory.track()
class RegisterChange(models.Model):
    """A change to a person's registered interests during the year (a new interest, or one that
    ended), declared within 28 days of arising; declared later, it is flagged late."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="register_changes")
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="register_changes")
    description = models.TextField("change to interests")
    nature = models.CharField(max_length=30, choices=InterestNature.choices)
    arose_on = models.DateField("date the interest arose or ended")
    declared_on = models.DateField(default=timezone.localdate)

    partnership_path = "partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-declared_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(declared_on__gte=F("arose_on")), name="register_change_declared_after_arising"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person}: change of {self.arose_on:%-d %B %Y}"

    @property
    def days_to_declare(self) -> int:
        return (self.declared_on - self.arose_on).days

    @property
    def late(self) -> bool:
        return declared_late(self.arose_on, self.declared_on)
