"""Edits are safe against lost updates (api.md, "General"; commissioning/api/versions.py): every
change to an object with a ``version``, through any API route (PATCH, or a POST action on it), names
the version it was made from in the body or as ``If-Match``. Missing: 428 naming ``version``; stale:
409 with the current version; either way nothing is written.

The routes are read from the URL resolver, so a new versioned resource or action is covered (or this
test fails until its object is named in ``WORLD_KEYS``)."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from commissioning.api.versions import is_versioned
from tests.security.world import world_fixture

pytestmark = pytest.mark.django_db

world = world_fixture("world")

# The row of the fuzz world each versioned model's routes are asked about.
WORLD_KEYS = {
    "commissioning.contract": "contract",
    "brokerage.referral": "referral",
    "brokerage.package": "package",
    "budgets.section75agreement": "agreement",
    "budgets.schedule": "schedule",
    "budgets.budgetline": "budget_line",
    "budgets.monthlyposition": "monthly_position",
    "budgets.review": "review",
    "budgets.contributionplan": "contribution_plan",
    "governance.paper": "paper",
    "governance.decision": "decision",
}


def _walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield prefix + str(pattern.pattern), name, pattern.callback


def versioned_edit_routes() -> list[tuple[str, str]]:
    """(URL name, method) of every API route that changes one versioned object."""
    found = []
    for route, name, callback in _walk(get_resolver().url_patterns):
        view = getattr(callback, "cls", None)
        actions = getattr(callback, "actions", None) or {}
        if not route.startswith("api/v1/") or view is None or not is_versioned(getattr(view, "model", None)):
            continue
        if "<pk>" not in route:
            continue  # a list route: creating is not an edit
        for method, handler in actions.items():
            if method == "patch" and "patch" in view.http_method_names:
                found.append((name, "PATCH"))
            elif (
                method == "post"
                and handler != "create"
                and handler not in getattr(view, "unversioned_actions", ())
            ):
                found.append((name, "POST"))
    return sorted(set(found))


ROUTES = versioned_edit_routes()


def test_the_routes_are_found():
    assert ("api:contract-detail", "PATCH") in ROUTES
    # Linking a decision or paper records a link row beside it, not an edit of it.
    assert not {n for n, _ in ROUTES if n.endswith(("decision-links", "paper-links"))}
    assert ("package-change-cost", "POST") in {(n.rpartition(":")[2], m) for n, m in ROUTES}
    assert len(ROUTES) >= 10


def _target(world, name):
    from django.urls import resolve

    view = resolve(reverse(name, kwargs={"pk": 1})).func.cls
    label = view.model._meta.label_lower
    assert label in WORLD_KEYS, f"name a row of {label} in WORLD_KEYS"
    key = WORLD_KEYS[label]
    if key not in world:
        from budgets.models import MonthlyPosition

        world[key] = MonthlyPosition.objects.filter(budget_line=world["budget_line"]).first()
    return world[key]


@pytest.fixture
def admin_api(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {world['tokens']['administrator']}")
    return client


def _state(obj):
    return type(obj)._default_manager.filter(pk=obj.pk).values().get()


@pytest.mark.parametrize("name,method", ROUTES, ids=[f"{m} {n}" for n, m in ROUTES])
def test_an_edit_without_a_version_is_428_naming_version_and_changes_nothing(name, method, world, admin_api):
    obj = _target(world, name)
    before = _state(obj)

    response = getattr(admin_api, method.lower())(reverse(name, kwargs={"pk": obj.pk}), {}, format="json")

    assert response.status_code == 428, response.content
    assert list(response.json()) == ["version"]
    assert _state(obj) == before


@pytest.mark.parametrize("name,method", ROUTES, ids=[f"{m} {n}" for n, m in ROUTES])
@pytest.mark.parametrize("how", ["body", "if-match"])
def test_an_edit_from_a_stale_version_is_409_with_the_current_one(name, method, how, world, admin_api):
    obj = _target(world, name)
    before = _state(obj)
    current = before["version"]
    stale = current + 5
    body, headers = ({"version": stale}, {}) if how == "body" else ({}, {"HTTP_IF_MATCH": f'"{stale}"'})

    response = getattr(admin_api, method.lower())(
        reverse(name, kwargs={"pk": obj.pk}), body, format="json", **headers
    )

    assert response.status_code == 409, response.content
    assert response.json()["version"] == current
    assert _state(obj) == before


def test_a_version_that_is_not_a_number_is_400(world, admin_api):
    url = reverse("api:contract-detail", kwargs={"pk": world["contract"].pk})

    assert admin_api.patch(url, {"version": "seven"}, format="json").status_code == 400
    assert admin_api.patch(url, {}, format="json", HTTP_IF_MATCH="seven").status_code == 400


def test_body_and_if_match_must_agree(world, admin_api):
    contract = world["contract"]
    contract.refresh_from_db()
    url = reverse("api:contract-detail", kwargs={"pk": contract.pk})

    response = admin_api.patch(
        url, {"version": contract.version}, format="json", HTTP_IF_MATCH=f'"{contract.version + 1}"'
    )

    assert response.status_code == 400
    assert list(response.json()) == ["version"]


def test_the_schema_documents_if_match_and_428():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/packages/{id}/change-cost/"]["post"]
    assert "If-Match" in {p["name"] for p in operation["parameters"]}
    assert "428" in operation["responses"]
    assert "428" in schema["paths"]["/api/v1/contracts/{id}/"]["patch"]["responses"]
    assert "428" not in schema["paths"]["/api/v1/organisations/{id}/"]["patch"]["responses"]


def test_one_versioned_record_answers_its_version_as_an_etag_that_if_match_takes(world, admin_api):
    contract = world["contract"]
    contract.refresh_from_db()
    url = reverse("api:contract-detail", kwargs={"pk": contract.pk})

    etag = admin_api.get(url)["ETag"]
    changed = admin_api.patch(url, {"service": "Changed through If-Match"}, format="json", HTTP_IF_MATCH=etag)

    assert etag == f'"{contract.version}"'
    assert changed.status_code == 200
    assert changed.json()["version"] == contract.version + 1
    assert admin_api.get(url)["ETag"] == f'"{contract.version + 1}"'
