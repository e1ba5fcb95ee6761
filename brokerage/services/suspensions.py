"""Suspensions of packages (rules.md rule 1): a dated period (a hospital stay, a respite break)
with what the provider is still paid. Past dates are allowed, like price changes: the next recharge
run trues the months up to the penny (the engine reads suspensions with the costs and splits)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction

from commissioning.models import User

from .. import histories
from ..models import Package, Suspension, SuspensionTreatment
from .base import bump_version, check_version, history_context, lock_package

REASON_MISSING = "Enter why the package is suspended, for example a hospital stay."
FIXED_PERCENT = {SuspensionTreatment.RETAINED: Decimal("100"), SuspensionTreatment.STOPPED: Decimal("0")}


def _number(value) -> Decimal | None:
    if value in (None, "") or isinstance(value, bool | dict | list):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def suspension_paid_percent(treatment: str, paid_percent) -> Decimal:
    """The percentage the provider is paid: 100 when retained, 0 when stopped, the one given (more
    than 0 and less than 100) when reduced."""
    if not isinstance(treatment, str) or treatment not in SuspensionTreatment.values:
        raise ValidationError({"treatment": ["Choose retained, reduced or stopped."]})
    if treatment in FIXED_PERCENT:
        fixed = FIXED_PERCENT[treatment]
        if paid_percent not in (None, "") and _number(paid_percent) != fixed:
            raise ValidationError(
                {
                    "paid_percent": [
                        f"A {treatment} suspension pays the provider {fixed}%: leave the percentage out."
                    ]
                }
            )
        return fixed
    value = _number(paid_percent)
    if value is None or not value.is_finite():
        raise ValidationError(
            {"paid_percent": ["Enter the percentage the provider is still paid, for example 80."]}
        )
    if not (0 < value < 100) or value != value.quantize(Decimal("0.01")):
        raise ValidationError(
            {
                "paid_percent": [
                    "The percentage paid must be more than 0 and less than 100, with at most 2 decimals."
                ]
            }
        )
    return value


def _check_dates(package: Package, start: date, end: date, exclude: int | None = None) -> None:
    if end < start:
        raise ValidationError({"effective_to": ["The end of the suspension cannot be before its start."]})
    if start < package.start:
        raise ValidationError(
            {
                "effective_from": [
                    "The suspension cannot start before the package does "
                    f"({histories.day_text(package.start)})."
                ]
            }
        )
    if package.end is not None and end > package.end:
        raise ValidationError(
            {
                "effective_to": [
                    f"The suspension cannot run past the package's end ({histories.day_text(package.end)})."
                ]
            }
        )
    clash = (
        Suspension.objects.filter(package=package, effective_from__lte=end, effective_to__gte=start)
        .exclude(pk=exclude)
        .order_by("effective_from")
        .first()
    )
    if clash:
        raise ValidationError(
            {
                "effective_from": [
                    f"The package is already suspended from {histories.day_text(clash.effective_from)} "
                    f"to {histories.day_text(clash.effective_to)}; change that suspension instead."
                ]
            }
        )


@transaction.atomic
def suspension_add(
    *,
    package: Package,
    effective_from: date,
    effective_to: date,
    treatment: str,
    reason: str,
    by: User,
    paid_percent=None,
    version: int | None = None,
) -> Suspension:
    """Suspend a package for dated days (past dates allowed: the next run trues them up)."""
    locked = lock_package(package, version)
    percent = suspension_paid_percent(treatment, paid_percent)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [REASON_MISSING]})
    _check_dates(locked, effective_from, effective_to)
    suspension = Suspension(
        package=locked,
        effective_from=effective_from,
        effective_to=effective_to,
        treatment=treatment,
        paid_percent=percent,
        reason=reason[:200],
        recorded_by=by,
    )
    suspension.full_clean(exclude=["package"])
    with history_context(by):
        suspension.save()
        bump_version(locked)
    return suspension


@transaction.atomic
def suspension_update(
    *, suspension: Suspension, by: User, version: int | None = None, **fields
) -> Suspension:
    """Change a suspension's dates, treatment or reason, from the version the editor loaded."""
    allowed = {"effective_from", "effective_to", "treatment", "paid_percent", "reason"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: ["This cannot be changed here."] for name in sorted(unknown)})
    locked_package = lock_package(suspension.package, None)
    locked = Suspension.objects.select_for_update().get(pk=suspension.pk)
    check_version(locked, version, "suspension")
    treatment = fields.get("treatment", locked.treatment)
    paid = fields.get("paid_percent", locked.paid_percent if treatment == locked.treatment else None)
    locked.paid_percent = suspension_paid_percent(treatment, paid)
    locked.treatment = treatment
    locked.effective_from = fields.get("effective_from", locked.effective_from)
    locked.effective_to = fields.get("effective_to", locked.effective_to)
    if "reason" in fields:
        if not (fields["reason"] or "").strip():
            raise ValidationError({"reason": [REASON_MISSING]})
        locked.reason = fields["reason"].strip()[:200]
    _check_dates(locked_package, locked.effective_from, locked.effective_to, exclude=locked.pk)
    locked.version += 1
    with history_context(by):
        locked.save()
        bump_version(locked_package)
    return locked
