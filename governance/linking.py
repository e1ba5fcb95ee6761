"""What decisions and papers may be linked to: the records the domain apps register
(``commissioning.registry.add_linkable``: budgets' agreements and schedules, with their variations,
lines and virements), named by a key ``<app_label>.<model>:<pk>`` so pages and the API choose them
without governance importing the apps that own them (conventions.md)."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import models

from commissioning import registry


@dataclass(frozen=True)
class Target:
    key: str  # "budgets.schedule:12"
    label: str
    obj: models.Model
    part: bool = False  # a record belonging to a registered one (a schedule's line)


def key_of(obj: models.Model) -> str:
    return f"{obj._meta.label_lower}:{obj.pk}"


def _in_partnership(qs: models.QuerySet, partnership_id: int | None) -> models.QuerySet:
    path = getattr(qs.model, "partnership_path", "")
    return qs.filter(**{path: partnership_id}) if partnership_id and path else qs


def targets(user, *, partnership_id: int | None = None, packs_only: bool = False) -> list[Target]:
    """What ``user`` may link to, registered record by registered record, each followed by its parts
    (a schedule's lines and virements). ``packs_only``: only records that have a table for the pack
    (``pack_context``), with no parts: what a paper carries live."""
    out: list[Target] = []
    for linkable in registry.LINKABLE_TYPES.values():
        if packs_only and not hasattr(linkable.model, "pack_context"):
            continue
        for obj in _in_partnership(linkable.choices(user), partnership_id):
            out.append(Target(key_of(obj), f"{linkable.label}: {_name(obj)}", obj))
            if packs_only or not linkable.parts:
                continue
            for model, rows in linkable.parts(obj):
                visible = rows.filter(pk__in=model.objects.restrict(user, "view").values("pk"))
                out.extend(
                    Target(key_of(row), f"{model._meta.verbose_name.capitalize()}: {row}", row, True)
                    for row in visible
                )
    return out


def _name(obj) -> str:
    agreement = getattr(obj, "agreement", None)
    return f"{agreement.reference}, {obj}" if agreement is not None else str(obj)


def resolve(user, key: str) -> models.Model | None:
    """The record a key names, if it is of a linkable kind and the user may see it; else None (a
    record that does not exist and one the user may not see are the same to the caller)."""
    label, _, pk = (key or "").partition(":")
    allowed = {linkable.key for linkable in registry.LINKABLE_TYPES.values()} | {
        model._meta.label_lower
        for linkable in registry.LINKABLE_TYPES.values()
        for model in linkable.part_models
    }
    if label not in allowed or not pk.isdigit() or len(pk) > 18:
        return None
    model = apps.get_model(label)
    return model.objects.restrict(user, "view").filter(pk=int(pk)).first()


def partnership_id_of(obj: models.Model) -> int | None:
    """The partnership a linked record belongs to (by its model's ``partnership_path``)."""
    path = getattr(type(obj), "partnership_path", "")
    if not path:
        return None
    return type(obj)._default_manager.filter(pk=obj.pk).values_list(path, flat=True).first()
