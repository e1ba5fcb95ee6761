"""Virements: money moved between two lines of a schedule, proposed, approved (within the
approving board's delegated limit, or above it with the board decision that approved it: rules.md,
rule 3, ``governance.delegation``) and applied."""

from __future__ import annotations

from decimal import Decimal

import pghistory
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from budgets.models import BudgetLine, Schedule, Virement, VirementStatus, year_label
from budgets.services.base import Errors, check_decision, raise_errors, save_recorded
from commissioning.models import User
from commissioning.money import format_money
from governance.delegation import APPROVALS, exceeds_delegated_limit
from governance.models import DecisionLink


def virement_needs_decision(virement: Virement) -> bool:
    """Above the approving board's delegated limit a virement needs a decision. A schedule with no
    approving board has no delegation: every virement needs a decision. A board with a blank limit
    has no limit."""
    board = virement.schedule.board
    return board is None or exceeds_delegated_limit(virement.amount, board.delegated_limit)


@transaction.atomic
def virement_propose(
    *,
    schedule: Schedule,
    year: int,
    from_line: BudgetLine,
    to_line: BudgetLine,
    amount: Decimal,
    reason: str,
    by: User,
) -> Virement:
    errors: Errors = {}
    if amount is None or Decimal(amount) <= 0:
        errors.setdefault("amount", []).append("The amount must be more than £0.")
    for field, line in (("from_line", from_line), ("to_line", to_line)):
        if line.schedule_id != schedule.pk or line.year != year:
            errors.setdefault(field, []).append(f"Choose a line of this schedule for {year_label(year)}.")
    if from_line.pk == to_line.pk:
        errors.setdefault("to_line", []).append("Choose a different line to move the money to.")
    if not (reason or "").strip():
        errors.setdefault("reason", []).append("Enter the reason for the virement.")
    if amount is not None and "from_line" not in errors and Decimal(amount) > from_line.amount:
        errors.setdefault("amount", []).append(
            f"The amount is more than the {format_money(from_line.amount)} on “{from_line.name}”."
        )
    raise_errors(errors)
    virement = Virement(
        schedule=schedule,
        year=year,
        from_line=from_line,
        to_line=to_line,
        amount=amount,
        reason=reason.strip(),
        proposed_by=by,
    )
    save_recorded(virement, by=by)
    return virement


def _decision_errors(virement: Virement, decision) -> Errors:
    errors: Errors = {}
    if decision is None:
        if virement_needs_decision(virement):
            board = virement.schedule.board
            limit = (
                f"the {format_money(board.delegated_limit)} delegated limit of {board.name}"
                if board is not None
                else "what officers may approve (the schedule has no approving board)"
            )
            errors["decision"] = [
                f"This virement of {format_money(virement.amount)} is above {limit}: link the board "
                "decision that approved it."
            ]
        return errors
    check_decision(decision, virement.schedule.agreement.partnership, "decision", errors)
    if decision.outcome not in APPROVALS:
        errors.setdefault("decision", []).append(
            f"Decision {decision.reference} was {decision.get_outcome_display().lower()}, not approved."
        )
    return errors


@transaction.atomic
def virement_approve(*, virement: Virement, by: User, decision=None) -> Virement:
    locked = (
        Virement.objects.select_for_update(of=("self",))
        .select_related("schedule__board", "schedule__agreement__partnership")
        .get(pk=virement.pk)
    )
    if locked.status != VirementStatus.PROPOSED:
        raise ValidationError(f"This virement is already {locked.get_status_display().lower()}.")
    decision = decision or locked.decision
    raise_errors(_decision_errors(locked, decision))
    if decision is None and by.pk == locked.proposed_by_id:
        # Separation of duties: under delegated authority an officer may not approve their own
        # proposal. With a board decision linked, the board approved it; anyone may record that.
        raise ValidationError(
            {"decision": ["You proposed this virement, so another officer must approve it."]}
        )
    locked.decision = decision
    locked.status = VirementStatus.APPROVED
    locked.approved_by = by
    save_recorded(locked, by=by)
    return locked


@transaction.atomic
def virement_apply(*, virement: Virement, by: User) -> Virement:
    """Move the money: the from line goes down and the to line up by the amount, under row locks
    taken in primary-key order; a linked decision records the change it allowed."""
    locked = (
        Virement.objects.select_for_update(of=("self",))
        .select_related("schedule__board", "schedule__agreement__partnership")
        .get(pk=virement.pk)
    )
    if locked.status != VirementStatus.APPROVED:
        raise ValidationError("Only an approved virement can be applied.")
    raise_errors(_decision_errors(locked, locked.decision))
    lines = {
        line.pk: line
        for line in BudgetLine.objects.select_for_update()
        .filter(pk__in=[locked.from_line_id, locked.to_line_id])
        .order_by("pk")
    }
    source, target = lines[locked.from_line_id], lines[locked.to_line_id]
    if source.amount < locked.amount:
        raise ValidationError(
            {
                "amount": [
                    f"“{source.name}” now has only {format_money(source.amount)}: the virement cannot apply."
                ]
            }
        )
    with pghistory.context(user=by.pk, virement=locked.pk):
        BudgetLine.objects.filter(pk=source.pk).update(
            amount=F("amount") - locked.amount, version=F("version") + 1
        )
        BudgetLine.objects.filter(pk=target.pk).update(
            amount=F("amount") + locked.amount, version=F("version") + 1
        )
        locked.status = VirementStatus.APPLIED
        locked.applied_at = timezone.now()
        locked.save(update_fields=["status", "applied_at"])
        if locked.decision_id:
            content_type = ContentType.objects.get_for_model(BudgetLine)
            for line, after in (
                (source, source.amount - locked.amount),
                (target, target.amount + locked.amount),
            ):
                DecisionLink.objects.update_or_create(
                    decision=locked.decision,
                    content_type=content_type,
                    object_id=line.pk,
                    defaults={
                        "description": f"Virement {locked.pk}: {line.name} ({line.year_label})",
                        "amount_before": line.amount,
                        "amount_after": after,
                    },
                )
    return locked
