"""Pure rules about prices: weekly cost, financial years, and offers against the rate card."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from commissioning.money import round_half_up


def weekly_cost(unit_rate: Decimal, units_per_week: Decimal) -> Decimal:
    """Weekly cost = unit rate x units per week, to the penny (half up)."""
    return round_half_up(Decimal(unit_rate) * Decimal(units_per_week))


def financial_year(day: date) -> int:
    """The starting year of the financial year (1 April to 31 March) containing ``day``."""
    return day.year if day.month >= 4 else day.year - 1


def financial_year_label(year: int) -> str:
    """``2022`` -> ``2022/23``."""
    return f"{year}/{(year + 1) % 100:02d}"


def rate_card_difference(unit_rate: Decimal, rate_card_rate: Decimal | None) -> Decimal | None:
    """How far a unit rate is above (positive) or below (negative) the rate card; None if no card."""
    if rate_card_rate is None:
        return None
    return Decimal(unit_rate) - Decimal(rate_card_rate)


def needs_approval(unit_rate: Decimal, rate_card_rate: Decimal | None) -> bool:
    """An offer above the rate card, or with no rate card to compare it with, needs a manager."""
    return rate_card_rate is None or Decimal(unit_rate) > Decimal(rate_card_rate)
