"""Money: Decimal with two places, everywhere. One helper for fields and one for rounding."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

PENNY = Decimal("0.01")
MONEY_MAX = Decimal("999999999999.99")


def money_field(
    *, non_negative: bool = True, negative_message: str | None = None, **kwargs
) -> models.DecimalField:
    """A DecimalField(14, 2); non-negative unless told otherwise (constraints still go in Meta).
    ``negative_message``: what a negative amount is told, in the field's own words."""
    validators = list(kwargs.pop("validators", []))
    validators.append(MaxValueValidator(MONEY_MAX))
    minimum = Decimal("0.00") if non_negative else -MONEY_MAX
    validators.append(
        MinValueValidator(minimum, message=negative_message)
        if negative_message
        else MinValueValidator(minimum)
    )
    return models.DecimalField(max_digits=14, decimal_places=2, validators=validators, **kwargs)


def round_half_up(value: Decimal) -> Decimal:
    """Round to the penny, half up (rules.md): 0.005 -> 0.01, -0.005 -> -0.01."""
    return Decimal(value).quantize(PENNY, rounding=ROUND_HALF_UP)


def format_money(value: Decimal | None) -> str:
    """``£1,552.02``; negative ``-£250.91``. The one money formatter of pages, PDFs and exports:
    it rounds half up to the penny as rules.md says (12.01 x 2.5 = 30.025 shows £30.03)."""
    if value is None or value == "":
        return ""
    value = round_half_up(Decimal(str(value)))
    sign = "-" if value < 0 else ""
    return f"{sign}£{abs(value):,.2f}"


def money_text(value: Decimal | None) -> str | None:
    """Money as the API and CSV write it: a plain number with two places, rounded half up
    (``"30.03"``, ``"-250.91"``); None stays None."""
    if value is None:
        return None
    if type(value) is not Decimal:  # a Decimal is its own text already: no round trip through str
        value = Decimal(str(value))
    return f"{value.quantize(PENNY, rounding=ROUND_HALF_UP):f}"
