"""Funding streams of a partnership, each contributed by one of its two partners."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from budgets.models import BudgetLine, FundingStream
from budgets.services.base import Errors, delete_recorded, partners, raise_errors, save_recorded
from commissioning.models import Organisation, Partnership, User


def funding_stream_validate(*, stream: FundingStream) -> None:
    """Every rule a funding stream (new, or changed and not yet saved) must keep; a ValidationError
    naming the field otherwise. The pages, the API and the admin check with this."""
    errors: Errors = {}
    partnership = stream.partnership
    if stream.organisation_id and stream.organisation_id not in partners(partnership):
        errors.setdefault("organisation", []).append(
            f"A funding stream is contributed by one of the partners of {partnership.name}."
        )
    stored = (
        FundingStream.objects.filter(pk=stream.pk).values("partnership_id", "organisation_id").first()
        if stream.pk
        else None
    )
    if stored is not None:
        moving = stored["partnership_id"] != stream.partnership_id
        switching = stored["organisation_id"] != stream.organisation_id
        if (moving or switching) and BudgetLine.objects.filter(funding_stream_id=stream.pk).exists():
            if moving:
                errors.setdefault("partnership", []).append("A funding stream with budget lines cannot move.")
            else:
                errors.setdefault("organisation", []).append(
                    f"Budget lines use “{stream.name}”, so its contributing partner cannot change: that "
                    "would move their contributions and risk shares to the other partner. Add a new "
                    "funding stream instead."
                )
    if (
        stream.name
        and FundingStream.objects.filter(partnership=partnership, name__iexact=stream.name.strip())
        .exclude(pk=stream.pk)
        .exists()
    ):
        errors.setdefault("name", []).append(f"{partnership.name} already has a funding stream of this name.")
    raise_errors(errors)
    stream.full_clean(validate_unique=False)


@transaction.atomic
def funding_stream_create(
    *, by: User, partnership: Partnership, name: str, organisation: Organisation
) -> FundingStream:
    stream = FundingStream(partnership=partnership, name=(name or "").strip(), organisation=organisation)
    funding_stream_validate(stream=stream)
    save_recorded(stream, by=by)
    return stream


@transaction.atomic
def funding_stream_update(*, stream: FundingStream, by: User, **fields: Any) -> FundingStream:
    locked = FundingStream.objects.select_for_update().get(pk=stream.pk)
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
    for name, value in fields.items():
        setattr(locked, name, value)
    funding_stream_validate(stream=locked)
    save_recorded(locked, by=by)
    return locked


@transaction.atomic
def funding_stream_delete(*, stream: FundingStream, by: User) -> None:
    """Delete a stream no budget line uses (``PROTECT`` refuses it otherwise)."""
    delete_recorded(stream, by=by)
