"""Meetings, their agendas and who attended."""

from __future__ import annotations

import pghistory
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from commissioning.models import Person
from commissioning.permissions import RestrictedManager
from governance.models.access import ExemptContentMixin
from governance.models.boards import Board
from governance.models.choices import (
    EXEMPT_REGIMES,
    AttendanceStatus,
    ExemptionRegime,
    MeetingStatus,
    Purpose,
    StandingItem,
)
from governance.models.papers import Paper


@pghistory.track()
class Meeting(models.Model):
    board = models.ForeignKey(Board, on_delete=models.PROTECT, related_name="meetings")
    starts_at = models.DateTimeField()
    venue = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=20, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED)
    agenda_published_on = models.DateField(null=True, blank=True, editable=False)
    held_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the secretary marked the meeting held"
    )

    partnership_path = "board__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        local = timezone.localtime(self.starts_at)
        return f"{self.board.name}, {local:%-d %B %Y}"

    def get_absolute_url(self) -> str:
        return reverse("governance:meeting", args=[self.pk])

    @property
    def local_date(self):
        return timezone.localtime(self.starts_at).date()

    @property
    def started(self) -> bool:
        """Attendance, votes and decisions are recorded only from the meeting's start."""
        return self.starts_at <= timezone.now()

    @property
    def agenda_frozen(self) -> bool:
        """Once the agenda is published (or a pack issued), item and enclosure numbers never change."""
        return self.status != MeetingStatus.SCHEDULED or self.agenda_published_on is not None


@pghistory.track()
class AgendaItem(ExemptContentMixin, models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items")
    order = models.PositiveSmallIntegerField()
    item_number = models.CharField(max_length=10, blank=True)
    enclosure_number = models.CharField(max_length=10, blank=True)
    title = models.CharField(max_length=300)
    purpose = models.CharField(max_length=20, choices=Purpose.choices, default=Purpose.NOTING)
    presenter = models.CharField(max_length=200, blank=True)
    standing_kind = models.CharField(max_length=20, choices=StandingItem.choices, default=StandingItem.NONE)
    exemption_regime = models.CharField(
        max_length=20, choices=ExemptionRegime.choices, default=ExemptionRegime.NONE
    )
    exemption_paragraph = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(7)]
    )
    exemption_reason = models.CharField(max_length=300, blank=True)
    paper = models.OneToOneField(
        Paper, on_delete=models.SET_NULL, null=True, blank=True, related_name="agenda_item"
    )
    supplement_number = models.PositiveSmallIntegerField(null=True, blank=True)
    minute_number = models.CharField(max_length=20, blank=True, editable=False, default="", db_default="")
    forward_plan_entry = models.ForeignKey(
        "governance.ForwardPlanEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agenda_items",
        help_text="The forward plan entry of a key decision taken on this item",
    )

    partnership_path = "meeting__board__partnership"
    board_path = "meeting__board"
    objects = RestrictedManager()

    class Meta:
        ordering = ["meeting", "order"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "order"], name="agenda_order_unique"),
            models.CheckConstraint(
                condition=Q(exemption_regime="none")
                | (~Q(exemption_reason="") & ~Q(exemption_regime="schedule_12a"))
                | (
                    Q(exemption_regime="schedule_12a")
                    & ~Q(exemption_reason="")
                    & Q(exemption_paragraph__gte=1, exemption_paragraph__lte=7)
                ),
                name="agenda_exemption_stated",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_number or self.order}. {self.title}"

    @property
    def exempt(self) -> bool:
        return self.exemption_regime != ExemptionRegime.NONE

    @classmethod
    def exempt_q(cls) -> Q:
        return Q(exemption_regime__in=EXEMPT_REGIMES)

    def clean(self) -> None:
        """A key decision's forward plan entry is one of the board's published entries."""
        entry = self.forward_plan_entry
        if entry is not None and self.meeting_id:
            if entry.board_id != self.meeting.board_id:
                raise ValidationError(
                    {"forward_plan_entry": ["The entry must be on this board's forward plan."]}
                )
            if entry.first_published_on is None:
                raise ValidationError(
                    {"forward_plan_entry": ["The forward plan entry is not published yet: publish it first."]}
                )


@pghistory.track()
class Attendance(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="attendance")
    status = models.CharField(
        max_length=20, choices=AttendanceStatus.choices, default=AttendanceStatus.EXPECTED
    )
    substitute_for = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="substituted_by"
    )

    partnership_path = "meeting__board__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["meeting", "person__name"]
        verbose_name_plural = "attendance"
        constraints = [models.UniqueConstraint(fields=["meeting", "person"], name="attendance_once")]

    def __str__(self) -> str:
        return f"{self.person}: {self.get_status_display()}"
