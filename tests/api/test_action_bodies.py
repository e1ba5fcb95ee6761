"""A JSON body is an object (api.md, "General"; commissioning/api/strict.py): on every route that
takes a POST (creates and actions alike, e.g. ``agenda-items/{id}/move/``) a list, a scalar or null
answers 400, never a 500 and never a change; also on an action that reads no body at all.

The routes are read from the URL resolver: a new action is covered without being listed here."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from tests.security.world import world_fixture

pytestmark = pytest.mark.django_db

world = world_fixture("world")

BODIES = {
    "list of nulls": [None, None],
    "empty list": [],
    "null": None,
    "number": 7,
    "string": "move",
    "true": True,
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


def post_routes() -> list[tuple[str, str]]:
    """(URL name, route) of every API route answering POST."""
    found = {}
    for route, name, callback in _walk(get_resolver().url_patterns):
        if not route.startswith("api/v1/"):
            continue
        actions = getattr(callback, "actions", None)
        if actions is not None:
            if "post" in actions:
                found[name] = route
            continue
        view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        if view is not None and hasattr(view, "post") and "post" in view.http_method_names:
            found[name] = route
    return sorted(found.items())


ROUTES = post_routes()


def test_the_routes_are_found():
    names = {name.rpartition(":")[2] for name, _route in ROUTES}
    assert {"agenda-item-move", "package-change-cost", "offer-accept", "meeting-packs"} <= names


def _url(name: str, route: str, world) -> str:
    from django.urls import resolve

    kwargs = {}
    if "<int:meeting_pk>" in route:
        kwargs["meeting_pk"] = world["meeting"].pk
    if "<pk>" in route:
        view = resolve(reverse(name, kwargs={"pk": 1})).func.cls
        kwargs["pk"] = view.model._default_manager.order_by("pk").values_list("pk", flat=True).first()
    return reverse(name, kwargs=kwargs)


@pytest.fixture
def admin_api(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {world['tokens']['administrator']}")
    return client


@pytest.mark.parametrize("body", list(BODIES), ids=list(BODIES))
@pytest.mark.parametrize("name,route", ROUTES, ids=[name for name, _route in ROUTES])
def test_a_body_that_is_not_an_object_is_400(name, route, body, world, admin_api):
    url = _url(name, route, world)
    with transaction.atomic():
        response = admin_api.post(url, json.dumps(BODIES[body]), content_type="application/json")
        transaction.set_rollback(True)

    assert response.status_code == 400, f"{response.status_code}: {response.content[:300]!r}"
    assert "detail" in response.json()
