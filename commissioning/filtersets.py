"""One FilterSet per list, serving the page and the API alike (conventions.md).

Every FilterSet derives from ``StrictFilterSet`` (api.md: filters are strict): a value that is not
valid for its filter is an error naming the parameter (the API answers 400, the page shows it and
lists nothing), never a silent list of every row or none. Booleans take ``true``/``false`` (and
``1``/``0``, ``yes``/``no``) only; a code (``CodeFilter``: organisations, boards) must name a record
the user may see, in any case; a year is a financial year's starting year (``YearFilter``).
Filters built from ``Meta.fields`` and from ``filterset_fields`` (``StrictFilterBackend``) get the
same fields.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms import MultiWidget
from django.utils import timezone
from django_filters.constants import EMPTY_VALUES
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from commissioning import choices, registry
from commissioning.forms import (
    GovukDateFilterField,
    GovukDateInput,
    OneQueryChoiceIterator,
    one_query_choices,
)
from commissioning.models import Contract, Organisation, Partnership, Provider

TRUE = {"true", "1", "yes", "on", "2"}  # "2"/"3": Django's NullBooleanSelect
FALSE = {"false", "0", "no", "off", "3"}
BLANK = {"", "unknown", "none", "null"}


class StrictNullBooleanSelect(forms.NullBooleanSelect):
    """Django's select for yes/no/either, except that a value it does not know reaches the field
    (which refuses it) instead of being read as "either". On a list page "either" reads "Any", as
    the other filters' empty choice does (``style_filter_form``), not Django's "Unknown"."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [("unknown", "Any"), ("true", "Yes"), ("false", "No")]

    def value_from_datadict(self, data, files, name):
        value = data.get(name)
        if isinstance(value, str) and value.strip().lower() not in TRUE | FALSE | BLANK:
            return value
        return super().value_from_datadict(data, files, name)


class StrictNullBooleanField(forms.NullBooleanField):
    widget = StrictNullBooleanSelect
    default_error_messages = {"invalid": "Give true or false."}

    def to_python(self, value):
        if value in (True, False, None):
            return value
        text = str(value).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        if text in BLANK:
            return None
        if self.label:  # name the filter, as every other filter's message does
            raise ValidationError(f"{self.label} must be true or false", code="invalid")
        raise ValidationError(self.error_messages["invalid"], code="invalid")

    def validate(self, value):
        pass


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictNullBooleanField


class CodeChoiceField(forms.ModelChoiceField):
    """A record by its ``code``, in any case, among those offered (the user's)."""

    iterator = OneQueryChoiceIterator

    def __init__(self, *args, noun: str = "record", **kwargs):
        self.noun = noun
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip()
        match = self.queryset.filter(code__iexact=text).first() if text and "\x00" not in text else None
        if match is None:
            raise ValidationError(
                f"There is no {self.noun} with the code {text or repr(value)}.", code="invalid_choice"
            )
        return match

    def has_changed(self, initial, data):  # pragma: no cover - filter forms are never "changed"
        return str(initial or "") != str(data or "")


@extend_schema_field(OpenApiTypes.STR)
class CodeFilter(django_filters.ModelChoiceFilter):
    """A related record by its code (an organisation, a board), case-insensitively; an unknown code
    is an error naming the parameter. ``field_name`` is the relation (``paying_organisation``), or
    ``code`` for the list of those records itself. ``queryset`` may be a callable of the request."""

    field_class = CodeChoiceField

    def __init__(self, *args, noun: str = "organisation", select: bool = False, **kwargs):
        kwargs.setdefault("queryset", _visible_organisations)
        kwargs.setdefault("to_field_name", "code")
        if not select:  # typed as a code on the pages; ``select`` offers the choices instead
            kwargs.setdefault("widget", forms.TextInput)
        kwargs["noun"] = noun
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        if self.field_name in ("code", "pk", "id"):
            return qs.filter(pk=value.pk)
        return qs.filter(**{self.field_name: value})


