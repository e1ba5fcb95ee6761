"""Finance resources of API v1 (api.md), included by ``brokerage.api.urls`` at ``/api/v1/``."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("recharge-runs", views.RechargeRunViewSet, basename="recharge-run")
router.register("invoices", views.InvoiceViewSet, basename="invoice")
router.register("disputes", views.DisputeViewSet, basename="dispute")

urlpatterns = [
    *router.urls,
    path("recharge-report/", views.RechargeReportView.as_view(), name="recharge-report"),
    path("aged-debt/", views.AgedDebtView.as_view(), name="aged-debt"),
]
