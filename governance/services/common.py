"""What every governance service shares: the acting user in the history context, saving through
``full_clean`` (so ``Model.clean`` and the constraints answer as field errors), the check that a
caller names only the fields a service changes, and the statement of an exemption."""

from __future__ import annotations

from typing import Any

import pghistory
from django.db import models

from commissioning.models import User
from governance.models import ExemptionRegime


def acting(by: User | None):
    """The history context of a write: who made it (None: the system)."""
    return pghistory.context(user=by.pk if by else None)


def validated_save(instance: models.Model, *, by: User | None, exclude: list[str] | None = None):
    """``full_clean`` (fields, ``Model.clean``, constraints), then save with ``by`` in the history."""
    instance.full_clean(exclude=exclude)
    with acting(by):
        instance.save()
    return instance


def check_fields(fields: dict[str, Any], allowed: set[str], what: str) -> None:
    """A programming error, not the user's: a service was asked to change a field it does not own."""
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unknown {what} fields: {sorted(unknown)}")


def exemption_errors(regime: str, paragraph: int | None, reason: str) -> dict[str, list[str]]:
    """An exempt item or appendix states why (Schedule 12A also its paragraph, 1 to 7)."""
    errors: dict[str, list[str]] = {}
    if regime == ExemptionRegime.NONE:
        return errors
    if not (reason or "").strip():
        errors["exemption_reason"] = ["Give the reason the information is exempt."]
    if regime == ExemptionRegime.SCHEDULE_12A and (paragraph is None or not 1 <= paragraph <= 7):
        errors["exemption_paragraph"] = ["Give the paragraph of Schedule 12A (1 to 7)."]
    return errors


def unchanged(instance: models.Model, name: str, value, message: str) -> dict[str, list[str]]:
    """An error for ``name`` if ``value`` (an object given with a change) is not the one the
    instance already has: what a record belongs to does not change."""
    if value is not None and value.pk != getattr(instance, f"{name}_id"):
        return {name: [message]}
    return {}
