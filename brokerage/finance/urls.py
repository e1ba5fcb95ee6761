"""Finance pages, at /finance/ (app name ``finance``)."""

from django.urls import path

from . import region_views, views

app_name = "finance"

urlpatterns = [
    path("", views.IndexView.as_view(), name="index"),
    path("runs/new/", views.RunCreateView.as_view(), name="run-create"),
    path("runs/<int:pk>/", views.RunDetailView.as_view(), name="run"),
    path("runs/region/new/", region_views.RegionRunCreateView.as_view(), name="region-run-create"),
    path("runs/region/<int:pk>/", region_views.RegionRunDetailView.as_view(), name="region-run"),
    path("invoices/", views.InvoiceListView.as_view(), name="invoices"),
    path("invoices/<int:pk>/", views.InvoiceDetailView.as_view(), name="invoice"),
    path("invoices/<int:pk>/issue/", views.InvoiceIssueView.as_view(), name="invoice-issue"),
    path("invoices/<int:pk>/delete/", views.InvoiceDeleteView.as_view(), name="invoice-delete"),
    path("invoices/<int:pk>/pdf/", views.InvoicePdfView.as_view(), name="invoice-pdf"),
    path("invoices/<int:pk>/payments/new/", views.PaymentCreateView.as_view(), name="payment-create"),
    path("invoices/<int:pk>/disputes/new/", views.DisputeCreateView.as_view(), name="dispute-create"),
    path("disputes/", views.DisputeListView.as_view(), name="disputes"),
    path("disputes/<int:pk>/resolve/", views.DisputeResolveView.as_view(), name="dispute-resolve"),
    path("reports/recharges/", views.ReportView.as_view(), name="report"),
    path("reports/aged-debt/", views.AgedDebtView.as_view(), name="aged-debt"),
    path("reports/balances/", views.BalancesView.as_view(), name="balances"),
]
