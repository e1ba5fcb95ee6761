"""Brokerage resources of API v1 (api.md), included at ``/api/v1/``."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import finance_views, views

router = SimpleRouter()
router.register("clients", views.ClientViewSet, basename="client")
router.register("referrals", views.ReferralViewSet, basename="referral")
router.register("offers", views.OfferViewSet, basename="offer")
router.register("rate-cards", views.RateCardViewSet, basename="rate-card")
router.register("packages", views.PackageViewSet, basename="package")
router.register("package-costs", views.PackageCostViewSet, basename="package-cost")
router.register("funding-splits", views.FundingSplitViewSet, basename="funding-split")

router.register("recharge-runs", finance_views.RechargeRunViewSet, basename="recharge-run")
router.register("invoices", finance_views.InvoiceViewSet, basename="invoice")
router.register("disputes", finance_views.DisputeViewSet, basename="dispute")

urlpatterns = [
    *router.urls,
    path("recharge-report/", finance_views.RechargeReportView.as_view(), name="recharge-report"),
    path("aged-debt/", finance_views.AgedDebtView.as_view(), name="aged-debt"),
]
