"""Rule 1 (rules.md) as pure functions: the worked examples to the penny, and the true-up's
invariants over random package histories (hypothesis)."""

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from brokerage import recharges
from brokerage.recharges import CostRow, PackageFacts, SplitRow

COUNCIL, CCG = "LBB", "CCG"
D = Decimal


def package(start, end=None, costs=(), splits=(), payer=COUNCIL, key=1):
    return PackageFacts(key, start, end, payer, tuple(costs), tuple(splits))


def test_worked_example_one_a_ccg_share_of_part_of_may_is_1552_02():
    facts = package(
        date(2022, 5, 10),
        costs=[CostRow(date(2022, 5, 10), None, D("1234.56"))],
        splits=[SplitRow(date(2022, 5, 10), None, ((COUNCIL, D("60")), (CCG, D("40"))))],
    )

    result = recharges.true_up([facts], period=date(2022, 5, 1), billed={})

    (document,) = result.documents
    assert (document.recipient, document.kind, document.total) == (CCG, "invoice", D("1552.02"))
    (line,) = document.lines
    assert (line.start, line.end, line.days, line.percent, line.amount) == (
        date(2022, 5, 10),
        date(2022, 5, 31),
        22,
        D("40"),
        D("1552.02"),
    )
    assert line.adjustment is False


def test_worked_example_two_a_split_change_mid_june_gives_900_and_2057_14():
    facts = package(
        date(2022, 6, 1),
        costs=[CostRow(date(2022, 6, 1), None, D("900.00"))],
        splits=[
            SplitRow(date(2022, 6, 1), date(2022, 6, 14), ((COUNCIL, D("50")), (CCG, D("50")))),
            SplitRow(date(2022, 6, 15), None, ((COUNCIL, D("0")), (CCG, D("100")))),
        ],
    )

    result = recharges.true_up([facts], period=date(2022, 6, 1), billed={})

    (document,) = result.documents
    assert [(li.start.day, li.end.day, li.days, li.amount) for li in document.lines] == [
        (1, 14, 14, D("900.00")),
        (15, 30, 16, D("2057.14")),
    ]
    assert document.total == D("2957.14")


def test_the_amount_is_one_expression_rounded_only_at_the_line():
    # 10.01 x 3 units a week = 30.03 a week; one day at 33.33%: 30.03 * 1 * 33.33 / 700 = 1.42985...
    assert recharges.amount(D("30.03"), 1, D("33.33")) == D("1.43")
    # Rounding the daily rate first would give 4.29 * 33.33% = 1.4298 -> 1.43 too, but at 7 days:
    # 30.03 * 7 * 33.33 / 700 = 10.009 -> 10.01 (not 7 * 1.43 = 10.01 by luck): check the half-up edge.
    assert recharges.amount(D("7.00"), 1, D("0.5")) == D("0.01")  # 0.005 rounds up
    # The weekly cost is kept unrounded: 12.345 an hour x 2 hours = 24.69; 0.123 x 3 = 0.369.
    assert CostRow.of(date(2022, 1, 1), None, D("0.123"), D("3")).weekly_cost == D("0.369")


def test_the_paying_organisation_bills_nobody_for_its_own_share():
    facts = package(
        date(2022, 5, 1),
        costs=[CostRow(date(2022, 5, 1), None, D("700"))],
        splits=[SplitRow(date(2022, 5, 1), None, ((COUNCIL, D("100")),))],
    )
    assert recharges.true_up([facts], period=date(2022, 5, 1), billed={}).documents == []


def test_unfunded_days_and_split_errors_are_reported_and_never_billed():
    facts = package(
        date(2022, 5, 1),
        costs=[CostRow(date(2022, 5, 1), None, D("700"))],
        splits=[
            SplitRow(date(2022, 5, 11), date(2022, 5, 20), ((COUNCIL, D("50")), (CCG, D("40")))),
            SplitRow(date(2022, 5, 21), date(2022, 5, 25), ((COUNCIL, D("50")), (CCG, D("50")))),
            SplitRow(date(2022, 5, 24), None, ((COUNCIL, D("0")), (CCG, D("100")))),
        ],
    )

    result = recharges.true_up([facts], period=date(2022, 5, 1), billed={})

    assert [(i.kind, i.start.day, i.end.day) for i in result.issues] == [
        ("unfunded", 1, 10),
        ("shares_not_100", 11, 20),
        ("overlapping_splits", 24, 25),
    ]
    # Billed: 21-23 May at 50% (3 days: 150.00) and 26-31 May at 100% (6 days: 600.00).
    (document,) = result.documents
    assert [(li.start.day, li.end.day, li.amount) for li in document.lines] == [
        (21, 23, D("150.00")),
        (26, 31, D("600.00")),
    ]


