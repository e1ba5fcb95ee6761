"""FilterSets of the finance lists (invoices, runs), serving the pages and the API alike."""

from __future__ import annotations

import django_filters
from django import forms

from commissioning.filtersets import CodeFilter, StrictFilterSet

from ..models import Invoice, InvoiceKind, InvoiceStatus, RechargeRun, RechargeRunStatus
from ..recharges import parse_period


class PeriodFilter(django_filters.CharFilter):
    """A month as ``YYYY-MM``; anything else is a 400 naming the field."""

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        try:
            month = parse_period(value)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None
        return qs.filter(**{f"{self.field_name}__{self.lookup_expr}": month})


class _PeriodField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if value:
            try:
                parse_period(value)
            except ValueError as error:
                raise forms.ValidationError(str(error)) from None
        return value


class CleanPeriodFilter(PeriodFilter):
    field_class = _PeriodField


class InvoiceFilterSet(StrictFilterSet):
    issuer = CodeFilter(field_name="issuer", label="Issuer (organisation code)")
    recipient = CodeFilter(field_name="recipient", label="Recipient (organisation code)")
    period = CleanPeriodFilter(field_name="period", lookup_expr="exact", label="Period (YYYY-MM)")
    status = django_filters.ChoiceFilter(choices=InvoiceStatus.choices)
    kind = django_filters.ChoiceFilter(choices=InvoiceKind.choices)

    class Meta:
        model = Invoice
        fields = ["issuer", "recipient", "period", "status", "kind"]


class RechargeRunFilterSet(StrictFilterSet):
    issuer = CodeFilter(field_name="issuer", label="Issuer (organisation code)")
    period = CleanPeriodFilter(field_name="period", lookup_expr="exact", label="Period (YYYY-MM)")
    status = django_filters.ChoiceFilter(choices=RechargeRunStatus.choices)

    class Meta:
        model = RechargeRun
        fields = ["issuer", "period", "status"]
