"""Governance pages, on the generic page layer (``commissioning.generic``): each fetches through
the permission gate (a role without the permission: 403; out of scope: 404), validates with a form,
calls one service and responds. Public pages (no login) read only the public record.

One module per part of the domain: ``boards`` (the landing page, boards, members, forward plans),
``meetings``, ``items`` (agenda items and declarations), ``decisions`` (and the decision log),
``papers`` (and appendices), ``packs``, ``register`` (of interests) and ``public``."""

from governance.views.boards import (
    BoardCreateView,
    BoardDetailView,
    BoardEditView,
    ForwardPlanCreateView,
    ForwardPlanEditView,
    IndexView,
    MembershipCreateView,
    MembershipEditView,
)
from governance.views.decisions import (
    DecisionDetailView,
    DecisionLogExportView,
    DecisionLogView,
    DecisionPublishView,
    DecisionRecordView,
)
from governance.views.items import (
    AgendaItemAddView,
    AgendaItemDetailView,
    AgendaItemMoveView,
    DeclarationRecordView,
)
from governance.views.meetings import (
    ActionAddView,
    ActionStatusView,
    AttendanceRecordView,
    MeetingCreateView,
    MeetingDetailView,
    MeetingPacksPartial,
    MinutesApproveView,
    MinutesWriteView,
)
from governance.views.packs import PackDownloadView, PackRequestView
from governance.views.papers import (
    AppendixDownloadView,
    AppendixUploadView,
    PaperCreateView,
    PaperDetailView,
)
from governance.views.public import PublicBoardView, PublicMeetingView, PublicPackDownloadView
from governance.views.register import (
    RegisterChangeView,
    RegisterDeclareView,
    RegisterPersonView,
    RegisterView,
)

__all__ = [
    "ActionAddView",
    "ActionStatusView",
    "AgendaItemAddView",
    "AgendaItemDetailView",
    "AgendaItemMoveView",
    "AppendixDownloadView",
    "AppendixUploadView",
    "AttendanceRecordView",
    "BoardCreateView",
    "BoardDetailView",
    "BoardEditView",
    "DecisionDetailView",
    "DecisionLogExportView",
    "DecisionLogView",
    "DecisionPublishView",
    "DecisionRecordView",
    "DeclarationRecordView",
    "ForwardPlanCreateView",
    "ForwardPlanEditView",
    "IndexView",
    "MeetingCreateView",
    "MeetingDetailView",
    "MeetingPacksPartial",
    "MembershipCreateView",
    "MembershipEditView",
    "MinutesApproveView",
    "MinutesWriteView",
    "PackDownloadView",
    "PackRequestView",
    "PaperCreateView",
    "PaperDetailView",
    "PublicBoardView",
    "PublicMeetingView",
    "PublicPackDownloadView",
    "RegisterChangeView",
    "RegisterDeclareView",
    "RegisterPersonView",
    "RegisterView",
]
