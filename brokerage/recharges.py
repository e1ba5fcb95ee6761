"""Rule 1 of rules.md, recharges of jointly funded packages, as pure functions over plain values.

- **Segments**: the days of a month on which a package is live (start and end inclusive), split at
  every change of cost and of funding split; each piece has one weekly cost and one set of shares.
- **Amount owed** by each funder other than the paying organisation, per segment:
  ``round_half_up(weekly_cost * days * percent / (7 * 100))`` in one Decimal expression, with the
  weekly cost unrounded (unit rate x units per week) and rounding only at the line.
- **True-up**: for every package month up to the period, owed minus already billed (invoice lines
  minus credit-note lines, drafts included) is billed; earlier months as adjustment lines naming the
  month they correct; one invoice per recipient whose net is positive, one credit note per recipient
  whose net is negative, nothing where it is zero.
- **Suspensions** (a hospital stay, a respite break) split segments like a cost change; a
  suspended segment's amount is ``round_half_up(weekly_cost * days * percent * paid_percent /
  (7 * 100 * 100))``, one expression again (``retained`` 100%, ``reduced`` a percent, ``stopped`` 0%).
- **Waived** amounts (a dispute settled by waiving, rules.md) count as settled: a run bills
  ``owed - net billed - waived``.
- **Unfunded days** (live, no split) and **split errors** (shares not summing to 100, overlapping
  splits, live days with no cost) are reported and never billed.

Nothing here touches the database: ``brokerage.finance.services.recharge_run_execute`` loads the facts in bulk
and writes what ``true_up`` returns.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from commissioning.money import round_half_up

ONE_DAY = timedelta(days=1)
HUNDRED = Decimal("100")
ZERO = Decimal("0.00")


# --- Facts in -----------------------------------------------------------------------------------


# Facts are tuples (``NamedTuple``) like the segments and lines below: immutable and hashable as a
# frozen dataclass is, but made in a third of the time (a month's run makes the facts of every
# steady package in scope, ``steady_facts``).
class CostRow(NamedTuple):
    start: date
    end: date | None
    weekly_cost: Decimal  # unit rate x units per week, not rounded

    @classmethod
    def of(cls, start: date, end: date | None, unit_rate: Decimal, units_per_week: Decimal) -> CostRow:
        return cls(start, end, Decimal(unit_rate) * Decimal(units_per_week))


class SplitRow(NamedTuple):
    start: date
    end: date | None
    shares: tuple[tuple[Hashable, Decimal], ...]  # (funder, percent)
    key: Hashable = None


class SuspensionRow(NamedTuple):
    """A dated suspension: the provider is paid ``paid_percent`` of the cost on its days."""

    start: date
    end: date
    paid_percent: Decimal


class PackageFacts(NamedTuple):
    package: Hashable
    start: date
    end: date | None
    payer: Hashable
    costs: tuple[CostRow, ...] = ()
    splits: tuple[SplitRow, ...] = ()
    suspensions: tuple[SuspensionRow, ...] = ()


# --- Results out --------------------------------------------------------------------------------


# Segments and lines are tuples (``NamedTuple``), immutable as a frozen dataclass is but made in a
# third of the time: a true-up makes tens of thousands of each.
class Segment(NamedTuple):
    start: date
    end: date
    weekly_cost: Decimal
    shares: tuple[tuple[Hashable, Decimal], ...]
    paid_percent: Decimal = HUNDRED  # below 100 on the days of a suspension

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


class Line(NamedTuple):
    """One line to bill: a segment's amount for one funder, or the deduction of what was billed."""

    package: Hashable
    recipient: Hashable
    month: date
    start: date
    end: date
    days: int | None
    weekly_cost: Decimal | None
    percent: Decimal | None
    amount: Decimal
    adjustment: bool = False  # corrects an earlier month than the run's period
    previously_billed: bool = False  # the deduction line of a re-billed month
    paid_percent: Decimal | None = None  # set on the lines of suspended days

    @property
    def corrects_month(self) -> date | None:
        return self.month if self.adjustment else None


