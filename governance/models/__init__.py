"""Boards, meetings, agendas, papers, interests, decisions, minutes and board packs (domain.md).

One module per part of the domain; every name is importable from ``governance.models`` as before.
"""

from governance.models.access import (
    ExemptContentMixin,
    acts_for_others,
    entitled_board_ids,
    sees_all_exempt,
    sees_exempt_content_of,
)
from governance.models.boards import Board, ForwardPlanEntry, Membership, current_membership_q
from governance.models.choices import (
    EXEMPT_REGIMES,
    ActionStatus,
    AttendanceStatus,
    ExemptionRegime,
    InterestAction,
    InterestNature,
    MeetingStatus,
    MembershipRole,
    Outcome,
    PackAudience,
    PackStatus,
    Purpose,
    Session,
    StandingItem,
    VoteChoice,
    VotingMode,
    board_code_validator,
)
from governance.models.decisions import Decision, DecisionLink, ReferenceCounter, Vote
from governance.models.interests import (
    DECLARE_CHANGES_WITHIN_DAYS,
    InterestDeclaration,
    RegisterChange,
    RegisterEntry,
    declared_late,
)
from governance.models.meetings import AgendaItem, Attendance, Meeting
from governance.models.minutes import Action, MinuteEntry, Minutes
from governance.models.packs import BoardPack, pack_upload_to
from governance.models.papers import Paper, PaperAppendix, PaperLink, appendix_upload_to

__all__ = [
    "DECLARE_CHANGES_WITHIN_DAYS",
    "EXEMPT_REGIMES",
    "Action",
    "ActionStatus",
    "AgendaItem",
    "Attendance",
    "AttendanceStatus",
    "Board",
    "BoardPack",
    "Decision",
    "DecisionLink",
    "ExemptContentMixin",
    "ExemptionRegime",
    "ForwardPlanEntry",
    "InterestAction",
    "InterestDeclaration",
    "InterestNature",
    "Meeting",
    "MeetingStatus",
    "Membership",
    "MembershipRole",
    "MinuteEntry",
    "Minutes",
    "Outcome",
    "PackAudience",
    "PackStatus",
    "Paper",
    "PaperAppendix",
    "PaperLink",
    "Purpose",
    "ReferenceCounter",
    "RegisterChange",
    "RegisterEntry",
    "Session",
    "StandingItem",
    "Vote",
    "VoteChoice",
    "VotingMode",
    "acts_for_others",
    "appendix_upload_to",
    "board_code_validator",
    "current_membership_q",
    "declared_late",
    "entitled_board_ids",
    "pack_upload_to",
    "sees_all_exempt",
    "sees_exempt_content_of",
]
