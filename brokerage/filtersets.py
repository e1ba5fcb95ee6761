"""One FilterSet per list, serving the page and the API alike (conventions.md)."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from commissioning import versions
from commissioning.choices import OrganisationKind, ServiceType
from commissioning.filtersets import CodeFilter, GovukDateFilter, StrictFilterSet, YearFilter
from commissioning.models import Organisation, Partnership, Provider, User

from .models import (
    Client,
    Cohort,
    FundingBasis,
    FundingSplit,
    Offer,
    OfferStatus,
    Package,
    PackageCost,
    PackageStatus,
    PanelDecision,
    PriceChange,
    PriceChangeStatus,
    RateCard,
    Referral,
    ReferralStatus,
    Unit,
    Urgency,
)

_FUNDERS = Organisation.objects.filter(kind__in=[OrganisationKind.COUNCIL, OrganisationKind.NHS_COMMISSIONER])


class ClientFilterSet(StrictFilterSet):
    q = django_filters.CharFilter(method="filter_search", label="Name, NHS number or case reference")
    cohort = django_filters.ChoiceFilter(choices=Cohort.choices)
    nhs_number = django_filters.CharFilter(field_name="nhs_number", label="NHS number")
    case_reference = django_filters.CharFilter(field_name="case_reference", lookup_expr="iexact")

    class Meta:
        model = Client
        fields = ["q", "cohort", "nhs_number", "case_reference", "partnership"]

    def filter_search(self, queryset, name, value):
        return queryset.search(value)


def _referral_choices(user, funder) -> tuple[list, list]:
    """The queue filter's brokers (active brokers and brokerage managers of the user's
    partnerships, by name) and funder options (the funder field's own, as text)."""
    brokers = (
        User.objects.filter(
            is_active=True,
            groups__name__in=["Broker", "Brokerage manager"],
            grants__partnership__in=user.grants.values("partnership"),
        )
        .distinct()
        .order_by("last_name", "first_name")
    )
    funders = [(str(funder.prepare_value(o)), funder.label_from_instance(o)) for o in funder.queryset]
    return [(str(u.pk), str(u)) for u in brokers], funders


class ReferralFilterSet(StrictFilterSet):
    # Columns of the referral itself: no join can repeat a row, so no DISTINCT (which made the
    # queue sort every open referral, all columns, before taking a page).
    status = django_filters.MultipleChoiceFilter(choices=ReferralStatus.choices, distinct=False)
    urgency = django_filters.MultipleChoiceFilter(choices=Urgency.choices, distinct=False)
    service_type = django_filters.ChoiceFilter(choices=ServiceType.choices, label="Service type")
    cohort = django_filters.ChoiceFilter(field_name="client__cohort", choices=Cohort.choices)
    funder = CodeFilter(
        field_name="proposed_funder",
        queryset=_FUNDERS,
        label="Proposed funder",
        noun="council or NHS commissioner",
        select=True,
    )
    assigned_to = django_filters.ChoiceFilter(method="filter_assigned", label="Assigned broker", choices=[])
    client = django_filters.NumberFilter(field_name="client_id")

    class Meta:
        model = Referral
        fields = ["status", "urgency", "service_type", "cohort", "funder", "assigned_to", "client"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        user = user or getattr(self.request, "user", None)
        brokers, funder = [], self.filters["funder"].field
        if user is not None and user.is_authenticated:
            # Set on this instance's form fields, not on the filters' arguments: a filter's field is
            # built once and kept, and one built before (the API schema reads the class's filters)
            # would keep the class's choices: none for ``assigned_to``, every funder for ``funder``.
            funder.queryset = _FUNDERS.filter(
                Q(council_partnerships__grants__user=user) | Q(nhs_partnerships__grants__user=user)
            ).distinct()
            # Both lists kept under the versions of what they read (commissioning/versions.py):
            # users, their roles and grants ("permissions"), organisations and partnerships
            # ("budgets"). The funder field still checks a chosen code against its queryset.
            brokers, funders = versions.cached(
                "referral-filter-choices",
                scopes=("permissions", "budgets"),
                parts=(user.pk,),
                build=lambda: _referral_choices(user, funder),
            )
            funder.options = funders  # drawn by OneQueryChoiceIterator
        assigned = self.filters["assigned_to"].field
        assigned.choices = [("me", "Assigned to me"), ("none", "Not assigned"), *brokers]

    def filter_assigned(self, queryset, name, value):
        if value == "me":
            return queryset.filter(assigned_to=getattr(self.request, "user", None))
        if value == "none":
            return queryset.filter(assigned_to__isnull=True)
        if str(value).isdigit():
            return queryset.filter(assigned_to_id=int(value))
        return queryset


class OfferFilterSet(StrictFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=OfferStatus.choices)
    referral = django_filters.NumberFilter(field_name="referral_id")
    provider = django_filters.ModelChoiceFilter(queryset=Provider.objects.select_related("organisation"))

    class Meta:
        model = Offer
        fields = ["status", "referral", "provider"]


class RateCardFilterSet(StrictFilterSet):
    service_type = django_filters.ChoiceFilter(choices=ServiceType.choices, label="Service type")
    year = YearFilter()
    unit = django_filters.ChoiceFilter(choices=Unit.choices)

    class Meta:
        model = RateCard
        fields = ["partnership", "service_type", "year", "unit"]


def _partners_of(user):
    """The councils and NHS commissioners of the partnerships the user may see, by name."""
    return Organisation.objects.partners_of(Partnership.objects.restrict(user, "view")).order_by("name")


class PackageFilterSet(StrictFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=PackageStatus.choices)
    service_type = django_filters.ChoiceFilter(choices=ServiceType.choices, label="Service type")
    client = django_filters.NumberFilter(field_name="client_id")
    provider = django_filters.ModelChoiceFilter(queryset=Provider.objects.select_related("organisation"))
    paying_organisation = CodeFilter(
        field_name="paying_organisation",
        queryset=_FUNDERS,
        label="Paying organisation",
        noun="council or NHS commissioner",
        select=True,
    )
    live_on = GovukDateFilter(method="filter_live_on", label="Live on")

    class Meta:
        model = Package
        fields = ["status", "service_type", "client", "provider", "paying_organisation", "live_on"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        user = user or getattr(self.request, "user", None)
        if user is not None and user.is_authenticated:
            # The councils and NHS commissioners of the user's partnerships (set on this instance's
            # field: the class's is built once and kept, as the referral filters say).
            self.filters["paying_organisation"].field.queryset = _partners_of(user)

    def filter_live_on(self, queryset, name, value):
        return queryset.filter(Q(start__lte=value), Q(end__isnull=True) | Q(end__gte=value))


class PackagePageFilterSet(PackageFilterSet):
    """The package list page's filters: the API's, and the page's default statuses. With no status
    ticked and no live-on date the page lists active and suspended packages. Not with a live-on
    date: a broker asking what was live on a day wants every package live then, whatever its status
    now (an ended one too), as the API's list gives it. The API has no default (api.md: its list
    shows what the filters say), so it uses ``PackageFilterSet``.

    The default narrows the list; it is not ticked in the form: ticked, it came back with the form
    and could not be told from a choice, so a date typed on the page still hid ended packages."""

    DEFAULT_STATUSES = (PackageStatus.ACTIVE, PackageStatus.SUSPENDED)

    @property
    def qs(self):
        if not hasattr(self, "_qs"):
            packages = super().qs
            if self.default_statuses_apply():
                packages = packages.filter(status__in=self.DEFAULT_STATUSES)
            self._qs = packages
        return self._qs

    def default_statuses_apply(self) -> bool:
        """Neither a status sent nor a live-on date (a box of it typed, or ISO text in a link). Read
        as sent, so the answer is the same whether or not the form is valid."""
        status, live_on = self.form["status"].data, self.form["live_on"].data
        dates = [live_on] if isinstance(live_on, str) else live_on or []
        return not status and not any(str(part or "").strip() for part in dates)


def _live_on(queryset, name, value):
    return queryset.filter(
        Q(effective_from__lte=value), Q(effective_to__isnull=True) | Q(effective_to__gte=value)
    )


class PackageCostFilterSet(StrictFilterSet):
    package = django_filters.NumberFilter(field_name="package_id")
    live_on = GovukDateFilter(method=_live_on, label="In force on")

    class Meta:
        model = PackageCost
        fields = ["package", "live_on"]


class PriceChangeFilterSet(StrictFilterSet):
    package = django_filters.NumberFilter(field_name="package_id")
    status = django_filters.MultipleChoiceFilter(choices=PriceChangeStatus.choices)

    class Meta:
        model = PriceChange
        fields = ["package", "status"]


class FundingSplitFilterSet(StrictFilterSet):
    package = django_filters.NumberFilter(field_name="package_id")
    basis = django_filters.MultipleChoiceFilter(choices=FundingBasis.choices)
    live_on = GovukDateFilter(method=_live_on, label="In force on")

    class Meta:
        model = FundingSplit
        fields = ["package", "basis", "live_on"]


class PanelDecisionFilterSet(StrictFilterSet):
    client = django_filters.NumberFilter(field_name="client_id")
    package = django_filters.NumberFilter(field_name="package_id")
    reference = django_filters.CharFilter(lookup_expr="iexact")
    basis = django_filters.ChoiceFilter(choices=FundingBasis.choices)
    meeting_from = GovukDateFilter(field_name="meeting_date", lookup_expr="gte", label="Met on or after")
    meeting_to = GovukDateFilter(field_name="meeting_date", lookup_expr="lte", label="Met on or before")
    applied = django_filters.BooleanFilter(
        field_name="applied_at", lookup_expr="isnull", exclude=True, label="Applied to a package"
    )
    due = django_filters.BooleanFilter(method="filter_due", label="Due for review")

    class Meta:
        model = PanelDecision
        fields = ["client", "package", "reference", "basis", "meeting_from", "meeting_to", "applied", "due"]

    def filter_due(self, queryset, name, value):
        from django.utils import timezone

        if value:
            return queryset.due_for_review(by=timezone.localdate())
        return queryset
