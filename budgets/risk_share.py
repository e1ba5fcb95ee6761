"""Rule 2 of rules.md: sharing a schedule's net variance between its partners.

Pure functions over plain values (no ORM), so the rule can be tested exhaustively. Every partner's
share but the host's is rounded half up to the penny; the host takes the remainder, so the shares
always sum exactly to the variance.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from decimal import Decimal

from commissioning.money import round_half_up

PROPORTIONAL = "proportional"
OWN_LINES = "own_lines"
HOST = "host"
FIXED = "fixed"
RULES = (PROPORTIONAL, OWN_LINES, HOST, FIXED)

ZERO = Decimal("0.00")
HUNDRED = Decimal("100")


class RiskShareError(ValueError):
    pass


def share_variance(
    *,
    variance: Decimal,
    rule: str,
    host: Hashable,
    partners: list[Hashable],
    contributions: Mapping[Hashable, Decimal] | None = None,
    own_line_variances: Mapping[Hashable, Decimal] | None = None,
    fixed_percentages: Mapping[Hashable, Decimal] | None = None,
) -> dict[Hashable, Decimal]:
    """Split ``variance`` (forecast minus budget; positive is an overspend) between ``partners``.

    - ``proportional``: in proportion to each partner's ``contributions`` to the schedule that year;
    - ``own_lines``: each partner bears the variance on its own lines (``own_line_variances``);
    - ``host``: the host bears it all;
    - ``fixed``: ``fixed_percentages`` per partner, summing to exactly 100.
    """
    if rule not in RULES:
        raise RiskShareError(f"Unknown risk-share rule {rule!r}; use one of {', '.join(RULES)}.")
    if host not in partners:
        raise RiskShareError("The host partner must be one of the schedule's partners.")
    variance = Decimal(variance)
    others = [p for p in partners if p != host]
    shares: dict[Hashable, Decimal] = {}

    if rule == PROPORTIONAL:
        contributions = contributions or {}
        total = sum((Decimal(contributions.get(p, 0)) for p in partners), Decimal(0))
        for partner in others:
            amount = Decimal(contributions.get(partner, 0))
            if amount < 0:
                raise RiskShareError("Contributions cannot be negative.")
            shares[partner] = round_half_up(variance * amount / total) if total else ZERO
    elif rule == OWN_LINES:
        own = own_line_variances or {}
        for partner in others:
            shares[partner] = round_half_up(Decimal(own.get(partner, 0)))
    elif rule == HOST:
        for partner in others:
            shares[partner] = ZERO
    else:  # FIXED
        percentages = {p: Decimal(fixed_percentages.get(p, 0)) for p in partners} if fixed_percentages else {}
        validate_fixed_percentages(percentages)
        for partner in others:
            shares[partner] = round_half_up(variance * percentages[partner] / HUNDRED)

    shares[host] = round_half_up(variance) - sum(shares.values(), ZERO)
    return {p: shares[p] for p in partners}


def validate_fixed_percentages(percentages: Mapping[Hashable, Decimal]) -> None:
    if not percentages:
        raise RiskShareError("A fixed risk share needs a percentage for each partner.")
    for value in percentages.values():
        if value < 0 or value > HUNDRED:
            raise RiskShareError("Each fixed percentage must be between 0 and 100.")
    total = sum(percentages.values(), Decimal(0))
    if total != HUNDRED:
        raise RiskShareError(
            f"Fixed percentages must add up to exactly 100; these add up to {total.normalize():f}."
        )


def rule_for(variance: Decimal, *, overspend_rule: str, underspend_rule: str) -> str:
    """Schedules state one rule for overspends and one for underspends."""
    return overspend_rule if variance >= 0 else underspend_rule
