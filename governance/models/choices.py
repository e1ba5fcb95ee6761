"""The governance enumerations and the board code format (domain.md)."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models


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
