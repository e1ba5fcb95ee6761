"""The decision log's filters for linked records come from the linkable types the apps register in
``AppConfig.ready`` (``commissioning.registry``): governance never names budgets, yet the page, its
export and the API (and its schema) all offer ``?schedule=<id>``."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from commissioning import registry
from governance import filtersets, services
from tests.budgets.factories import AgreementFactory, BudgetLineFactory, ScheduleFactory

pytestmark = pytest.mark.django_db


def test_the_decision_filterset_has_a_filter_per_registered_linkable_type():
    named = {linkable.filter_name for linkable in registry.LINKABLE_TYPES.values() if linkable.filter_name}

    assert "schedule" in named
    assert named <= set(filtersets.DecisionFilterSet.base_filters)
    assert filtersets.DecisionFilterSet.base_filters["schedule"].label == "Linked schedule"
    # The existing filters stay, the linked ones before linked_type / linked_id.
    names = list(filtersets.DecisionFilterSet.base_filters)
    assert names.index("schedule") < names.index("linked_type") < names.index("linked_id")


def test_the_filters_refuse_to_be_built_before_every_app_is_ready(monkeypatch):
    monkeypatch.setattr(apps, "ready", False)

    with pytest.raises(ImproperlyConfigured, match="before every app was ready"):
        filtersets.linkable_filters()


def test_the_api_finds_decisions_linked_to_a_schedule_or_its_lines(api_as, secretary, scene, partnership):
    schedule = ScheduleFactory(agreement=AgreementFactory(partnership=partnership))
    line = BudgetLineFactory(schedule=schedule, name="Placements", amount=Decimal("1000.00"))
    linked = services.decision_record(
        agenda_item=scene.item, resolution="Agreed.", outcome="approved", by=None
    )
    services.decision_link_add(decision=linked, target=line, by=None)
    services.decision_record(
        agenda_item=services.agenda_item_add(meeting=scene.meeting, title="Noted", by=None),
        resolution="Noted.",
        outcome="noted",
        by=None,
    )
    client = api_as(secretary)

    rows = client.get(f"/api/v1/decisions/?schedule={schedule.pk}").json()["results"]

    assert [row["reference"] for row in rows] == [linked.reference]
    schema = client.get("/api/schema/?format=json").json()
    parameters = schema["paths"]["/api/v1/decisions/"]["get"]["parameters"]
    schedule_parameter = next(p for p in parameters if p["name"] == "schedule")
    assert schedule_parameter["schema"]["type"] == "integer"
