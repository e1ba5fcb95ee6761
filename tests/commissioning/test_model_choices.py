"""Model drop-downs read their choices in one plain query (``commissioning.forms.one_query_choices``),
not through Django's ``QuerySet.iterator()``, which on PostgreSQL opens a server-side cursor
(DECLARE, FETCH, CLOSE: three round trips for a handful of options)."""

from __future__ import annotations

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commissioning.forms import GovukFormMixin, ServiceModelForm, style_filter_form
from commissioning.models import Organisation, Provider
from tests.commissioning.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


class PickForm(GovukFormMixin, forms.Form):
    funder = forms.ModelChoiceField(queryset=Organisation.objects.order_by("code"))
    funders = forms.ModelMultipleChoiceField(queryset=Organisation.objects.order_by("code"))
    later = forms.ModelChoiceField(queryset=Organisation.objects.none(), widget=forms.RadioSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["later"].queryset = Organisation.objects.order_by("-code")  # set after, as forms do


class ProviderForm(ServiceModelForm):
    class Meta:
        model = Provider
        fields = ["organisation"]  # a foreign key: the ModelForm makes its drop-down


class PlainForm(forms.Form):  # filter forms are styled, not GovukFormMixin forms
    funder = forms.ModelChoiceField(queryset=Organisation.objects.order_by("code"))


@pytest.fixture
def server_side_cursors(monkeypatch):
    opened = []
    real = connection.chunked_cursor

    def chunked_cursor():
        opened.append(True)
        return real()

    monkeypatch.setattr(connection, "chunked_cursor", chunked_cursor)
    return opened


@pytest.mark.parametrize(
    ("make", "drop_downs"),
    [(PickForm, 3), (ProviderForm, 1), (lambda: style_filter_form(PlainForm()), 1)],
    ids=["form", "model-form", "filter-form"],
)
def test_each_drop_down_is_one_plain_query(partnership, server_side_cursors, make, drop_downs):
    OrganisationFactory.create_batch(2)  # providers, for the model form's drop-down
    form = make()
    offered = [pk for field in form.fields.values() for pk in field.queryset.values_list("pk", flat=True)]
    assert len(offered) >= drop_downs

    with CaptureQueriesContext(connection) as queries:
        html = str(form)

    assert len(queries) == drop_downs
    assert server_side_cursors == []
    assert all(f'value="{pk}"' in html for pk in offered)


def test_django_alone_would_open_a_server_side_cursor(partnership, server_side_cursors):
    """What the forms avoid: the same drop-down without ``one_query_choices``."""
    str(PlainForm())
    assert server_side_cursors == [True]


# --- django-filter's own model drop-downs ---------------------------------------------------------


@pytest.fixture
def filter_user(make_user, partnership):
    from commissioning import roles

    return make_user(roles.BROKERAGE_MANAGER, [partnership])


def _filtersets():
    from brokerage.filtersets import OfferFilterSet, PackageFilterSet
    from commissioning.filtersets import ContractFilterSet

    return [
        (PackageFilterSet, ["provider"]),
        (OfferFilterSet, ["provider"]),
        (ContractFilterSet, ["partnership", "provider"]),
    ]


@pytest.mark.parametrize(
    ("filterset_class", "names"), _filtersets(), ids=lambda x: getattr(x, "__name__", "")
)
def test_a_filtersets_model_drop_downs_are_one_plain_query_each(
    filterset_class, names, rf, filter_user, partnership, server_side_cursors, django_assert_num_queries
):
    """A FilterSet's ``ModelChoiceFilter``s make django-filter's own fields, whose iterator
    ``one_query_choices`` must also replace (``StrictFilterSet.form``): drawn on a page, in the
    browsable API, or for an error, each is one plain query, as a value's check is."""
    provider = Provider.objects.create(organisation=OrganisationFactory())
    request = rf.get("/", {"provider": provider.pk})
    request.user = filter_user
    model = filterset_class._meta.model
    filterset = filterset_class(request.GET, queryset=model.objects.all(), request=request)

    with django_assert_num_queries(1):  # the provider given is checked in one query
        assert filterset.is_valid(), filterset.errors
    with django_assert_num_queries(len(names)):
        html = "".join(str(filterset.form[name]) for name in names)

    assert server_side_cursors == []
    assert f'<option value="{provider.pk}" selected>' in html


def test_the_browsable_apis_filter_form_opens_no_server_side_cursor(
    api_as, filter_user, partnership, server_side_cursors
):
    provider = Provider.objects.create(organisation=OrganisationFactory())

    response = api_as(filter_user).get("/api/v1/packages/", {"provider": provider.pk, "format": "api"})

    assert response.status_code == 200
    assert f'<option value="{provider.pk}" selected>' in response.content.decode()
    assert server_side_cursors == []
