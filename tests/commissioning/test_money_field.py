"""The money field of every form: pounds and pence typed as text, commas only between thousands."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from commissioning.forms import MoneyField


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("250000", Decimal("250000")),
        ("250,000.00", Decimal("250000.00")),
        ("£250,000", Decimal("250000")),
        (" £ 1,018.46 ", Decimal("1018.46")),
        ("27.50", Decimal("27.50")),
        ("1,234,567.89", Decimal("1234567.89")),
    ],
)
def test_amounts_typed_as_people_write_them(typed, amount):
    assert MoneyField(label="Unit rate").clean(typed) == amount


@pytest.mark.parametrize("typed", ["27,50", "1,2345", "12,34.00", ",500", "1,,000", "1000,"])
def test_a_comma_that_is_not_a_thousands_separator_is_refused_not_guessed(typed):
    with pytest.raises(ValidationError) as refused:
        MoneyField(label="Unit rate").clean(typed)
    assert "Unit rate has a comma in the wrong place" in refused.value.messages[0]
