"""Governance endpoints of API v1, included at ``/api/v1/`` (api.md)."""

from django.urls import path
from rest_framework import routers

from governance.api import views


class Router(routers.SimpleRouter):
    include_format_suffixes = False


router = Router()
router.register("boards", views.BoardViewSet, basename="board")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("forward-plan", views.ForwardPlanViewSet, basename="forward-plan")
router.register("meetings", views.MeetingViewSet, basename="meeting")
router.register("agenda-items", views.AgendaItemViewSet, basename="agenda-item")
router.register("papers", views.PaperViewSet, basename="paper")
router.register("attendance", views.AttendanceViewSet, basename="attendance")
router.register("declarations", views.DeclarationViewSet, basename="declaration")
router.register("decisions", views.DecisionViewSet, basename="decision")
router.register("actions", views.ActionViewSet, basename="action")
router.register("minutes", views.MinutesViewSet, basename="minutes")
router.register("packs", views.BoardPackViewSet, basename="pack")

app_name = "governance-api"
urlpatterns = [
    path("meetings/<int:meeting_pk>/packs/", views.MeetingPacksView.as_view(), name="meeting-packs"),
    path("public/boards/", views.PublicIndexView.as_view(), name="public-index"),
    path("public/boards/<str:code>/", views.PublicBoardView.as_view(), name="public-board"),
    path(
        "public/boards/<str:code>/packs/<int:pack_pk>/pdf/",
        views.PublicPackView.as_view(),
        name="public-pack-pdf",
    ),
    *router.urls,
]
