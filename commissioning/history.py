"""One way to show a record's change history: who changed what, from what to what, newest first.

The rows come from django-pghistory's trigger tables (every write is caught, bulk writes and raw SQL
included); this module only reads them. An app says how each of its tracked models reads in a
history with ``register`` in its ``AppConfig.ready`` (a noun, the words that name one record, the
columns not worth showing), and a page asks ``entries(events)`` for the list its template shows
(``includes/history.html``).

Every value reads as people read it, never as a bare id: related objects by their names (one
query per kind of object named, whatever the number of events), choices by their labels, money
rounded half up to the penny (``commissioning.money``), dates as "1 July 2024". A created record
lists the values it was created with; an update lists what changed, and an update that changed no
shown column (a version bump) is left out.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import models
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format

from commissioning.money import format_money

# Columns no history shows: bookkeeping, not content.
ALWAYS_SKIPPED = frozenset({"id", "version", "created_at", "updated_at"})

VERBS = {"insert": "added", "update": "changed", "delete": "deleted"}

# Newest first, and unique, so pages of one history never overlap.
ORDER = ("-pgh_created_at", "-pgh_id", "-pgh_model")


@dataclass
class Change:
    label: str
    before: Any
    after: Any


@dataclass
class HistoryEntry:
    when: datetime
    who: Any  # the User who made the change, or None for the system
    summary: str
    changes: list[Change] = field(default_factory=list)

    @property
    def when_label(self) -> str:
        """``1 July 2024, 14:05`` in the current time zone."""
        local = timezone.localtime(self.when) if timezone.is_aware(self.when) else self.when
        return f"{format_date(local.date(), 'j F Y')}{local:, %H:%M}"


class Names:
    """The related objects a batch of events names, loaded once per kind of object."""

    def __init__(self, objects: dict[tuple[type[models.Model], Any], models.Model]):
        self._objects = objects

    def get(self, model: type[models.Model], pk) -> models.Model | None:
        return self._objects.get((model, _key(pk)))

    def name(self, model: type[models.Model], pk, default: str = "") -> Any:
        """The object (templates show its name), or words saying it no longer exists."""
        if pk in (None, ""):
            return default
        obj = self.get(model, pk)
        return obj if obj is not None else f"a deleted {model._meta.verbose_name}"


@dataclass(frozen=True)
class Subject:
    """How records of one tracked model read in a history.

    - ``noun``: "Budget line".
    - ``describe(data, names)``: the words after the noun naming one record ("“Placements” 2021/22");
      ``data`` is the row as the event recorded it (column names as in the database).
    - ``summary(verb, data, names)``: the whole summary, when "<noun> <description> <verb>" does
      not read well ("Review of 1 July 2024 added, rated Amber").
    - ``mentions(data)``: (model, pk) pairs the description names, loaded with the rest.
    - ``skip``: columns not shown (the parent the history is already about, for instance).
    """

    noun: str
    describe: Callable[[dict, Names], str] | None = None
    summary: Callable[[str, dict, Names], str] | None = None
    mentions: Callable[[dict], Iterable[tuple[type[models.Model], Any]]] | None = None
    skip: frozenset[str] = frozenset()

    def summarise(self, label: str, data: dict, names: Names) -> str:
        verb = VERBS.get(label, label)
        if self.summary is not None:
            return self.summary(verb, data, names)
        description = self.describe(data, names) if self.describe else ""
        return " ".join(part for part in (self.noun, description, verb) if part)


_SUBJECTS: dict[str, Subject] = {}
# Related models whose name needs another row (a provider is named by its organisation).
_NAME_RELATED: dict[str, tuple[str, ...]] = {}


def register(
    model: type[models.Model] | str,
    *,
    noun: str | None = None,
    describe: Callable[[dict, Names], str] | None = None,
    summary: Callable[[str, dict, Names], str] | None = None,
    mentions: Callable[[dict], Iterable[tuple[type[models.Model], Any]]] | None = None,
    skip: Iterable[str] = (),
) -> None:
    """Say how ``model``'s records read in a history (call from ``AppConfig.ready``)."""
    label = model if isinstance(model, str) else model._meta.label
    if noun is None:
        verbose = str(apps.get_model(label)._meta.verbose_name)
        noun = verbose[:1].upper() + verbose[1:]
    _SUBJECTS[label] = Subject(
        noun=noun, describe=describe, summary=summary, mentions=mentions, skip=frozenset(skip)
    )


