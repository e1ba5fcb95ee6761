"""Writes of partners' contributions to pooled schedules (rules.md rule 2): a partner's plan for a
year, and raising the instalments due as draft invoices of kind ``contribution`` from the host,
through the finance services every invoice goes through (numbering, issue, PDF, payments and
disputes). The one place budgets calls brokerage (pyproject.toml's import contract names it)."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from brokerage.finance import services as finance
from budgets.models import (
    Arrangement,
    ContributionInstalment,
    ContributionPlan,
    Frequency,
    FundStatement,
    Schedule,
    Section75Agreement,
    StatementSettlement,
    StatementStatus,
    financial_year_of,
    year_label,
)
from budgets.selectors.contributions import PlanRow, contributing_partners, plan_rows
from budgets.selectors.monitoring import with_related
from budgets.services.base import check_decision, refuse_stale, save_recorded
from commissioning.models import Organisation, User

logger = logging.getLogger(__name__)
CONTRIBUTION = "contribution"  # brokerage's InvoiceKind.CONTRIBUTION
FREQUENCY_LOCKED = "Instalments of this year have been raised: the frequency can no longer change."


@transaction.atomic
def contribution_plan_save(
    *,
    schedule: Schedule,
    year: int,
    partner: Organisation,
    frequency: str,
    by: User,
    version: int | None = None,
    new: bool = False,
) -> ContributionPlan:
    """Record (or change) how ``partner`` pays its contribution to ``schedule`` for ``year``. The
    frequency cannot change once an instalment of the year has been raised. ``new``: a plan is being
    created, so one already recorded for the partner, schedule and year is refused."""
    errors: dict[str, list[str]] = {}
    if frequency not in Frequency.values:
        errors["frequency"] = ["Choose quarterly or monthly."]
    if schedule.arrangement != Arrangement.POOLED:
        errors["schedule"] = ["Only a pooled schedule has contributions: each partner spends its own money."]
    elif partner.pk not in {p.pk for p in contributing_partners(schedule)}:
        errors["partner"] = [
            f"{partner.code} hosts the pool or is not a partner: "
            "only the other partner contributes by invoice."
        ]
    if year not in schedule.agreement.years:
        errors["year"] = [f"The agreement does not cover {year_label(year)}."]
    if errors:
        raise ValidationError(errors)
    plan = (
        ContributionPlan.objects.select_for_update()
        .filter(schedule=schedule, year=year, partner=partner)
        .first()
    )
    if plan is None:
        plan = ContributionPlan(schedule=schedule, year=year, partner=partner, created_by=by)
    elif new:
        raise ValidationError(
            {"partner": ["This partner already has a contribution plan for this schedule and year."]}
        )
    else:
        refuse_stale(version, plan.version, "contribution plan")
        if plan.frequency != frequency and plan.instalments.filter(invoice__isnull=False).exists():
            raise ValidationError({"frequency": [FREQUENCY_LOCKED]})
        plan.version += 1
    plan.frequency = frequency
    save_recorded(plan, by=by)
    return plan


def _description(row: PlanRow, number: int, count: int, start: date, end: date) -> str:
    return (
        f"Contribution of {row.partner.name} to {row.schedule.title} (schedule {row.schedule.number}, "
        f"{row.schedule.agreement.reference}), {year_label(row.year)}: instalment {number} of {count}, "
        f"{start:%-d %B %Y} to {end:%-d %B %Y}"
    )


@transaction.atomic
def contribution_instalments_raise(
    *, agreement: Section75Agreement, upto: date, by: User | None
) -> list[ContributionInstalment]:
    """Raise, as draft invoices from the host, every instalment of the agreement's pooled schedules
    for the financial year of ``upto`` that falls due on or before ``upto`` and has not been raised
    (quarterly when no plan says otherwise). Raising again raises nothing new: each instalment is
    recorded once (a unique constraint), under the plans' row locks."""
    year = financial_year_of(upto)
    if year not in agreement.years:
        raise ValidationError({"year": [f"The agreement does not cover {year_label(year)}."]})
    schedules = list(
        with_related(Schedule.objects.filter(agreement=agreement, arrangement=Arrangement.POOLED)).order_by(
            "pk"
        )
    )
    ContributionPlan.objects.bulk_create(
        [
            ContributionPlan(schedule=s, year=year, partner=p, created_by=by)
            for s in schedules
            for p in contributing_partners(s)
        ],
        ignore_conflicts=True,
    )
    list(
        ContributionPlan.objects.filter(schedule__in=schedules, year=year).select_for_update().order_by("pk")
    )
    raised = []
    now = timezone.now()
    for row in plan_rows(schedules, year):
        count = len(row.instalments)
        for instalment in row.due_by(upto):
            invoice = finance.invoice_draft_single(
                partnership=agreement.partnership,
                kind=CONTRIBUTION,
                issuer=agreement.host,
                recipient=row.partner,
                amount=instalment.amount,
                description=_description(row, instalment.number, count, instalment.due, instalment.end),
                start=instalment.due,
                end=instalment.end,
                by=by,
            )
            record, _ = ContributionInstalment.objects.update_or_create(
                plan=row.plan,
                number=instalment.number,
                defaults={
                    "due": instalment.due,
                    "amount": instalment.amount,
                    "invoice": invoice,
                    "raised_by": by,
                    "raised_at": now,
                },
            )
            raised.append(record)
    return raised


