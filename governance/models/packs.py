"""Board packs: each generated version of a meeting's public or members' pack."""

from __future__ import annotations

from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from commissioning.models import User
from commissioning.permissions import RestrictedManager
from governance.models.access import ExemptContentMixin
from governance.models.choices import PackAudience, PackStatus
from governance.models.meetings import Meeting


def pack_upload_to(instance, filename: str) -> str:
    return f"packs/{instance.meeting_id}/{filename}"


class BoardPack(ExemptContentMixin, models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="packs")
    audience = models.CharField(max_length=10, choices=PackAudience.choices)
    version = models.PositiveIntegerField()
    supplement_number = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=PackStatus.choices, default=PackStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    file = models.CharField(max_length=500, blank=True, help_text="Path under PDF_ROOT")
    page_count = models.PositiveIntegerField(default=0)
    checksum = models.CharField(max_length=64, blank=True)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    item_pages = models.JSONField(
        default=dict, blank=True, help_text="Agenda item id -> first PDF page (1-based), as printed"
    )

    partnership_path = "meeting__board__partnership"
    board_path = "meeting__board"
    objects = RestrictedManager()

    class Meta:
        ordering = ["meeting", "audience", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "audience", "version"], name="pack_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_audience_display()} pack v{self.version} for {self.meeting}"

    @classmethod
    def exempt_q(cls) -> Q:
        return Q(audience=PackAudience.MEMBERS)

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None
