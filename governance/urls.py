from django.urls import path

from governance.views import boards, decisions, items, links, meetings, packs, papers, public, register

app_name = "governance"

urlpatterns = [
    path("", boards.IndexView.as_view(), name="index"),
    path("boards/new/", boards.BoardCreateView.as_view(), name="board-create"),
    path("boards/<int:pk>/", boards.BoardDetailView.as_view(), name="board"),
    path("boards/<int:pk>/edit/", boards.BoardEditView.as_view(), name="board-edit"),
    path("boards/<int:pk>/members/new/", boards.MembershipCreateView.as_view(), name="membership-create"),
    path("memberships/<int:pk>/edit/", boards.MembershipEditView.as_view(), name="membership-edit"),
    path(
        "boards/<int:board_pk>/forward-plan/new/",
        boards.ForwardPlanCreateView.as_view(),
        name="forward-plan-create",
    ),
    path("forward-plan/<int:pk>/edit/", boards.ForwardPlanEditView.as_view(), name="forward-plan-edit"),
    path(
        "forward-plan/<int:pk>/publish/", boards.ForwardPlanPublishView.as_view(), name="forward-plan-publish"
    ),
    path("boards/<int:pk>/meetings/new/", meetings.MeetingCreateView.as_view(), name="meeting-create"),
    path("boards/<int:pk>/papers/new/", papers.PaperCreateView.as_view(), name="paper-create"),
    path("meetings/<int:pk>/", meetings.MeetingDetailView.as_view(), name="meeting"),
    path("meetings/<int:pk>/packs/", meetings.MeetingPacksPartial.as_view(), name="meeting-packs"),
    path("meetings/<int:pk>/packs/new/", packs.PackRequestView.as_view(), name="pack-request"),
    path("meetings/<int:pk>/items/new/", items.AgendaItemAddView.as_view(), name="item-add"),
    path("meetings/<int:pk>/minutes/", meetings.MinutesWriteView.as_view(), name="minutes"),
    path("meetings/<int:pk>/minutes/approve/", meetings.MinutesApproveView.as_view(), name="minutes-approve"),
    path(
        "meetings/<int:pk>/minutes/publish-draft/",
        meetings.MinutesPublishDraftView.as_view(),
        name="minutes-publish-draft",
    ),
    path("meetings/<int:pk>/agenda/publish/", meetings.AgendaPublishView.as_view(), name="agenda-publish"),
    path("meetings/<int:pk>/held/", meetings.MeetingHeldView.as_view(), name="meeting-held"),
    path("meetings/<int:pk>/actions/new/", meetings.ActionAddView.as_view(), name="action-add"),
    path("meetings/<int:pk>/attendance/", meetings.AttendanceRecordView.as_view(), name="attendance"),
    path("actions/<int:pk>/status/", meetings.ActionStatusView.as_view(), name="action-status"),
    path("items/<int:pk>/", items.AgendaItemDetailView.as_view(), name="item"),
    path("items/<int:pk>/move/", items.AgendaItemMoveView.as_view(), name="item-move"),
    path("items/<int:pk>/decisions/new/", decisions.DecisionRecordView.as_view(), name="decision-record"),
    path(
        "items/<int:pk>/declarations/new/", items.DeclarationRecordView.as_view(), name="declaration-record"
    ),
    path("papers/<int:pk>/", papers.PaperDetailView.as_view(), name="paper"),
    path("papers/<int:pk>/appendices/new/", papers.AppendixUploadView.as_view(), name="appendix-upload"),
    path("appendices/<int:pk>/download/", papers.AppendixDownloadView.as_view(), name="appendix-download"),
    path("appendices/<int:pk>/remove/", papers.AppendixRemoveView.as_view(), name="appendix-remove"),
    path("decisions/", decisions.DecisionLogView.as_view(), name="decisions"),
    path("decisions/export.<str:fmt>", decisions.DecisionLogExportView.as_view(), name="decisions-export"),
    path("decisions/<int:pk>/", decisions.DecisionDetailView.as_view(), name="decision"),
    path("decision-links/new/", links.DecisionLinkCreateView.as_view(), name="decision-link-add"),
    path("paper-links/new/", links.PaperLinkCreateView.as_view(), name="paper-link-add"),
    path(
        "decision-links/<int:pk>/remove/", links.DecisionLinkRemoveView.as_view(), name="decision-link-remove"
    ),
    path("paper-links/<int:pk>/remove/", links.PaperLinkRemoveView.as_view(), name="paper-link-remove"),
    path("decisions/<int:pk>/publish/", decisions.DecisionPublishView.as_view(), name="decision-publish"),
    path("decisions/<int:pk>/correct/", decisions.DecisionCorrectView.as_view(), name="decision-correct"),
    path("packs/<int:pk>/pdf/", packs.PackDownloadView.as_view(), name="pack-pdf"),
    path("register/", register.RegisterView.as_view(), name="register"),
    path("register/declare/", register.RegisterDeclareView.as_view(), name="register-declare"),
    path("register/changes/new/", register.RegisterChangeView.as_view(), name="register-change"),
    path("register/people/<int:pk>/", register.RegisterPersonView.as_view(), name="register-person"),
    path("public/", public.PublicIndexView.as_view(), name="public-index"),
    path("public/boards/<str:code>/", public.PublicBoardView.as_view(), name="public-board"),
    path(
        "public/boards/<str:code>/decisions.atom", public.PublicDecisionFeedView.as_view(), name="public-feed"
    ),
    path(
        "public/boards/<str:code>/meetings/<int:pk>/",
        public.PublicMeetingView.as_view(),
        name="public-meeting",
    ),
    path(
        "public/boards/<str:code>/packs/<int:pk>/pdf/",
        public.PublicPackDownloadView.as_view(),
        name="public-pack",
    ),
]
