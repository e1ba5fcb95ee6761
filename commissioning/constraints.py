"""Every database constraint in words, in one place.

Each ``CheckConstraint`` and ``UniqueConstraint`` of every app's ``Meta.constraints`` has an entry
here: the field it concerns (the name the forms and the API use; ``None`` when it concerns the
record as a whole) and what to tell the user. ``tests/commissioning/test_constraint_messages.py``
fails for a constraint without one, so a new constraint comes with its message.

Two paths reach a user:
- ``full_clean`` (services, API serializers, the admin) validates the constraints in Python.
  ``install()`` (called once, from the core's ``AppConfig.ready``) wraps each constraint's
  ``validate`` so its refusal is this message on this field, instead of Django's
  "Constraint "x" is violated." The constraints themselves are not altered, so migrations see no
  change.
- the database refuses a write the Python checks did not foresee (a race, a bulk write):
  ``integrity_error_as_validation`` turns the ``IntegrityError`` into the same ``ValidationError``,
  which the form views put on the field and the API answers as 400 naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import wraps

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError


@dataclass(frozen=True)
class ConstraintMessage:
    field: str | None
    message: str

    def error(self, code: str) -> ValidationError:
        return ValidationError({self.field or NON_FIELD_ERRORS: [ValidationError(self.message, code=code)]})


_END_AFTER_START = "The end date must be on or after the start date."
_PERCENT = "A percentage must be between 0 and 100."
_FIRST_OF_MONTH = "A period is a whole month: give the first day of the month."

_MESSAGES: dict[str, tuple[str | None, str]] = {
    # --- commissioning ---------------------------------------------------------------------------
    "organisation_code_format": (
        "code",
        "The code must be 1 to 20 capital letters, digits or hyphens, starting with a letter or digit.",
    ),
    "organisation_payment_terms_range": ("payment_terms_days", "Payment terms must be 365 days or fewer."),
    "partnership_two_different_partners": (
        "nhs_commissioner",
        "The NHS commissioner must be a different organisation from the council.",
    ),
    "grant_once_per_partnership": ("partnership", "This user already has access to this partnership."),
    "provider_cqc_id_unique": ("cqc_location_id", "Another provider already has this CQC location id."),
    "contract_reference_unique": (
        "reference",
        "A contract with this reference already exists in this partnership: enter a different reference",
    ),
    "contract_end_after_start": ("end", "The end date must be after the start date."),
    "contract_value_non_negative": ("annual_value", "The annual value cannot be negative."),
    "digest_once_per_user_and_week": ("week_start", "This week's digest has already been sent to this user."),
    "digest_week_starts_monday": ("week_start", "A digest week starts on a Monday."),
    # --- governance ------------------------------------------------------------------------------
    "board_code_format": (
        "code",
        "The code must be 2 to 10 capital letters or digits, starting with a letter (for example JICB).",
    ),
    "board_not_own_parent": ("parent", "A board cannot refer decisions to itself: choose another board."),
    "board_quorum_at_least_one": ("quorum_min_voting", "The quorum must be at least 1 voting member."),
    "membership_end_after_start": ("end", _END_AFTER_START),
    "appendix_exemption_stated": (
        "exemption_reason",
        "An exempt appendix needs its reason (and, under Schedule 12A, a paragraph from 1 to 7).",
    ),
    "paper_link_once": ("object_id", "This paper is already linked to that record."),
    "agenda_order_unique": ("order", "Another item of this meeting already has this position on the agenda."),
    "agenda_exemption_stated": (
        "exemption_reason",
        "An exempt item needs its reason (and, under Schedule 12A, a paragraph from 1 to 7).",
    ),
    "attendance_once": ("person", "This person's attendance at this meeting is already recorded."),
    "decision_urgent_reason": ("urgent_reason", "An urgent decision needs the reason it is urgent."),
    "decision_value_non_negative": ("financial_value", "The financial value cannot be negative."),
    "vote_once_per_member": ("person", "This member's vote on this decision is already recorded."),
    "decision_link_once": ("object_id", "This decision is already linked to that record."),
    "reference_counter_unique": (None, "Another reference was being given out at the same time: try again."),
    "register_once_a_year": ("year", "This person has already made a declaration for this year."),
    "register_interests_or_nil": ("interests", "List the interests, or make a nil return."),
    "register_change_declared_after_arising": (
        "declared_on",
        "An interest cannot be declared before the date it arose.",
    ),
    "pack_version_unique": (None, "Another pack of this meeting was being made at the same time: try again."),
    # --- budgets ---------------------------------------------------------------------------------
    "agreement_reference_unique": (
        "reference",
        "An agreement with this reference already exists in this partnership: enter a different reference.",
    ),
    "agreement_end_after_start": ("end", "The end date must be after the start date."),
    "agreement_review_frequency_range": (
        "review_frequency_months",
        "The review frequency must be between 1 and 120 months.",
    ),
    "agreement_notice_range": ("notice_months", "The notice period must be between 1 and 60 months."),
    "schedule_number_unique": ("number", "This agreement already has a schedule with this number."),
    "schedule_integration_level_range": ("integration_level", "The integration level must be 1, 2 or 3."),
    "schedule_rules_known": ("overspend_rule", "Choose a risk-share rule from the list."),
    "schedule_number_positive": ("number", "The schedule number must be 1 or more."),
    "fixed_share_once": ("organisation", "This partner already has a fixed share in this schedule."),
    "fixed_share_percent_range": ("percent", _PERCENT),
    "funding_stream_name_unique": (
        "name",
        "A funding stream with this name already exists in this partnership.",
    ),
    "budget_line_unique": (
        "name",
        "This schedule already has a line with this name, year and funding stream.",
    ),
    "budget_line_amount_non_negative": ("amount", "The amount cannot be negative."),
    "budget_line_year_range": ("year", "The financial year must be between 2000 and 2100."),
    "position_once_per_period": ("period", "This line already has a position for this month."),
    "position_period_first_of_month": ("period", _FIRST_OF_MONTH),
    "position_amounts_non_negative": (
        "actual_to_date",
        "Spend to date and forecast outturn cannot be negative.",
    ),
    "virement_amount_positive": ("amount", "The amount to move must be more than £0."),
    "virement_two_lines": ("to_line", "Choose a different line to move the money to."),
    "virement_applied_at": (None, "An applied virement must record when it was applied."),
    "variation_number_unique": ("number", "This agreement already has a variation with this number."),
    "variation_number_positive": ("number", "The variation number must be 1 or more."),
    "review_once_a_year": ("year", "This agreement already has a review for this year."),
    "review_outcome_when_held": ("held_on", "Give the date the review was held to record its outcome."),
    "review_outcome_known": ("outcome", "Choose an outcome from the list."),
    "contribution_plan_once": (
        "partner",
        "This partner already has a contribution plan for this schedule and year.",
    ),
    "contribution_plan_year_range": ("year", "The financial year must be between 2000 and 2100."),
    "contribution_plan_frequency_known": ("frequency", "Choose quarterly or monthly."),
    "contribution_instalment_raised_once": (
        "number",
        "This instalment has already been raised: an instalment is invoiced once.",
    ),
    "contribution_instalment_number_range": ("number", "An instalment is numbered 1 to 12."),
    "contribution_instalment_amount_positive": ("amount", "An instalment must be more than £0.00."),
    "fund_statement_quarter_range": ("quarter", "A quarter is 1, 2, 3 or 4 (April to June is 1)."),
    "fund_statement_pdf_when_ready": (None, "Only a statement whose PDF is ready keeps its checksum."),
    "fund_statement_approved_when_a_ready_year": (
        "decision",
        "Only a year's statement whose PDF has been produced can be approved.",
    ),
    "statement_settlement_once": ("partner", "This partner's settlement has already been raised."),
    "statement_settlement_not_zero": ("amount", "There is nothing to settle: the amount is £0.00."),
    # --- brokerage -------------------------------------------------------------------------------
    "rate_card_once_per_service_and_year": (
        "year",
        "This partnership already has a rate card for this service type and year.",
    ),
    "rate_card_rate_non_negative": ("unit_rate", "The unit rate cannot be negative."),
    "rate_card_year_range": ("year", "The financial year must be between 2000 and 2100."),
    "client_nhs_number_unique": ("nhs_number", "Another client in this partnership has this NHS number."),
    "client_case_reference_unique": (
        "case_reference",
        "Another client in this partnership has this case reference.",
    ),
    "client_nhs_number_digits": ("nhs_number", "The NHS number must be 10 digits."),
    "offer_rate_non_negative": ("unit_rate", "The unit rate cannot be negative."),
    "offer_units_positive": ("units_per_week", "The units per week must be more than 0."),
    "offer_approval_names_who_and_when": (None, "An approval must record who approved it and when."),
    "package_end_not_before_start": ("end", _END_AFTER_START),
    "package_cost_to_not_before_from": ("effective_to", _END_AFTER_START),
    "package_cost_rate_non_negative": ("unit_rate", "The unit rate cannot be negative."),
    "package_cost_units_positive": ("units_per_week", "The units per week must be more than 0."),
    "price_change_one_pending_per_package": (
        None,
        "A price change of this package is already awaiting a brokerage manager's approval: it must be "
        "approved or declined before the price changes again.",
    ),
    "price_change_decision_names_who_and_when": (
        None,
        "An approved or declined price change must record who decided it and when; a pending one neither.",
    ),
    "price_change_decline_has_a_reason": ("reason", "Say why the price change is declined."),
    "price_change_rate_non_negative": ("unit_rate", "The unit rate cannot be negative."),
    "price_change_units_positive": ("units_per_week", "The units per week must be more than 0."),
    "funding_split_to_not_before_from": ("effective_to", _END_AFTER_START),
    "funding_share_once_per_funder": ("shares", "Each funder can have only one share."),
    "funding_share_percent_range": ("shares", _PERCENT),
    "panel_decision_to_not_before_from": ("effective_to", _END_AFTER_START),
    "panel_share_once_per_funder": ("shares", "Each funder can have only one share."),
    "panel_share_percent_range": ("shares", _PERCENT),
    "suspension_to_not_before_from": ("effective_to", _END_AFTER_START),
    "suspension_paid_percent_matches_treatment": (
        "paid_percent",
        "The provider's paid percentage must match the treatment: 100 when retained, 0 when stopped, "
        "between 0 and 100 when reduced.",
    ),
    "recharge_run_one_active_per_issuer_and_period": (
        "period",
        "A recharge run of this month is already queued or running.",
    ),
    "recharge_run_period_is_a_month": ("period", _FIRST_OF_MONTH),
    "region_run_one_active_per_user_and_period": (
        "period",
        "Your region run of this month is already queued or running.",
    ),
    "region_run_period_is_a_month": ("period", _FIRST_OF_MONTH),
    "region_member_once_per_issuer": ("partnership", "A region run has one run per partnership and issuer."),
    "invoice_total_positive": (None, "An invoice's total must be more than £0."),
    "invoice_paid_and_credited_within_total": (
        "amount",
        "Payments and credits cannot add up to more than the invoice's total.",
    ),
    "invoice_period_is_a_month": ("period", _FIRST_OF_MONTH),
    "invoice_issuer_not_recipient": ("recipient", "An organisation cannot invoice itself."),
    "invoice_credit_only_settlement": ("kind", "Only a settlement can be a credit to its recipient."),
    "invoice_line_names_package_or_description": (
        "description",
        "A line names the package it bills, or says what it is for.",
    ),
    "invoice_number_exactly_when_issued": (
        None,
        "An invoice has a number, issue date and due date once it is issued, and not before.",
    ),
    "invoice_line_month_is_a_month": ("month", _FIRST_OF_MONTH),
    "invoice_line_to_not_before_from": ("end", _END_AFTER_START),
    "invoice_line_adjustment_names_its_month": (
        None,
        "An adjustment line must name the month it corrects.",
    ),
    "payment_amount_positive": ("amount", "The payment must be more than £0."),
    "dispute_outcome_exactly_when_resolved": (
        "outcome",
        "A resolved dispute needs its outcome, and only then.",
    ),
    "dispute_corrected_names_its_change": (
        "change",
        "A dispute resolved as corrected must name the price or funding change that corrects it.",
    ),
    "waiver_month_is_a_month": ("month", _FIRST_OF_MONTH),
    "waiver_once_per_dispute_month": (
        "month",
        "This month of this package is already waived for this dispute.",
    ),
    "number_sequence_once": (None, "Another number was being given out at the same time: try again."),
    "ledger_billed_key": (
        None,
        "Another invoice or waiver of this package month was being recorded at the same time: try again.",
    ),
    "ledger_unsettled_key": (
        None,
        "Another change to this package month was being recorded at the same time: try again.",
    ),
}

CONSTRAINT_MESSAGES: dict[str, ConstraintMessage] = {
    name: ConstraintMessage(field, message) for name, (field, message) in _MESSAGES.items()
}

GENERIC = (
    "This change conflicts with existing records (for example a duplicate reference). Nothing was saved."
)


def message_for(name: str) -> ConstraintMessage | None:
    return CONSTRAINT_MESSAGES.get(name)


def constraint_error(name: str) -> ValidationError:
    """The ``ValidationError`` for a refusal by constraint ``name`` (the message on its field)."""
    entry = CONSTRAINT_MESSAGES.get(name) or ConstraintMessage(None, GENERIC)
    return entry.error(name)


_NAMED = re.compile(r'constraint "([^"]+)"')


def constraint_name(error: IntegrityError) -> str | None:
    """The name of the constraint a database error reports (psycopg's diagnostics, else the text)."""
    diag = getattr(error.__cause__, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name:
        return name
    found = _NAMED.search(str(error))
    return found.group(1) if found else None


def integrity_error_as_validation(error: IntegrityError) -> ValidationError:
    """The words for a write the database refused: the constraint's message on its field, or a
    general one when the refusal names no constraint of ours (a unique column, a trigger)."""
    name = constraint_name(error)
    if name in CONSTRAINT_MESSAGES:
        return constraint_error(name)
    return ValidationError(GENERIC, code="integrity")


def _in_words(constraint):
    original = constraint.validate
    name = constraint.name

    @wraps(original)
    def validate(*args, **kwargs):
        try:
            return original(*args, **kwargs)
        except ValidationError as refused:
            raise constraint_error(name) from refused

    return validate


def install() -> None:
    """Give every model constraint its words when ``full_clean`` validates it (idempotent). A
    constraint missing from the table (the test refuses that) still never shows its name."""
    from django.apps import apps

    for model in apps.get_models(include_auto_created=True):
        for constraint in model._meta.constraints:
            if not getattr(constraint, "_in_words", False):
                constraint.validate = _in_words(constraint)
                constraint._in_words = True
