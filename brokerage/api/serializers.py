"""Serializers of the brokerage API (api.md). They check shapes; the services apply the rules.
Organisations are codes, money is a string with two places, dates are YYYY-MM-DD."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from commissioning.api.fields import MoneyField, OrganisationCodeField, VisiblePrimaryKeyRelatedField
from commissioning.api.rows import RowSerializerMixin
from commissioning.choices import OrganisationKind
from commissioning.models import Partnership, Provider, User

from ..models import (
    Client,
    FundingBasis,
    FundingSplit,
    Offer,
    Package,
    PackageCost,
    PanelDecision,
    PriceChange,
    RateCard,
    Referral,
    SuspensionTreatment,
    Unit,
)
from ..models.packages import package_reference
from ..nhs_number import normalise
from ..roles import sees_personal_details

_FUNDER_KINDS = [OrganisationKind.COUNCIL, OrganisationKind.NHS_COMMISSIONER]


def _version_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=(
            "Increases with every change. A change must send the version it was made from (here or "
            "as If-Match): without it 428; if the record has changed since, 409 with the current "
            "version. Ignored on create."
        ),
    )


class PackageReferenceField(serializers.CharField):
    """A package's reference (``P000008``) beside its id, read from the id: no query."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "package_id")
        kwargs.setdefault("help_text", "The package's reference, as people read it (P000008).")
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value) -> str:
        return package_reference(value)


def _client_reference_field(source: str) -> serializers.CharField:
    return serializers.CharField(
        source=source, read_only=True, help_text="The client's case reference, as people read it."
    )


class ClientSerializer(serializers.ModelSerializer):
    """A client of the partnership. Finance roles do not receive the date of birth."""

    partnership = VisiblePrimaryKeyRelatedField(model=Partnership)
    nhs_number = serializers.CharField(
        max_length=20, required=False, allow_blank=True, help_text="10 digits; spaces are ignored"
    )

    class Meta:
        model = Client
        fields = [
            "id",
            "partnership",
            "nhs_number",
            "case_reference",
            "given_name",
            "family_name",
            "date_of_birth",
            "cohort",
            "gp_practice",
            "resident_borough",
        ]
        validators: list = []  # uniqueness is checked once, by the service's full_clean()

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and not sees_personal_details(request.user):
            fields.pop("date_of_birth")
        return fields

    def validate_nhs_number(self, value):
        from ..nhs_number import validate_nhs_number

        value = normalise(value)
        if value:
            from django.core.exceptions import ValidationError as DjangoValidationError

            try:
                validate_nhs_number(value)
            except DjangoValidationError as error:
                raise serializers.ValidationError(error.messages) from None
        return value


class ReferralSerializer(serializers.ModelSerializer):
    """A referral for a client: what is needed, how urgently, who proposes to fund it."""

    client = VisiblePrimaryKeyRelatedField(model=Client)
    proposed_funder = OrganisationCodeField(kinds=_FUNDER_KINDS, required=False, allow_null=True)
    assigned_to = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    client_reference = _client_reference_field("client.case_reference")
    version = _version_field()

    class Meta:
        model = Referral
        fields = [
            "id",
            "client",
            "client_reference",
            "service_type",
            "urgency",
            "required_start",
            "proposed_funder",
            "status",
            "assigned_to",
            "needs_summary",
            "requirement",
            "requested_by",
            "received_at",
            "version",
        ]
        read_only_fields = ["received_at"]
        extra_kwargs = {"status": {"required": False}}

    def validate(self, attrs):
        if self.instance is None:
            attrs.pop("version", None)
            if attrs.pop("status", "received") != "received":
                raise serializers.ValidationError({"status": ["A new referral is received."]})
        return attrs


class OfferSerializer(serializers.ModelSerializer):
    """An offer from a provider. Weekly cost and the difference from the rate card (per unit,
    positive when above it, null when there is no rate card in the offer's unit) are derived."""

    referral = VisiblePrimaryKeyRelatedField(model=Referral)
    provider = VisiblePrimaryKeyRelatedField(model=Provider)
    unit_rate = MoneyField()
    units_per_week = serializers.DecimalField(max_digits=6, decimal_places=2, min_value=Decimal("0.01"))
    weekly_cost = MoneyField(read_only=True)
    rate_card_rate = MoneyField(read_only=True, allow_null=True, source="get_rate_card_rate")
    rate_card_difference = MoneyField(read_only=True, allow_null=True, non_negative=False)
    needs_approval = serializers.BooleanField(read_only=True)
    approved_by = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    client_reference = _client_reference_field("referral.client.case_reference")

    class Meta:
        model = Offer
        fields = [
            "id",
            "referral",
            "client_reference",
            "provider",
            "unit_rate",
            "units_per_week",
            "unit",
            "earliest_start",
            "status",
            "weekly_cost",
            "rate_card_rate",
            "rate_card_difference",
            "needs_approval",
            "approved_by",
            "approved_at",
            "notes",
        ]
        read_only_fields = ["status", "approved_at"]

    def validate(self, attrs):
        if self.instance is not None and "referral" in attrs and attrs["referral"] != self.instance.referral:
            raise serializers.ValidationError({"referral": ["An offer cannot move to another referral."]})
        return attrs


class OfferAcceptSerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="Defaults to the offer's earliest start")
    paying_organisation = OrganisationCodeField(
        kinds=_FUNDER_KINDS, required=False, help_text="Defaults to the partnership's council"
    )


class OfferDeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, help_text="Why the offer is declined (required)")


class RateCardSerializer(serializers.ModelSerializer):
    """The council's baseline price of a service type for a financial year (its starting year)."""

    partnership = VisiblePrimaryKeyRelatedField(model=Partnership)
    unit_rate = MoneyField()

    class Meta:
        model = RateCard
        fields = ["id", "partnership", "service_type", "year", "unit_rate", "unit"]
        validators: list = []


class PackageSerializer(RowSerializerMixin, serializers.ModelSerializer):
    """A package of care bought for a client. Costs and funding change through
    `change-cost/` and `change-funding/`, which keep the history."""

    # A list page is built from ``.values()`` rows the fields below read (``RowSerializerMixin``).

    client = VisiblePrimaryKeyRelatedField(model=Client)
    provider = VisiblePrimaryKeyRelatedField(model=Provider)
    paying_organisation = OrganisationCodeField(kinds=_FUNDER_KINDS)
    referral = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    reference = PackageReferenceField(source="pk")
    client_reference = _client_reference_field("client.case_reference")
    version = _version_field()

    class Meta:
        model = Package
        fields = [
            "id",
            "reference",
            "client",
            "client_reference",
            "provider",
            "service_type",
            "start",
            "end",
            "paying_organisation",
            "status",
            "referral",
            "version",
        ]

    def validate(self, attrs):
        if self.instance is None:
            attrs.pop("version", None)
        else:
            for name in ("client", "start"):
                if name in attrs and attrs[name] != getattr(self.instance, name):
                    raise serializers.ValidationError(
                        {name: ["This cannot be changed once the package exists."]}
                    )
                attrs.pop(name, None)
        return attrs


class PackageCostSerializer(serializers.ModelSerializer):
    """One row of a package's cost history. Weekly cost = unit rate x units per week."""

    package = VisiblePrimaryKeyRelatedField(model=Package)
    unit_rate = MoneyField()
    units_per_week = serializers.DecimalField(max_digits=6, decimal_places=2, min_value=Decimal("0.01"))
    weekly_cost = MoneyField(read_only=True)
    package_reference = PackageReferenceField()

    class Meta:
        model = PackageCost
        fields = [
            "id",
            "package",
            "package_reference",
            "effective_from",
            "effective_to",
            "unit_rate",
            "units_per_week",
            "unit",
            "weekly_cost",
        ]


class ShareSerializer(serializers.Serializer):
    organisation = OrganisationCodeField(kinds=_FUNDER_KINDS)
    percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        coerce_to_string=True,
    )


class FundingSplitSerializer(serializers.ModelSerializer):
    """One row of a package's funding history: who pays what percentage (summing to 100)."""

    package = VisiblePrimaryKeyRelatedField(model=Package)
    shares = ShareSerializer(many=True)

    package_reference = PackageReferenceField()

    class Meta:
        model = FundingSplit
        fields = [
            "id",
            "package",
            "package_reference",
            "effective_from",
            "effective_to",
            "shares",
            "basis",
            "decision_reference",
        ]


class PanelDecisionSerializer(serializers.ModelSerializer):
    """A joint funding panel decision for a client: the shares it decided from its effective date
    (which may be in the past). `package` is set when the decision is applied (`apply/`) or when a
    funding change cites it; a split with basis `panel_decision` must cite a decision of its client
    by `reference`. Recorded by brokerage managers."""

    client = VisiblePrimaryKeyRelatedField(model=Client)
    client_reference = _client_reference_field("client.case_reference")
    shares = ShareSerializer(many=True, allow_empty=False)
    package = serializers.IntegerField(source="package_id", read_only=True, allow_null=True)
    package_reference = PackageReferenceField(allow_null=True)
    applied_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = PanelDecision
        fields = [
            "id",
            "client",
            "client_reference",
            "reference",
            "meeting_date",
            "effective_from",
            "effective_to",
            "review_date",
            "basis",
            "shares",
            "package",
            "package_reference",
            "notes",
            "applied_at",
        ]
        validators: list = []  # the reference's uniqueness in the partnership is the service's


