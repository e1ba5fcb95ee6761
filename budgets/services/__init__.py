"""Writes of the budgets app. Each service is one transaction, takes keyword-only arguments, checks
the rules that span rows (and names the field in its ``ValidationError``), records who acted in the
history (``pghistory.context``) and is what the pages, the API, the admin, the import and the demo
all call. ``<entity>_validate`` is the check a service makes before it saves, for the admin's form.

Stale edits (a ``version`` older than the stored one) raise ``StaleEdit`` (409 in the API).
"""

from budgets.services.agreements import (
    AGREEMENT_FIELDS,
    RECORD_FIELDS,
    TERM_FIELDS,
    agreement_create,
    agreement_delete,
    agreement_update,
    agreement_validate,
)
from budgets.services.contributions import (
    contribution_instalments_raise,
    contribution_instalments_raise_due,
    contribution_plan_save,
    fund_statement_settle,
    settlement_amounts,
)
from budgets.services.lines import (
    LINE_FIELDS,
    budget_line_create,
    budget_line_delete,
    budget_line_errors,
    budget_line_update,
    budget_line_validate,
    budget_lines_create_many,
    budget_lines_import,
)
from budgets.services.links import budget_line_feed_set, contract_schedule_set
from budgets.services.positions import (
    PositionEntry,
    PositionErrors,
    monthly_position_create,
    monthly_position_delete,
    monthly_position_save,
    monthly_position_update,
    monthly_positions_save_period,
    positions_report,
    positions_report_periods,
)
from budgets.services.records import review_create, review_update, variation_record
from budgets.services.schedules import (
    SCHEDULE_FIELDS,
    FixedShare,
    schedule_create,
    schedule_delete,
    schedule_update,
    schedule_validate,
    stored_fixed_shares,
)
from budgets.services.statements import (
    fund_statement_render,
    fund_statement_request,
    fund_statement_validate,
)
from budgets.services.streams import (
    funding_stream_create,
    funding_stream_delete,
    funding_stream_update,
    funding_stream_validate,
)
from budgets.services.virements import (
    OwnVirement,
    virement_apply,
    virement_approve,
    virement_check_approver,
    virement_decisions,
    virement_needs_decision,
    virement_propose,
    virement_proposed_on,
    virement_within_delegation,
)

__all__ = [
    "fund_statement_settle",
    "settlement_amounts",
    "fund_statement_render",
    "fund_statement_request",
    "fund_statement_validate",
    "contribution_instalments_raise",
    "contribution_instalments_raise_due",
    "contribution_plan_save",
    "AGREEMENT_FIELDS",
    "RECORD_FIELDS",
    "TERM_FIELDS",
    "LINE_FIELDS",
    "SCHEDULE_FIELDS",
    "FixedShare",
    "PositionEntry",
    "PositionErrors",
    "agreement_create",
    "agreement_delete",
    "agreement_update",
    "agreement_validate",
    "budget_line_create",
    "budget_line_delete",
    "budget_line_feed_set",
    "budget_line_errors",
    "budget_line_update",
    "budget_line_validate",
    "budget_lines_create_many",
    "budget_lines_import",
    "contract_schedule_set",
    "funding_stream_create",
    "funding_stream_delete",
    "funding_stream_update",
    "funding_stream_validate",
    "monthly_position_create",
    "monthly_position_delete",
    "monthly_position_save",
    "monthly_position_update",
    "monthly_positions_save_period",
    "positions_report",
    "positions_report_periods",
    "review_create",
    "review_update",
    "schedule_create",
    "schedule_delete",
    "schedule_update",
    "schedule_validate",
    "stored_fixed_shares",
    "variation_record",
    "OwnVirement",
    "virement_apply",
    "virement_approve",
    "virement_check_approver",
    "virement_decisions",
    "virement_needs_decision",
    "virement_proposed_on",
    "virement_propose",
    "virement_within_delegation",
]
