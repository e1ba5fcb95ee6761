"""Section 75 agreements: recorded, changed and (by an administrator) deleted."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from budgets.models import BudgetLine, Section75Agreement, year_label
from budgets.services.base import (
    Errors,
    check_decision,
    delete_recorded,
    partners,
    raise_errors,
    refuse_stale,
    save_recorded,
)
from commissioning.models import User

AGREEMENT_FIELDS = ("partnership", "reference", "title", "host", "start", "end", "status", "decision")


def agreement_validate(*, agreement: Section75Agreement) -> None:
    """Every rule an agreement (new, or changed and not yet saved) must keep; a ValidationError
    naming the field otherwise. The pages, the API and the admin check with this."""
    errors: Errors = {}
    partnership = agreement.partnership
    if agreement.host_id and agreement.host_id not in partners(partnership):
        errors.setdefault("host", []).append(
            f"The host must be one of the partners of {partnership.name}: "
            f"{partnership.council.name} or {partnership.nhs_commissioner.name}."
        )
    if agreement.start and agreement.end and agreement.end <= agreement.start:
        errors.setdefault("end", []).append("The end date must be after the start date.")
    check_decision(agreement.decision, partnership, "decision", errors)
    if agreement.pk and agreement.start and agreement.end:
        outside = (
            BudgetLine.objects.filter(schedule__agreement=agreement)
            .exclude(year__in=agreement.years)
            .values_list("year", flat=True)
            .distinct()
        )
        if outside:
            labels = ", ".join(year_label(y) for y in sorted(outside))
            errors.setdefault("end", []).append(
                f"The agreement must still cover the years of its budget lines ({labels})."
            )
    raise_errors(errors)
    agreement.full_clean(exclude=["version"])


def _known(fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(AGREEMENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown agreement fields: {sorted(unknown)}")


@transaction.atomic
def agreement_create(*, by: User, **fields: Any) -> Section75Agreement:
    _known(fields)
    agreement = Section75Agreement(**fields)
    agreement_validate(agreement=agreement)
    save_recorded(agreement, by=by)
    return agreement


@transaction.atomic
def agreement_update(
    *, agreement: Section75Agreement, by: User, version: int | None = None, **fields: Any
) -> Section75Agreement:
    _known(fields)
    locked = Section75Agreement.objects.select_for_update().get(pk=agreement.pk)
    refuse_stale(version, locked.version, "agreement")
    for name, value in fields.items():
        setattr(locked, name, value)
    agreement_validate(agreement=locked)
    locked.version += 1
    save_recorded(locked, by=by)
    return locked


@transaction.atomic
def agreement_delete(*, agreement: Section75Agreement, by: User) -> None:
    """Delete an agreement with no schedules (``PROTECT`` refuses it otherwise)."""
    delete_recorded(agreement, by=by)
