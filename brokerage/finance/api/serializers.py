"""Serializers of the finance API (api.md: recharge-runs, invoices and their actions, reports).
They check shapes; ``brokerage.finance.services`` applies the rules."""

from __future__ import annotations

import copy
from types import SimpleNamespace

from django.db import models
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from commissioning.api.fields import MoneyField, OrganisationCodeField, VisiblePrimaryKeyRelatedField
from commissioning.api.rows import RowSerializerMixin, row_reads
from commissioning.choices import OrganisationKind
from commissioning.models import Partnership
from commissioning.money import money_text

from ...models import Dispute, DisputeOutcome, DisputeReason, Invoice, InvoiceKind, InvoiceLine, RechargeRun
from ...models.packages import package_reference
from ...recharges import parse_period
from ..reports import report_row
from ..selectors import invoice_line_values, signed_amount

_FUNDER_KINDS = [OrganisationKind.COUNCIL, OrganisationKind.NHS_COMMISSIONER]


def _percent(value):
    """A percentage as DRF's DecimalField(5, 2) sends it (kept with two places, so never rounded)."""
    return None if value is None else f"{value:.2f}"


def _month(value):
    """A month as ``YYYY-MM`` (a formatted string: ``strftime`` took a third of a line's time)."""
    return None if value is None else f"{value.year:04d}-{value.month:02d}"


