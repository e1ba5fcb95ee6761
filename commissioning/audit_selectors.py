"""Reads behind the auditor's page: the change history (django-pghistory events across every
tracked model) and the access log, both scoped by the one permission gate.

Scope of the change history for someone who is not an administrator:

- a model's events are shown only if the user may view that model (its role permission);
- events of records that belong to a partnership are shown when the record is still visible
  through ``Model.objects.restrict(user, "view")``; events of a deleted record are shown when its
  last snapshot points into a partnership the user is granted (so deletions stay auditable);
- reference data shared by every partnership (``partnership_path = None``: organisations,
  providers, people) is shown to everyone who may view that model;
- tracked models that declare no ``partnership_path`` (e.g. partnership grants) are scoped by
  their foreign key to ``Partnership`` if they have one, and otherwise shown to administrators
  only.

Everything is one SQL query per list (plus one to name the users on a page); the per-model scope
is expressed as subqueries, never as Python lists of primary keys.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q, TextField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone
from pghistory.core import event_models as pgh_event_models
from pghistory.models import Events

from commissioning.models import AccessLog, Partnership, User
from commissioning.permissions import has_model_permission

AUDIT_TRAIL_PERMISSION = "commissioning.view_audittrail"

EVENT_LABELS = {"insert": "Created", "update": "Changed", "delete": "Deleted"}


def can_read_audit_trail(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(AUDIT_TRAIL_PERMISSION))


def can_read_access_log(user) -> bool:
    return has_model_permission(user, AccessLog, "view")


# --- Tracked models -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackedModel:
    """A model whose rows django-pghistory keeps history of."""

    event_model: type[models.Model]
    model: type[models.Model]

    @property
    def label(self) -> str:
        return self.model._meta.label

    @property
    def verbose_name(self) -> str:
        return str(self.model._meta.verbose_name).capitalize()

    @property
    def column_names(self) -> dict[str, str]:
        """Snapshot column -> readable field name."""
        names = {}
        for f in self.model._meta.concrete_fields:
            names[f.column] = str(f.verbose_name)
        return names

    @property
    def decimal_places(self) -> dict[str, int]:
        """Snapshot column -> decimal places, for the model's decimal (money) columns."""
        return {
            f.column: f.decimal_places
            for f in self.model._meta.concrete_fields
            if isinstance(f, models.DecimalField)
        }


def audit_value(raw, decimal_places: int | None):
    """A snapshot value as the audit trail shows it.

    The history triggers store rows as jsonb, whose numbers Django's JSON decoder reads as floats,
    so ``250000.00`` would read back as ``250000.0``. A float's repr is the shortest text that
    round-trips, so for a decimal column it converts back to the exact amount at the column's scale.
    """
    if decimal_places is not None and isinstance(raw, int | float) and not isinstance(raw, bool):
        return str(Decimal(repr(raw)).quantize(Decimal(1).scaleb(-decimal_places)))
    return raw


@cache
def tracked_models() -> tuple[TrackedModel, ...]:
    found = []
    for event_model in pgh_event_models():
        tracked = getattr(event_model, "pgh_tracked_model", None)
        if tracked is None or not hasattr(event_model, "pgh_obj_id"):
            continue
        found.append(TrackedModel(event_model=event_model, model=tracked))
    return tuple(sorted(found, key=lambda t: t.verbose_name))


def tracked_model_by_label(label: str) -> TrackedModel | None:
    for tracked in tracked_models():
        if tracked.label == label:
            return tracked
    return None


# --- Scope ---------------------------------------------------------------------------------------

_UNSET = object()


def _pk_text(qs: models.QuerySet) -> models.QuerySet:
    return qs.order_by().values(_pk_as_text=Cast("pk", output_field=TextField()))


def _partnership_pk(partnership) -> int | None:
    """The header's partnership arrives as a lazy object, which a filter on a primary key refuses."""
    return partnership.pk if partnership else None


