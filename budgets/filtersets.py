"""One FilterSet per list of the budgets app, for the pages and the API alike (conventions.md)."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError

from budgets import periods
from budgets.models import (
    AgreementStatus,
    Arrangement,
    BudgetLine,
    ContributionPlan,
    Frequency,
    FundingStream,
    LineStatus,
    MonthlyPosition,
    Review,
    ReviewOutcome,
    Schedule,
    Section75Agreement,
    Variation,
)
from commissioning.filtersets import CodeFilter, StrictFilterSet, YearFilter


def _period(value: str) -> None:
    try:
        periods.parse_period(value)
    except ValueError as error:
        raise ValidationError(str(error)) from None


class PeriodFilter(django_filters.CharFilter):
    """A period as ``YYYY-MM`` (``budgets.periods``, as everywhere a period is asked for)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validators", [_period])
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{self.field_name: periods.parse_period(value)})


class AgreementFilterSet(StrictFilterSet):
    partnership = django_filters.NumberFilter(field_name="partnership_id")
    host = CodeFilter(field_name="host", label="Host (code)")
    status = django_filters.MultipleChoiceFilter(choices=AgreementStatus.choices)

    class Meta:
        model = Section75Agreement
        fields = ["partnership", "reference", "host", "status"]


class ScheduleFilterSet(StrictFilterSet):
    agreement = django_filters.NumberFilter(field_name="agreement_id")
    partnership = django_filters.NumberFilter(field_name="agreement__partnership_id")
    arrangement = django_filters.MultipleChoiceFilter(choices=Arrangement.choices)

    class Meta:
        model = Schedule
        fields = ["agreement", "partnership", "number", "arrangement", "integration_level"]


class FundingStreamFilterSet(StrictFilterSet):
    partnership = django_filters.NumberFilter(field_name="partnership_id")
    organisation = CodeFilter(field_name="organisation", label="Organisation (code)")

    class Meta:
        model = FundingStream
        fields = ["partnership", "name", "organisation"]


class BudgetLineFilterSet(StrictFilterSet):
    schedule = django_filters.NumberFilter(field_name="schedule_id")
    funding_stream = django_filters.NumberFilter(field_name="funding_stream_id")
    status = django_filters.MultipleChoiceFilter(choices=LineStatus.choices)
    year = YearFilter()

    class Meta:
        model = BudgetLine
        fields = ["schedule", "year", "funding_stream", "status", "name"]


class MonthlyPositionFilterSet(StrictFilterSet):
    budget_line = django_filters.NumberFilter(field_name="budget_line_id")
    schedule = django_filters.NumberFilter(field_name="budget_line__schedule_id")
    period = PeriodFilter(field_name="period", label="Period (YYYY-MM)")

    class Meta:
        model = MonthlyPosition
        fields = ["budget_line", "schedule", "period"]


class VariationFilterSet(StrictFilterSet):
    agreement = django_filters.NumberFilter(field_name="agreement_id")
    partnership = django_filters.NumberFilter(field_name="agreement__partnership_id")
    decision = django_filters.NumberFilter(field_name="decision_id")

    class Meta:
        model = Variation
        fields = ["agreement", "partnership", "decision", "number"]


class ReviewFilterSet(StrictFilterSet):
    agreement = django_filters.NumberFilter(field_name="agreement_id")
    partnership = django_filters.NumberFilter(field_name="agreement__partnership_id")
    outcome = django_filters.MultipleChoiceFilter(choices=ReviewOutcome.choices)
    held = django_filters.BooleanFilter(
        field_name="held_on", lookup_expr="isnull", exclude=True, label="Held"
    )

    class Meta:
        model = Review
        fields = ["agreement", "partnership", "year", "outcome", "held"]


class ContributionPlanFilterSet(StrictFilterSet):
    schedule = django_filters.NumberFilter(field_name="schedule_id")
    agreement = django_filters.NumberFilter(field_name="schedule__agreement_id")
    partnership = django_filters.NumberFilter(field_name="schedule__agreement__partnership_id")
    year = YearFilter()
    partner = CodeFilter(field_name="partner", label="Partner (code)")
    frequency = django_filters.ChoiceFilter(choices=Frequency.choices)

    class Meta:
        model = ContributionPlan
        fields = ["schedule", "agreement", "partnership", "year", "partner", "frequency"]


def _visible_schedules(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return Schedule.objects.none()
    # The agreement with each schedule: the register's select names it ("BR-S75, Schedule 2: ...").
    return (
        Schedule.objects.restrict(user, "view")
        .select_related("agreement")
        .order_by("agreement__reference", "number", "pk")
    )


class _ScheduleChoiceField(django_filters.fields.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.agreement.reference}, {obj}"


class ContractScheduleFilter(django_filters.ModelChoiceFilter):
    """``contracts/?schedule=<id>`` (api.md): the contracts a schedule funds (budgets'
    ``ContractSchedule``, added to the core's contract list through
    ``commissioning.registry.add_extension_field``). A schedule that is not one the user may see, or
    not an id, is an error naming ``schedule``. On the register's page it is a select of the
    schedules the user may see, each named with its agreement."""

    field_class = _ScheduleChoiceField

    def __init__(self, **kwargs):
        kwargs.setdefault("field_name", "funding_schedule_link__schedule")
        kwargs.setdefault("queryset", _visible_schedules)
        kwargs.setdefault("label", "Funded by schedule")
        kwargs.setdefault(
            "error_messages",
            {"invalid_choice": "There is no schedule with this id: give the id of a schedule you may see."},
        )
        super().__init__(**kwargs)
