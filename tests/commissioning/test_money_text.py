"""``money_text``: money as the API and CSV write it, rounded half up to the penny."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from commissioning.money import money_text, round_half_up


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=6) | st.integers(-(10**9), 10**9))
def test_any_amount_is_its_value_rounded_half_up_with_two_places(amount):
    assert money_text(amount) == f"{round_half_up(Decimal(str(amount))):f}"


def test_halves_round_away_from_zero_and_nothing_is_lost():
    assert [money_text(Decimal(x)) for x in ("30.025", "-0.005", "1552.02", "7", "0.1")] == [
        "30.03",
        "-0.01",
        "1552.02",
        "7.00",
        "0.10",
    ]
    assert money_text(0.1) == "0.10" and money_text(None) is None