def _granted_partnerships(user, partnership) -> models.QuerySet:
    granted = (
        Partnership.objects.all() if user.is_superuser else Partnership.objects.filter(grants__user=user)
    )
    if partnership is not None:
        granted = granted.filter(pk=partnership.pk)
    return granted


def _partnership_fk(model: type[models.Model]) -> models.ForeignKey | None:
    for f in model._meta.concrete_fields:
        if f.many_to_one and f.related_model is Partnership:
            return f
    return None


@dataclass
class HistoryScope:
    """Which event tables to read, and the condition on the aggregated rows (None: no condition)."""

    event_models: list[type[models.Model]] = field(default_factory=list)
    condition: Q | None = None
    aliases: dict[str, KT] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.event_models


def history_scope(user, *, partnership=None, only: TrackedModel | None = None) -> HistoryScope:
    """What of the change history ``user`` may read (narrowed to ``partnership`` when given)."""
    scope = HistoryScope()
    if not can_read_audit_trail(user):
        return scope
    candidates = [only] if only is not None else list(tracked_models())
    conditions: list[Q] = []
    for tracked in candidates:
        model_scope = _model_scope(user, tracked, partnership, scope.aliases)
        if model_scope is None:
            continue
        scope.event_models.append(tracked.event_model)
        conditions.append(model_scope)
    if any(conditions):  # some model is narrowed: name each model with its own condition
        combined = Q()
        for tracked_model, condition in zip(scope.event_models, conditions, strict=True):
            combined |= Q(pgh_obj_model=tracked_model.pgh_tracked_model._meta.label) & condition
        scope.condition = combined
    return scope


def _model_scope(user, tracked: TrackedModel, partnership, aliases: dict[str, KT]) -> Q | None:
    """The condition on one model's events: ``Q()`` for all of them, None for none."""
    model = tracked.model
    if user.is_superuser and partnership is None:
        return Q()
    path = getattr(model, "partnership_path", _UNSET)
    if path is _UNSET:
        # Not declared: scope through a direct foreign key to Partnership, or administrators only.
        fk = _partnership_fk(model)
        if fk is None:
            return Q() if user.is_superuser else None
        alias = _snapshot_alias(fk.column, aliases)
        return Q(**{f"{alias}__in": _pk_text(_granted_partnerships(user, partnership))})

    if not has_model_permission(user, model, "view"):
        return None
    manager_qs = model._default_manager.all()
    if not hasattr(manager_qs, "restrict"):
        return Q() if user.is_superuser else None
    narrowed = getattr(model, "restrict_objects", None) is not None
    guardian = getattr(model, "guardian_object_permissions", False)
    if path is None and (user.is_superuser or (not narrowed and not guardian)):
        return Q()  # reference data shared by every partnership

    visible = manager_qs.restrict(user, "view")
    if path:
        visible = visible.in_partnership(_partnership_pk(partnership))
    condition = Q(pgh_obj_id__in=_pk_text(visible))

    if narrowed:
        deleted = _deleted_narrowed_condition(user, model, partnership, aliases)
    else:
        deleted = _deleted_record_condition(user, model, path, partnership, aliases)
    if deleted is not None:
        condition |= deleted
    return condition


def _deleted_narrowed_condition(user, model, partnership, aliases) -> Q | None:
    """Events of deleted records of a model narrowed beyond its partnership (exempt content): only
    when the model names, in ``deleted_visible_through``, the foreign key whose target still says
    who may see it (a removed decision link is seen where its decision is). Without one, whether a
    gone record was exempt cannot be told, so its events stay hidden."""
    through = getattr(model, "deleted_visible_through", None)
    if through is None:
        return None
    fk = model._meta.get_field(through)
    parents = fk.related_model._default_manager.all().restrict(user, "view")
    if getattr(fk.related_model, "partnership_path", None):
        parents = parents.in_partnership(_partnership_pk(partnership))
    alias = _snapshot_alias(fk.column, aliases)
    existing = _pk_text(model._base_manager.all())
    return ~Q(pgh_obj_id__in=existing) & Q(**{f"{alias}__in": _pk_text(parents)})