@extend_schema_field({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$", "example": "2022-05"})
class PeriodField(serializers.Field):
    """A calendar month as ``YYYY-MM``."""

    def to_representation(self, value):
        return _month(value)

    def to_internal_value(self, data):
        try:
            return parse_period(data if isinstance(data, str) else "")
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None


class PercentField(serializers.DecimalField):
    """A percentage (a column of two places, 0 to 100) as DRF's DecimalField sends it, formatted
    without a decimal context made per value (which took a third of an invoice line's time)."""

    def to_representation(self, value):
        return _percent(value)


# Described by a pattern, not an enum component: "outcome" is also the governance decision outcome,
# and two enums of one field name collide in the schema.
_OUTCOMES = {
    "type": "string",
    "pattern": "^(upheld|corrected|waived)$",
    "description": "`upheld`, `corrected` or `waived`",
}


@extend_schema_field(_OUTCOMES)
class OutcomeField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=DisputeOutcome.choices, **kwargs)


@extend_schema_field(
    {
        "type": "string",
        "pattern": "^(upheld|corrected|waived)?$",
        "description": "`upheld`, `corrected`, `waived` or blank (open)",
    }
)
class OutcomeOrBlankField(serializers.CharField):
    pass


class RechargeRunSerializer(serializers.ModelSerializer):
    issuer = serializers.SlugRelatedField(slug_field="code", read_only=True)
    period = PeriodField(read_only=True)
    invoices = serializers.SerializerMethodField()
    credit_notes = serializers.SerializerMethodField()
    total_invoiced = MoneyField(read_only=True)
    total_credited = MoneyField(read_only=True)

    class Meta:
        model = RechargeRun
        fields = [
            "id",
            "partnership",
            "issuer",
            "period",
            "status",
            "invoices",
            "credit_notes",
            "total_invoiced",
            "total_credited",
            "package_count",
            "unfunded",
            "errors",
            "failure",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def _ids(self, run, kind) -> list[int]:
        return [i.pk for i in run.invoices.all() if i.kind == kind]

    def get_invoices(self, run) -> list[int]:
        return self._ids(run, InvoiceKind.INVOICE)

    def get_credit_notes(self, run) -> list[int]:
        return self._ids(run, InvoiceKind.CREDIT_NOTE)


class RechargeRunCreateSerializer(serializers.Serializer):
    issuer = OrganisationCodeField(kinds=_FUNDER_KINDS)
    period = PeriodField()
    partnership = VisiblePrimaryKeyRelatedField(
        model=Partnership, required=False, help_text="Needed only when the issuer is in several of yours"
    )

    def validate(self, attrs):
        if "partnership" not in attrs:
            user = self.context["request"].user
            issuer = attrs["issuer"]
            candidates = list(
                Partnership.objects.restrict(user, "view").filter(
                    **{"council": issuer}
                    if issuer.kind == OrganisationKind.COUNCIL
                    else {"nhs_commissioner": issuer}
                )
            )
            if len(candidates) != 1:
                raise serializers.ValidationError(
                    {
                        "partnership": [
                            "Name the partnership: the issuer is not a partner of exactly one of yours."
                        ]
                    }
                )
            attrs["partnership"] = candidates[0]
        return attrs


def _dated_as_from_to(fields: dict) -> dict:
    """api.md names a line's dates ``from`` and ``to`` (Python keywords, so not declarable as
    attributes): renamed here, so the schema documents the keys the API sends."""
    renamed = {}
    for name, field in fields.items():
        if name in ("start", "end"):
            field.source = name
            name = "from" if name == "start" else "to"
        renamed[name] = field
    return renamed


class InvoiceLineSerializer(RowSerializerMixin, serializers.ModelSerializer):
    """One line of an invoice or credit note."""

    # The one statement of a line's fields: the schema, the ``.values()`` an invoice's lines are
    # read with (``row_values()``, given to ``selectors.invoice_line_values``) and each line's JSON
    # and CSV (``represent_row``: no DRF field-by-field pass over the thousands of lines of a
    # borough's month) all follow from the fields below (``commissioning.api.rows``).

    month = PeriodField(read_only=True)
    corrects_month = PeriodField(read_only=True, allow_null=True)
    weekly_cost = MoneyField(read_only=True)
    amount = MoneyField(read_only=True, non_negative=False)
    package_reference = serializers.CharField(source="package.reference", read_only=True, allow_null=True)
    package = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    dispute_status = serializers.SerializerMethodField()

    # The model's other decimals (``percent``, ``paid_percent``), with what the model says of them.
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DecimalField: PercentField,
    }

    class Meta:
        model = InvoiceLine
        # The line's own columns in their one order (InvoiceLine.CONTENT_COLUMNS), the package as
        # its id under the name ``package``.
        fields = ["id", "package_reference", "package", *InvoiceLine.CONTENT_COLUMNS[1:], "dispute_status"]
        read_only_fields = fields

    def get_fields(self):
        return _dated_as_from_to(super().get_fields())

    def to_representation(self, instance):
        if isinstance(instance, dict):  # a row of ``selectors.invoice_line_values``
            return self.represent_row(instance)
        if not hasattr(instance, "dispute_status"):  # not read ``with_dispute_status()``
            return self.represent_row(
                {key: getattr(instance, key) for key in self.row_values() if key != "dispute_status"}
                | {"dispute_status": self.get_dispute_status(instance)}
            )
        return super().to_representation(instance)

    @row_reads("package_id")
    def row_package_reference(self, row):
        return None if row["package_id"] is None else package_reference(row["package_id"])

    @row_reads("dispute_status")
    def row_dispute_status(self, row):
        return row["dispute_status"]

    def get_dispute_status(self, line) -> str | None:
        """``open``, ``upheld``, ``credited`` (the latest dispute of the line), or null."""
        if hasattr(line, "dispute_status"):  # read with InvoiceLine.objects.with_dispute_status()
            return line.dispute_status
        return (
            InvoiceLine.objects.with_dispute_status().values_list("dispute_status", flat=True).get(pk=line.pk)
        )


class InvoiceSerializer(RowSerializerMixin, serializers.ModelSerializer):
    """An invoice or credit note as listed: without its lines. `line_count` says how many it has;
    `lines_url` (`invoices/{id}/lines/`) gives them a page at a time, or all with `?format=csv`.
    One invoice (`invoices/{id}/`) embeds all its lines."""

    # Decision (issue 7; reasons in ``brokerage.finance.api.views``' docstring): the list stopped
    # embedding the lines api.md's invoices row shows, 27 MB a page at borough size.

    issuer = serializers.SlugRelatedField(slug_field="code", read_only=True)
    recipient = serializers.SlugRelatedField(slug_field="code", read_only=True)
    period = PeriodField(read_only=True)
    total = MoneyField(
        read_only=True, non_negative=False, source="signed_total", help_text="Negative for a credit note"
    )
    amount_paid = MoneyField(read_only=True)
    amount_credited = MoneyField(read_only=True)
    outstanding = MoneyField(
        read_only=True,
        non_negative=False,
        source="signed_outstanding",
        help_text="Negative for a credit note",
    )
    pdf_ready = serializers.SerializerMethodField()
    line_count = serializers.IntegerField(read_only=True, help_text="How many lines the invoice has")
    lines_url = serializers.HyperlinkedIdentityField(
        view_name="invoice-lines", read_only=True, help_text="The invoice's lines, a page at a time"
    )

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "kind",
            "partnership",
            "issuer",
            "recipient",
            "period",
            "issue_date",
            "due_date",
            "status",
            "total",
            "amount_paid",
            "amount_credited",
            "outstanding",
            "run",
            "credit_note_for",
            "pdf_ready",
            "pdf_checksum",
            "line_count",
            "lines_url",
        ]
        read_only_fields = fields

    def get_pdf_ready(self, invoice) -> bool:
        return bool(invoice.pdf_checksum)

    # A list page is built from ``.values()`` rows the fields above read (``RowSerializerMixin``),
    # ``line_count`` annotated by the view; these give what no one column does.

    @row_reads("kind", "is_credit", "total")
    def row_total(self, row):
        return Invoice.sign_of(row["kind"], row["is_credit"]) * row["total"]

    @row_reads("kind", "is_credit", "total", "amount_paid", "amount_credited")
    def row_outstanding(self, row):
        outstanding = Invoice.outstanding_of(row["total"], row["amount_paid"], row["amount_credited"])
        return Invoice.sign_of(row["kind"], row["is_credit"]) * outstanding

    @row_reads("pdf_checksum")
    def row_pdf_ready(self, row):
        return bool(row["pdf_checksum"])

    @row_reads("id")
    def row_lines_url(self, row):
        return self._lines_url(row["id"])

    def _lines_url(self, pk) -> str:
        """What the ``lines_url`` field gives, reversed once per serializer (a page) and not per
        invoice: the URL of invoice 0 with the id put in its place."""
        if not hasattr(self, "_lines_url_parts"):
            # That one field bound, not ``self.fields`` (every field built for one URL).
            field = copy.deepcopy(self._declared_fields["lines_url"])
            field.bind("lines_url", self)
            url = field.to_representation(SimpleNamespace(pk=0))
            head, _zero, tail = url.rpartition("/0/lines/")
            self._lines_url_parts = (f"{head}/", f"/lines/{tail}")
        head, tail = self._lines_url_parts
        return f"{head}{pk}{tail}"


