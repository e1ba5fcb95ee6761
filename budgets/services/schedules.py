"""Schedules of an agreement, with their risk-share rules and fixed shares (rules.md, rule 2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pghistory
from django.core.exceptions import ValidationError
from django.db import transaction

from budgets import risk_share
from budgets.models import Schedule, ScheduleFixedShare
from budgets.services.base import Errors, delete_recorded, partners, raise_errors, refuse_stale, save_recorded
from commissioning.models import Organisation, User

SCHEDULE_FIELDS = (
    "agreement",
    "number",
    "title",
    "arrangement",
    "integration_level",
    "pool_manager",
    "board",
    "overspend_rule",
    "underspend_rule",
)


@dataclass(frozen=True)
class FixedShare:
    organisation: Organisation
    percent: Decimal


def schedule_validate(*, schedule: Schedule, fixed_shares: Sequence[FixedShare] | None) -> None:
    """Every rule a schedule (new, or changed and not yet saved) and its fixed shares must keep; a
    ValidationError naming the field otherwise. The pages, the API and the admin check with this."""
    errors: Errors = {}
    partnership = schedule.agreement.partnership
    ids = partners(partnership)
    if schedule.board_id and schedule.board.partnership_id != partnership.pk:
        errors.setdefault("board", []).append(f"Choose a board of {partnership.name}.")
    if schedule.uses_fixed_shares:
        shares = list(fixed_shares or [])
        seen: set[int] = set()
        for share in shares:
            if share.organisation.pk not in ids:
                errors.setdefault("fixed_shares", []).append(
                    f"{share.organisation.code} is not a partner of {partnership.name}."
                )
            elif share.organisation.pk in seen:
                errors.setdefault("fixed_shares", []).append(
                    f"{share.organisation.code} has more than one fixed share."
                )
            seen.add(share.organisation.pk)
        try:
            risk_share.validate_fixed_percentages(
                {s.organisation.pk: Decimal(s.percent) for s in shares if s.organisation.pk in ids}
            )
        except risk_share.RiskShareError as error:
            errors.setdefault("fixed_shares", []).append(str(error))
    elif fixed_shares:
        errors.setdefault("fixed_shares", []).append(
            "Fixed shares apply only when a risk-share rule is fixed percentages."
        )
    if (
        schedule.agreement_id
        and schedule.number
        and Schedule.objects.filter(agreement_id=schedule.agreement_id, number=schedule.number)
        .exclude(pk=schedule.pk)
        .exists()
    ):
        errors.setdefault("number", []).append(
            f"The agreement already has a schedule {schedule.number}: choose another number."
        )
    raise_errors(errors)
    schedule.full_clean(exclude=["version"], validate_unique=False)


def stored_fixed_shares(schedule: Schedule) -> list[FixedShare]:
    return [FixedShare(s.organisation, s.percent) for s in schedule.fixed_shares.all()]


def _set_fixed_shares(schedule: Schedule, fixed_shares: Sequence[FixedShare] | None, by: User) -> None:
    with pghistory.context(user=by.pk):
        wanted = {s.organisation.pk: Decimal(s.percent) for s in (fixed_shares or [])}
        if not schedule.uses_fixed_shares:
            wanted = {}
        existing = {s.organisation_id: s for s in schedule.fixed_shares.all()}
        for organisation_id, share in existing.items():
            if organisation_id not in wanted:
                share.delete()
            elif share.percent != wanted[organisation_id]:
                share.percent = wanted[organisation_id]
                share.save(update_fields=["percent"])
        for organisation_id, percent in wanted.items():
            if organisation_id not in existing:
                ScheduleFixedShare.objects.create(
                    schedule=schedule, organisation_id=organisation_id, percent=percent
                )


def _known(fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(SCHEDULE_FIELDS)
    if unknown:
        raise TypeError(f"unknown schedule fields: {sorted(unknown)}")


@transaction.atomic
def schedule_create(*, by: User, fixed_shares: Sequence[FixedShare] | None = None, **fields: Any) -> Schedule:
    _known(fields)
    schedule = Schedule(**fields)
    schedule_validate(schedule=schedule, fixed_shares=fixed_shares)
    save_recorded(schedule, by=by)
    _set_fixed_shares(schedule, fixed_shares, by)
    return schedule


@transaction.atomic
def schedule_update(
    *,
    schedule: Schedule,
    by: User,
    version: int | None = None,
    fixed_shares: Sequence[FixedShare] | None = None,
    **fields: Any,
) -> Schedule:
    """Change a schedule. ``fixed_shares=None`` keeps the stored shares."""
    _known(fields)
    locked = Schedule.objects.select_for_update().select_related("agreement__partnership").get(pk=schedule.pk)
    refuse_stale(version, locked.version, "schedule")
    if "agreement" in fields and fields["agreement"].pk != locked.agreement_id:
        raise ValidationError({"agreement": ["A schedule cannot move to another agreement."]})
    for name, value in fields.items():
        setattr(locked, name, value)
    if fixed_shares is None:
        fixed_shares = stored_fixed_shares(locked)
    schedule_validate(schedule=locked, fixed_shares=fixed_shares)
    locked.version += 1
    save_recorded(locked, by=by)
    _set_fixed_shares(locked, fixed_shares, by)
    return locked


@transaction.atomic
def schedule_delete(*, schedule: Schedule, by: User) -> None:
    """Delete a schedule with no budget lines or virements (``PROTECT`` refuses it otherwise)."""
    delete_recorded(schedule, by=by)
