"""Partners' contributions to pooled schedules (rules.md rule 2): for a year, what each partner that
does not host the pool contributes to each pooled schedule (the sum of the schedule's approved lines
funded by its streams), its plan (quarterly unless one says otherwise) and its instalments, raised or
still to raise. Three queries whatever the number of schedules, plans and instalments."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Sum

from budgets import contributions
from budgets.models import (
    Arrangement,
    BudgetLine,
    ContributionInstalment,
    ContributionPlan,
    Frequency,
    LineStatus,
    Schedule,
    year_label,
)
from commissioning.models import Organisation

ZERO = Decimal("0.00")


@dataclass
class InstalmentRow:
    number: int
    due: date
    end: date
    amount: Decimal
    record: ContributionInstalment | None  # once raised: the amount raised and the invoice

    @property
    def invoice(self):
        return self.record.invoice if self.record else None

    @property
    def raised(self) -> bool:
        return self.invoice is not None

    @property
    def invoiceable(self) -> bool:
        return not self.raised and self.amount > 0


@dataclass
class PlanRow:
    schedule: Schedule
    partner: Organisation
    year: int
    plan: ContributionPlan | None  # None: no plan recorded, so quarterly in advance (the default)
    amount: Decimal
    instalments: list[InstalmentRow]

    @property
    def frequency(self) -> str:
        return self.plan.frequency if self.plan else Frequency.QUARTERLY

    @property
    def frequency_label(self) -> str:
        return Frequency(self.frequency).label

    @property
    def year_label(self) -> str:
        return year_label(self.year)

    @property
    def raised_total(self) -> Decimal:
        return sum((i.amount for i in self.instalments if i.raised), ZERO)

    def due_by(self, day: date) -> list[InstalmentRow]:
        """Instalments due on or before ``day`` that are still to invoice."""
        return [i for i in self.instalments if i.due <= day and i.invoiceable]


def contributing_partners(schedule: Schedule) -> list[Organisation]:
    """The partners a pooled schedule's host invoices: every partner but the host (none for an
    aligned or lead schedule: each partner spends its own money)."""
    if schedule.arrangement != Arrangement.POOLED:
        return []
    partnership = schedule.agreement.partnership
    return [
        org
        for org in (partnership.nhs_commissioner, partnership.council)
        if org.pk != schedule.agreement.host_id
    ]


def contribution_amounts(schedules: Sequence[Schedule], year: int) -> dict[tuple[int, int], Decimal]:
    """(schedule id, organisation id) -> the sum of the schedule's approved lines of ``year`` funded by
    that organisation's streams. One query."""
    rows = (
        BudgetLine.objects.filter(schedule__in=list(schedules), year=year, status=LineStatus.APPROVED)
        .values("schedule_id", "funding_stream__organisation_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {(r["schedule_id"], r["funding_stream__organisation_id"]): r["total"] for r in rows}


def plan_rows(schedules: Sequence[Schedule], year: int) -> list[PlanRow]:
    """Each pooled schedule's contributing partners for ``year``, with plan and instalments. The
    schedules must come with ``agreement__partnership__council`` and ``__nhs_commissioner``
    (``selectors.with_related``)."""
    schedules = [s for s in schedules if s.arrangement == Arrangement.POOLED]
    if not schedules:
        return []
    amounts = contribution_amounts(schedules, year)
    plans = {
        (p.schedule_id, p.partner_id): p
        for p in ContributionPlan.objects.filter(schedule__in=schedules, year=year)
    }
    records: dict[int, dict[int, ContributionInstalment]] = defaultdict(dict)
    for record in ContributionInstalment.objects.filter(plan__in=list(plans.values())).select_related(
        "invoice"
    ):
        records[record.plan_id][record.number] = record
    out = []
    for schedule in schedules:
        for partner in contributing_partners(schedule):
            plan = plans.get((schedule.pk, partner.pk))
            own = records.get(plan.pk, {}) if plan else {}
            raised = {n: r.amount for n, r in own.items() if r.invoice_id is not None}
            amount = amounts.get((schedule.pk, partner.pk), ZERO)
            frequency = plan.frequency if plan else Frequency.QUARTERLY
            rule = contributions.instalments(total=amount, year=year, frequency=frequency, raised=raised)
            out.append(
                PlanRow(
                    schedule=schedule,
                    partner=partner,
                    year=year,
                    plan=plan,
                    amount=amount,
                    instalments=[
                        InstalmentRow(
                            number=i.number,
                            due=i.due,
                            end=i.end,
                            amount=i.amount,
                            record=own.get(i.number) if i.raised else None,
                        )
                        for i in rule
                    ],
                )
            )
    return out


@dataclass
class PlanChange:
    """What recording ``frequency`` for a partner's plan would do to its instalments: the plan as it
    stands (``current``, quarterly when none is recorded) and the instalments it would then have."""

    current: PlanRow
    frequency: str
    proposed: list[contributions.Instalment]

    @property
    def changes_frequency(self) -> bool:
        return self.frequency != self.current.frequency

    @property
    def raised(self) -> list[InstalmentRow]:
        return [i for i in self.current.instalments if i.raised]

    @property
    def alters_raised(self) -> bool:
        """Would the change alter instalments already invoiced? (Refused: rule 2.)"""
        return self.changes_frequency and bool(self.raised)

    @property
    def changes_unraised(self) -> bool:
        """Would the change alter the invoices still to raise? (The page asks to confirm it.)"""
        return self.changes_frequency and any(i.amount > 0 for i in self.proposed)

    @property
    def frequency_label(self) -> str:
        return Frequency(self.frequency).label


def plan_change(schedule: Schedule, year: int, partner: Organisation, frequency: str) -> PlanChange | None:
    """The plan of ``partner`` for ``schedule`` and ``year`` as it stands and as it would be paid at
    ``frequency`` (None when the partner does not contribute to the schedule by invoice). The
    schedule must come with its partners (``selectors.with_related``). Three queries."""
    row = next((r for r in plan_rows([schedule], year) if r.partner.pk == partner.pk), None)
    if row is None or frequency not in Frequency.values:
        return None
    # Instalments raised stand only under the frequency they were raised at (another is refused).
    raised = {i.number: i.amount for i in row.instalments if i.raised} if frequency == row.frequency else {}
    proposed = contributions.instalments(total=row.amount, year=year, frequency=frequency, raised=raised)
    return PlanChange(current=row, frequency=frequency, proposed=proposed)
