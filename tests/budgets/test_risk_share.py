from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from budgets.risk_share import (
    FIXED,
    HOST,
    OWN_LINES,
    PROPORTIONAL,
    RULES,
    RiskShareError,
    rule_for,
    share_variance,
)

D = Decimal


def test_worked_example_of_rule_2_proportional_overspend_to_the_penny():
    # rules.md: host LBB; CCG £118,340, LBB £43,713 (iBCF £29,799 + LBB core £13,914); overspend £10,000.
    shares = share_variance(
        variance=D("10000"),
        rule=PROPORTIONAL,
        host="LBB",
        partners=["SELCCG-BR", "LBB"],
        contributions={"SELCCG-BR": D("118340"), "LBB": D("29799") + D("13914")},
    )

    assert shares == {"SELCCG-BR": D("7302.55"), "LBB": D("2697.45")}


def test_underspend_is_shared_by_the_same_arithmetic_with_the_sign_kept():
    shares = share_variance(
        variance=D("-10000"),
        rule=PROPORTIONAL,
        host="LBB",
        partners=["SELCCG-BR", "LBB"],
        contributions={"SELCCG-BR": D("118340"), "LBB": D("43713")},
    )

    assert shares == {"SELCCG-BR": D("-7302.55"), "LBB": D("-2697.45")}


def test_host_rule_puts_everything_on_the_host():
    shares = share_variance(variance=D("1234.56"), rule=HOST, host="LBB", partners=["CCG", "LBB"])

    assert shares == {"CCG": D("0.00"), "LBB": D("1234.56")}


def test_own_lines_each_partner_bears_its_own_lines_variance():
    shares = share_variance(
        variance=D("500.00"),
        rule=OWN_LINES,
        host="LBB",
        partners=["CCG", "LBB"],
        own_line_variances={"CCG": D("800.004"), "LBB": D("-300.004")},
    )

    assert shares == {"CCG": D("800.00"), "LBB": D("-300.00")}


def test_fixed_percentages_with_the_remainder_to_the_host():
    shares = share_variance(
        variance=D("100.01"),
        rule=FIXED,
        host="LBB",
        partners=["CCG", "LBB"],
        fixed_percentages={"CCG": D("33.33"), "LBB": D("66.67")},
    )

    # 100.01 * 33.33 / 100 = 33.333333 -> 33.33; the host takes 100.01 - 33.33.
    assert shares == {"CCG": D("33.33"), "LBB": D("66.68")}


def test_fixed_percentages_not_summing_to_100_are_refused():
    with pytest.raises(RiskShareError, match="add up to exactly 100; these add up to 90"):
        share_variance(
            variance=D("10"),
            rule=FIXED,
            host="LBB",
            partners=["CCG", "LBB"],
            fixed_percentages={"CCG": D("40"), "LBB": D("50")},
        )


def test_no_contributions_puts_the_variance_on_the_host():
    shares = share_variance(
        variance=D("10"), rule=PROPORTIONAL, host="LBB", partners=["CCG", "LBB"], contributions={}
    )

    assert shares == {"CCG": D("0.00"), "LBB": D("10.00")}


def test_unknown_rule_and_foreign_host_are_refused():
    with pytest.raises(RiskShareError, match="Unknown risk-share rule"):
        share_variance(variance=D("1"), rule="halves", host="A", partners=["A", "B"])
    with pytest.raises(RiskShareError, match="host partner must be one of"):
        share_variance(variance=D("1"), rule=HOST, host="C", partners=["A", "B"])


def test_the_overspend_rule_applies_to_overspends_and_the_underspend_rule_to_underspends():
    assert rule_for(D("5"), overspend_rule=PROPORTIONAL, underspend_rule=HOST) == PROPORTIONAL
    assert rule_for(D("-5"), overspend_rule=PROPORTIONAL, underspend_rule=HOST) == HOST


money = st.decimals(min_value=D("-1000000"), max_value=D("1000000"), places=2, allow_nan=False)
contribution = st.decimals(min_value=D("0"), max_value=D("10000000"), places=2, allow_nan=False)


@given(
    variance=money,
    rule=st.sampled_from(RULES),
    contributions=st.lists(contribution, min_size=2, max_size=4),
    split=st.integers(min_value=0, max_value=10000),
)
def test_shares_always_sum_exactly_to_the_variance(variance, rule, contributions, split):
    partners = [f"P{i}" for i in range(len(contributions))]
    host = partners[-1]
    first = D(split) / D(100)
    fixed = {p: D("0") for p in partners}
    fixed[partners[0]] = first
    fixed[host] += D("100") - first
    own = {p: variance / len(partners) for p in partners}

    shares = share_variance(
        variance=variance,
        rule=rule,
        host=host,
        partners=partners,
        contributions=dict(zip(partners, contributions, strict=True)),
        own_line_variances=own,
        fixed_percentages=fixed,
    )

    assert sum(shares.values()) == variance
    assert all(s == s.quantize(D("0.01")) for s in shares.values())