def _visible_organisations(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.restrict(user, "view")


class YearFilter(django_filters.NumberFilter):
    """A financial year by its starting year (``2022`` is 2022/23): a whole number, 1990 to 2100."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", "Financial year (starting year)")
        kwargs.setdefault("min_value", 1990)
        kwargs.setdefault("max_value", 2100)
        super().__init__(*args, **kwargs)


class GovukDateFilter(django_filters.DateFilter):
    """A date: on a list page the GOV.UK date input (``<name>_day``, ``_month``, ``_year``), in the
    API (and in a link) one ISO parameter, ``<name>=2026-03-31``; an impossible date is an error
    naming the filter. The API's strict query check (``commissioning.api.strict``) accepts only the
    ISO parameter."""

    field_class = GovukDateFilterField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", GovukDateInput(iso_fallback=True))
        super().__init__(*args, **kwargs)


class StrictFilterSet(django_filters.FilterSet):
    """The base of every FilterSet (see the module's docstring)."""

    FILTER_DEFAULTS = {
        **django_filters.FilterSet.FILTER_DEFAULTS,
        **{
            model_field: {"filter_class": StrictBooleanFilter}
            for model_field, spec in django_filters.FilterSet.FILTER_DEFAULTS.items()
            if spec.get("filter_class") is django_filters.BooleanFilter
        },
    }

    @classmethod
    def get_filters(cls):
        filters = super().get_filters()
        for filter_ in filters.values():
            if type(filter_) is django_filters.BooleanFilter:
                filter_.field_class = StrictNullBooleanField
        return filters

    @property
    def form(self):
        # The model filters' drop-downs read their choices in one plain query, on a page, in the
        # browsable API and anywhere else the form is drawn (not through a server-side cursor).
        if not hasattr(self, "_form"):
            one_query_choices(super().form)
        return self._form


def filter_param_names(filterset_class) -> set[str]:
    """The query parameters a FilterSet reads: each filter's name, or its parts' names for filters
    of several inputs (``decided_after``/``decided_before``). A date typed on the pages as day, month
    and year (``GovukDateFilter``) is one ISO parameter here."""
    names: set[str] = set()
    for name, filter_ in filterset_class.base_filters.items():
        # Not ``filter_.field``: building it caches the form field (and its choices) on the class's
        # filter, which every FilterSet instance then copies.
        widget = filter_.extra.get("widget") or filter_.field_class.widget
        if isinstance(widget, type):
            widget = widget()
        if isinstance(widget, MultiWidget) and not getattr(widget, "iso_fallback", False):
            names.update(f"{name}{suffix}" for suffix in widget.widgets_names)
        else:
            names.add(name)
    return names


_PARAMS: dict[type, frozenset[str]] = {}


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend, building the FilterSets of ``filterset_fields`` on StrictFilterSet.

    A request naming none of the FilterSet's parameters is not filtered, and no FilterSet is built
    for it (its filters copied, its form made and cleaned: about a fifth of the CPU of an API list
    of 100): every filter lets an empty value through, which a test holds every FilterSet to.
    Parameters no filter reads were refused before (``commissioning.api.strict``)."""

    filterset_base = StrictFilterSet

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            names = _PARAMS.get(filterset_class)
            if names is None:
                names = _PARAMS[filterset_class] = frozenset(filter_param_names(filterset_class))
            if names.isdisjoint(request.query_params):
                return queryset
        return super().filter_queryset(request, queryset, view)


class ContractFilterSet(StrictFilterSet):
    q = django_filters.CharFilter(method="filter_text", label="Search")
    partnership = django_filters.ModelChoiceFilter(queryset=Partnership.objects.all())
    provider = django_filters.ModelChoiceFilter(queryset=Provider.objects.select_related("organisation"))
    status = django_filters.MultipleChoiceFilter(choices=choices.ContractStatus.choices)
    service_type = django_filters.ChoiceFilter(choices=choices.ServiceType.choices, label="Service type")
    lead_commissioner = CodeFilter(
        queryset=Organisation.objects.filter(
            kind__in=[choices.OrganisationKind.COUNCIL, choices.OrganisationKind.NHS_COMMISSIONER]
        ),
        noun="council or NHS commissioner",
        select=True,
    )
    ending = django_filters.ChoiceFilter(
        choices=[("6", "Within 6 months"), ("12", "Within 12 months")],
        method="filter_ending",
        label="Ending",
    )
    end_after = GovukDateFilter(field_name="end", lookup_expr="gte", label="Ending on or after")
    end_before = GovukDateFilter(field_name="end", lookup_expr="lte", label="Ending on or before")

    class Meta:
        model = Contract
        fields = ["q", "partnership", "provider", "status", "service_type", "lead_commissioner", "ending"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        user = user or getattr(self.request, "user", None)
        if user is not None and user.is_authenticated:
            # Offer only what the user may see in the choice lists.
            self.filters["partnership"].queryset = Partnership.objects.restrict(user, "view")
            self.filters["provider"].queryset = Provider.objects.restrict(user, "view").select_related(
                "organisation"
            )
            # The lead commissioners of the user's partnerships only, set on this instance's field
            # (a filter's field is built once and kept).
            self.filters["lead_commissioner"].field.queryset = Organisation.objects.partners_of(
                Partnership.objects.restrict(user, "view")
            )

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(reference__icontains=value)
            | Q(service__icontains=value)
            | Q(provider__organisation__name__icontains=value)
        )

    def filter_ending(self, queryset, name, value):
        return queryset.ending_within(int(value), today=timezone.localdate())


# The filters the domain apps keep about a contract (budgets' ``schedule``) join the contract list's.
registry.add_extensible_filterset(Contract, ContractFilterSet)
