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
