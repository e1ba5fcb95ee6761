"""One FilterSet per list, shared by the pages and the API (conventions.md)."""

from __future__ import annotations

import django_filters
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import Q
from django_filters.constants import EMPTY_VALUES
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from commissioning import registry
from commissioning.filtersets import CodeFilter, GovukDateFilter, StrictFilterSet
from governance.models import Action, Board, Decision, Meeting, Outcome, Paper


@extend_schema_field(OpenApiTypes.INT)
class LinkedObjectFilter(django_filters.ModelChoiceFilter):
    """Decisions linked to one record of a registered linkable type (a budget schedule, by id), or
    to any record that belongs to it (its budget lines and virements): ``commissioning.registry``
    says which, so governance never imports the app that owns them."""

    def __init__(self, *args, linkable: registry.Linkable, **kwargs):
        self.linkable = linkable
        kwargs.setdefault("label", linkable.filter_label or f"Linked {linkable.label.lower()}")
        super().__init__(*args, queryset=self.choices, **kwargs)

    def choices(self, request):
        """The records of the type the user may see (through the gate)."""
        if request is None:
            return self.linkable.model.objects.none()
        return self.linkable.choices(request.user)

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        for_model = ContentType.objects.get_for_model
        linked = Q(links__content_type=for_model(type(value)), links__object_id=value.pk)
        for model, rows in self.linkable.parts(value) if self.linkable.parts else ():
            linked |= Q(links__content_type=for_model(model), links__object_id__in=rows.values("pk"))
        return qs.filter(pk__in=qs.model.objects.filter(linked).values("pk"))


def linkable_filters() -> dict[str, LinkedObjectFilter]:
    """One filter per linkable type registered with a ``filter_name`` (``?schedule=<id>``).

    The types are registered in the apps' ``AppConfig.ready``, so the list is complete only once
    every app is ready (before any URL module is imported): built earlier, the FilterSet would
    silently lack filters, so it refuses."""
    if not apps.ready:
        raise ImproperlyConfigured(
            "governance.filtersets was imported before every app was ready: the decision log's "
            "filters come from the linkable types the apps register in AppConfig.ready. Import it "
            "from views, API or URL modules, not from an AppConfig.ready or a models module."
        )
    return {
        linkable.filter_name: LinkedObjectFilter(linkable=linkable)
        for linkable in registry.LINKABLE_TYPES.values()
        if linkable.filter_name
    }


def _visible_boards(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return Board.objects.none()
    return Board.objects.restrict(user, "view")


def _known_type(value: str) -> None:
    """``linked_type`` names a kind of record (``app.model``): an unknown one is an error, not no rows."""
    app_label, _, model = (value or "").lower().partition(".")
    if value and not ContentType.objects.filter(app_label=app_label, model=model).exists():
        raise ValidationError(
            f"There is no kind of record called {value!r} (give app.model, e.g. budgets.schedule)."
        )


class DecisionFilters(StrictFilterSet):
    """The decision log: text, board, date, outcome, key decision and linked object."""

    q = django_filters.CharFilter(method="filter_text", label="Search")
    board = CodeFilter(
        field_name="agenda_item__meeting__board", queryset=_visible_boards, noun="board", label="Board (code)"
    )
    decided_from = GovukDateFilter(field_name="decided_on", lookup_expr="gte", label="Decided from")
    decided_to = GovukDateFilter(field_name="decided_on", lookup_expr="lte", label="Decided to")
    outcome = django_filters.MultipleChoiceFilter(choices=Outcome.choices)
    key_decision = django_filters.BooleanFilter()
    linked_type = django_filters.CharFilter(
        method="filter_linked_type",
        label="Linked object type (app.model, e.g. budgets.schedule)",
        validators=[_known_type],
    )
    linked_id = django_filters.NumberFilter(field_name="links__object_id", label="Linked object id")

    class Meta:
        model = Decision
        fields = [
            "q",
            "board",
            "decided_from",
            "decided_to",
            "outcome",
            "key_decision",
            "linked_type",
            "linked_id",
        ]

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(reference__icontains=value)
            | Q(resolution__icontains=value)
            | Q(reasons__icontains=value)
            | Q(agenda_item__title__icontains=value)
        )

    def filter_linked_type(self, queryset, name, value):
        app_label, _, model = value.lower().partition(".")
        content_type = ContentType.objects.filter(app_label=app_label, model=model).first()
        if content_type is None:
            return queryset.none()
        return queryset.filter(links__content_type=content_type).distinct()


def _decision_filterset() -> type[DecisionFilters]:
    """``DecisionFilters`` with a filter per registered linkable type, before ``linked_type`` (so the
    page's form, the export and the API schema, which reads ``base_filters``, all offer them)."""
    linked = linkable_filters()
    fields = list(DecisionFilters.Meta.fields)
    at = fields.index("linked_type")
    meta = type("Meta", (DecisionFilters.Meta,), {"fields": [*fields[:at], *linked, *fields[at:]]})
    return type(
        "DecisionFilterSet",
        (DecisionFilters,),
        {
            "__module__": __name__,
            "__doc__": DecisionFilters.__doc__,
            "Meta": meta,
            **linked,
        },
    )


DecisionFilterSet = _decision_filterset()


class MeetingFilterSet(StrictFilterSet):
    board = CodeFilter(field_name="board", queryset=_visible_boards, noun="board", label="Board (code)")
    starts_from = GovukDateFilter(field_name="starts_at", lookup_expr="date__gte", label="Starts on or after")
    starts_to = GovukDateFilter(field_name="starts_at", lookup_expr="date__lte", label="Starts on or before")

    class Meta:
        model = Meeting
        fields = ["board", "status", "starts_from", "starts_to"]


class BoardFilterSet(StrictFilterSet):
    code = CodeFilter(field_name="code", queryset=_visible_boards, noun="board")

    class Meta:
        model = Board
        fields = ["code", "partnership", "voting_mode", "council_executive"]


class PaperFilterSet(StrictFilterSet):
    board = CodeFilter(field_name="board", queryset=_visible_boards, noun="board", label="Board (code)")

    class Meta:
        model = Paper
        fields = ["board", "session"]


class ActionFilterSet(StrictFilterSet):
    class Meta:
        model = Action
        fields = ["meeting", "status", "owner"]
