"""Boards, meetings, agendas, papers, interests, decisions, minutes and board packs (domain.md)."""

from __future__ import annotations

import uuid

import pghistory
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from commissioning.models import Organisation, Partnership, Person, User
from commissioning.money import money_field
from commissioning.permissions import RestrictedManager, has_model_permission
from commissioning.roles import BOARD_SECRETARY


class VotingMode(models.TextChoices):
    MAJORITY = "majority", "Simple majority"
    PARTNER_BLOCK = "partner_block", "Partner block vote (each partner must agree)"


class MembershipRole(models.TextChoices):
    CHAIR = "chair", "Chair"
    JOINT_CHAIR = "joint_chair", "Joint chair"
    DEPUTY_CHAIR = "deputy_chair", "Deputy chair"
    MEMBER = "member", "Member"
    LAY_MEMBER = "lay_member", "Lay member"
    CO_OPTED = "co_opted", "Co-opted member"
    OFFICER = "officer", "Officer in attendance"
    SECRETARY = "secretary", "Board secretary"


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    AGENDA_PUBLISHED = "agenda_published", "Agenda published"
    HELD = "held", "Held"
    MINUTES_APPROVED = "minutes_approved", "Minutes approved"


class Purpose(models.TextChoices):
    DECISION = "decision", "For decision"
    DISCUSSION = "discussion", "For discussion"
    INFORMATION = "information", "For information"
    NOTING = "noting", "For noting"
    ASSURANCE = "assurance", "For assurance"


class StandingItem(models.TextChoices):
    NONE = "none", "Not a standing item"
    APOLOGIES = "apologies", "Apologies and substitutes"
    DECLARATIONS = "declarations", "Declarations of interest"
    PREVIOUS_MINUTES = "previous_minutes", "Minutes of the last meeting and action log"
    EXCLUSION = "exclusion", "Exclusion of press and public"


class ExemptionRegime(models.TextChoices):
    NONE = "none", "Not exempt"
    SCHEDULE_12A = "schedule_12a", "Schedule 12A to the Local Government Act 1972"
    ACT_1960 = "act_1960", "Section 1(2) of the Public Bodies (Admission to Meetings) Act 1960"


class Session(models.TextChoices):
    PUBLIC = "public", "Public"
    PRIVATE = "private", "Private"


class InterestNature(models.TextChoices):
    FINANCIAL = "financial", "Financial"
    NON_FINANCIAL_PROFESSIONAL = "non_financial_professional", "Non-financial professional"
    NON_FINANCIAL_PERSONAL = "non_financial_personal", "Non-financial personal"
    INDIRECT = "indirect", "Indirect"


class InterestAction(models.TextChoices):
    WITHDREW = "withdrew", "Withdrew from the item"
    DID_NOT_VOTE = "did_not_vote", "Remained but did not vote"
    REMAINED = "remained", "Remained and took part"


class AttendanceStatus(models.TextChoices):
    EXPECTED = "expected", "Expected"
    PRESENT = "present", "Present"
    PRESENT_VIRTUALLY = "present_virtually", "Present virtually"
    APOLOGIES = "apologies", "Apologies"
    ABSENT = "absent", "Absent"
    IN_ATTENDANCE = "in_attendance", "In attendance"


class Outcome(models.TextChoices):
    APPROVED = "approved", "Approved"
    APPROVED_WITH_AMENDMENTS = "approved_with_amendments", "Approved with amendments"
    DEFERRED = "deferred", "Deferred"
    REJECTED = "rejected", "Rejected"
    NOTED = "noted", "Noted"
    REFERRED = "referred", "Referred to the parent board"


class VoteChoice(models.TextChoices):
    FOR = "for", "For"
    AGAINST = "against", "Against"
    ABSTAIN = "abstain", "Abstained"


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    DROPPED = "dropped", "Dropped"


class PackAudience(models.TextChoices):
    PUBLIC = "public", "Public"
    MEMBERS = "members", "Members"


class PackStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RENDERING = "rendering", "Rendering"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


