"""Writes of the shared core. Each service is one transaction, takes keyword-only arguments, and
is what the web views, the API, tasks and commands all call."""

from __future__ import annotations

from datetime import date
from typing import Any

import pghistory
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from commissioning.models import ApiToken, Contract, ContractReview, Organisation, User

CONTRACT_FIELDS = (
    "partnership",
    "reference",
    "service",
    "service_type",
    "provider",
    "lead_commissioner",
    "annual_value",
    "start",
    "end",
    "extension_options",
    "procurement_route",
    "contract_manager",
    "status",
    "notes",
)


class StaleEdit(ValidationError):
    """The record changed since the editor loaded it (lost-update guard)."""


# --- API tokens ---------------------------------------------------------------------------------


def api_token_create(*, user: User, name: str, expires_at=None) -> tuple[ApiToken, str]:
    """Create a token; returns it and the key, which is shown once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Enter what the key is for."]})
    key = ApiToken.generate_key()
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=key[: ApiToken.PREFIX_LENGTH],
        digest=ApiToken.hash_key(key),
        expires_at=expires_at,
    )
    return token, key


def api_token_revoke(*, token: ApiToken, by: User) -> ApiToken:
    if token.user_id != by.pk and not by.is_superuser:
        raise ValidationError("You can only revoke your own keys.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


# --- Contracts ----------------------------------------------------------------------------------


@transaction.atomic
def contract_create(
    *, by: User, associate_commissioners: list[Organisation] | None = None, **fields: Any
) -> Contract:
    unknown = set(fields) - set(CONTRACT_FIELDS)
    if unknown:
        raise TypeError(f"unknown contract fields: {sorted(unknown)}")
    with pghistory.context(user=by.pk):
        contract = Contract(**fields)
        contract.full_clean(exclude=["associate_commissioners"])
        contract.save()
        if associate_commissioners:
            contract.associate_commissioners.set(associate_commissioners)
    return contract


@transaction.atomic
def contract_update(
    *,
    contract: Contract,
    by: User,
    version: int | None = None,
    associate_commissioners: list[Organisation] | None = None,
    **fields: Any,
) -> Contract:
    """Change a contract. ``version`` is the version the editor loaded: a stale edit is refused."""
    unknown = set(fields) - set(CONTRACT_FIELDS)
    if unknown:
        raise TypeError(f"unknown contract fields: {sorted(unknown)}")
    locked = Contract.objects.select_for_update().get(pk=contract.pk)
    if version is not None and locked.version != version:
        raise StaleEdit(
            "Someone else changed this contract since you opened it. "
            "Your changes have not been saved: reload the page to see theirs."
        )
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.full_clean(exclude=["associate_commissioners"])
    locked.version += 1
    with pghistory.context(user=by.pk):
        locked.save()
        if associate_commissioners is not None:
            locked.associate_commissioners.set(associate_commissioners)
    return locked


@transaction.atomic
def contract_review_add(
    *, contract: Contract, by: User, review_date: date, rag_rating: str, notes: str = ""
) -> ContractReview:
    review = ContractReview(
        contract=contract, review_date=review_date, rag_rating=rag_rating, notes=notes, reviewed_by=by
    )
    review.full_clean()
    with pghistory.context(user=by.pk):
        review.save()
    return review
