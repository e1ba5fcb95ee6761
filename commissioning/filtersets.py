"""One FilterSet per list, serving the page and the API alike (conventions.md)."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils import timezone

from commissioning import choices
from commissioning.models import Contract, Organisation, Partnership, Provider


class ContractFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_text", label="Search")
    partnership = django_filters.ModelChoiceFilter(queryset=Partnership.objects.all())
    provider = django_filters.ModelChoiceFilter(queryset=Provider.objects.select_related("organisation"))
    status = django_filters.MultipleChoiceFilter(choices=choices.ContractStatus.choices)
    service_type = django_filters.ChoiceFilter(choices=choices.ServiceType.choices, label="Service type")
    lead_commissioner = django_filters.ModelChoiceFilter(
        queryset=Organisation.objects.filter(
            kind__in=[choices.OrganisationKind.COUNCIL, choices.OrganisationKind.NHS_COMMISSIONER]
        ),
        to_field_name="code",
    )
    ending = django_filters.ChoiceFilter(
        choices=[("6", "Within 6 months"), ("12", "Within 12 months")],
        method="filter_ending",
        label="Ending",
    )
    end_after = django_filters.DateFilter(field_name="end", lookup_expr="gte")
    end_before = django_filters.DateFilter(field_name="end", lookup_expr="lte")

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
