"""The API documentation of price approvals (issue 18): the OpenAPI schema that /api/docs/ shows
names change-cost's `reason` and `replaces_later_prices` with what they do, the `price-changes/`
endpoints with summaries and descriptions, the offers' approve and decline with who is refused, and
package-costs/'s rate card rule."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

V1 = "/api/v1/"


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def _request(schema, path: str) -> dict:
    ref = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return schema["components"]["schemas"][ref.rpartition("/")[2]]


def test_change_cost_documents_the_reason_and_replacing_later_prices(schema):
    operation = schema["paths"][f"{V1}packages/{{id}}/change-cost/"]["post"]
    body = _request(schema, f"{V1}packages/{{id}}/change-cost/")
    fields = body["properties"]

    assert operation["summary"] == "Change the price from a date"
    assert "`pending`" in operation["description"]
    assert "price-changes/{id}/approve/" in operation["description"]
    assert {"reason", "effective_from", "unit_rate", "units_per_week", "unit"} <= set(body["required"])
    assert "replaces_later_prices" not in body["required"]
    assert fields["reason"]["description"].startswith("Why the price changes (required)")
    assert fields["reason"]["maxLength"] == 300
    assert fields["replaces_later_prices"] == {
        "type": "boolean",
        "default": False,
        "description": "A change from a date drops the prices that start on or after it: true confirms it "
        "replaces them (without it such a change is refused, naming them)",
    }
    assert "rate card" in body["description"]
    assert "replaces_later_prices" in operation["responses"]["400"]["description"]


@pytest.mark.parametrize(
    ("path", "method", "summary"),
    [
        ("price-changes/", "get", "List price changes"),
        ("price-changes/{id}/", "get", "One price change"),
        ("price-changes/{id}/approve/", "post", "Approve a price change"),
        ("price-changes/{id}/decline/", "post", "Decline a price change"),
        ("offers/{id}/approve/", "post", "Approve an offer above the rate card"),
        ("offers/{id}/decline/", "post", "Decline an offer"),
        ("package-costs/", "post", "Load one cost row (at or below the rate card)"),
    ],
)
def test_the_approval_endpoints_have_summaries_and_descriptions(schema, path, method, summary):
    operation = schema["paths"][f"{V1}{path}"][method]

    assert operation["summary"] == summary
    assert len(operation["description"]) > 40


def test_who_is_refused_an_approval_is_documented(schema):
    approve_price = schema["paths"][f"{V1}price-changes/{{id}}/approve/"]["post"]
    approve_offer = schema["paths"][f"{V1}offers/{{id}}/approve/"]["post"]
    decline_offer = schema["paths"][f"{V1}offers/{{id}}/decline/"]["post"]

    assert "proposed it" in approve_price["responses"]["403"]["description"]
    assert "recorded the offer" in approve_offer["responses"]["403"]["description"]
    assert "recorded" in decline_offer["responses"]["403"]["description"]
    for path in ("price-changes/{id}/decline/", "offers/{id}/decline/"):
        assert _request(schema, f"{V1}{path}")["required"] == ["reason"]


def test_a_price_change_says_what_its_status_and_people_mean(schema):
    fields = schema["components"]["schemas"]["PriceChange"]["properties"]

    assert "`within_card`" in fields["status"]["description"]
    assert fields["proposed_by"]["description"] == "The user who proposed it"
    assert "approved or declined" in fields["decided_by"]["description"]
    assert fields["replaced"]["description"] == "The later prices this change replaced, in words"


def test_loading_a_cost_row_documents_the_rate_card_rule(schema):
    operation = schema["paths"][f"{V1}package-costs/"]["post"]

    assert "change-cost/" in operation["responses"]["400"]["description"]
    assert "rate card rule" in " ".join(operation["description"].split())