class InvoiceDetailSerializer(InvoiceSerializer):
    """One invoice or credit note with all its lines."""

    # The lines are read with ``.values()`` in two queries (``line_rows``; a caller may set it
    # beforehand) and built by ``InvoiceLineSerializer.represent_row``, not field by field.

    lines = InvoiceLineSerializer(many=True, read_only=True, source="line_rows")

    class Meta(InvoiceSerializer.Meta):
        fields = [*InvoiceSerializer.Meta.fields, "lines"]
        read_only_fields = fields

    def to_representation(self, instance):
        if not hasattr(instance, "line_rows"):
            instance.line_rows = list(invoice_line_values(instance, InvoiceLineSerializer.row_values()))
        if not hasattr(instance, "line_count"):
            instance.line_count = len(instance.line_rows)
        return super().to_representation(instance)

    @row_reads("line_rows")
    def row_lines(self, row):
        return row["line_rows"]


class InvoiceDetailSchema(OpenApiSerializerExtension):
    """The schema of one invoice: the listed invoice (``Invoice``) and its ``lines``, as ``allOf``.
    Two components each declaring ``kind`` and ``status`` would cost their enums their names
    (``InvoiceKindEnum``, ``InvoiceStatusEnum``) for hashed ones, and a schema warning."""

    target_class = "brokerage.finance.api.serializers.InvoiceDetailSerializer"

    def map_serializer(self, auto_schema, direction):
        listed = auto_schema.resolve_serializer(InvoiceSerializer, direction)
        line = auto_schema.resolve_serializer(InvoiceLineSerializer, direction)
        lines = {"type": "array", "items": line.ref, "readOnly": True}
        return {
            "description": InvoiceDetailSerializer.__doc__,
            "allOf": [
                listed.ref,
                {"type": "object", "properties": {"lines": lines}, "required": ["lines"]},
            ],
        }


