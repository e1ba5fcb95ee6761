from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from commissioning.views import dashboard

handler400 = "commissioning.errors.bad_request"  # JSON on the API (a body over the upload limit)
handler404 = "commissioning.errors.not_found"  # JSON on the API (a path no route matches)

urlpatterns = [
    path("", dashboard.DashboardView.as_view(), name="dashboard"),
    path("partnership/switch/", dashboard.SwitchPartnershipView.as_view(), name="switch-partnership"),
    path("accounts/", include("commissioning.urls_accounts")),
    path("contracts/", include("commissioning.urls_contracts")),
    path("audit/", include("commissioning.urls_audit")),
    path("budgets/", include("budgets.urls")),
    path("brokerage/", include("brokerage.urls")),
    path("finance/", include("brokerage.finance.urls")),
    path("governance/", include("governance.urls")),
    path("api/v1/", include("commissioning.api.urls")),
    path("api/v1/", include("budgets.api.urls")),
    path("api/v1/", include("brokerage.api.urls")),
    path("api/v1/", include("governance.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file, so the CSP needs no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