board_code_validator = RegexValidator(
    r"^[A-Z][A-Z0-9]{1,9}$", "Use 2 to 10 capital letters and digits, e.g. BBB."
)


EXEMPT_REGIMES = (ExemptionRegime.SCHEDULE_12A, ExemptionRegime.ACT_1960)


def entitled_board_ids(user):
    """Boards whose exempt content (Part 2 items, private papers, exempt appendices, members' packs)
    the user may see: boards they are a current member of (Membership -> Person -> User)."""
    today = timezone.localdate()
    return (
        Membership.objects.filter(person__user=user, start__lte=today)
        .filter(Q(end__isnull=True) | Q(end__gte=today))
        .values("board_id")
    )


def sees_all_exempt(user) -> bool:
    """Administrators, and board secretaries within their granted partnerships."""
    if user.is_superuser:
        return True
    return user.is_authenticated and user.has_role(BOARD_SECRETARY)


class ExemptContentMixin:
    """The object permission of security.md: exempt content is visible only to members of its
    board and to board secretaries. Subclasses say what is exempt (``exempt_q``) and where the
    board is (``board_path``); ``restrict`` calls ``restrict_objects`` after the partnership scope."""

    board_path: str = "board"

    @classmethod
    def exempt_q(cls) -> Q:  # pragma: no cover - each subclass defines it
        raise NotImplementedError

    @classmethod
    def restrict_objects(cls, qs, user, action):
        if sees_all_exempt(user):
            return qs
        return qs.filter(~cls.exempt_q() | Q(**{f"{cls.board_path}__in": entitled_board_ids(user)}))


@pghistory.track()
class Board(models.Model):
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="boards")
    name = models.CharField(max_length=200)
    code = models.CharField(max_length=10, unique=True, validators=[board_code_validator])
    meets_in_public = models.BooleanField(default=True)
    council_executive = models.BooleanField(
        "council executive body", default=False, help_text="Decisions are subject to call-in"
    )
    quorum_min_voting = models.PositiveSmallIntegerField("quorum: voting members present", default=3)
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
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("governance:board", args=[self.pk])


@pghistory.track()
class Membership(models.Model):
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="memberships")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=MembershipRole.choices, default=MembershipRole.MEMBER)
    voting = models.BooleanField(default=True)
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
    objects = RestrictedManager()

    class Meta:
        ordering = ["board", "role", "person__name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=F("start")), name="membership_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.get_role_display()}, {self.board.code})"


@pghistory.track()
class Meeting(models.Model):
    board = models.ForeignKey(Board, on_delete=models.PROTECT, related_name="meetings")
    starts_at = models.DateTimeField()
    venue = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=20, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED)

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


@pghistory.track()
class ForwardPlanEntry(models.Model):
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="forward_plan")
    title = models.CharField("decision to be taken", max_length=300)
    expected_meeting = models.ForeignKey(
        Meeting, on_delete=models.SET_NULL, null=True, blank=True, related_name="forward_plan_entries"
    )
    key_decision = models.BooleanField(default=False)
    exempt = models.BooleanField(default=False)
    exemption_reason = models.CharField(max_length=300, blank=True)
    consultation = models.TextField(blank=True)
    contact = models.CharField(max_length=200, blank=True)
    first_published_on = models.DateField()

    partnership_path = "board__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["first_published_on", "title"]
        verbose_name_plural = "forward plan entries"

    def __str__(self) -> str:
        return self.title


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
        return Q(agenda_item__exemption_regime__in=EXEMPT_REGIMES)


@pghistory.track()
class Minutes(models.Model):
    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="minutes")
    part2_summary = models.TextField("Part 2 summary", blank=True)
    approved_at = models.ForeignKey(
        Meeting, on_delete=models.SET_NULL, null=True, blank=True, related_name="approved_minutes"
    )
    approved_on = models.DateField(null=True, blank=True)

    partnership_path = "meeting__board__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-meeting__starts_at"]
        verbose_name_plural = "minutes"

    def __str__(self) -> str:
        return f"Minutes of {self.meeting}"


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
