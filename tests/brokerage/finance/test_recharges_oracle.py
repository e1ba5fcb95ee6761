"""The sweep in ``brokerage.recharges`` against the plain one-month-at-a-time oracle (hypothesis).

Histories here are rougher than real ones on purpose: overlapping costs and splits, shares that do
not sum to 100, gaps, zero shares, ends before later rows, and random amounts already billed."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from brokerage import recharges
from brokerage.recharges import CostRow, PackageFacts, SplitRow, SuspensionRow

from . import naive_rule1

BASE = date(2021, 11, 20)
FUNDERS = ("LA", "CCG", "ICB2")


@st.composite
def rough_rows(draw, kind):
    rows = []
    for _ in range(draw(st.integers(0, 5))):
        start = BASE + timedelta(days=draw(st.integers(-40, 400)))
        end = draw(st.one_of(st.none(), st.integers(0, 200).map(lambda n, s=start: s + timedelta(days=n))))
        if kind == "cost":
            rows.append(CostRow(start, end, draw(st.decimals(D("0"), D("4000"), places=3))))
        else:
            a = draw(st.sampled_from([D(0), D(25), D("33.33"), D(50), D(100), D(60)]))
            b = draw(st.sampled_from([D(0), D(50), D("66.67"), D(40), D(100) - a]))
            shares = tuple((f, p) for f, p in zip(FUNDERS, (a, b, D(100) - a - b), strict=True))
            rows.append(SplitRow(start, end, shares))
    return tuple(sorted(rows, key=lambda r: r.start))


@st.composite
def rough_packages(draw, key):
    start = BASE + timedelta(days=draw(st.integers(0, 300)))
    end = draw(st.one_of(st.none(), st.integers(-5, 400).map(lambda n: start + timedelta(days=n))))
    payer = draw(st.sampled_from(FUNDERS))
    suspensions = []
    for _ in range(draw(st.integers(0, 3))):  # possibly overlapping: reported, never billed
        begin = BASE + timedelta(days=draw(st.integers(-10, 400)))
        suspensions.append(
            SuspensionRow(
                begin,
                begin + timedelta(days=draw(st.integers(0, 60))),
                draw(st.sampled_from([D(0), D(50), D(80), D("33.33"), D(100)])),
            )
        )
    return PackageFacts(
        key, start, end, payer, draw(rough_rows("cost")), draw(rough_rows("split")), tuple(suspensions)
    )


@st.composite
def runs(draw):
    packages = [draw(rough_packages(key)) for key in range(draw(st.integers(1, 4)))]
    period = date(2022, draw(st.integers(1, 12)), 1) if draw(st.booleans()) else date(2023, 2, 1)
    billed = {}
    for _ in range(draw(st.integers(0, 8))):
        month = date(2021 + draw(st.integers(0, 1)), draw(st.integers(1, 12)), 1)
        key = (draw(st.integers(0, 4)), draw(st.sampled_from(FUNDERS)), month)
        billed[key] = draw(st.decimals(D("-500"), D("3000"), places=2))
    waived = {}
    for _ in range(draw(st.integers(0, 3))):
        month = date(2021 + draw(st.integers(0, 1)), draw(st.integers(1, 12)), 1)
        key = (draw(st.integers(0, 4)), draw(st.sampled_from(FUNDERS)), month)
        waived[key] = draw(st.decimals(D("0.01"), D("800"), places=2))
    return packages, period, billed, waived


def _shape(result):
    """Documents in recipient order: the order of documents is not part of the rule."""
    return (
        sorted((d.recipient, d.kind, d.lines) for d in result.documents),
        result.issues,
        result.owed,
    )


@settings(max_examples=400, deadline=None)
@given(runs())
def test_the_sweep_bills_exactly_what_the_plain_rule_bills(run):
    packages, period, billed, waived = run
    assert _shape(recharges.true_up(packages, period=period, billed=billed, waived=waived)) == _shape(
        naive_rule1.true_up(packages, period=period, billed=billed, waived=waived)
    )


@settings(max_examples=300, deadline=None)
@given(rough_packages(1), st.integers(0, 20))
def test_each_month_has_the_plain_rule_segments_and_lines(facts, n):
    month = date(2021 + (10 + n) // 12, (10 + n) % 12 + 1, 1)
    assert recharges.month_segments(facts, month) == naive_rule1.month_segments(facts, month)
    assert recharges.owed_lines(facts, month) == naive_rule1.owed_lines(facts, month)


# --- The steady state the recharge ledger keeps (recharges.steady_from, steady_facts) -----------


def _month(n: int) -> date:
    return date(2021 + (10 + n) // 12, (10 + n) % 12 + 1, 1)


def _from_steady(facts, day, steady, last):
    rebuilt = recharges.steady_facts(facts.package, facts.start, facts.end, facts.payer, day, steady)
    return recharges.segments_by_month(rebuilt, day, last)


@st.composite
def settled_packages(draw):
    """A rough history that ends before some month, then one cost and one split (shares summing to
    100) running on from before that month with no end: steady from it."""
    facts = draw(rough_packages(1))
    n = draw(st.integers(1, 20))
    day = _month(n)
    before = day - timedelta(days=1)

    def closed(rows):
        return tuple(r for r in rows if r.end is not None and r.end < day and r.start <= before)

    begin = day - timedelta(days=draw(st.integers(0, 90)))
    a = draw(st.sampled_from([D(0), D(25), D("33.33"), D(50), D(100)]))
    shares = tuple(zip(FUNDERS, (a, D(100) - a, D(0)), strict=True))
    costs = tuple(r for r in closed(facts.costs) if r.end < begin)
    splits = tuple(r for r in closed(facts.splits) if r.end < begin)
    steady_facts = PackageFacts(
        facts.package,
        facts.start,
        facts.end,
        facts.payer,
        (*costs, CostRow(begin, None, draw(st.decimals(D("0"), D("4000"), places=3)))),
        (*splits, SplitRow(begin, None, shares)),
        tuple(s for s in facts.suspensions if s.end < day),
    )
    return steady_facts, n


@settings(max_examples=300, deadline=None)
@given(settled_packages(), st.integers(0, 14))
def test_a_steady_package_has_the_same_months_from_its_steady_state_as_from_its_facts(case, more):
    facts, n = case
    day, last = _month(n), _month(n + more)
    steady = recharges.steady_from(facts, day)
    assert steady is not None
    expected = recharges.segments_by_month(facts, day, last)
    assert _from_steady(facts, day, steady, last) == expected
    assert recharges.steady_months(facts, day, last, steady) == expected  # the ledger's shortcut


@settings(max_examples=300, deadline=None)
@given(rough_packages(1), st.integers(0, 20), st.integers(0, 14))
def test_any_package_found_steady_has_the_same_months_from_its_steady_state(facts, n, more):
    """Rough histories: whatever ``steady_from`` accepts gives every later month as the facts do,
    and it accepts nothing with a change or a problem still to come."""
    day, last = _month(n), _month(n + more)
    steady = recharges.steady_from(facts, day)
    if steady is not None:
        assert _from_steady(facts, day, steady, last) == recharges.segments_by_month(facts, day, last)
    later = [r for r in (*facts.costs, *facts.splits, *facts.suspensions) if r.start > day]
    if later or any(r.end >= day for r in facts.suspensions):
        assert steady is None
