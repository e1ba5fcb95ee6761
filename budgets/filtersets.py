"""One FilterSet per list of the budgets app, for the pages and the API alike (conventions.md)."""

from __future__ import annotations

from datetime import date

import django_filters
from django.core.validators import RegexValidator

from budgets.models import (
    AgreementStatus,
    Arrangement,
    BudgetLine,
    FundingStream,
    LineStatus,
    MonthlyPosition,
    Schedule,
    Section75Agreement,
)


class PeriodFilter(django_filters.CharFilter):
    """A period as ``YYYY-MM``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "validators",
            [RegexValidator(r"^\d{4}-(0[1-9]|1[0-2])$", "Give the period as YYYY-MM, e.g. 2022-05.")],
        )
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{self.field_name: date.fromisoformat(f"{value}-01")})


class AgreementFilterSet(django_filters.FilterSet):
    partnership = django_filters.NumberFilter(field_name="partnership_id")
    host = django_filters.CharFilter(field_name="host__code", lookup_expr="iexact", label="Host (code)")
    status = django_filters.MultipleChoiceFilter(choices=AgreementStatus.choices)

    class Meta:
        model = Section75Agreement
        fields = ["partnership", "reference", "host", "status"]


class ScheduleFilterSet(django_filters.FilterSet):
    agreement = django_filters.NumberFilter(field_name="agreement_id")
    partnership = django_filters.NumberFilter(field_name="agreement__partnership_id")
    arrangement = django_filters.MultipleChoiceFilter(choices=Arrangement.choices)

    class Meta:
        model = Schedule
        fields = ["agreement", "partnership", "number", "arrangement", "integration_level"]


class FundingStreamFilterSet(django_filters.FilterSet):
    partnership = django_filters.NumberFilter(field_name="partnership_id")
    organisation = django_filters.CharFilter(
        field_name="organisation__code", lookup_expr="iexact", label="Organisation (code)"
    )

    class Meta:
        model = FundingStream
        fields = ["partnership", "name", "organisation"]


class BudgetLineFilterSet(django_filters.FilterSet):
    schedule = django_filters.NumberFilter(field_name="schedule_id")
    funding_stream = django_filters.NumberFilter(field_name="funding_stream_id")
    status = django_filters.MultipleChoiceFilter(choices=LineStatus.choices)

    class Meta:
        model = BudgetLine
        fields = ["schedule", "year", "funding_stream", "status", "name"]


class MonthlyPositionFilterSet(django_filters.FilterSet):
    budget_line = django_filters.NumberFilter(field_name="budget_line_id")
    schedule = django_filters.NumberFilter(field_name="budget_line__schedule_id")
    period = PeriodFilter(field_name="period", label="Period (YYYY-MM)")

    class Meta:
        model = MonthlyPosition
        fields = ["budget_line", "schedule", "period"]
