"""API v1 viewsets of the brokerage app. Each one: fetch through the permission gate (base),
validate with a serializer, call one service (the same the pages call), respond."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from commissioning.api import versions
from commissioning.api.base import RestrictedModelViewSet, RestrictedReadOnlyViewSet
from commissioning.permissions import has_model_permission

from .. import services
from ..filtersets import (
    ClientFilterSet,
    FundingSplitFilterSet,
    OfferFilterSet,
    PackageCostFilterSet,
    PackageFilterSet,
    PanelDecisionFilterSet,
    PriceChangeFilterSet,
    RateCardFilterSet,
    ReferralFilterSet,
)
from ..models import (
    Client,
    FundingShare,
    FundingSplit,
    Offer,
    Package,
    PackageCost,
    PanelDecision,
    PanelDecisionShare,
    PriceChange,
    RateCard,
    Referral,
    Suspension,
)
from ..roles import is_manager
from ..services.offers import NOT_A_MANAGER as OFFER_NOT_A_MANAGER
from ..services.prices import NOT_A_MANAGER
from . import serializers

READ_AND_ADD = ["get", "post", "head", "options"]


def _shares(validated) -> list[services.Share]:
    return [services.Share(s["organisation"], s["percent"]) for s in validated]


@extend_schema(tags=["brokerage"])
@extend_schema_view(list=extend_schema(summary="List clients"), retrieve=extend_schema(summary="One client"))
class ClientViewSet(RestrictedModelViewSet):
    """Clients of your partnerships. Search with `q` (name, NHS number or case reference)."""

    model = Client
    serializer_class = serializers.ClientSerializer
    filterset_class = ClientFilterSet
    ordering_fields = ["family_name", "case_reference"]
    csv_filename = "clients"

    def create_object(self, serializer):
        return services.client_create(by=self.request.user, **serializer.validated_data)

    def update_object(self, serializer):
        return services.client_update(
            client=serializer.instance, by=self.request.user, **serializer.validated_data
        )


@extend_schema(tags=["brokerage"])
@extend_schema_view(
    list=extend_schema(summary="List referrals"), retrieve=extend_schema(summary="One referral")
)
class ReferralViewSet(RestrictedModelViewSet):
    """Referrals for brokerage. `status` may be set to `sourcing` or `cancelled`; offers move a
    referral on. PATCH sends `version` (or If-Match): 428 without, 409 if someone changed it since."""

    model = Referral
    serializer_class = serializers.ReferralSerializer
    filterset_class = ReferralFilterSet
    select_related = ("proposed_funder", "client")
    ordering_fields = ["received_at", "required_start", "urgency", "status"]
    csv_filename = "referrals"

    def get_queryset(self):
        return super().get_queryset().queue_order()

    def create_object(self, serializer):
        return services.referral_create(by=self.request.user, **serializer.validated_data)

    def update_object(self, serializer):
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        return services.referral_update(
            referral=serializer.instance, by=self.request.user, version=version, **data
        )


@extend_schema(tags=["brokerage"])
@extend_schema_view(list=extend_schema(summary="List offers"), retrieve=extend_schema(summary="One offer"))
class OfferViewSet(RestrictedModelViewSet):
    """Offers from providers, with their weekly cost and difference from the rate card. Accept,
    decline and (brokerage managers) approve through the actions."""

    model = Offer
    serializer_class = serializers.OfferSerializer
    filterset_class = OfferFilterSet
    select_related = ("referral__client",)
    ordering_fields = ["created_at", "unit_rate", "earliest_start"]
    action_permissions = {"accept": "change", "decline": "change", "approve": "change"}
    csv_filename = "offers"

    def get_queryset(self):
        return super().get_queryset().with_rate_card()

    def create_object(self, serializer):
        return services.offer_record(by=self.request.user, **serializer.validated_data)

    def update_object(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("referral", None)
        return services.offer_update(offer=serializer.instance, by=self.request.user, **data)

    def _respond(self, write):
        """Write, then answer the offer as listed, in one transaction (``respond_to_write``)."""
        return self.respond_to_write(
            write, lambda offer: self.get_serializer(self.get_queryset().get(pk=offer.pk)).data
        )

    @extend_schema(
        request=None,
        responses={
            200: serializers.OfferSerializer,
            403: OpenApiResponse(description="Not a brokerage manager, or the person who recorded the offer"),
        },
        summary="Approve an offer above the rate card",
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """A brokerage manager approves an offer above the rate card, or with no card to compare it
        with (who and when are kept). Whoever recorded the offer cannot approve it: 403."""
        if not is_manager(request.user):  # the role, before the offer is looked up
            raise PermissionDenied(OFFER_NOT_A_MANAGER)
        offer = self.get_object()
        return self._respond(lambda: services.offer_approve(offer=offer, by=request.user))

    @extend_schema(
        request=serializers.OfferDeclineSerializer,
        responses={
            200: serializers.OfferSerializer,
            403: OpenApiResponse(description="The person who recorded an offer awaiting approval"),
        },
        summary="Decline an offer",
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """`{reason}` (required): the referral's timeline keeps it. An offer awaiting a manager's
        approval is not declined by whoever recorded it: 403."""
        offer = self.get_object()
        card = offer.rate_card_rate
        refusal = services.offer_decision_refusal(offer=offer, by=request.user, rate_card=card)
        if refusal is not None:  # whoever recorded it, before the body is read (the service checks again)
            raise PermissionDenied(refusal.args[0])
        data = serializers.OfferDeclineSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._respond(
            lambda: services.offer_decline(offer=offer, by=request.user, **data.validated_data)
        )

    @extend_schema(
        request=serializers.OfferAcceptSerializer,
        responses={201: serializers.PackageSerializer},
        summary="Accept an offer: starts the package",
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Creates the package, its first cost and funding split, and closes the referral."""
        if not has_model_permission(request.user, Package, "add"):  # the role, before the lookup
            raise PermissionDenied("Your role does not allow you to start packages.")
        offer = self.get_object()
        data = serializers.OfferAcceptSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        return self.respond_to_write(
            lambda: services.offer_accept(offer=offer, by=request.user, **data.validated_data),
            lambda package: (
                serializers.PackageSerializer(package, context=self.get_serializer_context()).data
            ),
            status_code=status.HTTP_201_CREATED,
        )


