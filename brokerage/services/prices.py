"""Price changes of packages (issue 18): the one way a package's price changes after it starts, for
the "Change the price" page, the API's ``change-cost/`` and a dispute's correction alike.

- Every change gives a reason.
- At or below the rate card (the card of the package's partnership and service type, in the
  change's unit, for the financial year of its date) it applies at once.
- Above the card, or with no card to compare it with, it waits, pending, until a brokerage manager
  other than its proposer approves it (then it applies) or declines it with a reason. A package has
  at most one pending change (also a database constraint); no other price change is taken while one
  waits.
- A change from a date drops the prices that start on or after it (domain.md): it says so first.
  The proposer confirms it replaces them (``replaces_confirmed``), else nothing is saved; the change
  keeps in words what it replaced, and the package page lists every change with who and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from commissioning.models import User
from commissioning.money import format_money

from .. import histories, rates
from ..models import Offer, Package, PackageCost, PriceChange, PriceChangeStatus, rate_card_rate
from ..roles import is_manager
from .base import check_version, history_context, lock_package
from .packages import cost_change_apply, cost_change_check, cost_change_plan, package_cost_add

NOT_A_MANAGER = "Only a brokerage manager can approve or decline price changes above the rate card."
OWN_CHANGE = "You proposed this price change: another brokerage manager must approve it."


@dataclass(frozen=True)
class ReplacedPrice:
    """A later price a change from an earlier date replaces: its dates, weekly cost and, where the
    price was proposed through a price change, who proposed it and why."""

    start: date
    end: date | None
    weekly_cost: Decimal
    unit_rate: Decimal
    unit: str
    change: PriceChange | None = None

    def words(self) -> str:
        text = f"{format_money(self.weekly_cost)} a week from {histories.day_text(self.start)}"
        if self.change is not None and self.change.reason:
            text += f" ({self.change.reason})"
        return text


@dataclass(frozen=True)
class PriceCheck:
    """What a price change would do, before it is saved: the card it is compared with, whether it
    waits for approval, and the later prices it replaces."""

    effective_from: date
    unit_rate: Decimal
    units_per_week: Decimal
    unit: str
    rate_card_rate: Decimal | None
    replaces: tuple[ReplacedPrice, ...]

    @property
    def weekly_cost(self) -> Decimal:
        return rates.weekly_cost(self.unit_rate, self.units_per_week)

    @property
    def needs_approval(self) -> bool:
        return rates.needs_approval(self.unit_rate, self.rate_card_rate)

    @property
    def rate_card_difference(self) -> Decimal | None:
        return rates.rate_card_difference(self.unit_rate, self.rate_card_rate)

    def card_words(self) -> str:
        if self.rate_card_rate is None:
            return "There is no rate card to compare it with: a brokerage manager must approve it."
        difference = self.rate_card_difference
        if difference > 0:
            return (
                f"{format_money(difference)} per {self.unit} above the rate card of "
                f"{format_money(self.rate_card_rate)}: a brokerage manager must approve it before it applies."
            )
        if difference == 0:
            return f"At the rate card of {format_money(self.rate_card_rate)}: it applies at once."
        return (
            f"{format_money(-difference)} per {self.unit} below the rate card of "
            f"{format_money(self.rate_card_rate)}: it applies at once."
        )

    def replaces_words(self) -> str:
        return "; ".join(r.words() for r in self.replaces)


def _card(package: Package, unit: str, day: date) -> Decimal | None:
    return rate_card_rate(
        partnership_id=package.client.partnership_id, service_type=package.service_type, unit=unit, day=day
    )


def _replaced(package: Package, plan: histories.Plan) -> tuple[ReplacedPrice, ...]:
    keys = [row.key for row in plan.delete]
    if not keys:
        return ()
    costs = {c.pk: c for c in PackageCost.objects.filter(pk__in=keys)}
    changes = {
        c.cost_id: c
        for c in PriceChange.objects.filter(cost_id__in=keys).select_related("proposed_by", "decided_by")
    }
    return tuple(
        ReplacedPrice(
            start=costs[key].effective_from,
            end=costs[key].effective_to,
            weekly_cost=costs[key].weekly_cost,
            unit_rate=costs[key].unit_rate,
            unit=costs[key].unit,
            change=changes.get(key),
        )
        for key in sorted(keys, key=lambda k: costs[k].effective_from)
    )


def _check(
    package: Package, effective_from: date, unit_rate, units_per_week, unit
) -> tuple[PriceCheck, histories.Plan]:
    cost_change_check(
        package, effective_from=effective_from, unit_rate=unit_rate, units_per_week=units_per_week, unit=unit
    )
    plan = cost_change_plan(
        package, effective_from=effective_from, unit_rate=unit_rate, units_per_week=units_per_week, unit=unit
    )
    check = PriceCheck(
        effective_from=effective_from,
        unit_rate=Decimal(unit_rate),
        units_per_week=Decimal(units_per_week),
        unit=unit,
        rate_card_rate=_card(package, unit, effective_from),
        replaces=_replaced(package, plan),
    )
    return check, plan


def _pending_refusal(pending: PriceChange) -> ValidationError:
    who = f", proposed by {person_name(pending.proposed_by)}" if pending.proposed_by else ""
    return ValidationError(
        f"A price change from {histories.day_text(pending.effective_from)} "
        f"({format_money(pending.weekly_cost)} a week{who}) is awaiting a brokerage manager's approval: "
        "it must be approved or declined before the price changes again."
    )


def price_change_check(
    *,
    package: Package,
    effective_from: date,
    unit_rate: Decimal,
    units_per_week: Decimal,
    unit: str,
    version: int | None = None,
    approving: PriceChange | None = None,
) -> PriceCheck:
    """What the change would do, without saving it (the page's check step, or the approval step of
    the pending change ``approving``): a ``ValidationError`` for a change that would be refused."""
    check_version(package, version, "package")
    if approving is None:
        pending = package.price_changes.pending().select_related("proposed_by").first()
        if pending is not None:
            raise _pending_refusal(pending)
    check, _plan = _check(package, effective_from, unit_rate, units_per_week, unit)
    return check


def _apply(change: PriceChange, package: Package, by: User) -> PriceChange:
    """Apply a change to the locked package's cost history, keeping what it replaced."""
    check, plan = _check(package, change.effective_from, change.unit_rate, change.units_per_week, change.unit)
    change.replaced = check.replaces_words()[:500]
    change.cost = cost_change_apply(package, plan, by)
    return change


