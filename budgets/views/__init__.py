"""Pages of section 75 budgets, on the generic page layer (``commissioning.generic``): each view
fetches through the permission gate, validates with a form, calls one service and responds; the
figures come from ``budgets.selectors``."""

from budgets.views.agreements import AgreementCreateView, AgreementDetailView, AgreementUpdateView, IndexView
from budgets.views.imports import ImportView
from budgets.views.lines import BudgetLineCreateView, BudgetLineUpdateView
from budgets.views.positions import PositionsView, ReportPositionsView
from budgets.views.schedules import (
    ScheduleCreateView,
    ScheduleDetailView,
    ScheduleExportView,
    ScheduleHistoryView,
    ScheduleUpdateView,
)
from budgets.views.streams import FundingStreamCreateView, FundingStreamUpdateView
from budgets.views.summary import SummaryView
from budgets.views.virements import VirementApplyView, VirementApproveView, VirementCreateView

__all__ = [
    "AgreementCreateView",
    "AgreementDetailView",
    "AgreementUpdateView",
    "BudgetLineCreateView",
    "BudgetLineUpdateView",
    "FundingStreamCreateView",
    "FundingStreamUpdateView",
    "ImportView",
    "IndexView",
    "PositionsView",
    "ReportPositionsView",
    "ScheduleCreateView",
    "ScheduleDetailView",
    "ScheduleExportView",
    "ScheduleHistoryView",
    "ScheduleUpdateView",
    "SummaryView",
    "VirementApplyView",
    "VirementApproveView",
    "VirementCreateView",
]
