"""Writes of partners' contributions to pooled schedules (rules.md rule 2): a partner's plan for a
year, and raising the instalments due as draft invoices of kind ``contribution`` from the host,
through the finance services every invoice goes through (numbering, issue, PDF, payments and
disputes). The one place budgets calls brokerage (pyproject.toml's import contract names it)."""

from __future__ import annotations

import logging
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from brokerage.finance import services as finance
from budgets.models import (
    Arrangement,
    ContributionInstalment,
    ContributionPlan,
    Frequency,
    Schedule,
    Section75Agreement,
    financial_year_of,
    year_label,
)
from budgets.selectors.contributions import PlanRow, contributing_partners, plan_rows
from budgets.selectors.monitoring import with_related
from budgets.services.base import refuse_stale, save_recorded
from commissioning.models import Organisation, User

logger = logging.getLogger(__name__)
CONTRIBUTION = "contribution"  # brokerage's InvoiceKind.CONTRIBUTION


@transaction.atomic
def contribution_plan_save(
    *,
    schedule: Schedule,
    year: int,
    partner: Organisation,
    frequency: str,
    by: User,
    version: int | None = None,
) -> ContributionPlan:
    """Record (or change) how ``partner`` pays its contribution to ``schedule`` for ``year``. The
    frequency cannot change once an instalment of the year has been raised."""
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
    else:
        refuse_stale(version, plan.version, "contribution plan")
        if plan.frequency != frequency and plan.instalments.filter(invoice__isnull=False).exists():
            raise ValidationError(
                {
                    "frequency": [
                        "Instalments of this year have been raised: the frequency can no longer change."
                    ]
                }
            )
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