@dataclass(frozen=True)
class Issue:
    """Unfunded days or a split error: reported, never billed."""

    package: Hashable
    start: date
    end: date
    kind: str  # "unfunded", "shares_not_100", "overlapping_splits", "no_cost"
    message: str = ""


@dataclass
class MonthResult:
    segments: list[Segment] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    # (payer, what each other funder owes for the segments) (``_owed_of``), kept once worked out:
    # the recharge ledger works it out for every month it computes and the run again for the months
    # it bills. Kept with the payer it was worked out for, as what is owed depends on who pays.
    owed: tuple | None = field(default=None, compare=False, repr=False)


@dataclass
class Document:
    """An invoice (net positive) or credit note (net negative) for one recipient.

    ``lines`` keep their signed amounts as billed; ``total`` is the absolute net."""

    recipient: Hashable
    kind: str  # "invoice" or "credit_note"
    lines: list[Line]

    @property
    def net(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def total(self) -> Decimal:
        return abs(self.net)


@dataclass
class RunResult:
    documents: list[Document] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    owed: dict = field(default_factory=dict)  # (package, recipient, month) -> Decimal

    @property
    def lines(self) -> list[Line]:
        return [line for doc in self.documents for line in doc.lines]


# --- Calendar -----------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day if day.day == 1 else day.replace(day=1)  # replace() is slow, and most days given are firsts


@lru_cache(maxsize=4096)
def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


@lru_cache(maxsize=4096)
def next_month(day: date) -> date:
    return (month_end(day) + ONE_DAY).replace(day=1)


def months_between(first: date, last: date) -> list[date]:
    """First days of the months from ``first``'s month to ``last``'s month inclusive."""
    return list(_months(month_start(first), month_start(last)))


@lru_cache(maxsize=4096)
def _months(first: date, stop: date) -> tuple[date, ...]:
    out, cursor = [], first
    while cursor <= stop:
        out.append(cursor)
        cursor = next_month(cursor)
    return tuple(out)


def parse_period(text: str) -> date:
    """``2022-05`` -> 1 May 2022; ValueError otherwise."""
    text = (text or "").strip()
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError
        return date(int(year), int(month), 1)
    except (ValueError, TypeError):
        raise ValueError("Give the period as a month, YYYY-MM (for example 2022-05).") from None


def period_label(month: date) -> str:
    return f"{month:%Y-%m}"


# --- The rule -----------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def amount(weekly_cost: Decimal, days: int, percent: Decimal, paid_percent: Decimal = HUNDRED) -> Decimal:
    """What a funder owes for a segment: one Decimal expression, rounded half up at the line; on
    suspended days the provider's ``paid_percent`` is a factor of the same expression.

    Cached: a package bills the same weekly cost, days and share month after month."""
    if paid_percent == HUNDRED:
        return round_half_up(Decimal(weekly_cost) * Decimal(days) * Decimal(percent) / Decimal(7 * 100))
    return round_half_up(
        Decimal(weekly_cost)
        * Decimal(days)
        * Decimal(percent)
        * Decimal(paid_percent)
        / Decimal(7 * 100 * 100)
    )


def _covering(rows: Iterable, day: date) -> list:
    return [r for r in rows if r.start <= day and (r.end is None or day <= r.end)]


@lru_cache(maxsize=4096)
def _share_total(shares: tuple[tuple[Hashable, Decimal], ...]) -> Decimal:
    return sum((p for _, p in shares), Decimal(0))


def segments_by_month(facts: PackageFacts, first: date, last: date) -> dict[date, MonthResult]:
    """The segments and unbillable days of one package in each month from ``first`` to ``last``.

    One sweep over the package's life: its days are cut at every change of cost or split and at
    every month start; pieces are classified where a cost or split starts or ends, and pieces that
    run on with the same weekly cost and shares are merged within their month. Months the package
    is not live in are absent."""
    out: dict[date, MonthResult] = {}
    lo = max(month_start(first), facts.start)
    hi = month_end(last) if facts.end is None else min(month_end(last), facts.end)
    if hi < lo:
        return out
    costs = [r for r in facts.costs if r.start <= hi and (r.end is None or lo <= r.end)]
    splits = [r for r in facts.splits if r.start <= hi and (r.end is None or lo <= r.end)]
    suspensions = [r for r in facts.suspensions if r.start <= hi and lo <= r.end]
    changes = {lo}  # the days on which the covering cost, split or suspension may change
    for row in (*costs, *splits, *suspensions):
        if lo < row.start:
            changes.add(row.start)
        if row.end is not None and row.end < hi:
            changes.add(row.end + ONE_DAY)
    if len(changes) == 1:  # nothing changes from ``lo`` to ``hi`` (most packages): a piece a month
        return _unchanging(facts.package, lo, hi, _classify(costs, splits, suspensions, lo))
    bounds = sorted({*changes, hi + ONE_DAY, *_months(next_month(lo), month_start(hi))})
    following, result, state = lo, MonthResult(), None  # ``following``: the next month's first day
    for a, b in zip(bounds, bounds[1:], strict=False):
        end = b - ONE_DAY
        if a >= following:
            month = month_start(a)
            following = next_month(month)
            result = out[month] = MonthResult()
        if a in changes:
            state = _classify(costs, splits, suspensions, a)
        kind, message, weekly_cost, shares, paid = state
        if kind:
            _add_issue(result.issues, Issue(facts.package, a, end, kind, message))
            continue
        previous = result.segments[-1] if result.segments else None
        if (
            previous
            and previous.end + ONE_DAY == a
            and previous.weekly_cost == weekly_cost
            and previous.shares == shares
            and previous.paid_percent == paid
        ):
            result.segments[-1] = Segment(previous.start, end, weekly_cost, shares, paid)
        else:
            result.segments.append(Segment(a, end, weekly_cost, shares, paid))
    return out


def _unchanging(package: Hashable, lo: date, hi: date, state: tuple) -> dict[date, MonthResult]:
    """``segments_by_month`` when one state (``_classify``) holds from ``lo`` to ``hi``: in each
    month, the one piece from ``lo`` or the month's first day to ``hi`` or its last day."""
    last = month_start(hi)
    if last <= lo <= hi:  # one month (a month run's new month, mostly): no months to walk
        return {last: _piece(package, lo, hi, state)}
    out: dict[date, MonthResult] = {}
    start = lo
    for month in _months(month_start(lo), last):
        out[month] = _piece(package, start, hi if month == last else month_end(month), state)
        start = next_month(month)
    return out


def _piece(package: Hashable, start: date, end: date, state: tuple) -> MonthResult:
    """A month's one piece from ``start`` to ``end`` in ``state``: an issue, or a segment."""
    kind, message, weekly_cost, shares, paid = state
    if kind:
        return MonthResult([], [Issue(package, start, end, kind, message)])
    return MonthResult([Segment(start, end, weekly_cost, shares, paid)], [])


def _classify(
    costs: list[CostRow], splits: list[SplitRow], suspensions: list[SuspensionRow], day: date
) -> tuple:
    """(kind, message, weekly cost, shares, paid percent) from ``day`` until the next change; kind
    "" is billable."""
    covering_splits = _covering(splits, day)
    covering_costs = _covering(costs, day)
    if not covering_splits:
        return "unfunded", "no funding split covers these days", None, None, None
    if len(covering_splits) > 1:
        return "overlapping_splits", "two funding splits cover these days", None, None, None
    if (total := _share_total(covering_splits[0].shares)) != HUNDRED:
        return "shares_not_100", f"the shares sum to {total}, not 100", None, None, None
    if not covering_costs:
        return "no_cost", "no cost covers these days", None, None, None
    if len(covering_costs) > 1:
        return "overlapping_costs", "two costs cover these days", None, None, None
    covering_suspensions = _covering(suspensions, day) if suspensions else ()
    if len(covering_suspensions) > 1:
        return "overlapping_suspensions", "two suspensions cover these days", None, None, None
    paid = Decimal(covering_suspensions[0].paid_percent) if covering_suspensions else HUNDRED
    return "", "", covering_costs[0].weekly_cost, covering_splits[0].shares, paid


Steady = tuple[Decimal, tuple[tuple[Hashable, Decimal], ...]]  # (weekly cost, shares)


def steady_from(facts: PackageFacts, day: date) -> Steady | None:
    """(weekly cost, shares) billed on every day from ``day`` on, if nothing can change then: one
    cost and one funding split cover ``day`` and run on with no end, their shares sum to 100, and no
    other cost, split or suspension reaches ``day`` or later. None otherwise (a change to come, a
    suspension, an error). The recharge ledger keeps it so that a month run needs no facts of a
    package whose facts did not change (``steady_facts``); the package's own end still applies."""
    costs = [r for r in facts.costs if r.end is None or r.end >= day]
    splits = [r for r in facts.splits if r.end is None or r.end >= day]
    if len(costs) != 1 or len(splits) != 1 or any(r.end >= day for r in facts.suspensions):
        return None
    cost, split = costs[0], splits[0]
    if cost.end is not None or split.end is not None or cost.start > day or split.start > day:
        return None
    if _share_total(split.shares) != HUNDRED:
        return None
    return cost.weekly_cost, split.shares


def steady_facts(
    package: Hashable, start: date, end: date | None, payer: Hashable, day: date, steady: Steady
):
    """Facts that give every month from ``day``'s on what the package's own facts give, when
    ``steady_from(facts, day)`` returned ``steady``: its one cost and one split from ``day``."""
    weekly_cost, shares = steady
    costs, splits = (CostRow(day, None, weekly_cost),), (SplitRow(day, None, shares),)
    return PackageFacts(package, start, end, payer, costs, splits)


def steady_months(facts: PackageFacts, first: date, last: date, steady: Steady) -> dict[date, MonthResult]:
    """``segments_by_month(facts, first, last)`` when ``steady_from(facts, first)`` gave ``steady``
    (``first`` a month's first day): one piece a month, from ``first`` or the package's start to
    ``last``'s end or the package's end, with nothing to look for in between."""
    lo = max(first, facts.start)
    hi = month_end(last) if facts.end is None else min(month_end(last), facts.end)
    if hi < lo:
        return {}
    return _unchanging(facts.package, lo, hi, ("", "", steady[0], steady[1], HUNDRED))


def month_segments(facts: PackageFacts, month: date) -> MonthResult:
    """The segments of one package in one month, and the days that cannot be billed."""
    return segments_by_month(facts, month, month).get(month_start(month)) or MonthResult()


def _add_issue(issues: list[Issue], issue: Issue) -> None:
    """Merge with the previous issue of the same package and kind when the days run on."""
    if issues:
        last = issues[-1]
        if last.package == issue.package and last.kind == issue.kind and last.end + ONE_DAY == issue.start:
            issues[-1] = Issue(last.package, last.start, issue.end, last.kind, last.message)
            return
    issues.append(issue)


Owed = tuple[Segment, Hashable, Decimal, Decimal]  # (segment, funder, percent, amount)


def owed_by_nobody(payer: Hashable, shares: tuple) -> bool:
    """True when no funder owes ``payer`` anything under ``shares`` ((funder, percent) pairs): each
    is the payer or has no share, ``_owed``'s condition for a line, over a whole split. A package
    steady on such a split (``steady_from``) owes nobody in any month, whatever its days and costs
    (tests/brokerage/finance/test_ledger_steady.py checks the two agree)."""
    return all(funder == payer or percent == 0 for funder, percent in shares)


def _owed(facts: PackageFacts, segments: Iterable[Segment]) -> list[Owed]:
    """(segment, funder, percent, amount) for each funder other than the payer with a share (a
    stopped suspension's days owe £0.00, a line of their own when the month is billed)."""
    return [
        (segment, funder, percent, amount(segment.weekly_cost, segment.days, percent, segment.paid_percent))
        for segment in segments
        for funder, percent in segment.shares
        if funder != facts.payer and percent != 0
    ]


def _owed_of(facts: PackageFacts, result: MonthResult) -> list[Owed]:
    """``_owed`` of a month's segments, worked out once per month result and payer
    (``MonthResult.owed``)."""
    kept = result.owed
    if kept is not None and kept[0] == facts.payer:
        return kept[1]
    owed = _owed(facts, result.segments)
    result.owed = (facts.payer, owed)
    return owed


def _line(facts: PackageFacts, month: date, owed: Owed, *, adjustment: bool = False) -> Line:
    segment, funder, percent, value = owed
    return Line(
        package=facts.package,
        recipient=funder,
        month=month,
        start=segment.start,
        end=segment.end,
        days=segment.days,
        weekly_cost=segment.weekly_cost,
        percent=Decimal(percent),
        amount=value,
        adjustment=adjustment,
        paid_percent=None if segment.paid_percent == HUNDRED else segment.paid_percent,
    )


def owed_lines(facts: PackageFacts, month: date) -> tuple[list[Line], list[Issue]]:
    """The lines each funder other than the payer owes the payer for one package month."""
    result = month_segments(facts, month)
    return [_line(facts, month_start(month), o) for o in _owed(facts, result.segments)], result.issues


def true_up(
    packages: Iterable[PackageFacts],
    *,
    period: date,
    billed: Mapping[tuple[Hashable, Hashable, date], Decimal],
    waived: Mapping[tuple[Hashable, Hashable, date], Decimal] | None = None,
    months: Mapping[Hashable, Iterable[date]] | None = None,
    computed: Mapping[Hashable, tuple[date, date, dict[date, MonthResult]]] | None = None,
) -> RunResult:
    """What a run for ``period`` bills: for every package month up to the period, owed - billed -
    waived.

    ``billed`` maps (package, recipient, month) to the net already billed (invoice lines minus
    credit-note lines, drafts included); ``waived`` the same keys to amounts waived in settling
    disputes, which count as settled. A month whose difference is not zero is billed in full
    again with a deduction line for what was billed (or waived) before, so the lines show the
    working.

    ``months`` (package -> first days of months), when given, limits the months looked at to
    those listed: the recharge ledger's run (``brokerage.finance.ledger``) passes the package
    months whose owed differs from billed, with ``billed`` holding only their keys and the keys to
    reverse. A package month's lines depend on nothing but its own facts and billed amounts, so
    those months bill exactly what a run over every month bills; ``issues`` then cover only them.
    ``computed`` (package -> (first month, last month, ``segments_by_month`` from the first to the
    last)) saves computing again the months a caller already has."""
    period = month_start(period)
    result = RunResult()
    by_recipient: dict[Hashable, list[Line]] = defaultdict(list)
    if waived:
        merged = defaultdict(lambda: ZERO, {k: Decimal(v) for k, v in billed.items()})
        for key, value in waived.items():
            merged[key] += Decimal(value)
        billed = merged
    billed = {k: d for k, v in billed.items() if (d := v if type(v) is Decimal else Decimal(v))}
    billed_recipients: dict[Hashable, dict[date, set]] = defaultdict(lambda: defaultdict(set))
    for package, recipient, month in billed:
        billed_recipients[package][month].add(recipient)
    owed_so_far = result.owed  # (package, recipient, month) -> owed, for every month looked at
    billed_get = billed.get
    nothing: dict[date, set] = {}
    for facts in packages:
        if facts.start > month_end(period):
            continue
        if months is None:
            looked: Iterable[date] = _months(month_start(facts.start), period)
            by_month = segments_by_month(facts, facts.start, period)
        else:
            first = month_start(facts.start)
            looked = sorted({m for m in months.get(facts.package, ()) if first <= m <= period})
            if not looked:
                continue
            done = computed.get(facts.package) if computed else None
            if done is not None and done[0] <= looked[0] and looked[-1] <= done[1]:
                by_month = done[2]
            else:
                by_month = segments_by_month(facts, looked[0], looked[-1])
        package_billed = billed_recipients.get(facts.package, nothing)
        for month in looked:
            found = by_month.get(month)
            owed_by: dict[Hashable, list[Owed]] = {}
            if found is not None:
                if found.issues:
                    result.issues.extend(found.issues)
                for item in _owed_of(facts, found):
                    items = owed_by.get(item[1])
                    if items is None:
                        owed_by[item[1]] = [item]
                    else:
                        items.append(item)
            recipients = package_billed.get(month)
            if recipients:
                recipients = [*owed_by, *(r for r in recipients if r not in owed_by)]
            for recipient in recipients or owed_by:
                key = (facts.package, recipient, month)
                owed_items = owed_by.get(recipient, ())
                owed = owed_items[0][3] if len(owed_items) == 1 else sum((i[3] for i in owed_items), ZERO)
                owed_so_far[key] = owed
                already = billed_get(key, ZERO)
                if owed == already:
                    continue
                adjustment = month < period
                out = [_line(facts, month, item, adjustment=adjustment) for item in owed_items]
                if already:
                    lo = max(month, facts.start)
                    hi = month_end(month) if facts.end is None else max(lo, min(month_end(month), facts.end))
                    out.append(
                        Line(
                            package=facts.package,
                            recipient=recipient,
                            month=month,
                            start=lo,
                            end=hi,
                            days=None,
                            weekly_cost=None,
                            percent=None,
                            amount=-already,
                            adjustment=adjustment,
                            previously_billed=True,
                        )
                    )
                by_recipient[recipient].extend(out)
    # Billed package months the packages given no longer reach (e.g. a start date moved later).
    for key, already in billed.items():
        package, recipient, month = key
        if key in owed_so_far or month > period:
            continue
        result.owed[key] = ZERO
        by_recipient[recipient].append(
            Line(package, recipient, month, month, month_end(month), None, None, None, -already,
                 adjustment=month < period, previously_billed=True)
        )  # fmt: skip
    for recipient, lines in by_recipient.items():
        net = sum((line.amount for line in lines), ZERO)
        if net > 0:
            result.documents.append(Document(recipient, "invoice", lines))
        elif net < 0:
            result.documents.append(Document(recipient, "credit_note", lines))
        # A net of zero: nothing (rules.md). Differences that cancel out between packages stay
        # unbilled and are picked up by the first run whose net for this recipient is not zero;
        # the recipient's billed total already equals its owed total.
    return result


def owed_by_funder(facts: PackageFacts, result: MonthResult) -> dict[Hashable, Decimal]:
    """{funder: owed} for one package month's segments: what ``true_up`` compares with billed for
    each (package, funder, month), kept by the recharge ledger. A funder with a share owes its
    segments' amounts summed (£0.00 included)."""
    owed: dict[Hashable, Decimal] = {}
    for _segment, funder, _percent, value in _owed_of(facts, result):
        owed[funder] = owed[funder] + value if funder in owed else value
    return owed


def billed_after(billed: Mapping, result: RunResult) -> dict:
    """``billed`` plus what a run's documents bill (a helper for tests and the benchmark)."""
    out: dict = defaultdict(lambda: ZERO)
    for key, value in billed.items():
        out[key] += Decimal(value)
    for line in result.lines:
        out[(line.package, line.recipient, line.month)] += line.amount
    return {k: v for k, v in out.items() if v != 0}
