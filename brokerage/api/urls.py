"""Brokerage resources of API v1 (api.md), included at ``/api/v1/``; the finance resources
(recharge runs, invoices, disputes, reports) are routed by ``brokerage.finance.api.urls``."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("clients", views.ClientViewSet, basename="client")
router.register("referrals", views.ReferralViewSet, basename="referral")
router.register("offers", views.OfferViewSet, basename="offer")
router.register("rate-cards", views.RateCardViewSet, basename="rate-card")
router.register("packages", views.PackageViewSet, basename="package")
router.register("price-changes", views.PriceChangeViewSet, basename="price-change")
router.register("package-costs", views.PackageCostViewSet, basename="package-cost")
router.register("funding-splits", views.FundingSplitViewSet, basename="funding-split")
router.register("panel-decisions", views.PanelDecisionViewSet, basename="panel-decision")

urlpatterns = [
    *router.urls,
    path("", include("brokerage.finance.api.urls")),
]
