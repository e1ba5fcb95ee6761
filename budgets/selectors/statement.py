"""The pooled fund statement (rules.md rule 2): the memorandum account the pool manager gives the
partners each quarter and each year under regulation 7 of the NHS Bodies and Local Authorities
Partnership Arrangements Regulations 2000.

For an agreement and a financial year (or the quarter to date), per pooled schedule: each partner's
contribution, due and received; the expenditure (the latest monthly position's actual to date, and
the forecast outturn for the year); the variance; its risk share per the schedule's rule; and the
settlement each partner owes the host (positive) or is owed by it (negative). Everything derived:
the budget, outturn and risk share are the schedule's monitoring (``monitoring.monitor_many``), the
contributions due are the instalments of the plans (``contributions.plan_rows``), and received is
what was paid on their invoices by the statement's last day. A fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Q, Sum

from budgets import contributions
from budgets.models import Arrangement, ContributionInstalment, Schedule, Section75Agreement, year_label
from budgets.selectors.contributions import plan_rows
from budgets.selectors.monitoring import monitor_many, with_related
from commissioning.money import format_money

ZERO = Decimal("0.00")


@dataclass
class PartnerFigures:
    code: str
    name: str
    is_host: bool
    contribution: Decimal  # for the year, from the schedule's lines
    due: Decimal  # by the statement's last day
    received: Decimal  # by the statement's last day (the host's own contribution: held in the pool)
    risk_share: Decimal = ZERO
    # What the partner owes the host (positive) or is owed by it (negative): a partner's risk share;
    # the host's is the other side of the others'.
    settlement: Decimal = ZERO

    @property
    def outstanding(self) -> Decimal:
        return self.due - self.received

    @property
    def settlement_text(self) -> str:
        """The settlement in words, from this partner's side."""
        amount = format_money(abs(self.settlement))
        if self.settlement == 0:
            return "Nothing to settle"
        if self.is_host:
            return f"Receives {amount}" if self.settlement < 0 else f"Pays {amount}"
        return f"Owes the host {amount}" if self.settlement > 0 else f"Is owed {amount} by the host"


@dataclass
class ScheduleStatement:
    schedule: Schedule
    rule: str
    rule_label: str
    budget: Decimal
    actual_to_date: Decimal
    forecast_outturn: Decimal
    partners: list[PartnerFigures]

    @property
    def variance(self) -> Decimal:
        return self.forecast_outturn - self.budget


@dataclass
class Statement:
    agreement: Section75Agreement
    year: int
    quarter: int | None
    start: date
    end: date
    as_at_period: date | None  # the latest month reported on or before ``end``
    schedules: list[ScheduleStatement] = field(default_factory=list)

    @property
    def title(self) -> str:
        span = f"quarter {self.quarter} of {year_label(self.year)}" if self.quarter else year_label(self.year)
        return f"Pooled fund statement, {span}"

    @property
    def year_label(self) -> str:
        return year_label(self.year)

    @property
    def is_year_end(self) -> bool:
        return self.quarter is None

    def totals(self) -> dict:
        partners: dict[str, dict] = {}
        for s in self.schedules:
            for p in s.partners:
                row = partners.setdefault(
                    p.code,
                    {
                        "partner": p.code,
                        "name": p.name,
                        "due": ZERO,
                        "received": ZERO,
                        "risk_share": ZERO,
                        "settlement": ZERO,
                    },
                )
                row["due"] += p.due
                row["received"] += p.received
                row["risk_share"] += p.risk_share
                row["settlement"] += p.settlement
        return {
            "budget": sum((s.budget for s in self.schedules), ZERO),
            "actual_to_date": sum((s.actual_to_date for s in self.schedules), ZERO),
            "forecast_outturn": sum((s.forecast_outturn for s in self.schedules), ZERO),
            "variance": sum((s.variance for s in self.schedules), ZERO),
            "partners": list(partners.values()),
        }


def statement_bounds(year: int, quarter: int | None) -> tuple[date, date]:
    if quarter is None:
        return date(year, 4, 1), date(year + 1, 3, 31)
    return contributions.quarter_bounds(year, quarter)


def _received(plans: list, end: date) -> dict[int, Decimal]:
    """Plan id -> paid on its instalments' invoices by ``end``. One query."""
    rows = (
        ContributionInstalment.objects.filter(plan__in=plans, invoice__isnull=False)
        .values("plan_id")
        .annotate(paid=Sum("invoice__payments__amount", filter=Q(invoice__payments__paid_on__lte=end)))
        .order_by()
    )
    return {r["plan_id"]: r["paid"] or ZERO for r in rows}


