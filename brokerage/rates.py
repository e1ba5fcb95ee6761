"""Pure rules about prices: weekly cost, financial years, and offers against the rate card."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from commissioning.money import MONEY_MAX, format_money, round_half_up

# The longest month is 31 days: what a month of a weekly cost comes to on an invoice line.
LONGEST_MONTH_IN_WEEKS = Decimal(31) / Decimal(7)
# The largest weekly cost whose month still fits a money column (14 digits, two decimals).
WEEKLY_COST_MAX = (MONEY_MAX / LONGEST_MONTH_IN_WEEKS).quantize(Decimal("0.01"), rounding="ROUND_DOWN")


def weekly_cost(unit_rate: Decimal, units_per_week: Decimal) -> Decimal:
    """Weekly cost = unit rate x units per week, to the penny (half up)."""
    return round_half_up(Decimal(unit_rate) * Decimal(units_per_week))


def weekly_cost_problem(unit_rate, units_per_week) -> str | None:
    """Why this price cannot be recorded, if it cannot: its weekly cost, and what a month of it comes
    to on an invoice, must fit the money columns (else the row saves but every later list, invoice
    and recharge run that derives an amount from it fails). None when it fits or is incomplete."""
    if unit_rate is None or units_per_week is None:
        return None
    try:
        cost = Decimal(unit_rate) * Decimal(units_per_week)
    except (TypeError, ArithmeticError):
        return None
    if cost <= WEEKLY_COST_MAX:
        return None
    return (
        f"This price comes to {format_money(cost)} a week, more than can be recorded: "
        f"the weekly cost may be at most {format_money(WEEKLY_COST_MAX)} (so that a month of it "
        f"fits an invoice). Check the unit rate and the units per week."
    )


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


@dataclass(frozen=True)
class RateCardHint:
    """What the offer form shows while the price is typed: the rate card of the referral's service
    for the financial year of the start, in the unit chosen (or every unit, before one is chosen),
    and how far the price typed is from it."""

    service: str
    year_label: str
    cards: dict  # unit -> unit rate
    unit: str | None
    unit_rate: Decimal | None
    units_per_week: Decimal | None = None
    # A price was typed but is not an amount of money (letters, three decimals): say so.
    price_unreadable: bool = False

    @property
    def card(self) -> Decimal | None:
        return self.cards.get(self.unit) if self.unit else None

    @property
    def difference(self) -> Decimal | None:
        if self.unit_rate is None or self.card is None:
            return None
        return rate_card_difference(self.unit_rate, self.card)

    @property
    def weekly_cost(self) -> Decimal | None:
        if self.unit_rate is None or self.units_per_week is None:
            return None
        return weekly_cost(self.unit_rate, self.units_per_week)

    @property
    def weekly_difference(self) -> Decimal | None:
        """The weekly cost against the card's for the same units a week (None until both are typed)."""
        if self.weekly_cost is None or self.card is None:
            return None
        return self.weekly_cost - weekly_cost(self.card, self.units_per_week)

    @property
    def needs_approval(self) -> bool:
        return (
            self.unit is not None and self.unit_rate is not None and needs_approval(self.unit_rate, self.card)
        )
