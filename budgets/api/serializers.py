"""Serializers of the budget endpoints (api.md). They check shapes; the rules are in
``budgets.services``. Money is a string with two decimals, organisations are codes, financial
years are their starting year and periods are ``YYYY-MM``."""

from __future__ import annotations

from datetime import date

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from budgets import periods, selectors, services
from budgets.models import (
    YEAR_MAX,
    YEAR_MIN,
    BudgetLine,
    ContributionPlan,
    Frequency,
    FundingStream,
    MonthlyPosition,
    Review,
    Schedule,
    Section75Agreement,
    Variation,
)
from commissioning.api.fields import MoneyField, OrganisationCodeField, VisiblePrimaryKeyRelatedField
from commissioning.models import Partnership

VERSION_HELP = (
    "Increases with every change. A change must send the version it was made from (here or as "
    "If-Match): without it 428; if the record has changed since, 409 with the current version. "
    "Ignored on create."
)


def _decision_field():
    from governance.models import Decision

    return VisiblePrimaryKeyRelatedField(
        model=Decision, required=False, allow_null=True, help_text="Id of the approving decision"
    )


def _decision_model():
    from governance.models import Decision

    return Decision


def _paper_model():
    from governance.models import Paper

    return Paper


def _version_field():
    return serializers.IntegerField(required=False, min_value=1, help_text=VERSION_HELP)


@extend_schema_field(OpenApiTypes.STR)
class PeriodField(serializers.Field):
    """A calendar month as ``YYYY-MM``; stored as its first day."""

    default_error_messages = {"invalid": periods.PERIOD_FORMAT}

    def to_representation(self, value: date) -> str:
        return value.strftime("%Y-%m")

    def to_internal_value(self, data) -> date:
        try:
            return periods.parse_period(data)
        except ValueError:
            self.fail("invalid")


class _ServiceSerializer(serializers.ModelSerializer):
    def validate(self, attrs):
        if self.instance is None:
            attrs.pop("version", None)
        return attrs


def _function_names_field(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(allow_blank=True), required=False, help_text=help_text
    )


class AgreementSerializer(_ServiceSerializer):
    """A section 75 agreement of a partnership; the host is one of its partners (code)."""

    partnership = VisiblePrimaryKeyRelatedField(model=Partnership)
    host = OrganisationCodeField(help_text="Code of the host partner, e.g. LBB")
    decision = _decision_field()
    # Names as sent: the service trims them, drops blank and repeated ones and refuses an overlong
    # one naming the field, as it does for the form (services.agreement_validate).
    nhs_functions = _function_names_field(
        "NHS functions delegated (regulation 5 of the 2000 Regulations), each a named item"
    )
    council_functions = _function_names_field(
        "Health-related council functions delegated (regulation 6), each a named item"
    )
    earliest_exit_date = serializers.DateField(
        read_only=True, allow_null=True, help_text="The day notice given today would end the agreement"
    )
    signed_document = serializers.SerializerMethodField(
        help_text="Where to download the signed agreement (PDF; uploaded on the agreement's page)"
    )
    version = _version_field()

    class Meta:
        model = Section75Agreement
        fields = [
            "id",
            *services.RECORD_FIELDS,
            *services.TERM_FIELDS,
            "earliest_exit_date",
            "signed_document",
            "signed_document_name",
            "version",
        ]
        read_only_fields = ["signed_document_name"]
        validators: list = []

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_signed_document(self, agreement) -> str | None:
        return _pdf_url(self, agreement.signed_document, "budgets:agreement-document", agreement.pk)


class FixedShareSerializer(serializers.Serializer):
    organisation = OrganisationCodeField()
    percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, coerce_to_string=True
    )


class ScheduleSerializer(_ServiceSerializer):
    """A schedule of an agreement: its arrangement, integration level and risk-share rules.
    ``fixed_shares`` (organisation code and percent, summing to 100) apply to a `fixed` rule."""

    agreement = VisiblePrimaryKeyRelatedField(model=Section75Agreement)
    fixed_shares = FixedShareSerializer(many=True, required=False)
    version = _version_field()

    class Meta:
        model = Schedule
        fields = [
            "id",
            "agreement",
            "number",
            "title",
            "arrangement",
            "integration_level",
            "overspend_rule",
            "underspend_rule",
            "fixed_shares",
            "version",
        ]
        validators: list = []