def fund_statement(
    agreement: Section75Agreement, *, year: int, quarter: int | None = None, user=None
) -> Statement:
    """The statement of ``agreement`` for ``year`` (or its quarter 1-4 to date). ``user``: only the
    schedules they may see (all the agreement's pooled schedules when None, for the worker)."""
    start, end = statement_bounds(year, quarter)
    qs = Schedule.objects.restrict(user, "view") if user is not None else Schedule.objects.all()
    schedules = list(
        with_related(qs.filter(agreement=agreement, arrangement=Arrangement.POOLED)).order_by("number")
    )
    monitoring = monitor_many(schedules, year, date(end.year, end.month, 1))
    plans = plan_rows(schedules, year)
    received = _received([p.plan for p in plans if p.plan is not None], end)
    plans_by_key = {(p.schedule.pk, p.partner.pk): p for p in plans}
    reported = [
        line.position.period for m in monitoring.values() for line in m.lines if line.position is not None
    ]
    statement = Statement(
        agreement=agreement,
        year=year,
        quarter=quarter,
        start=start,
        end=end,
        as_at_period=max(reported) if reported else None,
    )
    host = agreement.host_id
    for schedule in schedules:
        m = monitoring[schedule.pk]
        shares = {s.organisation.pk: s.amount for s in m.shares}
        figures = []
        for partner in m.partners:
            contribution = m.contributions.get(partner.pk, ZERO)
            plan = plans_by_key.get((schedule.pk, partner.pk))
            if plan is not None:
                contribution = plan.amount  # the approved lines (rule 2)
                due = sum((i.amount for i in plan.instalments if i.due <= end), ZERO)
                got = received.get(plan.plan.pk, ZERO) if plan.plan else ZERO
            else:  # the host: its own contribution, due as the rule's quarterly instalments, is in the pool
                due = sum(
                    (
                        i.amount
                        for i in contributions.instalments(
                            total=contribution, year=year, frequency="quarterly"
                        )
                        if i.due <= end
                    ),
                    ZERO,
                )
                got = due
            figures.append(
                PartnerFigures(
                    code=partner.code,
                    name=partner.name,
                    is_host=partner.pk == host,
                    contribution=contribution,
                    due=due,
                    received=got,
                    risk_share=shares.get(partner.pk, ZERO),
                )
            )
        others = ZERO
        for f in figures:
            if not f.is_host:
                f.settlement = f.risk_share
                others += f.risk_share
        for f in figures:
            if f.is_host:
                f.settlement = -others
        statement.schedules.append(
            ScheduleStatement(
                schedule=schedule,
                rule=m.rule,
                rule_label=m.rule_label,
                budget=m.budget,
                actual_to_date=m.actual,
                forecast_outturn=m.forecast,
                partners=figures,
            )
        )
    return statement


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def statement_data(statement: Statement) -> dict:
    """The API's answer (api.md ``agreements/{id}/statement/``): money as strings with two decimals,
    organisations by code."""
    totals = statement.totals()
    return {
        "agreement": statement.agreement.pk,
        "reference": statement.agreement.reference,
        "year": statement.year,
        "quarter": statement.quarter,
        "from": statement.start.isoformat(),
        "to": statement.end.isoformat(),
        "as_at_period": f"{statement.as_at_period:%Y-%m}" if statement.as_at_period else None,
        "schedules": [
            {
                "schedule": s.schedule.pk,
                "number": s.schedule.number,
                "title": s.schedule.title,
                "rule": s.rule,
                "contributions": [
                    {"partner": p.code, "due": _money(p.due), "received": _money(p.received)}
                    for p in s.partners
                ],
                "budget": _money(s.budget),
                "actual_to_date": _money(s.actual_to_date),
                "forecast_outturn": _money(s.forecast_outturn),
                "variance": _money(s.variance),
                "risk_share": [{"partner": p.code, "amount": _money(p.risk_share)} for p in s.partners],
                "settlement": [{"partner": p.code, "amount": _money(p.settlement)} for p in s.partners],
            }
            for s in statement.schedules
        ],
        "totals": {
            "budget": _money(totals["budget"]),
            "actual_to_date": _money(totals["actual_to_date"]),
            "forecast_outturn": _money(totals["forecast_outturn"]),
            "variance": _money(totals["variance"]),
            "contributions": [
                {"partner": p["partner"], "due": _money(p["due"]), "received": _money(p["received"])}
                for p in totals["partners"]
            ],
            "risk_share": [
                {"partner": p["partner"], "amount": _money(p["risk_share"])} for p in totals["partners"]
            ],
            "settlement": [
                {"partner": p["partner"], "amount": _money(p["settlement"])} for p in totals["partners"]
            ],
        },
    }


CSV_HEADER = [
    "Agreement",
    "Year",
    "Quarter",
    "As at",
    "Schedule",
    "Title",
    "Partner",
    "Host",
    "Contribution due",
    "Contribution received",
    "Budget",
    "Actual to date",
    "Forecast outturn",
    "Variance",
    "Risk share",
    "Settlement",
]


def statement_rows(statement: Statement) -> Iterator[list]:
    """The CSV: the header, then one row per schedule and partner (api.md), typed values for
    ``commissioning.exports`` (the one dialect)."""
    yield CSV_HEADER
    for s in statement.schedules:
        for p in s.partners:
            yield [
                statement.agreement.reference,
                statement.year,
                statement.quarter or "",
                f"{statement.as_at_period:%Y-%m}" if statement.as_at_period else "",
                s.schedule.number,
                s.schedule.title,
                p.code,
                "yes" if p.is_host else "no",
                p.due,
                p.received,
                s.budget,
                s.actual_to_date,
                s.forecast_outturn,
                s.variance,
                p.risk_share,
                p.settlement,
            ]


def statement_csv_dicts(statement: Statement) -> list[dict]:
    """The API's ``?format=csv`` rows: one per schedule and partner, keyed as the JSON is."""
    return [
        {
            "agreement": statement.agreement.reference,
            "year": statement.year,
            "quarter": statement.quarter,
            "as_at_period": f"{statement.as_at_period:%Y-%m}" if statement.as_at_period else None,
            "schedule": s.schedule.pk,
            "number": s.schedule.number,
            "title": s.schedule.title,
            "partner": p.code,
            "host": p.is_host,
            "due": _money(p.due),
            "received": _money(p.received),
            "budget": _money(s.budget),
            "actual_to_date": _money(s.actual_to_date),
            "forecast_outturn": _money(s.forecast_outturn),
            "variance": _money(s.variance),
            "risk_share": _money(p.risk_share),
            "settlement": _money(p.settlement),
        }
        for s in statement.schedules
        for p in s.partners
    ]
