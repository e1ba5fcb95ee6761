"""The API's filter backend builds no FilterSet for a request naming none of its parameters
(``commissioning.filtersets.StrictFilterBackend``): that is right only because every FilterSet
filters nothing when given nothing, which is held here for each of them."""

from __future__ import annotations

import django_filters
import pytest
from django.http import QueryDict
from django.urls import URLResolver, get_resolver

from commissioning.filtersets import StrictFilterSet

pytestmark = pytest.mark.django_db

# A page's own FilterSet, an API FilterSet plus the page's default (brokerage.filtersets: the package
# list shows active and suspended packages given no status or date). No API list uses it (held
# below), so the backend's shortcut does not concern it; its own tests are beside the page's.
PAGE_ONLY = {"PackagePageFilterSet"}


def _filtersets():
    get_resolver().url_patterns  # noqa: B018 - every view loaded, and with it every FilterSet
    seen, todo = [], [StrictFilterSet]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if sub._meta.model is not None and sub.__name__ not in PAGE_ONLY:
                seen.append(sub)
    return sorted(seen, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def test_every_filterset_is_found():
    names = {cls.__name__ for cls in _filtersets()}
    assert {"PackageFilterSet", "InvoiceFilterSet", "ContractFilterSet"} <= names
    assert len(names) >= 15


def _api_views(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern.url_patterns)
        elif (view := getattr(pattern.callback, "cls", None)) is not None:
            yield view


def test_no_api_list_uses_a_page_only_filterset():
    used = {getattr(view, "filterset_class", None) for view in _api_views(get_resolver().url_patterns)}
    names = {cls.__name__ for cls in used if cls is not None}

    assert "PackageFilterSet" in names
    assert names & PAGE_ONLY == set()


@pytest.mark.parametrize("filterset_class", _filtersets(), ids=lambda cls: cls.__name__)
def test_a_filterset_given_no_parameter_filters_nothing(filterset_class, rf, broker):
    request = rf.get("/")
    request.user = broker
    queryset = filterset_class._meta.model._default_manager.all()
    filterset = filterset_class(data=QueryDict(""), queryset=queryset, request=request)
    assert filterset.is_valid(), filterset.errors
    assert str(filterset.qs.query) == str(queryset.query)


def test_a_list_naming_no_filter_builds_no_filterset(api_as, broker, monkeypatch):
    built = []
    real = django_filters.FilterSet.__init__

    def init(self, *args, **kwargs):
        built.append(type(self).__name__)
        real(self, *args, **kwargs)

    monkeypatch.setattr(django_filters.FilterSet, "__init__", init)
    api = api_as(broker)
    assert api.get("/api/v1/packages/", {"page_size": 5, "ordering": "start"}).status_code == 200
    assert built == []
    assert api.get("/api/v1/packages/", {"status": "ended"}).status_code == 200
    assert built == ["PackageFilterSet"]