@transaction.atomic
def price_change_propose(
    *,
    package: Package,
    effective_from: date,
    unit_rate: Decimal,
    units_per_week: Decimal,
    unit: str,
    reason: str,
    by: User,
    version: int | None = None,
    replaces_confirmed: bool = False,
) -> PriceChange:
    """Propose a price from a date: applied at once at or below the rate card, else pending."""
    locked = lock_package(package, version)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the price changes."]})
    pending = locked.price_changes.pending().select_related("proposed_by").first()
    if pending is not None:
        raise _pending_refusal(pending)
    check, _plan = _check(locked, effective_from, unit_rate, units_per_week, unit)
    if check.replaces and not replaces_confirmed:
        raise ValidationError(
            {
                "replaces_confirmed": [
                    f"A price from {histories.day_text(effective_from)} replaces "
                    f"{'the price' if len(check.replaces) == 1 else 'the prices'} from that day on: "
                    f"{check.replaces_words()}. Confirm that it replaces them."
                ]
            }
        )
    change = PriceChange(
        package=locked,
        effective_from=effective_from,
        unit_rate=check.unit_rate,
        units_per_week=check.units_per_week,
        unit=unit,
        rate_card_rate=check.rate_card_rate,
        reason=reason[:300],
        status=PriceChangeStatus.PENDING if check.needs_approval else PriceChangeStatus.WITHIN_CARD,
        proposed_by=by,
    )
    change.full_clean(exclude=["package", "cost"])
    if not check.needs_approval:
        _apply(change, locked, by)
    with history_context(by):
        change.save()
    return change


def person_name(user: User | None) -> str:
    """How a person is named on a page: their full name, else their username."""
    if user is None:
        return "Unknown"
    return user.get_full_name() or user.get_username()


def _not_pending(change: PriceChange) -> ValidationError:
    return ValidationError(
        f"This price change is {change.get_status_display().lower()}: it is not awaiting approval."
    )


def _lock_change(change: PriceChange) -> PriceChange:
    return (
        PriceChange.objects.select_for_update(of=("self",))
        .select_related("package__client__partnership")
        .get(pk=change.pk)
    )


@transaction.atomic
def price_change_approve(*, change: PriceChange, by: User) -> PriceChange:
    """A brokerage manager who did not propose it approves a pending change: it applies now, from
    its date, replacing the prices that start on or after it."""
    if not is_manager(by):
        raise PermissionDenied(NOT_A_MANAGER)
    locked = _lock_change(change)
    if locked.status != PriceChangeStatus.PENDING:
        raise _not_pending(locked)
    if locked.proposed_by_id == by.pk:
        raise PermissionDenied(OWN_CHANGE)
    package = lock_package(locked.package, None)
    _apply(locked, package, by)
    locked.status = PriceChangeStatus.APPROVED
    locked.decided_by = by
    locked.decided_at = timezone.now()
    with history_context(by):
        locked.save()
    return locked


