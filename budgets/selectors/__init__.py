"""Reads of the budgets app: a schedule's derived figures (``monitoring``: table, variance, risk
share, chart), where its positions were reported (``reporting``), the partnership summary
(``summary``), the dashboard panel (``dashboard``), the change history (``history``) and the
decisions behind agreements, lines and virements (``decisions``).

Each function takes already-permitted objects (fetched through ``restrict``) or a user and applies
the gate itself, and runs a fixed number of queries whatever the number of lines or positions.
"""

from budgets.selectors.contributions import (
    InstalmentRow,
    PlanChange,
    PlanRow,
    contribution_amounts,
    plan_change,
    plan_rows,
)
from budgets.selectors.dashboard import OverspendRow, overspend_panel, overspending_schedules
from budgets.selectors.decisions import (
    DecisionRef,
    LineChange,
    decision_refs,
    decision_refs_of,
    virement_line_changes,
)
from budgets.selectors.fed import FedLine, fed_lines
from budgets.selectors.history import (
    HistoryPage,
    agreement_history,
    schedule_history,
    schedule_history_page,
    stream_history,
)
from budgets.selectors.monitoring import (
    LineMonitoring,
    Monitoring,
    Share,
    current_year,
    lines_of,
    monitor,
    monitor_many,
    partners_of,
    schedule_pack_context,
    schedule_table,
    schedule_years,
    summary_data,
    with_related,
    with_section_flags,
)
from budgets.selectors.reporting import PeriodReport, reporting_by_period
from budgets.selectors.reviews import ReviewReminder, review_panel, review_reminders
from budgets.selectors.summary import PartnershipSummary, partnership_summary
from budgets.selectors.timeline import TimelineEntry, agreement_timeline

__all__ = [
    "InstalmentRow",
    "PlanChange",
    "PlanRow",
    "plan_change",
    "contribution_amounts",
    "plan_rows",
    "DecisionRef",
    "FedLine",
    "HistoryPage",
    "LineChange",
    "LineMonitoring",
    "Monitoring",
    "OverspendRow",
    "PartnershipSummary",
    "PeriodReport",
    "ReviewReminder",
    "Share",
    "TimelineEntry",
    "agreement_history",
    "agreement_timeline",
    "current_year",
    "decision_refs",
    "decision_refs_of",
    "fed_lines",
    "lines_of",
    "monitor",
    "monitor_many",
    "overspend_panel",
    "overspending_schedules",
    "partners_of",
    "partnership_summary",
    "reporting_by_period",
    "review_panel",
    "review_reminders",
    "schedule_history",
    "schedule_history_page",
    "schedule_pack_context",
    "schedule_table",
    "schedule_years",
    "stream_history",
    "summary_data",
    "virement_line_changes",
    "with_related",
    "with_section_flags",
]
