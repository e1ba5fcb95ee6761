"""The change to a package's data that settles a dispute as ``corrected`` (rules.md rule 1): named
(``{"kind": "cost" | "funding" | "suspension", "id": 12}``, a change already made) or recorded
here through the package services (``{"kind": "cost", "effective_from", "unit_rate",
"units_per_week", "unit"}`` or ``{"kind": "suspension", "effective_from", "effective_to",
"treatment", "paid_percent", "reason"}``; ``package`` when the lines are of several packages).
The credit then comes from the next run's true-up."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from commissioning.models import User
from commissioning.money import format_money

from .. import histories
from .. import services as package_services
from ..models import CorrectionKind, FundingSplit, Package, PackageCost, Suspension

MODELS = {
    CorrectionKind.COST: PackageCost,
    CorrectionKind.FUNDING: FundingSplit,
    CorrectionKind.SUSPENSION: Suspension,
}
NAME_IT = (
    "Name the change that corrects the lines (a price, funding or suspension change of their package), "
    "or record one."
)


def correction_text(kind: str, row) -> str:
    """The change in words, as the dispute keeps it."""
    if kind == CorrectionKind.COST:
        return (
            f"Price change from {histories.day_text(row.effective_from)}: "
            f"{format_money(row.weekly_cost)} a week (package P{row.package_id:06d})"
        )
    if kind == CorrectionKind.FUNDING:
        shares = ", ".join(f"{s.organisation.code} {s.percent:g}%" for s in row.shares.all())
        return (
            f"Funding change from {histories.day_text(row.effective_from)}: {shares} "
            f"(package P{row.package_id:06d})"
        )
    return (
        f"Suspension {histories.day_text(row.effective_from)} to {histories.day_text(row.effective_to)}, "
        f"provider paid {row.paid_percent:g}% (package P{row.package_id:06d})"
    )


def _date(value, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError({"change": [f"Give {field} as a date, YYYY-MM-DD."]}) from None


def _decimal(value, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise ValidationError({"change": [f"Give {field} as a number."]})
    return number


def _record(kind: str, change: dict, package: Package, by: User):
    if kind == CorrectionKind.COST:
        # Through the price rules (issue 18): a reason, the later prices it replaces confirmed, and
        # a manager's approval above the rate card. A price that must wait is not a correction yet.
        price = package_services.price_change_propose(
            package=package,
            effective_from=_date(change.get("effective_from"), "effective_from"),
            unit_rate=_decimal(change.get("unit_rate"), "unit_rate"),
            units_per_week=_decimal(change.get("units_per_week"), "units_per_week"),
            unit=str(change.get("unit") or ""),
            reason=str(change.get("reason") or "Correction of a disputed invoice"),
            replaces_confirmed=change.get("replaces_later_prices") is True,
            by=by,
        )
        if price.cost is None:
            raise ValidationError(
                {
                    "change": [
                        "This price is above the rate card (or there is none) and needs a brokerage "
                        "manager's approval: propose it on the package's page and, once it is approved, "
                        "name the cost change here."
                    ]
                }
            )
        return price.cost
    if kind == CorrectionKind.SUSPENSION:
        return package_services.suspension_add(
            package=package,
            effective_from=_date(change.get("effective_from"), "effective_from"),
            effective_to=_date(change.get("effective_to"), "effective_to"),
            treatment=str(change.get("treatment") or ""),
            paid_percent=change.get("paid_percent"),
            reason=str(change.get("reason") or ""),
            by=by,
        )
    raise ValidationError(
        {"change": ["Record a funding change on the package first, then name it here (kind and id)."]}
    )


def correction_apply(*, change: dict | None, packages: set[int], by: User) -> tuple[str, int, str]:
    """(kind, id, words) of the change named or recorded; it must be of a package of the lines."""
    if not isinstance(change, dict) or not change:
        raise ValidationError({"change": [NAME_IT]})
    kind = change.get("kind")
    if kind not in MODELS:
        raise ValidationError({"change": ["Say which kind of change: cost, funding or suspension."]})
    if change.get("id") not in (None, ""):
        try:
            pk = int(change["id"])
        except (TypeError, ValueError):
            raise ValidationError({"change": ["Give the id of the change as a whole number."]}) from None
        row = MODELS[kind].objects.filter(pk=pk, package_id__in=packages).first()
        if row is None:
            raise ValidationError({"change": [f"No {kind} change {pk} of the disputed lines' package."]})
    else:
        package_id = change.get("package") or (next(iter(packages)) if len(packages) == 1 else None)
        if isinstance(package_id, str) and package_id.isdigit():
            package_id = int(package_id)
        if not isinstance(package_id, int) or package_id not in packages:
            raise ValidationError({"change": ["Say which package of the disputed lines the change is for."]})
        row = _record(kind, change, Package.objects.get(pk=package_id), by)
    if kind == CorrectionKind.FUNDING:
        row = FundingSplit.objects.prefetch_related("shares__organisation").get(pk=row.pk)
    return kind, row.pk, correction_text(kind, row)