def _deleted_record_condition(user, model, path, partnership, aliases) -> Q | None:
    """Events of records that no longer exist, placed by the partnership in their snapshot."""
    if not path or path == "pk":
        return None
    first, _, rest = path.partition("__")
    try:
        fk = model._meta.get_field(first)
    except FieldDoesNotExist:
        return None
    if not getattr(fk, "many_to_one", False) or not getattr(fk, "concrete", False):
        return None
    granted = _granted_partnerships(user, partnership)
    if rest:
        targets = fk.related_model._base_manager.filter(**{f"{rest}__in": granted.values("pk")})
    else:
        targets = granted
    alias = _snapshot_alias(fk.column, aliases)
    existing = _pk_text(model._base_manager.all())
    return ~Q(pgh_obj_id__in=existing) & Q(**{f"{alias}__in": _pk_text(targets)})


def _snapshot_alias(column: str, aliases: dict[str, KT]) -> str:
    name = f"snapshot_{column}"
    aliases.setdefault(name, KT(f"pgh_data__{column}"))
    return name


# --- Change history ------------------------------------------------------------------------------


@dataclass
class HistoryFilters:
    date_from: date | None = None
    date_to: date | None = None
    user_query: str = ""
    model: str = ""
    action: str = ""
    object_id: str = ""


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _matching_users(query: str) -> models.QuerySet:
    query = query.strip()
    qs = User.objects.all()
    for word in query.split():
        qs = qs.filter(
            Q(username__icontains=word)
            | Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
        )
    return qs