class FundingStreamSerializer(serializers.ModelSerializer):
    """A funding stream of a partnership, contributed by one partner (code)."""

    partnership = VisiblePrimaryKeyRelatedField(model=Partnership)
    organisation = OrganisationCodeField(help_text="Code of the contributing partner")

    class Meta:
        model = FundingStream
        fields = ["id", "partnership", "name", "organisation"]
        validators: list = []


class BudgetLineSerializer(_ServiceSerializer):
    """A budget line of a schedule for one financial year (its starting year) and funding stream."""

    schedule = VisiblePrimaryKeyRelatedField(model=Schedule)
    funding_stream = VisiblePrimaryKeyRelatedField(model=FundingStream)
    year = serializers.IntegerField(min_value=YEAR_MIN, max_value=YEAR_MAX, help_text="2022 is 2022/23")
    amount = MoneyField()
    decision = _decision_field()
    version = _version_field()

    class Meta:
        model = BudgetLine
        fields = [
            "id",
            "schedule",
            "name",
            "year",
            "funding_stream",
            "amount",
            "status",
            "decision",
            "version",
        ]
        validators: list = []


class MonthlyPositionSerializer(_ServiceSerializer):
    """The position of a budget line at a period: actual spend to date and forecast outturn.
    Locked (read-only) once reported to a board meeting that has been held."""

    budget_line = VisiblePrimaryKeyRelatedField(model=BudgetLine)
    period = PeriodField()
    actual_to_date = MoneyField()
    forecast_outturn = MoneyField()
    locked = serializers.SerializerMethodField()
    version = _version_field()

    class Meta:
        model = MonthlyPosition
        fields = [
            "id",
            "budget_line",
            "period",
            "actual_to_date",
            "forecast_outturn",
            "commentary",
            "locked",
            "version",
        ]
        validators: list = []

    def get_locked(self, position) -> bool:
        return position.is_locked


class AmountByOrganisationSerializer(serializers.Serializer):
    organisation = serializers.CharField()
    amount = MoneyField(non_negative=False)


class AmountByStreamSerializer(serializers.Serializer):
    funding_stream = serializers.CharField()
    organisation = serializers.CharField()
    amount = MoneyField(non_negative=False)


class ScheduleSummarySerializer(serializers.Serializer):
    """Derived figures of a schedule for a year at a period (read-only)."""

    year = serializers.IntegerField()
    period = serializers.CharField(allow_null=True, help_text="YYYY-MM; null when nothing is reported yet")
    total = MoneyField()
    by_partner = AmountByOrganisationSerializer(many=True)
    by_stream = AmountByStreamSerializer(many=True)
    forecast_outturn = MoneyField()
    variance = MoneyField(non_negative=False)
    rule = serializers.CharField(help_text="The risk-share rule applied (overspend or underspend rule)")
    risk_share = AmountByOrganisationSerializer(many=True)
    complete = serializers.BooleanField(
        help_text="Every line has a position for the period itself; if not, the figures above include "
        "earlier months' positions carried forward and lines at budget"
    )
    lines_carried_forward = serializers.IntegerField(
        help_text="Lines whose figures are an earlier month's position, carried forward to the period"
    )
    lines_without_position = serializers.IntegerField(
        help_text="Lines with no position this year up to the period: forecast at budget"
    )


def _pdf_url(serializer, field_file, url_name: str, pk: int) -> str | None:
    if not field_file:
        return None
    url = reverse(url_name, args=[pk])
    request = serializer.context.get("request")
    return request.build_absolute_uri(url) if request else url


class VariationSerializer(serializers.ModelSerializer):
    """A variation of an agreement: numbered by the service (1, 2, ...), approved by a decision of a
    board of the agreement's partnership. Recording one makes the agreement `varied`. The signed
    deed (PDF) is uploaded on the agreement's page."""

    agreement = VisiblePrimaryKeyRelatedField(model=Section75Agreement)
    decision = VisiblePrimaryKeyRelatedField(
        model=_decision_model(), help_text="Id of the decision that approved the variation"
    )
    schedules = VisiblePrimaryKeyRelatedField(
        model=Schedule, many=True, required=False, help_text="Ids of the schedules it touches"
    )
    signed_deed = serializers.SerializerMethodField(help_text="Where to download the signed deed (PDF)")

    class Meta:
        model = Variation
        fields = [
            "id",
            "agreement",
            "number",
            "effective_from",
            "changes",
            "schedules",
            "decision",
            "signed_deed",
            "signed_deed_name",
        ]
        read_only_fields = ["number", "signed_deed_name"]
        validators: list = []

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_signed_deed(self, variation) -> str | None:
        return _pdf_url(self, variation.signed_deed, "budgets:variation-deed", variation.pk)


