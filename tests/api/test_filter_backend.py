"""The API's filter backend builds no FilterSet for a request naming none of its parameters
(``commissioning.filtersets.StrictFilterBackend``): that is right only because every FilterSet
filters nothing when given nothing, which is held here for each of them."""

from __future__ import annotations

import django_filters
import pytest
from django.http import QueryDict
from django.urls import get_resolver

from commissioning.filtersets import StrictFilterSet

pytestmark = pytest.mark.django_db


def _filtersets():
    get_resolver().url_patterns  # noqa: B018 - every view loaded, and with it every FilterSet
    seen, todo = [], [StrictFilterSet]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if sub._meta.model is not None:
                seen.append(sub)
    return sorted(seen, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def test_every_filterset_is_found():
    names = {cls.__name__ for cls in _filtersets()}
    assert {"PackageFilterSet", "InvoiceFilterSet", "ContractFilterSet"} <= names
    assert len(names) >= 15


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