def name_with(model: type[models.Model] | str, *select_related: str) -> None:
    """Load ``select_related`` with ``model`` when a history names one (its ``str()`` needs them)."""
    label = model if isinstance(model, str) else model._meta.label
    _NAME_RELATED[label] = tuple(select_related)


def subject(label: str) -> Subject:
    if label not in _SUBJECTS:
        register(label)
    return _SUBJECTS[label]


# --- Values as people read them -------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _date_label(value: date, fmt: str, language: str | None) -> str:
    return date_format(value, fmt)


def format_date(value: date, fmt: str = "j F Y") -> str:
    """``date_format``, cached by language: a history names the same months again and again, and a
    month name is a lazy translation, slow to resolve."""
    return _date_label(value, fmt, translation.get_language())


def parse_date(raw) -> date | None:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw)[:10])
    except (TypeError, ValueError):
        return None


@functools.cache
def _choices(field_obj: models.Field) -> dict:
    return {str(k): v for k, v in field_obj.flatchoices}


def _key(pk) -> Any:
    """History rows carry ids as JSON: an integer, or text for other keys."""
    try:
        return int(pk)
    except (TypeError, ValueError):
        return str(pk)


def display(field_obj: models.Field, raw: Any, names: Names) -> Any:
    """One recorded value as people read it."""
    if raw is None or raw == "":
        return None
    if field_obj.is_relation:
        return names.name(field_obj.related_model, raw)
    if field_obj.choices:
        return _choices(field_obj).get(str(raw), raw)
    if isinstance(field_obj, models.BooleanField):
        return "Yes" if raw else "No"
    if isinstance(field_obj, models.IntegerField) and str(field_obj.verbose_name) == "financial year":
        # Stored by its starting year (2026), written as people write it (2026/27: domain.md).
        year = int(raw)
        return f"{year}/{(year + 1) % 100:02d}"
    if isinstance(field_obj, models.DecimalField):
        value = Decimal(str(raw))
        if field_obj.decimal_places == 2 and field_obj.max_digits == 14:
            return format_money(value)
        return f"{value.normalize():f}"
    if isinstance(field_obj, models.DateTimeField):
        try:
            moment = datetime.fromisoformat(str(raw))
        except ValueError:
            return raw
        local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
        return f"{format_date(local.date())}{local:, %H:%M}"
    if isinstance(field_obj, models.DateField):
        day = parse_date(raw)
        if day is None:
            return raw
        return format_date(day, "F Y" if field_obj.name == "period" else "j F Y")
    if isinstance(raw, list):
        return "; ".join(str(v) for v in raw)
    return raw


def capitalised(text) -> str:
    text = str(text)
    return text[:1].upper() + text[1:]


# --- Events to entries ------------------------------------------------------------------------------


@functools.cache
def _fields(label: str) -> dict[str, models.Field]:
    return {f.attname: f for f in apps.get_model(label)._meta.concrete_fields}


def event_changes(event) -> dict[str, tuple[Any, Any]]:
    """An update's diff; an insert's every value, from nothing; a delete shows no values."""
    if event.pgh_label == "update":
        return event.pgh_diff or {}
    if event.pgh_label == "insert":
        return {k: (None, v) for k, v in (event.pgh_data or {}).items() if v not in (None, "", [])}
    return {}


def _shown(label: str, column: str) -> models.Field | None:
    field_obj = _fields(label).get(column)
    if field_obj is None or column in ALWAYS_SKIPPED or column in subject(label).skip:
        return None
    return field_obj


