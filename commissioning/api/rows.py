"""List pages built from ``.values()`` rows (issue 14), from the serializer's one field list.

A serializer with ``RowSerializerMixin`` declares its fields once, as DRF fields (``Meta.fields``
and declared fields: the schema reads those). From them the mixin derives, once per class:

- ``row_values()``: the names a list page reads with ``.values()`` (``RestrictedViewSetMixin.list``),
  so no model object is built per row, nor per related row;
- ``represent_row(row)``: the JSON of one row, field by field as DRF's ``to_representation`` gives
  it from an instance (the field's own ``to_representation``; None stays None).

``to_representation(instance)`` reads the same names from the instance and goes through
``represent_row``, so a list page, one object and a CSV give the same JSON in one way.

How a field is read from a row:

- by id (``PrimaryKeyRelatedField``): its foreign key's column (``client`` reads ``client_id``);
- by slug (``SlugRelatedField``, e.g. an organisation's code): ``issuer__code``;
- any other field: its source as a lookup (``client.case_reference`` reads
  ``client__case_reference``; ``pk`` the primary key; an annotation of the view, by its name);
- a field no column gives (a model property such as ``signed_total``, a method field, a
  hyperlink): the serializer's method ``row_<field>``, decorated with ``@row_reads(<names>)``
  naming what it reads from the row. It returns what the field's source would give, and the
  field's ``to_representation`` follows; for a field reading the whole object (source ``*``:
  ``SerializerMethodField``, hyperlinks) it returns the JSON value itself.

A field that needs a method and has none fails when the class's plan is first built, naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from operator import itemgetter

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from rest_framework import ISO_8601, serializers
from rest_framework.relations import ManyRelatedField, PrimaryKeyRelatedField, RelatedField, SlugRelatedField
from rest_framework.settings import api_settings


def row_reads(*names: str):
    """Marks ``row_<field>(self, row)``: the ``.values()`` names it reads from a row."""

    def mark(method):
        method.row_reads = names
        return method

    return mark


class _Plan:
    """A class's fields as row steps: (field name, the row key or method name, converter)."""

    def __init__(self, serializer_class: type[serializers.Serializer]):
        prototype = serializer_class()  # no context: converters must not need the request
        model = serializer_class.Meta.model
        names: dict[str, None] = {}
        self.steps: list[tuple[str, str, bool, Callable | None]] = []
        for name, field in prototype.fields.items():
            if field.write_only:
                continue
            method = getattr(serializer_class, f"row_{name}", None)
            if method is not None:
                if not hasattr(method, "row_reads"):
                    raise ImproperlyConfigured(
                        f"{serializer_class.__name__}.row_{name}: say what it reads (@row_reads)."
                    )
                names.update(dict.fromkeys(method.row_reads))
                whole = field.source == "*"
                self.steps.append((name, f"row_{name}", True, None if whole else _converter(field)))
                continue
            key, convert = _column(serializer_class, model, name, field)
            names[key] = None
            self.steps.append((name, key, False, convert))
        self.values = tuple(names)


# Fields whose ``to_representation`` gives a value of their column back as it is (``int(v)``,
# ``str(v)``, a choice's own value, a boolean column's ``True`` or ``False``): skipped, by exact
# class, so a subclass with its own ``to_representation`` (a reference from an id) is still called.
_AS_READ = (
    serializers.IntegerField,
    serializers.CharField,
    serializers.ChoiceField,
    serializers.BooleanField,
)


def _converter(field) -> Callable | None:
    if isinstance(field, PrimaryKeyRelatedField):
        return field.pk_field.to_representation if field.pk_field is not None else None
    if isinstance(field, SlugRelatedField) or type(field) in _AS_READ:
        return None
    iso = getattr(field, "format", api_settings.DATE_FORMAT) in (ISO_8601, "%Y-%m-%d")
    if type(field) is serializers.DateField and iso:
        return date.isoformat  # the same text, without strftime
    return field.to_representation


def _column(serializer_class, model, name: str, field) -> tuple[str, Callable | None]:
    """The ``.values()`` name of a field read from one column, and its converter."""

    def refuse(why: str):
        return ImproperlyConfigured(
            f"{serializer_class.__name__}.{name}: {why}; give it a row_{name} method (@row_reads)."
        )

    if field.source == "*" or isinstance(field, ManyRelatedField | serializers.ListSerializer):
        raise refuse("no one column gives it")
    if isinstance(field, RelatedField) and not isinstance(field, PrimaryKeyRelatedField | SlugRelatedField):
        raise refuse(f"a {type(field).__name__} is not read from a column")
    path = list(field.source_attrs)
    current = model
    for position, attr in enumerate(path):
        if current is None:  # past an annotation: a lookup of the view's own
            break
        if attr == "pk":
            path[position] = current._meta.pk.name
            current = None
            continue
        try:
            model_field = current._meta.get_field(attr)
        except FieldDoesNotExist:
            if isinstance(getattr(current, attr, None), property | Callable):
                raise refuse(f"{current.__name__}.{attr} is Python, not a column") from None
            current = None  # an annotation
            continue
        if model_field.one_to_many or model_field.many_to_many:
            raise refuse(f"{current.__name__}.{attr} is many rows")
        if model_field.is_relation:
            last = position == len(path) - 1
            if last and isinstance(field, PrimaryKeyRelatedField):
                path[position] = model_field.attname  # the id, no join
            current = model_field.related_model
    if isinstance(field, SlugRelatedField):
        path.extend(field.slug_field.split("__"))
    return "__".join(path), _converter(field)


class RowSerializerMixin:
    _row_plans: dict[type, _Plan] = {}

    @classmethod
    def row_plan(cls) -> _Plan:
        plan = RowSerializerMixin._row_plans.get(cls)
        if plan is None:
            plan = RowSerializerMixin._row_plans[cls] = _Plan(cls)
        return plan

    @classmethod
    def row_values(cls) -> tuple[str, ...]:
        """The names a list page gives ``.values()``."""
        return cls.row_plan().values

    def _row_steps(self) -> list[tuple[str, Callable, Callable | None]]:
        steps = self.__dict__.get("_row_steps_bound")
        if steps is None:
            steps = self._row_steps_bound = [
                (name, getattr(self, key) if is_method else itemgetter(key), convert)
                for name, key, is_method, convert in self.row_plan().steps
            ]
        return steps

    def represent_row(self, row: dict) -> dict:
        data = {}
        for name, read, convert in self._row_steps():
            value = read(row)
            data[name] = value if value is None or convert is None else convert(value)
        return data

    def to_representation(self, instance):
        return self.represent_row({key: _read(instance, key) for key in self.row_values()})


def _read(instance, key: str):
    value = instance
    for attr in key.split("__"):
        value = getattr(value, attr)
        if value is None:
            break
    return value
