"""One FilterSet per list, shared by the pages and the API (conventions.md)."""

from __future__ import annotations

import django_filters
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from governance.models import Action, Board, Decision, Meeting, Outcome, Paper


@extend_schema_field(OpenApiTypes.INT)
class ScheduleFilter(django_filters.ModelChoiceFilter):
    """A budget schedule, by id."""


def _schedules(request):
    """The budget schedules the user may see (looked up by name: governance never imports budgets)."""
    schedule = apps.get_model("budgets", "Schedule")
    if request is None:
        return schedule.objects.none()
    return (
        schedule.objects.restrict(request.user)
        .select_related("agreement")
        .order_by("agreement__reference", "number")
    )


class DecisionFilterSet(django_filters.FilterSet):
    """The decision log: text, board, date, outcome, key decision and linked object (e.g. schedule)."""

    q = django_filters.CharFilter(method="filter_text", label="Search")
    board = django_filters.CharFilter(
        field_name="agenda_item__meeting__board__code", lookup_expr="iexact", label="Board (code)"
    )
    decided_from = django_filters.DateFilter(field_name="decided_on", lookup_expr="gte", label="Decided from")
    decided_to = django_filters.DateFilter(field_name="decided_on", lookup_expr="lte", label="Decided to")
    outcome = django_filters.MultipleChoiceFilter(choices=Outcome.choices)
    key_decision = django_filters.BooleanFilter()
    linked_type = django_filters.CharFilter(
        method="filter_linked_type", label="Linked object type (app.model, e.g. budgets.schedule)"
    )
    linked_id = django_filters.NumberFilter(field_name="links__object_id", label="Linked object id")
    schedule = ScheduleFilter(label="Linked schedule", queryset=_schedules, method="filter_schedule")

    class Meta:
        model = Decision
        fields = [
            "q",
            "board",
            "decided_from",
            "decided_to",
            "outcome",
            "key_decision",
            "schedule",
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

    def filter_schedule(self, queryset, name, value):
        """Decisions linked to the schedule itself, to one of its budget lines or its virements."""
        if value is None:
            return queryset
        for_model = ContentType.objects.get_for_model
        line, virement = apps.get_model("budgets", "BudgetLine"), apps.get_model("budgets", "Virement")
        linked = (
            Q(links__content_type=for_model(type(value)), links__object_id=value.pk)
            | Q(
                links__content_type=for_model(line),
                links__object_id__in=line.objects.filter(schedule=value).values("pk"),
            )
            | Q(
                links__content_type=for_model(virement),
                links__object_id__in=virement.objects.filter(schedule=value).values("pk"),
            )
        )
        return queryset.filter(pk__in=queryset.model.objects.filter(linked).values("pk"))


class MeetingFilterSet(django_filters.FilterSet):
    board = django_filters.CharFilter(field_name="board__code", lookup_expr="iexact", label="Board (code)")
    starts_from = django_filters.DateFilter(field_name="starts_at", lookup_expr="date__gte")
    starts_to = django_filters.DateFilter(field_name="starts_at", lookup_expr="date__lte")

    class Meta:
        model = Meeting
        fields = ["board", "status", "starts_from", "starts_to"]


class BoardFilterSet(django_filters.FilterSet):
    code = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Board
        fields = ["code", "partnership", "voting_mode", "council_executive"]


class PaperFilterSet(django_filters.FilterSet):
    board = django_filters.CharFilter(field_name="board__code", lookup_expr="iexact", label="Board (code)")

    class Meta:
        model = Paper
        fields = ["board", "session"]


class ActionFilterSet(django_filters.FilterSet):
    class Meta:
        model = Action
        fields = ["meeting", "status", "owner"]
