"""Virements: money moved between two lines of a schedule, proposed, approved and applied.

The controls (domain.md; issue 18):
- separation of duties: whoever proposed a virement may not approve it (``OwnVirement``, a 403);
- delegation: without a decision, a virement is approved only under a delegated limit, that is when
  the schedule names an approving board with a delegated limit and the amount is within it
  (rules.md, rule 3, ``governance.delegation``); otherwise it needs a decision;
- the decision must be an approval by the board the schedule names (by a board of the schedule's
  partnership where the schedule names none), taken on or after the day the virement was proposed;
- who approved it and when, and who applied it and when, are recorded.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pghistory
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from budgets.models import BudgetLine, Schedule, Virement, VirementStatus, year_label
from budgets.services.base import Errors, check_decision, raise_errors, save_recorded
from commissioning.models import User
from commissioning.money import format_money
from governance.delegation import APPROVALS
from governance.models import Decision, DecisionLink

_LOCKED_RELATED = ("schedule__board", "schedule__agreement__partnership", "decision__agenda_item__meeting")


class OwnVirement(PermissionDenied):
    """The user proposed this virement, so may not approve it (403 on the page)."""


def virement_within_delegation(virement: Virement) -> bool:
    """May this virement be approved without a decision? Only under a delegated limit: the schedule
    names an approving board, the board has a delegated limit, and the amount is within it (at the
    limit included). A schedule with no approving board, or a board with no limit, delegates
    nothing: every virement needs a decision."""
    board = virement.schedule.board
    return (
        board is not None
        and board.delegated_limit is not None
        and virement.amount is not None
        and virement.amount <= board.delegated_limit
    )


def virement_needs_decision(virement: Virement) -> bool:
    return not virement_within_delegation(virement)


def virement_proposed_on(virement: Virement) -> date:
    """The day (in London) the virement was proposed: its decision must be taken on it or later."""
    return timezone.localdate(virement.proposed_at) if virement.proposed_at else timezone.localdate()


def virement_decisions(virement: Virement, decisions: QuerySet[Decision] | None = None) -> QuerySet[Decision]:
    """The decisions that may approve the virement: approvals by the board the schedule names (by
    a board of the schedule's partnership when it names none), taken on or after the day it was
    proposed, newest first, among ``decisions`` (the user's gate; all by default). The page offers
    these; the service accepts only these."""
    schedule = virement.schedule
    decisions = (
        (Decision.objects.all() if decisions is None else decisions)
        .filter(outcome__in=APPROVALS, decided_on__gte=virement_proposed_on(virement))
        .select_related("agenda_item__meeting__board")
    )
    if schedule.board_id:
        decisions = decisions.filter(agenda_item__meeting__board=schedule.board_id)
    else:
        partnership = schedule.agreement.partnership_id
        decisions = decisions.filter(agenda_item__meeting__board__partnership=partnership)
    return decisions.order_by("-decided_on", "-reference")


def virement_check_approver(*, virement: Virement, by: User) -> None:
    """Separation of duties: the officer who proposed a virement may not approve it."""
    if by.pk == virement.proposed_by_id:
        raise OwnVirement("You proposed this virement, so another officer must approve it.")


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


def _board_wording(schedule: Schedule) -> str:
    board = schedule.board
    if board is None:
        return "the schedule names no approving board, so nothing is delegated"
    if board.delegated_limit is None:
        return f"{board.name} has no delegated limit, so nothing is delegated"
    return f"it is above the {format_money(board.delegated_limit)} delegated limit of {board.name}"


def _decision_errors(virement: Virement, decision) -> Errors:
    errors: Errors = {}
    if decision is None:
        if virement_needs_decision(virement):
            errors["decision"] = [
                f"This virement of {format_money(virement.amount)} needs the board decision that "
                f"approved it: {_board_wording(virement.schedule)}."
            ]
        return errors
    schedule = virement.schedule
    check_decision(decision, schedule.agreement.partnership, "decision", errors)
    if errors:
        return errors
    messages = errors.setdefault("decision", [])
    if schedule.board_id and decision.agenda_item.meeting.board_id != schedule.board_id:
        messages.append(
            f"Decision {decision.reference} is not a decision of {schedule.board.name}, "
            "the board that approves this schedule."
        )
    proposed_on = virement_proposed_on(virement)
    if decision.decided_on < proposed_on:
        messages.append(
            f"Decision {decision.reference} was taken on {decision.decided_on:%-d %B %Y}, before the "
            f"virement was proposed on {proposed_on:%-d %B %Y}."
        )
    if decision.outcome not in APPROVALS:
        messages.append(
            f"Decision {decision.reference} was {decision.get_outcome_display().lower()}, not approved."
        )
    if not messages:
        del errors["decision"]
    return errors


@transaction.atomic
def virement_approve(*, virement: Virement, by: User, decision=None) -> Virement:
    locked = (
        Virement.objects.select_for_update(of=("self",)).select_related(*_LOCKED_RELATED).get(pk=virement.pk)
    )
    virement_check_approver(virement=locked, by=by)
    if locked.status != VirementStatus.PROPOSED:
        raise ValidationError(f"This virement is already {locked.get_status_display().lower()}.")
    decision = decision or locked.decision
    raise_errors(_decision_errors(locked, decision))
    locked.decision = decision
    locked.status = VirementStatus.APPROVED
    locked.approved_by = by
    locked.approved_at = timezone.now()
    save_recorded(locked, by=by)
    return locked


@transaction.atomic
def virement_apply(*, virement: Virement, by: User) -> Virement:
    """Move the money: the from line goes down and the to line up by the amount, under row locks
    taken in primary-key order; a linked decision records the change it allowed."""
    locked = (
        Virement.objects.select_for_update(of=("self",)).select_related(*_LOCKED_RELATED).get(pk=virement.pk)
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
        locked.applied_by = by
        locked.applied_at = timezone.now()
        locked.save(update_fields=["status", "applied_by", "applied_at"])
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