def contribution_instalments_raise_due(*, today: date) -> int:
    """Raise every instalment due by ``today`` of every agreement covering it (the daily task): one
    transaction per agreement, so one agreement's error does not hold up the others'."""
    count = 0
    agreements = Section75Agreement.objects.filter(
        start__lte=today, end__gte=today, schedules__arrangement=Arrangement.POOLED
    ).distinct()
    for agreement in agreements.select_related("partnership", "host").order_by("pk"):
        try:
            count += len(contribution_instalments_raise(agreement=agreement, upto=today, by=None))
        except ValidationError as error:
            logger.error("contributions of agreement %s not raised: %s", agreement.pk, error.messages)
    return count


# --- Year-end settlement (rule 2) ---------------------------------------------------------------

SETTLEMENT = "settlement"  # brokerage's InvoiceKind.SETTLEMENT


def settlement_amounts(statement: FundStatement) -> dict[str, Decimal]:
    """Partner code -> the year's settlement over every pooled schedule, from the statement's figures
    as rendered (what the board approved): positive owed to the host, negative owed by it."""
    out: dict[str, Decimal] = {}
    host = statement.agreement.host.code
    for schedule in statement.figures.get("schedules", []):
        for row in schedule["settlement"]:
            if row["partner"] != host:
                out[row["partner"]] = out.get(row["partner"], Decimal("0.00")) + Decimal(row["amount"])
    return out


@transaction.atomic
def fund_statement_settle(*, statement: FundStatement, decision, by: User) -> list[StatementSettlement]:
    """Record ``decision`` as approving a year's statement and raise its settlement, once per partner:
    a draft invoice from the host for a partner that owes its risk share, a draft settlement credit
    note for one the host owes; nothing for a partner at £0.00. Settling again raises nothing new
    (one settlement per statement and partner, a unique constraint); another decision is refused."""
    locked = (
        FundStatement.objects.select_for_update(of=("self",))
        .select_related("agreement__host", "agreement__partnership")
        .get(pk=statement.pk)
    )
    errors: dict[str, list[str]] = {}
    if locked.quarter is not None:
        errors["statement"] = ["Only a year's statement is settled: choose the whole year."]
    elif locked.status != StatementStatus.READY:
        errors["statement"] = [
            "Produce the statement's PDF first: the board approves the statement as rendered."
        ]
    if decision is None:
        errors["decision"] = ["Choose the board decision that approved the statement."]
    else:
        check_decision(decision, locked.agreement.partnership, "decision", errors)
        if locked.decision_id and locked.decision_id != decision.pk:
            errors["decision"] = [f"This statement was approved by {locked.decision.reference}."]
    if errors:
        raise ValidationError(errors)
    if locked.decision_id is None:
        locked.decision, locked.approved_by = decision, by
        save_recorded(locked, by=by)
    agreement = locked.agreement
    partners = {o.code: o for o in (agreement.partnership.council, agreement.partnership.nhs_commissioner)}
    existing = {s.partner.code: s for s in locked.settlements.select_related("partner")}
    raised = []
    start, end = date(locked.year, 4, 1), date(locked.year + 1, 3, 31)
    for code, amount in sorted(settlement_amounts(locked).items()):
        record = existing.get(code)
        if amount == 0 or (record is not None and record.invoice_id is not None):
            continue
        words = "its share of the overspend" if amount > 0 else "its share of the underspend returned"
        invoice = finance.invoice_draft_single(
            partnership=agreement.partnership,
            kind=SETTLEMENT,
            issuer=agreement.host,
            recipient=partners[code],
            amount=abs(amount),
            description=(
                f"Year-end settlement of the pooled funds of {agreement.reference}, "
                f"{year_label(locked.year)}: {words}, per the pooled fund statement approved by "
                f"decision {decision.reference}"
            ),
            start=start,
            end=end,
            by=by,
            is_credit=amount < 0,
        )
        record, _ = StatementSettlement.objects.update_or_create(
            statement=locked,
            partner=partners[code],
            defaults={"amount": amount, "invoice": invoice, "raised_by": by, "raised_at": timezone.now()},
        )
        raised.append(record)
    return raised
