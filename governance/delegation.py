"""Delegation and key decisions (rules.md, rule 3), and the outcome a decision may be recorded
with. Pure functions over plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from governance.calendar import KEY_DECISION_NOTICE_CLEAR_DAYS, clear_days_between

APPROVALS = ("approved", "approved_with_amendments")


class OutcomeRefused(ValueError):
    """The outcome asked for cannot be recorded (e.g. approval while not quorate)."""


def exceeds_delegated_limit(value: Decimal | None, limit: Decimal | None) -> bool:
    """Above the limit (not at it); no value or no limit never exceeds."""
    return value is not None and limit is not None and value > limit


def is_key_decision(value: Decimal | None, threshold: Decimal | None) -> bool:
    """A decision whose value reaches the threshold (at it or above)."""
    return value is not None and threshold is not None and value >= threshold


@dataclass(frozen=True)
class NoticeCheck:
    ok: bool
    clear_days: int | None
    message: str


def key_decision_notice(
    *, meeting_on: date, first_published_on: date | None, urgent: bool, urgent_reason: str = ""
) -> NoticeCheck:
    """A key decision must have been on the forward plan 28 clear days before the meeting, or be
    urgent with a stated reason."""
    if urgent and urgent_reason.strip():
        return NoticeCheck(True, None, f"Urgent: {urgent_reason.strip()}")
    if first_published_on is None:
        return NoticeCheck(False, None, "Key decision not on the forward plan and not marked urgent.")
    days = clear_days_between(first_published_on, meeting_on)
    if days >= KEY_DECISION_NOTICE_CLEAR_DAYS:
        return NoticeCheck(True, days, f"On the forward plan {days} clear days before the meeting.")
    return NoticeCheck(
        False,
        days,
        f"On the forward plan only {days} clear days before the meeting "
        f"({KEY_DECISION_NOTICE_CLEAR_DAYS} needed) and not marked urgent.",
    )


def recordable_outcome(
    *,
    requested: str,
    quorate: bool,
    vote_passed: bool | None,
    value: Decimal | None,
    delegated_limit: Decimal | None,
) -> str:
    """The outcome to record for the one the secretary asked for.

    - Not quorate: an approval cannot be recorded.
    - A vote was taken and did not carry: an approval cannot be recorded.
    - Above the delegated limit: an approval is recorded as ``referred`` to the parent board.
    ``vote_passed`` is None when no vote was taken (agreed by consensus).
    """
    if requested in APPROVALS:
        if not quorate:
            raise OutcomeRefused("The item was not quorate, so the decision cannot be recorded as approved.")
        if vote_passed is False:
            raise OutcomeRefused("The vote did not carry, so the decision cannot be recorded as approved.")
        if exceeds_delegated_limit(value, delegated_limit):
            return "referred"
    return requested
