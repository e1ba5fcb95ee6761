"""Budget lines of a schedule: one per financial year, funding stream and name."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction

from budgets.models import BudgetLine, MonthlyPosition, year_label
from budgets.services.base import (
    Errors,
    check_decision,
    delete_recorded,
    raise_errors,
    refuse_stale,
    save_recorded,
)
from commissioning.models import User

LINE_FIELDS = ("schedule", "name", "year", "funding_stream", "amount", "status", "decision")


def budget_line_errors(line: BudgetLine) -> Errors:
    """Every rule a budget line (new, or changed and not yet saved) breaks, by field: the import
    reports them row by row; ``budget_line_validate`` raises them."""
    errors: Errors = {}
    schedule = line.schedule
    agreement = schedule.agreement
    partnership = agreement.partnership
    if line.amount is not None and Decimal(line.amount) < 0:
        errors.setdefault("amount", []).append("The amount cannot be negative.")
    if line.year is not None and line.year not in agreement.years:
        years = agreement.years
        errors.setdefault("year", []).append(
            f"{year_label(line.year)} is outside the agreement {agreement.reference}, "
            f"which covers {year_label(years[0])} to {year_label(years[-1])}."
        )
    if line.pk:
        stored = BudgetLine.objects.filter(pk=line.pk).values("schedule_id", "year").first()
        if stored is not None and stored["schedule_id"] != line.schedule_id:
            errors.setdefault("schedule", []).append("A budget line cannot move to another schedule.")
        if (
            stored is not None
            and stored["year"] != line.year
            and MonthlyPosition.objects.filter(budget_line_id=line.pk).exists()
        ):
            errors.setdefault("year", []).append("A line with monthly positions cannot change its year.")
    if line.funding_stream_id and line.funding_stream.partnership_id != partnership.pk:
        errors.setdefault("funding_stream", []).append(f"Choose a funding stream of {partnership.name}.")
    check_decision(line.decision, partnership, "decision", errors)
    name = (line.name or "").strip()
    if not name:
        errors.setdefault("name", []).append("Enter the name of the budget line.")
    elif (
        line.year is not None
        and line.funding_stream_id
        and BudgetLine.objects.filter(
            schedule=schedule, year=line.year, funding_stream_id=line.funding_stream_id, name=name
        )
        .exclude(pk=line.pk)
        .exists()
    ):
        errors.setdefault("name", []).append(
            f"This schedule already has a line “{name}” for {line.funding_stream} in {year_label(line.year)}."
        )
    return errors


def budget_line_validate(*, line: BudgetLine) -> None:
    """Trim the name and check every rule (``budget_line_errors``), then the model's own."""
    line.name = (line.name or "").strip()
    raise_errors(budget_line_errors(line))
    line.full_clean(exclude=["version"], validate_unique=False)


def _known(fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(LINE_FIELDS)
    if unknown:
        raise TypeError(f"unknown budget line fields: {sorted(unknown)}")


@transaction.atomic
def budget_line_create(*, by: User, **fields: Any) -> BudgetLine:
    _known(fields)
    line = BudgetLine(**fields)
    budget_line_validate(line=line)
    save_recorded(line, by=by)
    return line


@transaction.atomic
def budget_line_update(
    *, line: BudgetLine, by: User, version: int | None = None, **fields: Any
) -> BudgetLine:
    _known(fields)
    locked = BudgetLine.objects.select_for_update().get(pk=line.pk)
    refuse_stale(version, locked.version, "budget line")
    for name, value in fields.items():
        setattr(locked, name, value)
    budget_line_validate(line=locked)
    locked.version += 1
    save_recorded(locked, by=by)
    return locked


@transaction.atomic
def budget_line_delete(*, line: BudgetLine, by: User) -> None:
    """Delete a line that has no positions or virements (PROTECT refuses it otherwise: 409)."""
    delete_recorded(line, by=by)


@transaction.atomic
def budget_lines_create_many(*, by: User, lines: Iterable[dict[str, Any]]) -> list[BudgetLine]:
    """All or nothing: every line is created, or none (the first error rolls everything back)."""
    return [budget_line_create(by=by, **fields) for fields in lines]


@transaction.atomic
def budget_lines_import(
    *, by: User, new: Iterable[dict[str, Any]], changes: Iterable[tuple[BudgetLine, int, dict[str, Any]]]
) -> tuple[list[BudgetLine], list[BudgetLine]]:
    """A sheet of budget lines, all or nothing: each change (the line, the version the sheet was
    exported at, the fields it changes; stale: ``StaleEdit``), then each new line. Returns the
    lines created and the lines changed."""
    changed = [
        budget_line_update(line=line, by=by, version=version, **fields) for line, version, fields in changes
    ]
    created = [budget_line_create(by=by, **fields) for fields in new]
    return created, changed