@extend_schema(tags=["brokerage"])
@extend_schema_view(
    list=extend_schema(summary="List rate cards"), retrieve=extend_schema(summary="One rate card")
)
class RateCardViewSet(RestrictedModelViewSet):
    """Baseline unit rates per partnership, service type and financial year (its starting year)."""

    model = RateCard
    serializer_class = serializers.RateCardSerializer
    filterset_class = RateCardFilterSet
    ordering_fields = ["year", "service_type", "unit_rate"]
    csv_filename = "rate-cards"

    def create_object(self, serializer):
        return services.rate_card_save(by=self.request.user, **serializer.validated_data)

    def update_object(self, serializer):
        return services.rate_card_save(
            rate_card=serializer.instance, by=self.request.user, **serializer.validated_data
        )


@extend_schema(tags=["brokerage"])
@extend_schema_view(
    list=extend_schema(summary="List packages"),
    retrieve=extend_schema(summary="One package"),
    partial_update=extend_schema(
        responses={
            200: serializers.PackageSerializer,
            409: OpenApiResponse(description="The package changed since the given version; nothing saved."),
        }
    ),
)
class PackageViewSet(RestrictedModelViewSet):
    """Packages of care. Price and funding changes from a date (past dates allowed) go through
    `change-cost/` and `change-funding/`; each change sends `version` (or If-Match): 428 without,
    409 if stale."""

    model = Package
    serializer_class = serializers.PackageSerializer
    filterset_class = PackageFilterSet
    select_related = ("paying_organisation", "client")
    ordering_fields = ["start", "end", "status"]
    action_permissions = {
        "change_cost": "change",
        "change_funding": "change",
        "suspensions": "view",
        "add_suspension": "change",
    }
    csv_filename = "packages"

    def create_object(self, serializer):
        return services.package_create(by=self.request.user, **serializer.validated_data)

    def update_object(self, serializer):
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        return services.package_update(
            package=serializer.instance, by=self.request.user, version=version, **data
        )

    @extend_schema(
        request=serializers.ChangeCostSerializer,
        responses={
            201: serializers.PriceChangeSerializer,
            400: OpenApiResponse(
                description="Refused, nothing saved: no `reason`; later prices it would replace without "
                "`replaces_later_prices` (the message names them); or a price change of the package "
                "already awaits approval"
            ),
            409: OpenApiResponse(description="Stale version"),
        },
        summary="Change the price from a date",
    )
    @action(detail=True, methods=["post"], url_path="change-cost")
    def change_cost(self, request, pk=None):
        """A price change from a date (past dates allowed), with its reason. At or below the rate
        card it applies at once (`status` `within_card`); above it, or with no card, it is `pending`
        until a brokerage manager approves it (`price-changes/{id}/approve/`)."""
        package = self.get_object()
        data = serializers.ChangeCostSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The version is required and checked again under the service's lock (api/versions.py).
        values = {**data.validated_data, "version": self.edit_version}
        values["replaces_confirmed"] = values.pop("replaces_later_prices")
        return self.respond_to_write(
            lambda: services.price_change_propose(package=package, by=request.user, **values),
            lambda change: (
                serializers.PriceChangeSerializer(change, context=self.get_serializer_context()).data
            ),
            status_code=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=serializers.ChangeFundingSerializer,
        responses={
            201: serializers.FundingSplitSerializer,
            409: OpenApiResponse(description="Stale version"),
        },
        summary="Change the funding split from a date",
    )
    @action(detail=True, methods=["post"], url_path="change-funding")
    def change_funding(self, request, pk=None):
        package = self.get_object()
        data = serializers.ChangeFundingSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        # The version is required and checked again under the service's lock (api/versions.py).
        values = {**data.validated_data, "version": self.edit_version}
        values["shares"] = _shares(values["shares"])

        def represent(split):
            split = FundingSplit.objects.prefetch_related("shares__organisation").get(pk=split.pk)
            return serializers.FundingSplitSerializer(split, context=self.get_serializer_context()).data

        return self.respond_to_write(
            lambda: services.package_change_funding(package=package, by=request.user, **values),
            represent,
            status_code=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=None,
        responses={200: serializers.SuspensionSerializer(many=True)},
        summary="The package's suspensions",
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def suspensions(self, request, pk=None):
        """The package's dated suspensions, earliest first."""
        package = self.get_object()
        rows = Suspension.objects.filter(package=package).select_related("package").order_by("effective_from")
        return Response(serializers.SuspensionSerializer(rows, many=True).data)

    @extend_schema(
        request=serializers.SuspensionSerializer,
        responses={201: serializers.SuspensionSerializer, 409: OpenApiResponse(description="Stale version")},
        summary="Suspend the package for dated days (past dates allowed)",
    )
    @suspensions.mapping.post
    def add_suspension(self, request, pk=None):
        """`{from, to, treatment, paid_percent, reason, version}`: the next recharge run trues up the
        months it touches. The package's `version` (or `If-Match`) is required, as on every change."""
        package = self.get_object()
        data = serializers.SuspensionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The version is required and checked again under the service's lock (api/versions.py).
        values = {**data.validated_data, "version": self.edit_version}

        def represent(suspension):
            suspension = Suspension.objects.select_related("package").get(pk=suspension.pk)
            return serializers.SuspensionSerializer(suspension).data

        return self.respond_to_write(
            lambda: services.suspension_add(package=package, by=request.user, **values),
            represent,
            status_code=status.HTTP_201_CREATED,
        )


@extend_schema(tags=["brokerage"])
@extend_schema_view(
    list=extend_schema(summary="List price changes"), retrieve=extend_schema(summary="One price change")
)
class PriceChangeViewSet(RestrictedReadOnlyViewSet):
    """Price changes of packages (proposed through `packages/{id}/change-cost/`): who proposed each
    and why, the rate card, and who approved or declined it. A brokerage manager who did not propose
    a pending change approves it (it applies) or declines it with a reason."""

    model = PriceChange
    serializer_class = serializers.PriceChangeSerializer
    filterset_class = PriceChangeFilterSet
    ordering_fields = ["proposed_at", "effective_from"]
    action_permissions = {"approve": "change", "decline": "change"}
    csv_filename = "price-changes"

    def _manager_first(self):
        if not is_manager(self.request.user):  # the role, before the change is looked up
            raise PermissionDenied(NOT_A_MANAGER)

    def _answer(self, change):
        return Response(serializers.PriceChangeSerializer(change, context=self.get_serializer_context()).data)

    @extend_schema(
        request=None,
        responses={
            200: serializers.PriceChangeSerializer,
            400: OpenApiResponse(description="The change is not pending (already decided)"),
            403: OpenApiResponse(description="Not a brokerage manager, or the manager who proposed it"),
        },
        summary="Approve a price change",
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """It applies from its date (the prices that start on or after it are replaced). The
        manager who proposed it cannot approve it: 403."""
        self._manager_first()
        change = self.get_object()
        return self._answer(services.price_change_approve(change=change, by=request.user))

    @extend_schema(
        request=serializers.PriceDeclineSerializer,
        responses={
            200: serializers.PriceChangeSerializer,
            400: OpenApiResponse(description="No `reason`, or the change is not pending"),
            403: OpenApiResponse(description="Not a brokerage manager"),
        },
        summary="Decline a price change",
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """`{reason}` (required, shown on the package's page): the price stays as it was."""
        self._manager_first()
        change = self.get_object()
        data = serializers.PriceDeclineSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(
            services.price_change_decline(change=change, by=request.user, **data.validated_data)
        )


@extend_schema(tags=["brokerage"])
@extend_schema_view(
    list=extend_schema(summary="List package cost rows"),
    retrieve=extend_schema(summary="One cost row"),
    create=extend_schema(
        summary="Load one cost row (at or below the rate card)",
        responses={
            201: serializers.PackageCostSerializer,
            400: OpenApiResponse(
                description="Refused, nothing saved: above the rate card or with no card to compare it "
                "with (on `unit_rate`: propose it through `packages/{id}/change-cost/`), overlapping "
                "another row, leaving days without a cost, or while a price change awaits approval"
            ),
        },
    ),
)
class PackageCostViewSet(RestrictedModelViewSet):
    """The cost history of packages. POST adds one row as it is (loading a history), under the rate
    card rule of every price: at or below the card (of the partnership, service type and unit, for the
    financial year of `effective_from`) it is added; above it, or with no card to compare it with, it
    is refused (400 on `unit_rate`): a loaded row cannot wait for approval, so such a price is
    proposed through `packages/{id}/change-cost/` and applies once a brokerage manager approves it.
    Also refused if it overlaps another row, leaves days without a cost, or a price change of the
    package awaits approval. Rows are not edited: change the price."""

    model = PackageCost
    serializer_class = serializers.PackageCostSerializer
    filterset_class = PackageCostFilterSet
    http_method_names = READ_AND_ADD
    ordering_fields = ["effective_from"]
    csv_filename = "package-costs"

    def create_object(self, serializer):
        return services.package_cost_load(by=self.request.user, **serializer.validated_data)


@extend_schema(tags=["brokerage"])
@extend_schema_view(
    list=extend_schema(summary="List funding splits"), retrieve=extend_schema(summary="One funding split")
)
class FundingSplitViewSet(RestrictedModelViewSet):
    """The funding history of packages: shares by organisation code, summing to 100. POST adds
    one split as it is (refused if it overlaps another); days with no split are unfunded."""

    model = FundingSplit
    serializer_class = serializers.FundingSplitSerializer
    filterset_class = FundingSplitFilterSet
    http_method_names = READ_AND_ADD
    prefetch_related = (Prefetch("shares", queryset=FundingShare.objects.select_related("organisation")),)
    ordering_fields = ["effective_from"]
    csv_filename = "funding-splits"

    def create_object(self, serializer):
        values = dict(serializer.validated_data)
        values["shares"] = _shares(values["shares"])
        split = services.funding_split_add(by=self.request.user, **values)
        return FundingSplit.objects.prefetch_related("shares__organisation").get(pk=split.pk)


@extend_schema(tags=["brokerage"])
@extend_schema_view(
    list=extend_schema(summary="List panel decisions"), retrieve=extend_schema(summary="One panel decision")
)
class PanelDecisionViewSet(RestrictedModelViewSet):
    """Joint funding panel decisions (recorded by brokerage managers; everyone who works the
    client's packages reads them). `apply/` writes the funding split a decision makes on one of the
    client's packages, from the decision's date; it sends that package's `version` (or If-Match):
    428 without, 409 if the package changed since. Decisions are not edited: record a new one."""

    model = PanelDecision
    serializer_class = serializers.PanelDecisionSerializer
    filterset_class = PanelDecisionFilterSet
    http_method_names = READ_AND_ADD
    select_related = ("client",)
    prefetch_related = (
        Prefetch("shares", queryset=PanelDecisionShare.objects.select_related("organisation")),
    )
    ordering_fields = ["meeting_date", "effective_from", "review_date"]
    action_permissions = {"apply": "change"}
    csv_filename = "panel-decisions"

    def create_object(self, serializer):
        values = dict(serializer.validated_data)
        values["shares"] = _shares(values["shares"])
        decision = services.panel_decision_record(by=self.request.user, **values)
        return self.get_queryset().get(pk=decision.pk)

    @extend_schema(
        request=serializers.PanelApplySerializer,
        responses={
            201: serializers.FundingSplitSerializer,
            409: OpenApiResponse(description="The package changed since the given version; nothing saved."),
        },
        summary="Apply a panel decision to one of the client's packages",
    )
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        decision = self.get_object()
        data = serializers.PanelApplySerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        # The package's version: required, and checked again under the service's lock.
        version = versions.required_version(request)

        def represent(split):
            split = FundingSplit.objects.prefetch_related("shares__organisation").get(pk=split.pk)
            return serializers.FundingSplitSerializer(split, context=self.get_serializer_context()).data

        return self.respond_to_write(
            lambda: services.panel_decision_apply(
                decision=decision, package=data.validated_data["package"], by=request.user, version=version
            ),
            represent,
            status_code=status.HTTP_201_CREATED,
        )