@transaction.atomic
def price_change_decline(*, change: PriceChange, by: User, reason: str) -> PriceChange:
    """A brokerage manager declines a pending change, saying why: the price stays as it was."""
    if not is_manager(by):
        raise PermissionDenied(NOT_A_MANAGER)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the price change is declined."]})
    locked = _lock_change(change)
    if locked.status != PriceChangeStatus.PENDING:
        raise _not_pending(locked)
    locked.status = PriceChangeStatus.DECLINED
    locked.decided_by = by
    locked.decided_at = timezone.now()
    locked.decline_reason = reason[:300]
    with history_context(by):
        locked.save()
    return locked


LOADED_REASON = "Cost history loaded through the API (package-costs/)"


def _above_card_refusal(package: Package, check: PriceCheck) -> ValidationError:
    service = package.get_service_type_display().lower()
    year = rates.financial_year_label(rates.financial_year(check.effective_from))
    if check.rate_card_rate is None:
        why = f"There is no rate card for {service} by the {check.unit} in {year} to compare it with"
    else:
        why = (
            f"{format_money(check.unit_rate)} per {check.unit} is {format_money(check.rate_card_difference)} "
            f"above the rate card of {format_money(check.rate_card_rate)} for {service} in {year}"
        )
    return ValidationError(
        {
            "unit_rate": [
                f"{why}: a price above the card needs a brokerage manager's approval, so it cannot be "
                "loaded as a cost row. Propose it through packages/{id}/change-cost/ with a reason; it "
                "applies once a manager who did not propose it approves it."
            ]
        }
    )


@transaction.atomic
def package_cost_load(
    *,
    package: Package,
    effective_from: date,
    unit_rate: Decimal,
    units_per_week: Decimal,
    unit: str,
    by: User,
    effective_to: date | None = None,
) -> PackageCost:
    """One row of a cost history loaded through the API (``package-costs/``), under the same rate
    card rule as every price change: at or below the card of its first day's financial year it is
    added as it is (and recorded as a price change within the card, so the package's price history
    says who loaded it); above the card, or with no card, it is refused on ``unit_rate``. A loaded
    row cannot wait for approval: a pending change applies from its date onwards, replacing later
    prices, while a loaded row has its own end and refuses to overlap; ``change-cost/`` is the way
    for a price above the card. Nor is a row loaded while a price change waits for approval."""
    locked = lock_package(package, None)
    pending = locked.price_changes.pending().select_related("proposed_by").first()
    if pending is not None:
        raise _pending_refusal(pending)
    check = PriceCheck(
        effective_from=effective_from,
        unit_rate=Decimal(unit_rate),
        units_per_week=Decimal(units_per_week),
        unit=unit,
        rate_card_rate=_card(locked, unit, effective_from),
        replaces=(),
    )
    if check.needs_approval:
        raise _above_card_refusal(locked, check)
    cost = package_cost_add(
        package=locked,
        effective_from=effective_from,
        effective_to=effective_to,
        unit_rate=unit_rate,
        units_per_week=units_per_week,
        unit=unit,
        by=by,
    )
    with history_context(by):
        PriceChange.objects.create(
            package=locked,
            effective_from=effective_from,
            unit_rate=cost.unit_rate,
            units_per_week=cost.units_per_week,
            unit=unit,
            rate_card_rate=check.rate_card_rate,
            reason=LOADED_REASON,
            status=PriceChangeStatus.WITHIN_CARD,
            proposed_by=by,
            cost=cost,
        )
    return cost


def opening_price_record(
    *, offer: Offer, package: Package, cost: PackageCost, rate_card: Decimal | None, by: User
) -> PriceChange:
    """The package's first price, from the offer accepted (within the card, or approved on the offer)."""
    approved = offer.approved_at is not None
    with history_context(by):
        return PriceChange.objects.create(
            package=package,
            effective_from=cost.effective_from,
            unit_rate=cost.unit_rate,
            units_per_week=cost.units_per_week,
            unit=cost.unit,
            rate_card_rate=rate_card,
            reason=f"Offer from {offer.provider} accepted (referral {offer.referral.reference})"[:300],
            status=PriceChangeStatus.APPROVED if approved else PriceChangeStatus.WITHIN_CARD,
            proposed_by=offer.recorded_by,
            proposed_at=offer.created_at,
            decided_by=offer.approved_by if approved else None,
            decided_at=offer.approved_at if approved else None,
            cost=cost,
        )