def history_events(user, filters: HistoryFilters | None = None, *, partnership=None) -> models.QuerySet:
    """Events the user may read, newest first, filtered. One query when evaluated."""
    filters = filters or HistoryFilters()
    only = None
    if filters.model:
        only = tracked_model_by_label(filters.model)
        if only is None:
            return Events.objects.none()
    scope = history_scope(user, partnership=partnership, only=only)
    if scope.empty:
        return Events.objects.none()
    qs = Events.objects.across(*scope.event_models).alias(actor_id=KT("pgh_context__user"))
    if scope.aliases:
        qs = qs.alias(**scope.aliases)
    if scope.condition is not None:
        qs = qs.filter(scope.condition)
    if filters.date_from:
        qs = qs.filter(pgh_created_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(pgh_created_at__lt=_day_start(filters.date_to + timedelta(days=1)))
    if filters.user_query.strip():
        qs = qs.filter(actor_id__in=_pk_text(_matching_users(filters.user_query)))
    if filters.action:
        qs = qs.filter(pgh_label=filters.action)
    if filters.object_id.strip():
        qs = qs.filter(pgh_obj_id=filters.object_id.strip())
    return qs.order_by("-pgh_created_at", "-pgh_id", "pgh_model")


@dataclass
class HistoryRow:
    """One event, ready for the page and the CSV."""

    at: datetime
    user_id: int | None
    user_name: str
    model_label: str
    model_name: str
    object_id: str
    object_name: str
    label: str
    label_display: str
    changes: list[tuple[str, object, object]]
    values: list[tuple[str, object]]

    @property
    def changes_display(self) -> list[tuple[str, str, str]]:
        return [(name, _show(before), _show(after)) for name, before, after in self.changes]

    @property
    def values_display(self) -> list[tuple[str, str]]:
        return [(name, _show(value)) for name, value in self.values]

    @property
    def changes_text(self) -> str:
        return "; ".join(f"{name}: {_show(before)} → {_show(after)}" for name, before, after in self.changes)

    @property
    def values_text(self) -> str:
        return "; ".join(f"{name}: {_show(value)}" for name, value in self.values)


def _show(value) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return str(value)


_NAME_KEYS = ("reference", "name", "username", "code", "title")


def _object_name(data: dict | None) -> str:
    for key in _NAME_KEYS:
        value = (data or {}).get(key)
        if value:
            return str(value)
    return ""


def _actor_id(context) -> int | None:
    raw = (context or {}).get("user") if isinstance(context, dict) else None
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def user_names(ids: Iterable[int]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {
        u.pk: str(u)
        for u in User.objects.filter(pk__in=ids).only("pk", "username", "first_name", "last_name")
    }


def history_rows(events: Iterable[Events]) -> list[HistoryRow]:
    """Turn a page (or a chunk) of events into rows, naming the users in one query."""
    events = list(events)
    names = user_names(_actor_id(e.pgh_context) for e in events)
    by_label = {t.label: t for t in tracked_models()}
    rows = []
    for event in events:
        tracked = by_label.get(event.pgh_obj_model)
        columns = tracked.column_names if tracked else {}
        places = tracked.decimal_places if tracked else {}
        actor = _actor_id(event.pgh_context)
        data = event.pgh_data or {}
        diff = event.pgh_diff or {}
        rows.append(
            HistoryRow(
                at=event.pgh_created_at,
                user_id=actor,
                user_name=names.get(actor, f"User {actor} (removed)") if actor else "System or unknown",
                model_label=event.pgh_obj_model,
                model_name=tracked.verbose_name if tracked else event.pgh_obj_model,
                object_id=event.pgh_obj_id or "",
                object_name=_object_name(data),
                label=event.pgh_label,
                label_display=EVENT_LABELS.get(event.pgh_label, event.pgh_label),
                changes=[
                    (
                        columns.get(key, key),
                        audit_value(pair[0], places.get(key)),
                        audit_value(pair[1], places.get(key)),
                    )
                    for key, pair in sorted(diff.items())
                    if isinstance(pair, list) and len(pair) == 2
                ],
                values=[(columns.get(k, k), audit_value(v, places.get(k))) for k, v in data.items()],
            )
        )
    return rows


def iter_history_rows(events: models.QuerySet, chunk_size: int = 1000) -> Iterator[HistoryRow]:
    """All rows of a filtered history, a chunk at a time (bounded memory, one name query a chunk)."""
    chunk: list[Events] = []
    for event in events.iterator(chunk_size=chunk_size):
        chunk.append(event)
        if len(chunk) >= chunk_size:
            yield from history_rows(chunk)
            chunk = []
    if chunk:
        yield from history_rows(chunk)


# --- Access log ----------------------------------------------------------------------------------


@dataclass
class AccessLogFilters:
    date_from: date | None = None
    date_to: date | None = None
    user_query: str = ""
    content_type: ContentType | None = None
    action: str = ""
    object_id: str = ""


def access_log_entries(user, filters: AccessLogFilters | None = None, *, partnership=None) -> models.QuerySet:
    filters = filters or AccessLogFilters()
    qs = (
        AccessLog.objects.restrict(user, "view")
        .in_partnership(_partnership_pk(partnership))
        .select_related("user", "content_type", "partnership")
    )
    if filters.date_from:
        qs = qs.filter(at__gte=_day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(at__lt=_day_start(filters.date_to + timedelta(days=1)))
    if filters.user_query.strip():
        qs = qs.filter(user__in=_matching_users(filters.user_query).values("pk"))
    if filters.content_type is not None:
        qs = qs.filter(content_type=filters.content_type)
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.object_id.strip():
        qs = qs.filter(object_id=filters.object_id.strip())
    return qs.order_by("-at", "-pk")


def access_log_content_types(user, *, partnership=None) -> list[ContentType]:
    """The kinds of object that appear in the part of the access log the user may read."""
    ids = (
        AccessLog.objects.restrict(user, "view")
        .in_partnership(_partnership_pk(partnership))
        .order_by()
        .values_list("content_type", flat=True)
        .distinct()
    )
    types = ContentType.objects.filter(pk__in=ids)
    return sorted(types, key=lambda ct: str(ct.name))
