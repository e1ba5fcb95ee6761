"""Boards, their members and their forward plans of key decisions."""

from __future__ import annotations

from datetime import date

import pghistory
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from commissioning.models import Organisation, Partnership, Person
from commissioning.money import money_field
from commissioning.permissions import RestrictedManager, RestrictedQuerySet
from governance.models.choices import MembershipRole, VotingMode, board_code_validator

NON_VOTING_ROLES = (MembershipRole.OFFICER, MembershipRole.SECRETARY)


@pghistory.track()
class Board(models.Model):
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="boards")
    name = models.CharField(max_length=200)
    code = models.CharField(max_length=10, unique=True, validators=[board_code_validator])
    meets_in_public = models.BooleanField(default=True)
    council_executive = models.BooleanField(
        "council executive body", default=False, help_text="Decisions are subject to call-in"
    )
    quorum_min_voting = models.PositiveSmallIntegerField(
        "quorum: voting members present", default=3, validators=[MinValueValidator(1)]
    )
    quorum_min_per_partner = models.PositiveSmallIntegerField("quorum: voting members per partner", default=1)
    voting_mode = models.CharField(max_length=20, choices=VotingMode.choices, default=VotingMode.MAJORITY)
    chair_has_casting_vote = models.BooleanField(default=False)
    delegated_limit = money_field(null=True, blank=True, help_text="Blank: no limit")
    key_decision_threshold = money_field(null=True, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    terms_of_reference = models.TextField(blank=True)

    partnership_path = "partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["partnership__name", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z][A-Z0-9]{1,9}$"), name="board_code_format"
            ),
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="board_not_own_parent"),
            models.CheckConstraint(condition=Q(quorum_min_voting__gte=1), name="board_quorum_at_least_one"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("governance:board", args=[self.pk])

    def clean(self) -> None:
        """Decisions above the delegated limit go to the parent board: one of the same partnership,
        and never the board itself."""
        if self.parent_id and self.parent.partnership_id != self.partnership_id:
            raise ValidationError({"parent": ["The parent board must belong to the same partnership."]})
        if self.parent_id and self.pk and self.parent_id == self.pk:
            raise ValidationError({"parent": ["A board cannot be its own parent."]})
        if self.quorum_min_voting is not None and self.quorum_min_voting < 1:
            raise ValidationError({"quorum_min_voting": ["A quorum needs at least one voting member."]})
        if self.voting_mode == VotingMode.PARTNER_BLOCK and not self.quorum_min_per_partner:
            raise ValidationError(
                {
                    "quorum_min_per_partner": [
                        "In partner block voting a quorum needs at least one voting member per partner."
                    ]
                }
            )


def current_membership_q(on: date, *, via: str = "") -> Q:
    """The one definition of a current membership, as a filter: it has started by ``on`` (its start
    day counts) and has not ended before it (its end day counts; no end: open-ended). ``via`` is the
    lookup path from the queried model to the membership (``"memberships__"`` from Person), so a
    query across the relation keeps the date conditions on the same membership row.
    ``Membership.is_current`` is the same rule for one row in Python."""
    return Q(**{f"{via}start__lte": on}) & (Q(**{f"{via}end__isnull": True}) | Q(**{f"{via}end__gte": on}))


class MembershipQuerySet(RestrictedQuerySet):
    def current(self, on: date) -> MembershipQuerySet:
        """Memberships current on ``on`` (``current_membership_q``)."""
        return self.filter(current_membership_q(on))


@pghistory.track()
class Membership(models.Model):
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="memberships")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=MembershipRole.choices, default=MembershipRole.MEMBER)
    voting = models.BooleanField(default=False)
    representing = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Blank: represents both partners jointly",
    )
    start = models.DateField("from")
    end = models.DateField("to", null=True, blank=True)

    partnership_path = "board__partnership"
    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["board", "role", "person__name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=F("start")), name="membership_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.get_role_display()}, {self.board.code})"

    def is_current(self, on: date) -> bool:
        """Is this membership current on ``on``? The same rule as ``current_membership_q``: started
        by that day and not ended before it (start and end days both count; no end: open-ended)."""
        return self.start <= on and (self.end is None or on <= self.end)

    def clean(self) -> None:
        """A member represents one of the board's partners (or both jointly), from a start date
        to an end date on or after it."""
        try:
            partnership = self.board.partnership
        except ObjectDoesNotExist:  # an unsaved board still being filled in (the admin's inline)
            partnership = None
        representing = self.representing
        if (
            partnership is not None
            and representing is not None
            and representing.pk not in (partnership.council_id, partnership.nhs_commissioner_id)
        ):
            raise ValidationError(
                {
                    "representing": [
                        f"A member represents one of the partners of {partnership.name}, or both jointly."
                    ]
                }
            )
        if self.end is not None and self.start and self.end < self.start:
            raise ValidationError({"end": ["The end date must be on or after the start date."]})
        if self.voting and self.role in NON_VOTING_ROLES:
            raise ValidationError(
                {"voting": [f"A {self.get_role_display().lower()} has no vote and cannot be given one."]}
            )
        self._check_overlap()

    def _check_overlap(self) -> None:
        """A person holds at most one membership of a board on any day."""
        if not (self.board_id and self.person_id and self.start):
            return
        others = Membership.objects.filter(board_id=self.board_id, person_id=self.person_id)
        if self.pk:
            others = others.exclude(pk=self.pk)
        others = others.filter(Q(end__isnull=True) | Q(end__gte=self.start))
        if self.end is not None:
            others = others.filter(start__lte=self.end)
        clash = others.order_by("start").first()
        if clash is not None:
            until = f" to {clash.end:%-d %B %Y}" if clash.end else ""
            raise ValidationError(
                {
                    "start": [
                        f"{self.person} already holds a membership of this board from "
                        f"{clash.start:%-d %B %Y}{until}: end it before adding another."
                    ]
                }
            )


@pghistory.track()
class ForwardPlanEntry(models.Model):
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="forward_plan")
    title = models.CharField("decision to be taken", max_length=300)
    expected_meeting = models.ForeignKey(
        "governance.Meeting",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="forward_plan_entries",
    )
    key_decision = models.BooleanField(default=False)
    exempt = models.BooleanField(default=False)
    exemption_reason = models.CharField(max_length=300, blank=True)
    consultation = models.TextField(blank=True)
    contact = models.CharField(max_length=200, blank=True)
    first_published_on = models.DateField(
        null=True, blank=True, editable=False, help_text="Set by the system when the entry is published"
    )

    partnership_path = "board__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["first_published_on", "title"]
        verbose_name_plural = "forward plan entries"

    def __str__(self) -> str:
        return self.title

    @property
    def published(self) -> bool:
        return self.first_published_on is not None

    def clean(self) -> None:
        """The expected meeting is one of the board's; an exempt entry says why."""
        errors: dict[str, list[str]] = {}
        if self.expected_meeting_id and self.expected_meeting.board_id != self.board_id:
            errors["expected_meeting"] = ["The expected meeting must be one of this board's."]
        if self.exempt and not (self.exemption_reason or "").strip():
            errors["exemption_reason"] = ["Give the reason the entry is exempt."]
        if errors:
            raise ValidationError(errors)