class PaymentInputSerializer(serializers.Serializer):
    amount = MoneyField(min_value=None)
    date = serializers.DateField()
    reference = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")


class PaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    invoice = serializers.IntegerField(source="invoice_id")
    amount = MoneyField()
    date = serializers.DateField(source="paid_on")
    reference = serializers.CharField()


class DisputeInputSerializer(serializers.Serializer):
    lines = serializers.ListField(
        child=serializers.IntegerField(min_value=1), allow_empty=False, max_length=500
    )
    reason = serializers.ChoiceField(choices=DisputeReason.choices)
    note = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", help_text="Required for reason `other`"
    )

    def validate(self, attrs):
        if attrs["reason"] == DisputeReason.OTHER and not attrs["note"].strip():
            raise serializers.ValidationError(
                {"note": ["Enter a note saying what is wrong: the reason is Other."]}
            )
        return attrs


class CorrectionSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="`cost`, `funding` or `suspension`")
    id = serializers.IntegerField()
    description = serializers.CharField()


class DisputeSerializer(serializers.ModelSerializer):
    amount = MoneyField(read_only=True, non_negative=False)
    outcome = OutcomeOrBlankField(read_only=True)
    lines = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    change = serializers.SerializerMethodField(help_text="The correcting change of a `corrected` dispute")
    waived = serializers.SerializerMethodField(help_text="Amounts waived per package month (`waived`)")

    @extend_schema_field(CorrectionSerializer(allow_null=True))
    def get_change(self, dispute):
        if not dispute.correction_kind:
            return None
        return {
            "kind": dispute.correction_kind,
            "id": dispute.correction_id,
            "description": dispute.correction,
        }

    def get_waived(self, dispute) -> list[dict]:
        return [
            {
                "package": w.package_id,
                "package_reference": f"P{w.package_id:06d}",
                "month": _month(w.month),
                "amount": money_text(w.amount),
            }
            for w in dispute.waivers.all()
        ]

    class Meta:
        model = Dispute
        fields = [
            "id",
            "invoice",
            "lines",
            "reason",
            "note",
            "amount",
            "status",
            "outcome",
            "raised_at",
            "resolved_at",
            "credit_note",
            "change",
            "waived",
            "resolution_note",
        ]
        read_only_fields = fields