class PanelApplySerializer(serializers.Serializer):
    package = VisiblePrimaryKeyRelatedField(
        model=Package,
        help_text="A package of the decision's client: its funding changes from the decision's date.",
    )
    version = _version_field()


class ChangeCostSerializer(serializers.Serializer):
    """A price from a date. Compared with the rate card of the package's partnership and service type,
    in this unit, for the financial year of `effective_from`: at or below it the change applies at once,
    above it (or with no card) it waits for a brokerage manager who did not propose it."""

    effective_from = serializers.DateField(help_text="The price applies from this day (past dates allowed)")
    unit_rate = MoneyField(help_text="The price per unit, compared with the rate card")
    units_per_week = serializers.DecimalField(max_digits=6, decimal_places=2, min_value=Decimal("0.01"))
    unit = serializers.ChoiceField(choices=Unit.choices)
    reason = serializers.CharField(
        max_length=300,
        help_text="Why the price changes (required): kept with the change and shown on the package's "
        "page and to the manager who approves it",
    )
    replaces_later_prices = serializers.BooleanField(
        required=False,
        default=False,
        help_text="A change from a date drops the prices that start on or after it: true confirms it "
        "replaces them (without it such a change is refused, naming them)",
    )
    version = _version_field()


class PriceChangeSerializer(serializers.ModelSerializer):
    """A price change of a package: applied at once at or below the rate card (`within_card`), else
    `pending` until a brokerage manager who did not propose it approves or declines it. `cost` is
    the cost row it opened (null while pending, when declined, or once a later backdated change
    replaced it); `replaced` names in words the later prices it replaced."""

    package = serializers.PrimaryKeyRelatedField(read_only=True)
    package_reference = PackageReferenceField()
    unit_rate = MoneyField(read_only=True)
    weekly_cost = MoneyField(read_only=True)
    rate_card_rate = MoneyField(read_only=True, allow_null=True)
    rate_card_difference = MoneyField(read_only=True, allow_null=True, non_negative=False)
    proposed_by = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The user who proposed it"
    )
    decided_by = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The brokerage manager who approved or declined it"
    )
    cost = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The cost row it opened (`package-costs/`)"
    )

    class Meta:
        model = PriceChange
        extra_kwargs = {
            "status": {
                "help_text": "`pending` (awaiting a manager), `approved`, `declined`, or `within_card` "
                "(at or below the card: applied at once)"
            },
            "reason": {"help_text": "Why the price changes, as its proposer gave it"},
            "decline_reason": {"help_text": "Why a manager declined it (empty unless declined)"},
        }
        fields = [
            "id",
            "package",
            "package_reference",
            "effective_from",
            "unit_rate",
            "units_per_week",
            "unit",
            "weekly_cost",
            "rate_card_rate",
            "rate_card_difference",
            "reason",
            "status",
            "proposed_by",
            "proposed_at",
            "decided_by",
            "decided_at",
            "decline_reason",
            "cost",
            "replaced",
        ]
        read_only_fields = fields


class PriceDeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, help_text="Why the price change is declined")


class ChangeFundingSerializer(serializers.Serializer):
    effective_from = serializers.DateField()
    effective_to = serializers.DateField(required=False, allow_null=True)
    shares = ShareSerializer(many=True, allow_empty=False)
    basis = serializers.ChoiceField(choices=FundingBasis.choices)
    decision_reference = serializers.CharField(required=False, allow_blank=True, max_length=40, default="")
    version = _version_field()


class SuspensionSerializer(serializers.Serializer):
    """A dated suspension of a package and what the provider is still paid on its days
    (`retained` 100%, `reduced` the `paid_percent` given, `stopped` 0%). Past dates are allowed:
    the next recharge run trues the months up."""

    id = serializers.IntegerField(read_only=True)
    package = serializers.IntegerField(source="package_id", read_only=True)
    package_reference = serializers.CharField(source="package.reference", read_only=True)
    treatment = serializers.ChoiceField(choices=SuspensionTreatment.choices)
    paid_percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="Required when reduced; 100 when retained and 0 when stopped (may be left out)",
    )
    reason = serializers.CharField(max_length=200)
    version = serializers.IntegerField(read_only=True)

    def get_fields(self):
        fields = super().get_fields()
        dated = {
            "from": serializers.DateField(source="effective_from"),
            "to": serializers.DateField(source="effective_to"),
        }
        ordered = {}
        for name, field in fields.items():
            ordered[name] = field
            if name == "package_reference":
                ordered.update(dated)
        return ordered
