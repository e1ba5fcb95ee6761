"""Serializers of the shared core (api.md). They validate shapes; rules live in services and
model constraints. Names here are the API contract: change them only with a new version."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from commissioning import registry
from commissioning.api.fields import (
    MoneyField,
    OrganisationCodeField,
    ServiceTypesField,
    VisiblePrimaryKeyRelatedField,
)
from commissioning.choices import OrganisationKind
from commissioning.models import Contract, Organisation, Partnership, Provider


class CleanModelSerializer(serializers.ModelSerializer):
    # Saves through full_clean(), so the model's validators and constraints (e.g. a check
    # constraint) answer 400 naming the field instead of reaching the database as an IntegrityError.
    # For plain reference data without a service; models with services are written by the view.
    # (No docstring: drf-spectacular would publish it as every subclass's schema description.)

    def create(self, validated_data):
        instance = self.Meta.model(**validated_data)
        instance.full_clean()
        instance.save()
        return instance

    def update(self, instance, validated_data):
        for name, value in validated_data.items():
            setattr(instance, name, value)
        instance.full_clean()
        instance.save()
        return instance


class OrganisationSerializer(CleanModelSerializer):
    """An organisation, known across the API by its `code`."""

    class Meta:
        model = Organisation
        fields = ["id", "code", "name", "kind", "payment_terms_days", "address"]


class PartnershipSerializer(CleanModelSerializer):
    """A council and an NHS commissioner working together under a section 75 agreement."""

    council = OrganisationCodeField(kinds=[OrganisationKind.COUNCIL])
    nhs_commissioner = OrganisationCodeField(kinds=[OrganisationKind.NHS_COMMISSIONER])

    class Meta:
        model = Partnership
        fields = ["id", "name", "council", "nhs_commissioner"]


class ProviderSerializer(CleanModelSerializer):
    """A care provider or voluntary body (organisation code) and its CQC registration."""

    organisation = OrganisationCodeField(kinds=[OrganisationKind.PROVIDER, OrganisationKind.VOLUNTARY])
    service_types = ServiceTypesField(required=False)

    class Meta:
        model = Provider
        fields = ["id", "organisation", "cqc_location_id", "cqc_rating", "service_types"]
        extra_kwargs = {
            "cqc_location_id": {
                "validators": [
                    UniqueValidator(
                        queryset=Provider.objects.exclude(cqc_location_id=""),
                        message="Another provider already has this CQC location ID.",
                    )
                ]
            }
        }


class ContractSerializer(serializers.ModelSerializer):
    """A contract of a partnership with a provider. Money is a string with two decimals."""

    # Shapes only: contract_create / contract_update apply the rules (lead is a partner, end after
    # start, reference unique in the partnership). api.md's `schedule` is budgets' own field.

    partnership = VisiblePrimaryKeyRelatedField(model=Partnership)
    provider = VisiblePrimaryKeyRelatedField(model=Provider)
    lead_commissioner = OrganisationCodeField(
        kinds=[OrganisationKind.COUNCIL, OrganisationKind.NHS_COMMISSIONER],
        help_text="Code of the partner organisation leading the contract.",
    )
    annual_value = MoneyField()
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=(
            "Increases with every change. On PATCH, send the version you loaded (or If-Match): "
            "without it 428; if the contract has changed since, 409 with the current version. "
            "Ignored on create."
        ),
    )

    class Meta:
        model = Contract
        fields = [
            "id",
            "partnership",
            "reference",
            "provider",
            "lead_commissioner",
            "service",
            "service_type",
            "annual_value",
            "start",
            "end",
            "status",
            "procurement_route",
            "version",
        ]
        # (partnership, reference) uniqueness is checked once, by the service's full_clean().
        validators: list = []

    def get_fields(self):
        """The core's fields, then those the domain apps keep about a contract in their own tables
        (``registry.add_extension_field``: budgets' ``schedule``)."""
        fields = super().get_fields()
        for extension in registry.extension_fields(Contract):
            fields[extension.name] = extension.api_field()
        return fields

    def validate(self, attrs):
        if self.instance is None:
            attrs.pop("version", None)
        return attrs