def test_a_price_change_splits_the_month_into_segments():
    facts = package(
        date(2022, 4, 1),
        costs=[
            CostRow(date(2022, 4, 1), date(2022, 4, 10), D("700")),
            CostRow(date(2022, 4, 11), None, D("1400")),
        ],
        splits=[SplitRow(date(2022, 4, 1), None, ((COUNCIL, D("50")), (CCG, D("50"))))],
    )
    (document,) = recharges.true_up([facts], period=date(2022, 4, 1), billed={}).documents
    assert [(li.days, li.amount) for li in document.lines] == [(10, D("500.00")), (20, D("2000.00"))]


def test_a_second_run_with_no_change_bills_nothing():
    facts = package(
        date(2022, 5, 10),
        costs=[CostRow(date(2022, 5, 10), None, D("1234.56"))],
        splits=[SplitRow(date(2022, 5, 10), None, ((COUNCIL, D("60")), (CCG, D("40"))))],
    )
    first = recharges.true_up([facts], period=date(2022, 5, 1), billed={})
    billed = recharges.billed_after({}, first)

    assert recharges.true_up([facts], period=date(2022, 5, 1), billed=billed).documents == []


def test_a_backdated_price_change_is_billed_as_adjustments_naming_their_month():
    old = package(
        date(2022, 5, 1),
        costs=[CostRow(date(2022, 5, 1), None, D("700"))],
        splits=[SplitRow(date(2022, 5, 1), None, ((COUNCIL, D("50")), (CCG, D("50"))))],
    )
    billed = recharges.billed_after({}, recharges.true_up([old], period=date(2022, 5, 1), billed={}))
    new = package(
        date(2022, 5, 1),
        costs=[
            CostRow(date(2022, 5, 1), date(2022, 5, 15), D("700")),
            CostRow(date(2022, 5, 16), None, D("1400")),
        ],
        splits=old.splits,
    )

    (document,) = recharges.true_up([new], period=date(2022, 6, 1), billed=billed).documents

    may = [li for li in document.lines if li.month == date(2022, 5, 1)]
    june = [li for li in document.lines if li.month == date(2022, 6, 1)]
    assert all(li.adjustment and li.corrects_month == date(2022, 5, 1) for li in may)
    assert [(li.days, li.amount, li.previously_billed) for li in may] == [
        (15, D("750.00"), False),
        (16, D("1600.00"), False),
        (None, D("-1550.00"), True),
    ]
    assert sum(li.amount for li in may) == D("800.00")  # 16 days at 700 more a week, half each
    assert [(li.days, li.amount, li.adjustment) for li in june] == [(30, D("3000.00"), False)]


def test_a_backdated_cut_gives_a_credit_note():
    old = package(
        date(2022, 5, 1),
        costs=[CostRow(date(2022, 5, 1), None, D("700"))],
        splits=[SplitRow(date(2022, 5, 1), None, ((COUNCIL, D("50")), (CCG, D("50"))))],
    )
    billed = recharges.billed_after({}, recharges.true_up([old], period=date(2022, 5, 1), billed={}))
    ended = package(date(2022, 5, 1), date(2022, 5, 10), costs=old.costs, splits=old.splits)

    (document,) = recharges.true_up([ended], period=date(2022, 5, 1), billed=billed).documents

    assert document.kind == "credit_note"
    assert document.total == D("1050.00")  # billed 1550.00 for 31 days, owed 500.00 for 10


# --- Properties ---------------------------------------------------------------------------------

START = date(2022, 1, 1)
FUNDERS = (COUNCIL, CCG, "ICB2")


