"""API v1 viewsets of the shared core. Each one: fetch through the permission gate (base), validate
with a serializer, call one service (or save reference data through ``full_clean``), respond."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view

from commissioning import choices, registry
from commissioning.api import serializers
from commissioning.api.base import RestrictedModelViewSet
from commissioning.filtersets import CodeFilter, ContractFilterSet, StrictFilterSet
from commissioning.models import Contract, Organisation, Partnership, Provider
from commissioning.services import contract_create, contract_update

# --- Filters of the reference-data lists (the contract list shares ContractFilterSet with the page)


class OrganisationFilterSet(StrictFilterSet):
    code = CodeFilter(field_name="code")
    kind = django_filters.MultipleChoiceFilter(choices=choices.OrganisationKind.choices)

    class Meta:
        model = Organisation
        fields = ["code", "kind"]


class PartnershipFilterSet(StrictFilterSet):
    council = CodeFilter(field_name="council", label="Council (code)")
    nhs_commissioner = CodeFilter(field_name="nhs_commissioner", label="NHS commissioner (code)")

    class Meta:
        model = Partnership
        fields = ["council", "nhs_commissioner"]


class ProviderFilterSet(StrictFilterSet):
    organisation = CodeFilter(field_name="organisation", label="Organisation (code)")
    cqc_rating = django_filters.MultipleChoiceFilter(choices=choices.CQCRating.choices)
    service_type = django_filters.ChoiceFilter(
        choices=choices.ServiceType.choices, method="filter_service_type", label="Offers service type"
    )

    class Meta:
        model = Provider
        fields = ["organisation", "cqc_rating", "service_type"]

    def filter_service_type(self, queryset, name, value):
        return queryset.filter(service_types__contains=[value])


# --- Viewsets ------------------------------------------------------------------------------------


@extend_schema(tags=["organisations"])
@extend_schema_view(
    list=extend_schema(summary="List organisations"),
    retrieve=extend_schema(summary="One organisation"),
)
class OrganisationViewSet(RestrictedModelViewSet):
    """Councils, NHS commissioners and trusts, providers and voluntary bodies, by `code`. Shared by
    every partnership; finance officers and administrators may change them."""

    model = Organisation
    serializer_class = serializers.OrganisationSerializer
    filterset_class = OrganisationFilterSet
    ordering_fields = ["code", "name", "kind", "payment_terms_days"]
    csv_filename = "organisations"


@extend_schema(tags=["partnerships"])
@extend_schema_view(
    list=extend_schema(summary="List partnerships"),
    retrieve=extend_schema(summary="One partnership"),
)
class PartnershipViewSet(RestrictedModelViewSet):
    """The partnerships granted to you: a council and an NHS commissioner (organisation codes).
    Only administrators change them."""

    model = Partnership
    serializer_class = serializers.PartnershipSerializer
    filterset_class = PartnershipFilterSet
    select_related = ("council", "nhs_commissioner")
    ordering_fields = ["name"]
    csv_filename = "partnerships"


@extend_schema(tags=["providers"])
@extend_schema_view(
    list=extend_schema(summary="List providers"),
    retrieve=extend_schema(summary="One provider"),
)
class ProviderViewSet(RestrictedModelViewSet):
    """Care providers and voluntary bodies (organisation code) with their CQC registration."""

    model = Provider
    serializer_class = serializers.ProviderSerializer
    filterset_class = ProviderFilterSet
    select_related = ("organisation",)
    ordering_fields = ["organisation__name", "cqc_rating", "cqc_location_id"]
    csv_filename = "providers"


@extend_schema(tags=["contracts"])
@extend_schema_view(
    list=extend_schema(summary="List contracts"),
    retrieve=extend_schema(summary="One contract"),
    create=extend_schema(summary="Record a contract"),
    partial_update=extend_schema(
        summary="Change a contract",
        description=(
            "Send `version` (as loaded) or If-Match: required (428 without); 409 if someone changed it since."
        ),
        responses={
            200: serializers.ContractSerializer,
            409: OpenApiResponse(description="The contract changed since the given version; nothing saved."),
        },
    ),
)
class ContractViewSet(RestrictedModelViewSet):
    """Contracts of the partnerships granted to you. Money is a string with two decimals, dates
    are YYYY-MM-DD, the lead commissioner is an organisation code."""

    # Writes go through contract_create / contract_update, the services the contract pages call.

    model = Contract
    serializer_class = serializers.ContractSerializer
    filterset_class = ContractFilterSet
    select_related = ("lead_commissioner",)
    ordering_fields = ["reference", "service", "service_type", "annual_value", "start", "end", "status"]
    csv_filename = "contracts"

    def get_queryset(self):
        qs = super().get_queryset()
        related = [name for field in registry.extension_fields(Contract) for name in field.select_related]
        return qs.select_related(*related) if related else qs

    def _save_extensions(self, contract: Contract, sent: dict) -> Contract:
        """The fields the domain apps keep about a contract (``schedule``), through their services."""
        for extension in registry.extension_fields(Contract):
            if extension.name in sent:
                extension.save(instance=contract, value=sent[extension.name], by=self.request.user)
        return contract

    def _split(self, serializer) -> tuple[dict, dict]:
        fields = dict(serializer.validated_data)
        sent = {e.name: fields.pop(e.name) for e in registry.extension_fields(Contract) if e.name in fields}
        return fields, sent

    def create_object(self, serializer):
        fields, sent = self._split(serializer)
        return self._save_extensions(contract_create(by=self.request.user, **fields), sent)

    def update_object(self, serializer):
        fields, sent = self._split(serializer)
        version = fields.pop("version", None)
        contract = contract_update(
            contract=serializer.instance, by=self.request.user, version=version, **fields
        )
        return self._save_extensions(contract, sent)
