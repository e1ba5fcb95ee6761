"""Packages: created (loaded from a case system), changed, ended, suspended and resumed; their cost
and funding histories changed from a date (past dates allowed) or loaded row by row.

Packages are locked (``select_for_update``) before their costs or funding change, so two people
changing one package at once never lose an update; an editor who sends the ``version`` they loaded
gets ``StaleEdit`` if someone changed the package since."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from commissioning.models import User

from .. import histories
from ..models import FundingBasis, FundingSplit, Package, PackageCost, PackageStatus
from .base import (
    Share,
    bump_version,
    cited_panel_decision,
    create_split,
    history_context,
    lock_package,
    mark_applied,
    validate_funder,
    validate_shares,
)

# --- Packages: create, end, suspend --------------------------------------------------------------

PACKAGE_FIELDS = ("client", "provider", "service_type", "start", "end", "paying_organisation", "status")


@transaction.atomic
def package_create(*, by: User, **fields: Any) -> Package:
    """A package loaded from a case management system (no referral); costs and splits follow."""
    unknown = set(fields) - set(PACKAGE_FIELDS)
    if unknown:
        raise TypeError(f"unknown package fields: {sorted(unknown)}")
    package = Package(**fields)
    package.full_clean()
    validate_funder(package.client, package.paying_organisation, "paying_organisation")
    with history_context(by):
        package.save()
    return package


@transaction.atomic
def package_update(*, package: Package, by: User, version: int | None = None, **fields: Any) -> Package:
    """Change a package's provider, paying organisation or status. Dates change through
    ``package_end``; costs and funding through their own services."""
    allowed = {"provider", "service_type", "paying_organisation", "status", "end"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: ["This cannot be changed here."] for name in sorted(unknown)})
    locked = lock_package(package, version)
    end = fields.pop("end", locked.end)
    status = fields.pop("status", locked.status)
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.full_clean()
    validate_funder(locked.client, locked.paying_organisation, "paying_organisation")
    locked.version += 1  # every change moves the version on, so an edit from the old one is stale
    with history_context(by):
        locked.save()
    if end != locked.end:
        locked = package_end(package=locked, end=end, by=by) if end else _reopen(locked, by)
    if status != locked.status:
        locked = package_set_status(package=locked, status=status, by=by)
    return locked


def _reopen(package: Package, by: User) -> Package:
    package.end = None
    if package.status == PackageStatus.ENDED:
        package.status = PackageStatus.ACTIVE
    bump_version(package)
    with history_context(by):
        package.save()
    return package


@transaction.atomic
def package_end(*, package: Package, end: date, by: User, version: int | None = None) -> Package:
    """End a package on a date (inclusive): costs and splits running past it end there too."""
    locked = lock_package(package, version)
    if end < locked.start:
        raise ValidationError(
            {"end": [f"The end date cannot be before the start ({histories.day_text(locked.start)})."]}
        )
    with history_context(by):
        for model in (PackageCost, FundingSplit):
            rows = model.objects.filter(package=locked)
            rows.filter(effective_from__gt=end).delete()
            for row in rows.filter(effective_from__lte=end):
                if row.effective_to is None or row.effective_to > end:
                    row.effective_to = end
                    row.save(update_fields=["effective_to"])
        locked.end = end
        if end < timezone.localdate():
            locked.status = PackageStatus.ENDED
        locked.version += 1
        locked.save()
    return locked


@transaction.atomic
def package_set_status(*, package: Package, status: str, by: User, version: int | None = None) -> Package:
    """Suspend or resume a package (its costs and funding stay as they are)."""
    locked = lock_package(package, version)
    if status not in PackageStatus.values:
        raise ValidationError({"status": ["Choose active, suspended or ended."]})
    if status == PackageStatus.ENDED and locked.end is None:
        raise ValidationError({"status": ["Give the package an end date to end it."]})
    locked.status = status
    locked.version += 1
    with history_context(by):
        locked.save()
    return locked


# --- Packages: cost and funding history ----------------------------------------------------------


def _within_package(package: Package, start: date, end: date | None, field: str) -> None:
    if start < package.start:
        raise ValidationError(
            {
                field: [
                    f"The change cannot start before the package does ({histories.day_text(package.start)})."
                ]
            }
        )
    if package.end is not None and start > package.end:
        raise ValidationError(
            {field: [f"The change cannot start after the package ends ({histories.day_text(package.end)})."]}
        )
    if end is not None and package.end is not None and end > package.end:
        raise ValidationError(
            {
                "effective_to": [
                    f"The change cannot run past the package's end ({histories.day_text(package.end)})."
                ]
            }
        )


def _apply_plan(model, plan: histories.Plan, create) -> list:
    """Write a plan: delete, then shorten or move, then add (so no two rows ever overlap)."""
    if plan.delete:
        model.objects.filter(pk__in=[row.key for row in plan.delete]).delete()
    for row, start, end in plan.update:
        model.objects.filter(pk=row.key).update(effective_from=start, effective_to=end)
    return [create(row) for row in plan.add]


def _cost_rows(package: Package) -> list[histories.Row]:
    return [
        histories.Row(c.effective_from, c.effective_to, c.pk, (c.unit_rate, c.units_per_week, c.unit))
        for c in PackageCost.objects.filter(package=package).order_by("effective_from")
    ]


def _split_rows(package: Package) -> list[histories.Row]:
    splits = (
        FundingSplit.objects.filter(package=package).order_by("effective_from").prefetch_related("shares")
    )
    return [
        histories.Row(
            s.effective_from,
            s.effective_to,
            s.pk,
            (tuple((sh.organisation_id, sh.percent) for sh in s.shares.all()), s.basis, s.decision_reference),
        )
        for s in splits
    ]


def _cap(end: date | None, package: Package) -> date | None:
    """An open-ended row of an ended package ends with it."""
    if end is None and package.end is not None:
        return package.end
    return end


# A price change goes through ``prices.price_change_propose`` (the rate card and its approval);
# these are the checks and the writes it applies, on a package already locked.


def cost_change_check(
    package: Package, *, effective_from: date, unit_rate: Decimal, units_per_week: Decimal, unit: str
) -> None:
    """A price from ``effective_from`` must fall within the package and fit the money columns."""
    _within_package(package, effective_from, None, "effective_from")
    probe = PackageCost(
        package=package,
        effective_from=effective_from,
        unit_rate=unit_rate,
        units_per_week=units_per_week,
        unit=unit,
    )
    probe.full_clean(exclude=["package"])


def cost_change_plan(
    package: Package, *, effective_from: date, unit_rate: Decimal, units_per_week: Decimal, unit: str
) -> histories.Plan:
    """What a price change from a date (past dates allowed) does to the cost history: ends the row
    covering that date the day before, drops the rows that start on it or later (``plan.delete``:
    the later prices it replaces), and opens the new one."""
    return histories.plan_change(
        _cost_rows(package), start=effective_from, payload=(unit_rate, units_per_week, unit)
    )


def cost_change_apply(package: Package, plan: histories.Plan, by: User) -> PackageCost:
    """Write a cost plan on a locked package, moving its version on; the new cost row."""
    with history_context(by):

        def create(row: histories.Row) -> PackageCost:
            rate, units, row_unit = row.payload
            return PackageCost.objects.create(
                package=package,
                effective_from=row.start,
                effective_to=_cap(row.end, package),
                unit_rate=rate,
                units_per_week=units,
                unit=row_unit,
            )

        created = _apply_plan(PackageCost, plan, create)
        bump_version(package)
    return created[0]


@transaction.atomic
def package_change_funding(
    *,
    package: Package,
    effective_from: date,
    shares: list[Share],
    basis: str,
    by: User,
    effective_to: date | None = None,
    decision_reference: str = "",
    version: int | None = None,
) -> FundingSplit:
    """A funding change from a date, past dates allowed, without stopping the package. With
    ``effective_to`` the change lasts to that date and the earlier arrangement then resumes."""
    locked = lock_package(package, version)
    if basis not in FundingBasis.values:
        raise ValidationError({"basis": ["Choose a funding basis from the list."]})
    if effective_to is not None and effective_to < effective_from:
        raise ValidationError({"effective_to": ["The end of the change cannot be before its start."]})
    _within_package(locked, effective_from, effective_to, "effective_from")
    shares = validate_shares(shares, locked.client.partnership)
    decision = cited_panel_decision(locked.client, basis, decision_reference)
    decision_reference = decision.reference if decision else decision_reference
    payload = (
        tuple((s.organisation.pk, Decimal(s.percent)) for s in shares),
        basis,
        decision_reference or "",
    )
    plan = histories.plan_change(_split_rows(locked), start=effective_from, end=effective_to, payload=payload)
    with history_context(by):

        def create(row: histories.Row) -> FundingSplit:
            row_shares, row_basis, row_reference = row.payload
            return create_split(
                locked, row.start, _cap(row.end, locked), row_shares, row_basis, row_reference
            )

        created = _apply_plan(FundingSplit, plan, create)
        bump_version(locked)
    mark_applied(decision, locked, by)
    return created[0]


# --- Rows loaded one by one (API: package-costs/, funding-splits/) -------------------------------


def _insert_strict(model, package: Package, start: date, end: date | None, noun: str) -> None:
    rows = [
        histories.Row(r.effective_from, r.effective_to, r.pk) for r in model.objects.filter(package=package)
    ]
    new = histories.Row(start, end)
    clashes = [b if a is new else a for a, b in histories.overlaps([*rows, new]) if new in (a, b)]
    if clashes:
        raise ValidationError({"effective_from": [histories.overlap_message(start, end, clashes, noun)]})


@transaction.atomic
def package_cost_add(
    *,
    package: Package,
    effective_from: date,
    unit_rate: Decimal,
    units_per_week: Decimal,
    unit: str,
    by: User,
    effective_to: date | None = None,
) -> PackageCost:
    """Add one cost row as it is: refused if it overlaps another row or leaves days of the package
    without a cost. The API loads a history through ``prices.package_cost_load``, which holds each
    row to the rate card rule first; this is the bare insert (the demo data and test histories)."""
    locked = lock_package(package, None)
    _within_package(locked, effective_from, effective_to, "effective_from")
    if effective_to is not None and effective_to < effective_from:
        raise ValidationError({"effective_to": ["The end cannot be before the start."]})
    _insert_strict(PackageCost, locked, effective_from, effective_to, "cost")
    rows = [*_cost_rows(locked), histories.Row(effective_from, effective_to)]
    last = max(rows, key=lambda r: r.start)
    found = histories.gaps(rows, start=locked.start, end=last.start)
    if found:
        raise ValidationError({"effective_from": [histories.gap_message(found, "cost")]})
    cost = PackageCost(
        package=locked,
        effective_from=effective_from,
        effective_to=effective_to,
        unit_rate=unit_rate,
        units_per_week=units_per_week,
        unit=unit,
    )
    cost.full_clean()
    with history_context(by):
        cost.save()
        bump_version(locked)
    return cost


@transaction.atomic
def funding_split_add(
    *,
    package: Package,
    effective_from: date,
    shares: list[Share],
    basis: str,
    by: User,
    effective_to: date | None = None,
    decision_reference: str = "",
) -> FundingSplit:
    """Add one funding split as it is: refused if it overlaps another (days without a split are
    allowed: they are reported as unfunded, never billed)."""
    locked = lock_package(package, None)
    if basis not in FundingBasis.values:
        raise ValidationError({"basis": ["Choose a funding basis from the list."]})
    if effective_to is not None and effective_to < effective_from:
        raise ValidationError({"effective_to": ["The end cannot be before the start."]})
    _within_package(locked, effective_from, effective_to, "effective_from")
    shares = validate_shares(shares, locked.client.partnership)
    decision = cited_panel_decision(locked.client, basis, decision_reference)
    decision_reference = decision.reference if decision else decision_reference
    _insert_strict(FundingSplit, locked, effective_from, effective_to, "funding split")
    with history_context(by):
        split = create_split(locked, effective_from, effective_to, shares, basis, decision_reference)
        bump_version(locked)
    mark_applied(decision, locked, by)
    return split
