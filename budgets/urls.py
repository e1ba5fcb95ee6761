from django.urls import path

from budgets.views import (
    agreements,
    contributions,
    imports,
    lines,
    links,
    plans,
    positions,
    records,
    schedules,
    statements,
    streams,
    summary,
    virements,
)

app_name = "budgets"

urlpatterns = [
    path("", agreements.IndexView.as_view(), name="index"),
    path("agreements/new/", agreements.AgreementCreateView.as_view(), name="agreement-create"),
    path("agreements/<int:pk>/", agreements.AgreementDetailView.as_view(), name="agreement-detail"),
    path("agreements/<int:pk>/edit/", agreements.AgreementUpdateView.as_view(), name="agreement-edit"),
    path(
        "agreements/<int:pk>/timeline/", agreements.AgreementTimelineView.as_view(), name="agreement-timeline"
    ),
    path(
        "agreements/<int:pk>/document/", agreements.AgreementDocumentView.as_view(), name="agreement-document"
    ),
    path(
        "agreements/<int:pk>/contributions/raise/",
        contributions.RaiseContributionsView.as_view(),
        name="contributions-raise",
    ),
    path(
        "schedules/<int:pk>/contribution-plans/new/",
        plans.ContributionPlanCreateView.as_view(),
        name="contribution-plan-create",
    ),
    path(
        "contribution-plans/<int:pk>/edit/",
        plans.ContributionPlanUpdateView.as_view(),
        name="contribution-plan-edit",
    ),
    path("agreements/<int:pk>/statement/", statements.StatementView.as_view(), name="statement"),
    path("agreements/<int:pk>/statement.csv", statements.StatementCsvView.as_view(), name="statement-csv"),
    path(
        "agreements/<int:pk>/statement/produce/",
        statements.StatementProduceView.as_view(),
        name="statement-produce",
    ),
    path("statements/<int:pk>/pdf/", statements.StatementPdfView.as_view(), name="statement-pdf"),
    path("statements/<int:pk>/settle/", statements.SettleStatementView.as_view(), name="statement-settle"),
    path(
        "agreements/<int:pk>/variations/new/", records.VariationCreateView.as_view(), name="variation-create"
    ),
    path("variations/<int:pk>/deed/", records.VariationDeedView.as_view(), name="variation-deed"),
    path("agreements/<int:pk>/reviews/new/", records.ReviewCreateView.as_view(), name="review-create"),
    path("reviews/<int:pk>/edit/", records.ReviewUpdateView.as_view(), name="review-edit"),
    path(
        "agreements/<int:pk>/schedules/new/", schedules.ScheduleCreateView.as_view(), name="schedule-create"
    ),
    path("agreements/<int:pk>/streams/new/", streams.FundingStreamCreateView.as_view(), name="stream-create"),
    path("streams/<int:pk>/edit/", streams.FundingStreamUpdateView.as_view(), name="stream-edit"),
    path("schedules/<int:pk>/", schedules.ScheduleDetailView.as_view(), name="schedule-detail"),
    path("schedules/<int:pk>/edit/", schedules.ScheduleUpdateView.as_view(), name="schedule-edit"),
    path("schedules/<int:pk>/years/", schedules.ScheduleYearsView.as_view(), name="schedule-years"),
    path("schedules/<int:pk>/history/", schedules.ScheduleHistoryView.as_view(), name="schedule-history"),
    path(
        "schedules/<int:pk>/export.<slug:fmt>", schedules.ScheduleExportView.as_view(), name="schedule-export"
    ),
    path("schedules/<int:pk>/lines/new/", lines.BudgetLineCreateView.as_view(), name="line-create"),
    path("schedules/<int:pk>/lines/<int:line>/edit/", lines.BudgetLineUpdateView.as_view(), name="line-edit"),
    path(
        "schedules/<int:pk>/lines/<int:line>/packages/",
        links.LinePackagesView.as_view(),
        name="line-packages",
    ),
    path("schedules/<int:pk>/lines/<int:line>/feed/", links.LineFeedView.as_view(), name="line-feed"),
    path("schedules/<int:pk>/import/", imports.ImportView.as_view(), name="import"),
    path(
        "schedules/<int:pk>/import/template.<slug:fmt>",
        imports.ImportTemplateView.as_view(),
        name="import-template",
    ),
    path("schedules/<int:pk>/positions/", positions.PositionsView.as_view(), name="positions"),
    path(
        "schedules/<int:pk>/positions/report/",
        positions.ReportPositionsView.as_view(),
        name="positions-report",
    ),
    path("schedules/<int:pk>/virements/new/", virements.VirementCreateView.as_view(), name="virement-create"),
    path("virements/<int:pk>/approve/", virements.VirementApproveView.as_view(), name="virement-approve"),
    path("virements/<int:pk>/apply/", virements.VirementApplyView.as_view(), name="virement-apply"),
    path("contracts/<int:pk>/schedule/", links.ContractScheduleView.as_view(), name="contract-schedule"),
    path("partnerships/<int:pk>/summary/", summary.SummaryView.as_view(), name="summary"),
]
