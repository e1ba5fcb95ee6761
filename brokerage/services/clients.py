"""Clients and rate cards: created and changed through the model's own validation."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from commissioning.models import User

from ..models import Client, RateCard
from ..nhs_number import normalise
from .base import history_context

# --- Clients ------------------------------------------------------------------------------------

CLIENT_FIELDS = (
    "partnership",
    "nhs_number",
    "case_reference",
    "given_name",
    "family_name",
    "date_of_birth",
    "cohort",
    "gp_practice",
    "resident_borough",
)


def _clean_client(client: Client) -> None:

    client.nhs_number = normalise(client.nhs_number)
    if client.date_of_birth and client.date_of_birth > timezone.localdate():
        raise ValidationError({"date_of_birth": ["Date of birth must be in the past"]})
    client.full_clean()


@transaction.atomic
def client_create(*, by: User, **fields: Any) -> Client:
    unknown = set(fields) - set(CLIENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown client fields: {sorted(unknown)}")
    client = Client(**fields)
    _clean_client(client)
    with history_context(by):
        client.save()
    return client


@transaction.atomic
def client_update(*, client: Client, by: User, **fields: Any) -> Client:
    unknown = set(fields) - set(CLIENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown client fields: {sorted(unknown)}")
    locked = Client.objects.select_for_update().get(pk=client.pk)
    for name, value in fields.items():
        setattr(locked, name, value)
    _clean_client(locked)
    with history_context(by):
        locked.save()
    return locked


# --- Rate cards ---------------------------------------------------------------------------------


@transaction.atomic
def rate_card_save(*, by: User, rate_card: RateCard | None = None, **fields: Any) -> RateCard:
    card = rate_card or RateCard()
    for name, value in fields.items():
        setattr(card, name, value)
    card.full_clean()
    with history_context(by):
        card.save()
    return card
