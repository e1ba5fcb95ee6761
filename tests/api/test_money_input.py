"""Money in (api.md "General": money as strings with two decimals; issue 19 point 6): only a string
of digits with at most two decimals is accepted; a JSON number, an exponent, more decimals or a
thousands separator answers 400 naming the field and changes nothing. One field
(``commissioning.api.fields.MoneyField``) serves every endpoint."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework import serializers

from commissioning.api.fields import MoneyField
from commissioning.models import Contract
from tests.commissioning.factories import ContractFactory


class _Body(serializers.Serializer):
    amount = MoneyField()
    signed = MoneyField(non_negative=False, required=False)


@pytest.mark.parametrize(
    "given,expected",
    [
        ("1.10", Decimal("1.10")),
        ("1552.02", Decimal("1552.02")),
        ("7", Decimal("7")),
        (" 3.5 ", Decimal("3.5")),
    ],
)
def test_strings_with_at_most_two_decimals_are_money(given, expected):
    body = _Body(data={"amount": given})

    assert body.is_valid(), body.errors
    assert body.validated_data["amount"] == expected


@pytest.mark.parametrize(
    "given",
    [
        1.1,
        1552,
        0,
        True,
        None,
        "1e3",
        "1E3",
        "1.234",
        "1,000.00",
        "1.",
        ".5",
        "",
        "NaN",
        "Infinity",
        "0x10",
        "£5",
    ],
    ids=repr,
)
def test_anything_else_is_refused_naming_the_field(given):
    body = _Body(data={"amount": given})

    assert not body.is_valid()
    assert list(body.errors) == ["amount"]


def test_signed_money_takes_a_minus_and_still_two_decimals():
    assert _Body(data={"amount": "1.00", "signed": "-12.50"}).is_valid()
    assert not _Body(data={"amount": "1.00", "signed": "-1e2"}).is_valid()
    assert not _Body(data={"amount": "-1.00"}).is_valid()  # non-negative by default


@pytest.mark.django_db
@pytest.mark.parametrize("given", [2000.1, 2000, "2e3", "2000.101"], ids=repr)
def test_the_api_refuses_money_as_a_number_or_exponent_and_changes_nothing(
    api_as, commissioner, partnership, given
):
    contract = ContractFactory(partnership=partnership)
    before = Contract.objects.filter(pk=contract.pk).values("annual_value", "version").get()

    response = api_as(commissioner).patch(
        f"/api/v1/contracts/{contract.pk}/",
        {"annual_value": given, "version": contract.version},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["annual_value"]
    assert Contract.objects.filter(pk=contract.pk).values("annual_value", "version").get() == before
