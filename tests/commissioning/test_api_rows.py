"""``RowSerializerMixin`` (commissioning/api/rows.py): a list serializer states its fields once and
the ``.values()`` names and the row's JSON follow from them. The JSON itself is held to DRF's
field-by-field output by the package and invoice API tests."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework import serializers

from brokerage.api.serializers import PackageSerializer
from brokerage.finance.api.serializers import InvoiceDetailSerializer, InvoiceSerializer


def test_a_field_added_to_the_list_is_read_and_sent_with_nothing_else_stated():
    class WithCreated(PackageSerializer):
        provider_code = serializers.CharField(source="provider.organisation.code", read_only=True)

        class Meta(PackageSerializer.Meta):
            fields = [*PackageSerializer.Meta.fields, "created_at", "provider_code"]

    names = WithCreated.row_values()
    assert names[: len(PackageSerializer.row_values())] == PackageSerializer.row_values()
    assert names[-2:] == ("created_at", "provider__organisation__code")
    row = dict.fromkeys(names, None) | {
        "id": 8,
        "client_id": 3,
        "start": date(2025, 4, 1),
        "created_at": datetime(2025, 4, 1, 9, 30),
        "provider__organisation__code": "PRV1",
    }
    data = WithCreated().represent_row(row)
    assert list(data) == WithCreated.Meta.fields
    assert data["reference"] == "P000008" and data["client"] == 3 and data["start"] == "2025-04-01"
    assert data["created_at"] == serializers.DateTimeField().to_representation(row["created_at"])
    assert data["provider_code"] == "PRV1"
    assert data["end"] is None and data["paying_organisation"] is None


def test_related_fields_read_their_column_not_their_object():
    assert {"client_id", "provider_id", "referral_id", "paying_organisation__code"} <= set(
        PackageSerializer.row_values()
    )
    invoice = set(InvoiceSerializer.row_values())
    assert {"partnership_id", "issuer__code", "recipient__code", "run_id"} <= invoice


@pytest.mark.parametrize("name", ["total", "outstanding", "pdf_ready", "lines_url"])
def test_a_field_no_column_gives_must_have_its_row_method(name):
    """``total`` reads the model property ``signed_total``, ``pdf_ready`` is a method field and
    ``lines_url`` a hyperlink: without ``row_<name>`` the class refuses to build its rows."""
    Without = type("Without", (InvoiceSerializer,), {f"row_{name}": None})
    with pytest.raises(ImproperlyConfigured, match=rf"Without\.{name}: .*row_{name}"):
        Without.row_values()


def test_one_invoice_reads_its_lines_through_its_row_method():
    assert InvoiceDetailSerializer.row_values()[-1] == "line_rows"
    assert "line_rows" not in InvoiceSerializer.row_values()


def test_a_row_method_says_what_it_reads():
    Unsaid = type("Unsaid", (InvoiceSerializer,), {"row_total": lambda self, row: row["total"]})
    with pytest.raises(ImproperlyConfigured, match=r"Unsaid\.row_total: say what it reads"):
        Unsaid.row_values()


def test_an_invoice_lines_fields_are_stated_once_by_its_serializer():
    """The line serializer's fields are the one list of what a line sends: the ``.values()`` an
    invoice's lines are read with (``selectors.invoice_line_values``) and each line's JSON follow,
    so a field added to it is read and sent with nothing else stated."""
    from brokerage.finance.api.serializers import InvoiceLineSerializer
    from brokerage.models import InvoiceLine

    assert InvoiceLineSerializer.row_values() == ("id", *InvoiceLine.CONTENT_COLUMNS, "dispute_status")

    class WithPosition(InvoiceLineSerializer):
        class Meta(InvoiceLineSerializer.Meta):
            fields = [*InvoiceLineSerializer.Meta.fields, "position"]

    row = dict.fromkeys(WithPosition.row_values()) | {
        "id": 5,
        "package_id": 8,
        "month": date(2022, 5, 1),
        "start": date(2022, 5, 10),
        "position": 3,
    }
    data = WithPosition().represent_row(row)
    assert WithPosition.row_values()[-1] == "position" and list(data)[-2:] == ["dispute_status", "position"]
    assert (data["package_reference"], data["package"], data["month"], data["from"]) == (
        "P000008",
        8,
        "2022-05",
        "2022-05-10",
    )
    assert data["position"] == 3 and data["to"] is None and data["dispute_status"] is None
