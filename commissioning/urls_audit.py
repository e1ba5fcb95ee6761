from django.urls import path

from commissioning.views import audit

app_name = "audit"

urlpatterns = [
    path("", audit.HistoryView.as_view(), name="index"),
    path("history.csv", audit.HistoryExportView.as_view(), name="history-export"),
    path("access/", audit.AccessLogView.as_view(), name="access-log"),
    path("access.csv", audit.AccessLogExportView.as_view(), name="access-log-export"),
]
