"""What the budgets services share: the stale-version check, the partners of a partnership, the
approving-decision check, and the save that records who acted in the history."""

from __future__ import annotations

import pghistory
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from commissioning.constraints import integrity_error_as_validation
from commissioning.models import Partnership, User
from commissioning.services import StaleEdit

Errors = dict[str, list[str]]


def refuse_stale(version: int | None, stored: int, what: str) -> None:
    """``StaleEdit`` (409 in the API) when the version the user loaded is not the stored one."""
    if version is not None and version != stored:
        raise StaleEdit(
            f"Someone else changed this {what} since you opened it. "
            "Your changes have not been saved: reload the page to see theirs."
        )


def partners(partnership: Partnership) -> tuple[int, int]:
    """The ids of the two partner organisations: the council and the NHS commissioner."""
    return (partnership.council_id, partnership.nhs_commissioner_id)


def check_decision(decision, partnership: Partnership, field: str, errors: Errors) -> None:
    """An approving decision must be one of a board of the record's partnership."""
    if decision is None:
        return
    if decision.agenda_item.meeting.board.partnership_id != partnership.pk:
        errors.setdefault(field, []).append(f"Choose a decision of a {partnership.name} board.")


def raise_errors(errors: Errors) -> None:
    if errors:
        raise ValidationError(errors)


def save_recorded(instance, *, by: User, **save_kwargs) -> None:
    """Save with ``by`` in the history, turning a uniqueness race the checks could not foresee into a
    ValidationError in words (the constraint's message, on its field)."""
    try:
        with transaction.atomic(), pghistory.context(user=by.pk):
            instance.save(**save_kwargs)
    except IntegrityError as error:
        raise integrity_error_as_validation(error) from error


def delete_recorded(instance, *, by: User) -> None:
    """Delete with ``by`` in the history (``PROTECT`` refuses a record still referred to: 409)."""
    with pghistory.context(user=by.pk):
        instance.delete()
