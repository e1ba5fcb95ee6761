from django.urls import path

from governance import views

app_name = "governance"

urlpatterns = [
    path("", views.IndexView.as_view(), name="index"),
    path("boards/new/", views.BoardCreateView.as_view(), name="board-create"),
    path("boards/<int:pk>/", views.BoardDetailView.as_view(), name="board"),
    path("boards/<int:pk>/edit/", views.BoardEditView.as_view(), name="board-edit"),
    path("boards/<int:pk>/members/new/", views.MembershipCreateView.as_view(), name="membership-create"),
    path("memberships/<int:pk>/edit/", views.MembershipEditView.as_view(), name="membership-edit"),
    path(
        "boards/<int:board_pk>/forward-plan/new/",
        views.ForwardPlanEntryView.as_view(),
        name="forward-plan-create",
    ),
    path("forward-plan/<int:pk>/edit/", views.ForwardPlanEntryView.as_view(), name="forward-plan-edit"),
    path("boards/<int:pk>/meetings/new/", views.MeetingCreateView.as_view(), name="meeting-create"),
    path("boards/<int:pk>/papers/new/", views.PaperCreateView.as_view(), name="paper-create"),
    path("meetings/<int:pk>/", views.MeetingDetailView.as_view(), name="meeting"),
    path("meetings/<int:pk>/packs/", views.MeetingPacksPartial.as_view(), name="meeting-packs"),
    path("meetings/<int:pk>/packs/new/", views.PackRequestView.as_view(), name="pack-request"),
    path("meetings/<int:pk>/items/new/", views.AgendaItemAddView.as_view(), name="item-add"),
    path("meetings/<int:pk>/minutes/", views.MinutesWriteView.as_view(), name="minutes"),
    path("meetings/<int:pk>/minutes/approve/", views.MinutesApproveView.as_view(), name="minutes-approve"),
    path("meetings/<int:pk>/actions/new/", views.ActionAddView.as_view(), name="action-add"),
    path("meetings/<int:pk>/attendance/", views.AttendanceRecordView.as_view(), name="attendance"),
    path("actions/<int:pk>/status/", views.ActionStatusView.as_view(), name="action-status"),
    path("items/<int:pk>/", views.AgendaItemDetailView.as_view(), name="item"),
    path("items/<int:pk>/move/", views.AgendaItemMoveView.as_view(), name="item-move"),
    path("items/<int:pk>/decisions/new/", views.DecisionRecordView.as_view(), name="decision-record"),
    path(
        "items/<int:pk>/declarations/new/", views.DeclarationRecordView.as_view(), name="declaration-record"
    ),
    path("papers/<int:pk>/", views.PaperDetailView.as_view(), name="paper"),
    path("papers/<int:pk>/appendices/new/", views.AppendixUploadView.as_view(), name="appendix-upload"),
    path("appendices/<int:pk>/download/", views.AppendixDownloadView.as_view(), name="appendix-download"),
    path("decisions/", views.DecisionLogView.as_view(), name="decisions"),
    path("decisions/export.<str:fmt>", views.DecisionLogExportView.as_view(), name="decisions-export"),
    path("decisions/<int:pk>/", views.DecisionDetailView.as_view(), name="decision"),
    path("decisions/<int:pk>/publish/", views.DecisionPublishView.as_view(), name="decision-publish"),
    path("packs/<int:pk>/pdf/", views.PackDownloadView.as_view(), name="pack-pdf"),
    path("register/", views.RegisterView.as_view(), name="register"),
    path("register/declare/", views.RegisterDeclareView.as_view(), name="register-declare"),
    path("register/changes/new/", views.RegisterChangeView.as_view(), name="register-change"),
    path("register/people/<int:pk>/", views.RegisterPersonView.as_view(), name="register-person"),
    path("public/boards/<str:code>/", views.PublicBoardView.as_view(), name="public-board"),
    path(
        "public/boards/<str:code>/meetings/<int:pk>/",
        views.PublicMeetingView.as_view(),
        name="public-meeting",
    ),
    path(
        "public/boards/<str:code>/packs/<int:pk>/pdf/",
        views.PublicPackDownloadView.as_view(),
        name="public-pack",
    ),
]
