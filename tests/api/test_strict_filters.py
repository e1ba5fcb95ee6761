"""Filters are strict (api.md, "General"; commissioning/filtersets.py ``StrictFilterSet``): on every
list endpoint an unknown query parameter, or a value not valid for its filter (a bad date, period or
year, an unknown organisation or board code, an unknown choice, a boolean that is neither), answers
400 naming the parameter; never a silent 200 with every row or none.

The endpoints and their filters are read from the URL resolver and each view's FilterSet (or query
serializer), so a new list, or a new filter on one, is covered without being listed here. A plain text
filter has no invalid value: each must be named in ``FREE_TEXT`` (a conscious choice, not an oversight).
"""

from __future__ import annotations

import django_filters
import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework import serializers
from rest_framework.test import APIClient

from commissioning.filtersets import CodeFilter, StrictFilterSet, YearFilter
from tests.security.world import world_fixture

pytestmark = pytest.mark.django_db

world = world_fixture("world")

# Filters that search or match free text: any value is valid.
FREE_TEXT = {
    "q",
    "reference",
    "name",
    "nhs_number",
    "case_reference",
    "number",
    "integration_level",
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


def _view_of(callback):
    return getattr(callback, "cls", None) or getattr(callback, "view_class", None)


def list_routes() -> list[tuple[str, type]]:
    """(URL name, view class) of every API list: a viewset's ``list`` or a list view."""
    from rest_framework.generics import ListAPIView

    found = {}
    for route, name, callback in _walk(get_resolver().url_patterns):
        if not route.startswith("api/v1/") or "public/" in route:
            continue
        view = _view_of(callback)
        actions = getattr(callback, "actions", None)
        if actions is not None:
            if actions.get("get") == "list":
                found[name] = view
        elif view is not None and issubclass(view, ListAPIView):
            found[name] = view
    return sorted(found.items())


LISTS = list_routes()


def _filterset_class(view):
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    backends = getattr(view, "filter_backends", None)
    if backends is None:
        from rest_framework.settings import api_settings

        backends = api_settings.DEFAULT_FILTER_BACKENDS
    for backend in backends:
        if hasattr(backend, "get_filterset_class"):
            instance = view()
            instance.request = Request(APIRequestFactory().get("/"))
            instance.action = "list"
            instance.swagger_fake_view = True
            instance.format_kwarg = None
            queryset = instance.get_queryset() if hasattr(instance, "get_queryset") else None
            return backend().get_filterset_class(instance, queryset)
    return None


def bad_values(filter_name: str, filter_) -> list[str]:
    """Values that are not valid for the filter (none for free text)."""
    if isinstance(filter_, CodeFilter):
        return ["NO-SUCH-CODE"]
    if isinstance(filter_, django_filters.ModelChoiceFilter | django_filters.ModelMultipleChoiceFilter):
        return ["999999999"]
    if isinstance(filter_, django_filters.ChoiceFilter | django_filters.MultipleChoiceFilter):
        return ["no_such_choice"]
    if isinstance(filter_, django_filters.DateFilter):
        return ["2023-02-30"]
    if isinstance(filter_, django_filters.BooleanFilter):
        return ["maybe"]
    if isinstance(filter_, YearFilter):
        return ["twenty", "20222"]
    if isinstance(filter_, django_filters.NumberFilter):
        return ["not-a-number"]
    if "period" in filter_name or type(filter_).__name__.endswith("PeriodFilter"):
        return ["2023-13"]
    if filter_name == "linked_type":
        return ["nosuch.kind"]
    if filter_name in ("issuer", "recipient"):  # finance's codes, still plain text there
        return ["NO-SUCH-CODE"]
    if type(filter_) is django_filters.CharFilter:
        assert filter_name in FREE_TEXT, (
            f"filter {filter_name!r} is free text: name it in FREE_TEXT, or make it strict"
        )
        return []
    raise AssertionError(f"no bad value known for {filter_name!r} ({type(filter_).__name__})")


def bad_query_values(field_name: str, field) -> list[str]:
    if isinstance(field, serializers.DateField):
        return ["2023-02-30"]
    if isinstance(field, serializers.ChoiceField):
        return ["no_such_choice"]
    if isinstance(field, serializers.IntegerField):
        return ["not-a-number"]
    if "period" in field_name or field_name.startswith("service_"):
        return ["2023-13"]
    return ["NO-SUCH-CODE"]


def cases() -> list:
    out = []
    for name, view in LISTS:
        filterset = _filterset_class(view)
        if filterset is not None:
            for filter_name, filter_ in filterset.base_filters.items():
                for value in bad_values(filter_name, filter_):
                    out.append(pytest.param(name, filter_name, value, id=f"{name}?{filter_name}={value}"))
        query = getattr(view, "query_serializer_class", None)
        if query is not None:
            for field_name, field in query().fields.items():
                for value in bad_query_values(field_name, field):
                    out.append(pytest.param(name, field_name, value, id=f"{name}?{field_name}={value}"))
        if (
            any("Ordering" in b.__name__ for b in (view.filter_backends or []))
            if hasattr(view, "filter_backends")
            else False
        ):
            out.append(pytest.param(name, "ordering", "no_such_field", id=f"{name}?ordering"))
    return out


def _url(name: str, world) -> str:
    if name.endswith("meeting-packs"):
        return reverse(name, kwargs={"meeting_pk": world["meeting"].pk})
    return reverse(name)


@pytest.fixture
def admin_api(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {world['tokens']['administrator']}")
    return client


def test_the_lists_are_found():
    names = {name.rpartition(":")[2] for name, _view in LISTS}
    assert {"contract-list", "package-list", "decision-list", "budget-line-list", "invoice-list"} <= names
    assert len(LISTS) >= 25


def test_every_filterset_is_strict():
    loose = [
        name
        for name, view in LISTS
        if (fs := _filterset_class(view)) is not None and not issubclass(fs, StrictFilterSet)
    ]
    assert loose == []


@pytest.mark.parametrize(
    "name",
    [n for n, _ in LISTS],
)
def test_an_unknown_filter_is_400_naming_it(name, world, admin_api):
    response = admin_api.get(_url(name, world), {"no_such_filter": "1"})

    assert response.status_code == 400
    assert list(response.json()) == ["no_such_filter"]


@pytest.mark.parametrize("name,param,value", cases())
def test_a_bad_value_is_400_naming_the_parameter(name, param, value, world, admin_api):
    response = admin_api.get(_url(name, world), {param: value})

    assert response.status_code == 400, f"{response.status_code}: {response.content[:300]!r}"
    assert param in response.json()


@pytest.mark.parametrize(
    "url,param",
    [
        ("/api/v1/packages/", "paying_organisation"),
        ("/api/v1/funding-streams/", "organisation"),
        ("/api/v1/partnerships/", "council"),
        ("/api/v1/organisations/", "code"),
    ],
)
def test_organisation_codes_are_taken_in_any_case(url, param, world, admin_api):
    code = (
        world["funding_stream"].organisation.code if "streams" in url else world["partnership"].council.code
    )
    exact = admin_api.get(url, {param: code})
    lower = admin_api.get(url, {param: code.lower()})

    assert exact.status_code == lower.status_code == 200
    assert exact.json()["count"] >= 1
    assert exact.json()["results"] == lower.json()["results"]


def test_a_valid_boolean_still_filters(world, admin_api):
    assert admin_api.get("/api/v1/decisions/", {"key_decision": "true"}).status_code == 200
    assert admin_api.get("/api/v1/decisions/", {"key_decision": "false"}).status_code == 200


def test_a_valid_year_still_filters(world, admin_api):
    assert admin_api.get("/api/v1/budget-lines/", {"year": "2022"}).status_code == 200


@pytest.mark.parametrize("value", ["abc", "0", "-5", "1001", "2.5"])
def test_a_bad_page_size_is_400_naming_it(value, world, admin_api):
    response = admin_api.get("/api/v1/contracts/", {"page_size": value})

    assert response.status_code == 400
    assert list(response.json()) == ["page_size"]


def test_a_good_page_size_is_honoured(world, admin_api):
    assert admin_api.get("/api/v1/contracts/", {"page_size": "1000"}).status_code == 200


def test_what_a_view_accepts_is_kept_per_action_and_kind_of_request(world, admin_api):
    """The accepted parameters are worked out once per view class and action (``_ALLOWED``): a list
    accepting ``page`` and its filters does not make one package accept them, in either order, and
    an unknown parameter is refused however often the view was asked before."""
    from brokerage.models import Package

    pk = Package.objects.values_list("pk", flat=True).first()
    for _ in range(2):
        assert admin_api.get("/api/v1/packages/", {"page": 1, "status": "active"}).status_code == 200
        one = admin_api.get(f"/api/v1/packages/{pk}/", {"page": 1})
        assert one.status_code == 400 and "page" in one.json()
        assert admin_api.get(f"/api/v1/packages/{pk}/").status_code == 200
        assert admin_api.get("/api/v1/packages/", {"nonsense": 1}).status_code == 400
