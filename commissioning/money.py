"""Money: Decimal with two places, everywhere. One helper for fields and one for rounding."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

PENNY = Decimal("0.01")
MONEY_MAX = Decimal("999999999999.99")


def money_field(*, non_negative: bool = True, **kwargs) -> models.DecimalField:
    """A DecimalField(14, 2); non-negative unless told otherwise (constraints still go in Meta)."""
    validators = list(kwargs.pop("validators", []))
    validators.append(MaxValueValidator(MONEY_MAX))
    validators.append(MinValueValidator(Decimal("0.00") if non_negative else -MONEY_MAX))
    return models.DecimalField(max_digits=14, decimal_places=2, validators=validators, **kwargs)


def round_half_up(value: Decimal) -> Decimal:
    """Round to the penny, half up (rules.md): 0.005 -> 0.01, -0.005 -> -0.01."""
    return Decimal(value).quantize(PENNY, rounding=ROUND_HALF_UP)


def format_money(value: Decimal | None) -> str:
    if value is None:
        return ""
    value = Decimal(value).quantize(PENNY)
    sign = "-" if value < 0 else ""
    return f"{sign}£{abs(value):,.2f}"
