"""Access log helper: later issues call ``log_access`` when a sensitive record is viewed or a
confidential file is downloaded (security.md). The table is append-only in the database."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models

from commissioning.models import AccessLog


def client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def log_access(
    *, request, obj: models.Model, action: str = AccessLog.Action.VIEW, partnership=None
) -> AccessLog:
    user = getattr(request, "user", None)
    if partnership is None:
        partnership = _partnership_of(obj)
    return AccessLog.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        action=action,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        partnership=partnership,
        ip_address=client_ip(request),
        path=(request.get_full_path()[:500] if request is not None else ""),
    )


def _partnership_of(obj: models.Model):
    path = getattr(type(obj), "partnership_path", None)
    if not path:
        return None
    if path == "pk":
        return obj
    target = obj
    for part in path.split("__"):
        target = getattr(target, part, None)
        if target is None:
            return None
    return target