class ReviewSerializer(_ServiceSerializer):
    """A review of an agreement for a financial year: due, held on, outcome (`continue`, `vary`,
    `give_notice`) and the decision or paper it went to. Its agreement and year are fixed once
    recorded."""

    agreement = VisiblePrimaryKeyRelatedField(model=Section75Agreement)
    decision = _decision_field()
    paper = VisiblePrimaryKeyRelatedField(
        model=_paper_model(), required=False, allow_null=True, help_text="Id of the paper it went to"
    )
    year = serializers.IntegerField(
        min_value=YEAR_MIN, max_value=YEAR_MAX, required=False, help_text="Default: the year it is due in"
    )
    version = _version_field()

    class Meta:
        model = Review
        fields = [
            "id",
            "agreement",
            "year",
            "due",
            "held_on",
            "outcome",
            "decision",
            "paper",
            "notes",
            "version",
        ]
        validators: list = []

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is not None:
            for name in ("agreement", "year"):
                if name in attrs and attrs.pop(name) != getattr(self.instance, name):
                    raise serializers.ValidationError({name: [f"A review's {name} cannot change."]})
        return attrs


class ContractScheduleField(VisiblePrimaryKeyRelatedField):
    """``contracts/``' ``schedule`` (api.md): the id of the schedule funding the contract, or null.
    Budgets keeps it (``ContractSchedule``) and adds it to the core's contract API
    (``commissioning.registry.add_extension_field``); a schedule the user may not see is refused
    as if it did not exist."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("help_text", "Id of the section 75 schedule funding the contract, or null")
        super().__init__(model=Schedule, **kwargs)

    def get_attribute(self, contract):
        from rest_framework.relations import PKOnlyObject

        link = getattr(contract, "funding_schedule_link", None)
        return PKOnlyObject(pk=link.schedule_id) if link is not None else None


class InstalmentSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    due = serializers.DateField()
    amount = MoneyField()
    invoice = serializers.IntegerField(allow_null=True, help_text="Id of its invoice once raised")
    invoice_number = serializers.CharField(allow_null=True, help_text="Once issued")


class ContributionPlanSerializer(_ServiceSerializer):
    """A partner's contribution to a pooled schedule for a year (rules.md rule 2): how often the host
    invoices it. `amount` (the schedule's approved lines funded by the partner's streams) and the
    `instalments` are derived; the worker raises each instalment's draft invoice (kind
    `contribution`) on its due date, or at once when it is already past."""

    schedule = VisiblePrimaryKeyRelatedField(model=Schedule)
    year = serializers.IntegerField(min_value=YEAR_MIN, max_value=YEAR_MAX)
    partner = OrganisationCodeField()
    frequency = serializers.ChoiceField(choices=Frequency.choices, default=Frequency.QUARTERLY)
    amount = serializers.SerializerMethodField()
    instalments = serializers.SerializerMethodField()
    version = _version_field()

    class Meta:
        model = ContributionPlan
        fields = ["id", "schedule", "year", "partner", "frequency", "amount", "instalments", "version"]
        validators: list = []

    def _row(self, plan):
        rows = self.context.get("plan_rows")
        if rows is None or plan.pk not in rows:
            schedule = selectors.with_related(Schedule.objects.filter(pk=plan.schedule_id)).get()
            rows = {r.plan.pk: r for r in selectors.plan_rows([schedule], plan.year) if r.plan is not None}
            self.context.setdefault("plan_rows", {}).update(rows)
        return rows.get(plan.pk)

    def get_amount(self, plan) -> str:
        row = self._row(plan)
        return f"{row.amount:.2f}" if row else "0.00"

    @extend_schema_field(InstalmentSerializer(many=True))
    def get_instalments(self, plan) -> list:
        row = self._row(plan)
        if row is None:
            return []
        return [
            {
                "number": i.number,
                "due": i.due.isoformat(),
                "amount": f"{i.amount:.2f}",
                "invoice": i.invoice.pk if i.raised else None,
                "invoice_number": i.invoice.number if i.raised else None,
            }
            for i in row.instalments
        ]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is not None:
            for name in ("schedule", "year", "partner"):
                if name in attrs and attrs.pop(name) != getattr(self.instance, name):
                    message = f"A contribution plan's {name} cannot change."
                    raise serializers.ValidationError({name: [message]})
        return attrs
