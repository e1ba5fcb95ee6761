"""Rule 1 written the plain way, as an oracle for ``brokerage.recharges``.

The product's module computes every month of a package in one sweep and caches amounts, because a
borough's run recomputes about 100,000 package months. This is the same rule one package month at
a time, exactly as rules.md reads (it was the product code until the sweep replaced it); the
property tests check that both give the same documents, lines, issues and owed totals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from datetime import date
from decimal import Decimal

from brokerage.recharges import (
    HUNDRED,
    ONE_DAY,
    ZERO,
    Document,
    Issue,
    Line,
    MonthResult,
    PackageFacts,
    RunResult,
    Segment,
    SplitRow,
    month_end,
    month_start,
    months_between,
)


def amount(weekly_cost: Decimal, days: int, percent: Decimal, paid_percent: Decimal = HUNDRED) -> Decimal:
    """rules.md: ``weekly_cost * days * percent * paid_percent / (7 * 100 * 100)``, one expression."""
    return (
        Decimal(weekly_cost) * Decimal(days) * Decimal(percent) * Decimal(paid_percent) / Decimal(70000)
    ).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")


def _covering(rows: Iterable, day: date) -> list:
    return [r for r in rows if r.start <= day and (r.end is None or day <= r.end)]


def _bad_shares(split: SplitRow) -> bool:
    return sum((p for _, p in split.shares), Decimal(0)) != HUNDRED


def month_segments(facts: PackageFacts, month: date) -> MonthResult:
    """The segments of one package in one month, and the days that cannot be billed."""
    result = MonthResult()
    lo = max(month_start(month), facts.start)
    hi = month_end(month) if facts.end is None else min(month_end(month), facts.end)
    if hi < lo:
        return result
    cuts = {lo, hi + ONE_DAY}
    for row in (*facts.costs, *facts.splits, *facts.suspensions):
        if lo < row.start <= hi:
            cuts.add(row.start)
        if row.end is not None and lo <= row.end < hi:
            cuts.add(row.end + ONE_DAY)
    bounds = sorted(cuts)
    for a, b in zip(bounds, bounds[1:], strict=False):
        end = b - ONE_DAY
        splits = _covering(facts.splits, a)
        costs = _covering(facts.costs, a)
        if not splits:
            kind, message = "unfunded", "no funding split covers these days"
        elif len(splits) > 1:
            kind, message = "overlapping_splits", "two funding splits cover these days"
        elif _bad_shares(splits[0]):
            total = sum((p for _, p in splits[0].shares), Decimal(0))
            kind, message = "shares_not_100", f"the shares sum to {total}, not 100"
        elif len(costs) != 1:
            kind = "no_cost" if not costs else "overlapping_costs"
            message = "no cost covers these days" if not costs else "two costs cover these days"
        elif len(_covering(facts.suspensions, a)) > 1:
            kind, message = "overlapping_suspensions", "two suspensions cover these days"
        else:
            kind = ""
        if kind:
            _add_issue(result.issues, Issue(facts.package, a, end, kind, message))
            continue
        suspended = _covering(facts.suspensions, a)
        paid = Decimal(suspended[0].paid_percent) if suspended else HUNDRED
        segment = Segment(a, end, costs[0].weekly_cost, splits[0].shares, paid)
        previous = result.segments[-1] if result.segments else None
        if (
            previous
            and previous.end + ONE_DAY == a
            and previous.weekly_cost == segment.weekly_cost
            and previous.shares == segment.shares
            and previous.paid_percent == paid
        ):
            result.segments[-1] = Segment(previous.start, end, previous.weekly_cost, previous.shares, paid)
        else:
            result.segments.append(segment)
    return result


def _add_issue(issues: list[Issue], issue: Issue) -> None:
    """Merge with the previous issue of the same package and kind when the days run on."""
    if issues:
        last = issues[-1]
        if last.package == issue.package and last.kind == issue.kind and last.end + ONE_DAY == issue.start:
            issues[-1] = Issue(last.package, last.start, issue.end, last.kind, last.message)
            return
    issues.append(issue)


def owed_lines(facts: PackageFacts, month: date) -> tuple[list[Line], list[Issue]]:
    """The lines each funder other than the payer owes the payer for one package month."""
    result = month_segments(facts, month)
    lines = []
    for segment in result.segments:
        for funder, percent in segment.shares:
            if funder == facts.payer or Decimal(percent) == 0:
                continue
            lines.append(
                Line(
                    package=facts.package,
                    recipient=funder,
                    month=month,
                    start=segment.start,
                    end=segment.end,
                    days=segment.days,
                    weekly_cost=segment.weekly_cost,
                    percent=Decimal(percent),
                    amount=amount(segment.weekly_cost, segment.days, percent, segment.paid_percent),
                    paid_percent=None if segment.paid_percent == HUNDRED else segment.paid_percent,
                )
            )
    return lines, result.issues


def true_up(
    packages: Iterable[PackageFacts],
    *,
    period: date,
    billed: Mapping[tuple[Hashable, Hashable, date], Decimal],
    waived: Mapping[tuple[Hashable, Hashable, date], Decimal] | None = None,
) -> RunResult:
    """What a run for ``period`` bills: for every package month up to the period, owed - billed.

    ``billed`` maps (package, recipient, month) to the net already billed (invoice lines minus
    credit-note lines, drafts included). A month whose difference is not zero is billed in full
    again with a deduction line for what was billed before, so the lines show the working."""
    period = month_start(period)
    result = RunResult()
    by_recipient: dict[Hashable, list[Line]] = defaultdict(list)
    settled: dict = defaultdict(lambda: ZERO)
    for source in (billed, waived or {}):  # waived amounts count as settled (rules.md)
        for key, value in source.items():
            settled[key] += Decimal(value)
    billed = {k: v for k, v in settled.items() if v != 0}
    seen: set[tuple[Hashable, Hashable, date]] = set()
    billed_recipients: dict[tuple[Hashable, date], set] = defaultdict(set)
    for package, recipient, month in billed:
        billed_recipients[(package, month)].add(recipient)
    for facts in packages:
        if facts.start > month_end(period):
            continue
        for month in months_between(facts.start, period):
            lines, issues = owed_lines(facts, month)
            result.issues.extend(issues)
            grouped: dict[Hashable, list[Line]] = defaultdict(list)
            for line in lines:
                grouped[line.recipient].append(line)
            for recipient in {*grouped, *billed_recipients.get((facts.package, month), ())}:
                key = (facts.package, recipient, month)
                seen.add(key)
                owed = sum((line.amount for line in grouped.get(recipient, [])), ZERO)
                result.owed[key] = owed
                already = billed.get(key, ZERO)
                if owed == already:
                    continue
                adjustment = month < period
                out = [_with(line, adjustment=adjustment) for line in grouped.get(recipient, [])]
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
        if key in seen or month > period:
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


def _with(line: Line, *, adjustment: bool) -> Line:
    return Line(
        line.package,
        line.recipient,
        line.month,
        line.start,
        line.end,
        line.days,
        line.weekly_cost,
        line.percent,
        line.amount,
        adjustment=adjustment,
        previously_billed=line.previously_billed,
        paid_percent=line.paid_percent,
    )