@st.composite
def histories(draw):
    """A package starting in early 2022, with random cost and split changes and maybe an end."""
    start = START + timedelta(days=draw(st.integers(0, 80)))
    end = draw(st.one_of(st.none(), st.integers(20, 200).map(lambda n: start + timedelta(days=n))))
    cuts = sorted(set(draw(st.lists(st.integers(1, 180), max_size=4))))
    costs, splits, day = [], [], start
    bounds = [start + timedelta(days=c) for c in cuts] + [None]
    for i, nxt in enumerate(bounds):
        to = None if nxt is None else nxt - timedelta(days=1)
        if to is not None and to < day:
            continue
        weekly = draw(st.decimals(min_value=D("0.01"), max_value=D("5000"), places=2))
        units = draw(st.sampled_from([D("1"), D("7"), D("10.5"), D("3.25")]))
        costs.append(CostRow(day, to, weekly * units))
        if draw(st.booleans()) or i == 0:
            a = draw(st.integers(0, 100))
            b = draw(st.integers(0, 100 - a))
            shares = ((COUNCIL, D(a)), (CCG, D(b)), ("ICB2", D(100 - a - b)))
            if draw(st.integers(0, 5)) != 0:  # sometimes leave a gap: unfunded
                splits.append(SplitRow(day, to, shares))
        if nxt is None:
            break
        day = nxt
    return package(start, end, costs, splits, key=draw(st.integers(1, 3)))


def _totals(result, billed):
    owed, got = {}, {}
    for (_p, r, _m), v in result.owed.items():
        owed[r] = owed.get(r, 0) + v
    for (_p, r, _m), v in billed.items():
        got[r] = got.get(r, 0) + v
    return {k: v for k, v in owed.items() if v}, {k: v for k, v in got.items() if v}


@given(
    before=st.lists(histories(), min_size=1, max_size=3, unique_by=lambda f: f.package),
    after=st.lists(histories(), min_size=1, max_size=3, unique_by=lambda f: f.package),
    first=st.integers(0, 6),
    later=st.integers(0, 3),
)
def test_runs_after_any_backdated_change_leave_billed_equal_to_owed_and_then_bill_nothing(
    before, after, first, later
):
    period = date(2022, 1 + first, 1)
    second_period = date(2022, 1 + first + later, 1)
    billed = recharges.billed_after({}, recharges.true_up(before, period=period, billed={}))
    # Any backdated change: the packages are replaced by other random histories (same keys or not).
    changed = {f.package: f for f in before} | {f.package: f for f in after}

    second = recharges.true_up(changed.values(), period=second_period, billed=billed)
    billed = recharges.billed_after(billed, second)
    recomputed = recharges.true_up(changed.values(), period=second_period, billed={})

    owed_totals, billed_totals = _totals(recomputed, billed)
    assert billed_totals == owed_totals
    assert recharges.true_up(changed.values(), period=second_period, billed=billed).documents == []


@given(
    facts=st.lists(histories(), min_size=1, max_size=3, unique_by=lambda f: f.package), n=st.integers(0, 8)
)
def test_lines_sum_to_what_was_owed_and_each_document_has_the_sign_of_its_kind(facts, n):
    result = recharges.true_up(facts, period=date(2022, 1 + n, 1), billed={})

    for document in result.documents:
        owed = sum(v for (p, r, m), v in result.owed.items() if r == document.recipient)
        assert sum(li.amount for li in document.lines) == owed
        assert document.kind == "invoice" and document.net > 0
        assert document.recipient != COUNCIL  # the payer never bills itself
    for line in result.lines:
        assert line.amount == recharges.amount(line.weekly_cost, line.days, line.percent)
        unbillable = [i for i in result.issues if i.package == line.package]
        assert all(line.end < i.start or line.start > i.end for i in unbillable)


def test_what_a_month_owes_is_kept_per_payer_not_reused_for_another():
    """``MonthResult`` keeps the owed amounts it worked out (``_owed_of``) with the payer they were
    worked out for: the same month's segments asked again for the other payer give that payer's."""
    council, nhs = "council", "nhs"
    split = SplitRow(date(2022, 6, 1), None, ((council, Decimal("40")), (nhs, Decimal("60"))))
    cost = CostRow(date(2022, 6, 1), None, Decimal("700"))
    paid_by = {
        payer: PackageFacts(
            package=1, start=date(2022, 6, 1), end=None, payer=payer, costs=(cost,), splits=(split,)
        )
        for payer in (council, nhs)
    }
    month = date(2022, 6, 1)
    result = recharges.month_segments(paid_by[council], month)
    assert recharges.owed_by_funder(paid_by[council], result) == {nhs: Decimal("1800.00")}
    assert recharges.owed_by_funder(paid_by[nhs], result) == {council: Decimal("1200.00")}
    assert recharges.owed_by_funder(paid_by[council], result) == {nhs: Decimal("1800.00")}