def _load_names(events: Sequence, known: dict | None) -> Names:
    user_model = apps.get_model("commissioning", "User")
    wanted: dict[type[models.Model], set] = defaultdict(set)
    for event in events:
        user_pk = (event.pgh_context or {}).get("user")
        if user_pk:
            wanted[user_model].add(_key(user_pk))
        about = subject(event.pgh_obj_model)
        if about.mentions is not None:
            for model, pk in about.mentions(event.pgh_data or {}):
                if pk not in (None, ""):
                    wanted[model].add(_key(pk))
        for column, pair in event_changes(event).items():
            field_obj = _shown(event.pgh_obj_model, column)
            if field_obj is not None and field_obj.is_relation:
                wanted[field_obj.related_model].update(_key(v) for v in pair if v not in (None, ""))
    objects: dict[tuple, models.Model] = {}
    for (model, pk), obj in (known or {}).items():
        objects[(model, _key(pk))] = obj
    for model, pks in wanted.items():
        missing = {pk for pk in pks if (model, pk) not in objects}
        if not missing:
            continue
        qs = model._default_manager.filter(pk__in=missing)
        related = _NAME_RELATED.get(model._meta.label)
        if related:
            qs = qs.select_related(*related)
        for obj in qs:
            objects[(model, _key(obj.pk))] = obj
    return Names(objects)


def entries(events: Iterable, *, known: dict | None = None) -> list[HistoryEntry]:
    """The history entries of pghistory events (already ordered, newest first).

    ``known``: objects already loaded, by ``(model, pk)``, that the entries may name (saves their
    query). One query per kind of object named, whatever the number of events."""
    events = list(events)
    names = _load_names(events, known)
    user_model = apps.get_model("commissioning", "User")
    result = []
    for event in events:
        label = event.pgh_obj_model
        changes = []
        for column, (before, after) in sorted(event_changes(event).items()):
            field_obj = _shown(label, column)
            if field_obj is None:
                continue
            changes.append(
                Change(
                    label=capitalised(field_obj.verbose_name),
                    before=display(field_obj, before, names),
                    after=display(field_obj, after, names),
                )
            )
        if event.pgh_label == "update" and not changes:
            continue  # only bookkeeping columns changed
        user_pk = (event.pgh_context or {}).get("user")
        result.append(
            HistoryEntry(
                when=event.pgh_created_at,
                who=names.get(user_model, user_pk) if user_pk else None,
                summary=subject(label).summarise(event.pgh_label, event.pgh_data or {}, names),
                changes=changes,
            )
        )
    return result


def event_model(label: str):
    """The pghistory event model of a tracked model (``"budgets.BudgetLine"`` -> its events)."""
    app_label, model_name = label.split(".")
    return apps.get_model(app_label, f"{model_name}Event")


def newest_first(event) -> tuple:
    """The sort key of ``ORDER`` (reversed), to merge events read by separate queries."""
    return (event.pgh_created_at, event.pgh_id, event.pgh_model)


def reads_carry_no_context() -> None:
    """django-pghistory's ``context`` (entered for every request by its middleware, GET included,
    so that a write in any request names its user) puts ``SELECT set_config(...); `` before every
    statement but those it knows are reads, by their first word (``select`` and a few others).
    Django writes a UNION on PostgreSQL with each part in parentheses, ``(SELECT ...) UNION ALL
    (SELECT ...)``, so such a read (a package's cost and funding history) was prefixed too. A
    statement starting with ``(select`` is a query, as one starting with ``select``: added to
    the prefixes it leaves alone (``CommissioningConfig.ready``)."""
    from pghistory import runtime

    if "(select" not in runtime.IGNORED_SQL_PREFIXES:
        runtime.IGNORED_SQL_PREFIXES = (*runtime.IGNORED_SQL_PREFIXES, "(select")
