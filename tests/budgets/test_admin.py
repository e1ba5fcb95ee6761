"""The Django admin of the budgets app: every model is listed and searchable; edits go through the
services' rules (an error names the field and nothing changes) and are recorded in history with the
administrator's name; positions, virements and fixed shares are read-only there."""

from datetime import date
from decimal import Decimal

import pytest
from pghistory.models import Events

from budgets.models import BudgetLine, FundingStream
from tests.budgets.factories import (
    AgreementFactory,
    BudgetLineFactory,
    MonthlyPositionFactory,
    ScheduleFactory,
)

pytestmark = pytest.mark.django_db
MODELS = [
    "section75agreement",
    "schedule",
    "schedulefixedshare",
    "fundingstream",
    "budgetline",
    "monthlyposition",
    "virement",
    "variation",
    "review",
]


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user(is_superuser=True, is_staff=True, username="root"))
    return client


@pytest.fixture
def line(bromley):
    agreement = AgreementFactory(partnership=bromley, start=date(2021, 4, 1), end=date(2024, 3, 31))
    line = BudgetLineFactory(schedule=ScheduleFactory(agreement=agreement), year=2022, name="Placements")
    MonthlyPositionFactory(budget_line=line)
    line.schedule.fixed_shares.create(organisation=bromley.council, percent=Decimal("100"))
    return line


@pytest.mark.parametrize("model", MODELS)
def test_every_budgets_model_has_a_searchable_list_and_a_detail_page(admin_client, line, model):
    from django.apps import apps

    obj = apps.get_model("budgets", model).objects.first() if model != "virement" else None

    assert admin_client.get(f"/admin/budgets/{model}/?q=Placements").status_code == 200
    if obj is not None:
        assert admin_client.get(f"/admin/budgets/{model}/{obj.pk}/change/").status_code == 200


@pytest.mark.parametrize("model", ["schedulefixedshare", "monthlyposition", "virement"])
def test_positions_virements_and_fixed_shares_are_read_only(admin_client, line, model):
    assert admin_client.get(f"/admin/budgets/{model}/add/").status_code == 403


def test_a_bad_budget_line_edit_is_refused_naming_the_field(admin_client, line):
    response = admin_client.post(
        f"/admin/budgets/budgetline/{line.pk}/change/",
        {
            "name": "Placements",
            "year": 2030,
            "funding_stream": line.funding_stream_id,
            "amount": "1000.00",
            "status": "approved",
            "decision": "",
        },
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "2030/31 is outside the agreement" in html and "cannot change its year" in html
    stored = BudgetLine.objects.get(pk=line.pk)
    assert (stored.year, stored.amount, stored.version) == (2022, Decimal("1000.00"), 1)


def test_an_admin_edit_goes_through_the_service_and_history_names_the_admin(admin_client, line):
    response = admin_client.post(
        f"/admin/budgets/budgetline/{line.pk}/change/",
        {
            "name": "Placements",
            "year": 2022,
            "funding_stream": line.funding_stream_id,
            "amount": "1500.00",
            "status": "approved",
            "decision": "",
        },
    )

    assert response.status_code == 302
    stored = BudgetLine.objects.get(pk=line.pk)
    assert (stored.amount, stored.version) == (Decimal("1500.00"), 2)
    event = Events.objects.tracks(stored).order_by("-pgh_created_at", "-pgh_id").first()
    assert "amount" in event.pgh_diff
    from commissioning.models import User

    assert event.pgh_context["user"] == User.objects.get(username="root").pk


def test_a_duplicate_stream_name_is_refused_in_the_admin(admin_client, line, bromley):
    response = admin_client.post(
        "/admin/budgets/fundingstream/add/",
        {
            "partnership": bromley.pk,
            "name": f" {line.funding_stream.name.upper()} ",
            "organisation": bromley.council_id,
        },
    )

    assert response.status_code == 200
    assert "already has a funding stream of this name" in response.content.decode()
    assert FundingStream.objects.filter(partnership=bromley).count() == 1


def test_an_admin_delete_goes_through_the_service_and_history_names_the_admin(admin_client, bromley):
    from tests.budgets.factories import FundingStreamFactory

    stream = FundingStreamFactory(partnership=bromley, name="Unused")

    response = admin_client.post(f"/admin/budgets/fundingstream/{stream.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not FundingStream.objects.filter(pk=stream.pk).exists()
    event = Events.objects.filter(pgh_obj_model="budgets.FundingStream", pgh_obj_id=str(stream.pk)).order_by(
        "-pgh_id"
    )[0]
    from commissioning.models import User

    assert event.pgh_label == "delete" and event.pgh_context["user"] == User.objects.get(username="root").pk


@pytest.mark.parametrize("model", ["variation", "review"])
def test_variations_and_reviews_are_read_only_in_the_admin(admin_client, model):
    assert admin_client.get(f"/admin/budgets/{model}/add/").status_code == 403


def test_an_agreement_edit_in_the_admin_keeps_the_terms_and_cannot_upload(admin_client, line):
    agreement = line.schedule.agreement
    page = admin_client.get(f"/admin/budgets/section75agreement/{agreement.pk}/change/").content.decode()
    assert 'name="signed_document"' not in page
    assert 'name="exit_provisions"' in page
