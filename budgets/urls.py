from django.urls import path

from budgets import views

app_name = "budgets"

urlpatterns = [
    path("", views.IndexView.as_view(), name="index"),
    path("agreements/new/", views.AgreementCreateView.as_view(), name="agreement-create"),
    path("agreements/<int:pk>/", views.AgreementDetailView.as_view(), name="agreement-detail"),
    path("agreements/<int:pk>/edit/", views.AgreementUpdateView.as_view(), name="agreement-edit"),
    path("agreements/<int:pk>/schedules/new/", views.ScheduleCreateView.as_view(), name="schedule-create"),
    path("agreements/<int:pk>/streams/new/", views.FundingStreamCreateView.as_view(), name="stream-create"),
    path("streams/<int:pk>/edit/", views.FundingStreamUpdateView.as_view(), name="stream-edit"),
    path("schedules/<int:pk>/", views.ScheduleDetailView.as_view(), name="schedule-detail"),
    path("schedules/<int:pk>/edit/", views.ScheduleUpdateView.as_view(), name="schedule-edit"),
    path("schedules/<int:pk>/history/", views.ScheduleHistoryView.as_view(), name="schedule-history"),
    path("schedules/<int:pk>/export.<slug:fmt>", views.ScheduleExportView.as_view(), name="schedule-export"),
    path("schedules/<int:pk>/lines/new/", views.BudgetLineCreateView.as_view(), name="line-create"),
    path("schedules/<int:pk>/lines/<int:line>/edit/", views.BudgetLineUpdateView.as_view(), name="line-edit"),
    path("schedules/<int:pk>/import/", views.ImportView.as_view(), name="import"),
    path("schedules/<int:pk>/positions/", views.PositionsView.as_view(), name="positions"),
    path(
        "schedules/<int:pk>/positions/report/",
        views.ReportPositionsView.as_view(),
        name="positions-report",
    ),
    path("schedules/<int:pk>/virements/new/", views.VirementCreateView.as_view(), name="virement-create"),
    path(
        "virements/<int:pk>/approve/",
        views.VirementActionView.as_view(verb="approve"),
        name="virement-approve",
    ),
    path("virements/<int:pk>/apply/", views.VirementActionView.as_view(verb="apply"), name="virement-apply"),
    path("partnerships/<int:pk>/summary/", views.SummaryView.as_view(), name="summary"),
]