class DisputeResolveSerializer(serializers.Serializer):
    outcome = OutcomeField()
    change = serializers.DictField(
        required=False,
        allow_null=True,
        help_text=(
            "For `corrected`: the change that corrects the lines, named `{kind: cost|funding|suspension, "
            "id}` or recorded `{kind: cost, effective_from, unit_rate, units_per_week, unit}` / "
            "`{kind: suspension, effective_from, effective_to, treatment, paid_percent, reason}`"
        ),
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReportQuerySerializer(serializers.Serializer):
    issuer = OrganisationCodeField(required=False)
    recipient = OrganisationCodeField(required=False)
    period = PeriodField(required=False, help_text="The invoice's period")
    period_from = PeriodField(required=False, help_text="Invoices from this period")
    period_to = PeriodField(required=False, help_text="Invoices up to this period")
    service_from = PeriodField(
        required=False, help_text="Lines for this month or later (adjustments included)"
    )
    service_to = PeriodField(
        required=False, help_text="Lines for this month or earlier (adjustments included)"
    )
    kind = serializers.ChoiceField(choices=InvoiceKind.choices, required=False)

    def validate(self, attrs):
        for low, high in (("period_from", "period_to"), ("service_from", "service_to")):
            if low in attrs and high in attrs and attrs[low] > attrs[high]:
                raise serializers.ValidationError({high: ["The end of the range is before its start."]})
        return attrs


def report_line_representation(row: dict) -> dict:
    """One row of the recharge report, from a row of ``selectors.REPORT_VALUES``: the typed row of
    ``reports.report_row`` (the CSV's, page and API alike) as JSON, key for key, money and percent
    strings with two decimals (credit-note amounts negative). A plain function: a year is ~38,000
    rows."""
    typed = report_row(row)
    return {
        **typed,
        "from": typed["from"].isoformat(),
        "to": typed["to"].isoformat(),
        "weekly_cost": money_text(typed["weekly_cost"]),
        "percent": _percent(typed["percent"]),
        "paid_percent": _percent(typed["paid_percent"]),
        "amount": money_text(typed["amount"]),
    }


class ReportLineSerializer(serializers.Serializer):
    # The declared fields document the shape (the schema); ``to_representation`` builds it with
    # ``report_line_representation`` from a row of ``selectors.recharge_report_values``
    # (``get_amount`` serves the schema, and DRF's field-by-field path on an ``InvoiceLine``).

    invoice_number = serializers.CharField(source="invoice.number")
    kind = serializers.CharField(source="invoice.kind")
    issuer = serializers.CharField(source="invoice.issuer.code")
    recipient = serializers.CharField(source="invoice.recipient.code")
    period = PeriodField(source="invoice.period")
    package_reference = serializers.CharField(source="package.reference")
    package = serializers.IntegerField(source="package_id")
    client_reference = serializers.CharField()
    provider = serializers.CharField()
    service_type = serializers.CharField()
    month = PeriodField()
    start = serializers.DateField()
    end = serializers.DateField()
    days = serializers.IntegerField(allow_null=True)
    weekly_cost = MoneyField(allow_null=True)
    percent = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    paid_percent = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    amount = serializers.SerializerMethodField()
    adjustment = serializers.BooleanField()
    corrects_month = PeriodField(allow_null=True)

    def get_amount(self, line) -> str:
        return money_text(signed_amount(line))

    def get_fields(self):
        return _dated_as_from_to(super().get_fields())

    def to_representation(self, row):
        return report_line_representation(row)


class AgedDebtRowSerializer(serializers.Serializer):
    recipient = serializers.CharField()
    recipient_name = serializers.CharField()
    bucket_0_30 = MoneyField(source="0_30")
    bucket_31_60 = MoneyField(source="31_60")
    bucket_61_90 = MoneyField(source="61_90")
    over_90 = MoneyField()
    total = MoneyField()
    disputed = serializers.DictField(child=MoneyField(), help_text="Open disputed amounts by reason")


class AgedDebtSerializer(serializers.Serializer):
    """Documents the aged-debt answer (bucket keys are ``0_30``, ``31_60``, ``61_90``, ``over_90``)."""

    as_at = serializers.DateField()
    results = AgedDebtRowSerializer(many=True)
    totals = serializers.DictField(child=MoneyField())


class AgedDebtQuerySerializer(serializers.Serializer):
    as_at = serializers.DateField()
    issuer = OrganisationCodeField(required=False)
