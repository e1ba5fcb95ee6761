"""Budgets wording and form defaults (issue 18): a new line defaults to the current financial year;
a financial year reads 2026/27 in a history, never 2026; "1 budget line imported"; a line's own
name keeps its capitals in an error; an underspend is written without a minus sign after the word
that says its direction; no radio button labelled "Select one"."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from budgets import selectors, services
from budgets.forms import PositionFormSet
from budgets.models import BudgetLine, financial_year_of, year_label
from tests.budgets.factories import AgreementFactory, BudgetLineFactory, FundingStreamFactory, ScheduleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(bromley, bromley_users):
    this_year = financial_year_of(timezone.localdate())
    agreement = AgreementFactory(partnership=bromley, start=date(2021, 4, 1), end=date(this_year + 2, 3, 31))
    schedule = ScheduleFactory(agreement=agreement)
    stream = FundingStreamFactory(partnership=bromley, name="iBCF", organisation=bromley.council)
    return {
        "schedule": schedule,
        "stream": stream,
        "year": this_year,
        "user": bromley_users["commissioner"],
    }


def test_a_new_budget_line_defaults_to_the_current_financial_year(client, scene):
    client.force_login(scene["user"])

    html = client.get(f"/budgets/schedules/{scene['schedule'].pk}/lines/new/").content.decode()

    assert f'<option value="{scene["year"]}" selected>{year_label(scene["year"])}</option>' in html
    assert ">Select one</label>" not in html  # no radio button of that name


def test_a_history_writes_the_financial_year_as_2026_27(scene):
    services.budget_line_create(
        by=scene["user"],
        schedule=scene["schedule"],
        name="Support team",
        year=2026,
        funding_stream=scene["stream"],
        amount=D("100.00"),
        status="approved",
    )

    history = selectors.schedule_history(scene["schedule"], scene["user"])
    [entry] = [e for e in history if e.summary == "Budget line “Support team” 2026/27 added"]

    assert ("Financial year", "2026/27") in [(c.label, str(c.after)) for c in entry.changes]


def test_one_imported_line_is_said_in_the_singular(client, scene):
    client.force_login(scene["user"])
    content = f"name,year,funding_stream,amount\nSupport team,{scene['year']},iBCF,10\n".encode()

    response = client.post(
        f"/budgets/schedules/{scene['schedule'].pk}/import/",
        {"file": SimpleUploadedFile("lines.csv", content, content_type="text/csv")},
        follow=True,
    )

    assert (
        "1 budget line added" in response.content.decode() and "lines added" not in response.content.decode()
    )
    assert BudgetLine.objects.count() == 1


def test_a_missing_figure_names_the_line_with_its_own_capitals(scene):
    line = BudgetLineFactory(
        schedule=scene["schedule"], name="Support team", year=scene["year"], funding_stream=scene["stream"]
    )
    formset = PositionFormSet(
        {
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "1",
            "lines-0-line": str(line.pk),
            "lines-0-actual_to_date": "10",
            "lines-0-forecast_outturn": "",
        },
        lines=[line],
    )

    assert not formset.is_valid()
    assert formset.forms[0].errors["forecast_outturn"] == [
        "Enter the forecast outturn for Support team (iBCF) as well"
    ]


def test_an_underspend_is_written_without_a_minus_sign(client, scene):
    line = BudgetLineFactory(
        schedule=scene["schedule"],
        name="Support team",
        year=scene["year"],
        funding_stream=scene["stream"],
        amount=D("300000"),
    )
    services.monthly_position_save(
        budget_line=line,
        period=date(scene["year"], 4, 1),
        actual_to_date=D("0"),
        forecast_outturn=D("89668"),
        by=scene["user"],
    )
    client.force_login(scene["user"])

    html = client.get(f"/budgets/schedules/{scene['schedule'].pk}/?year={scene['year']}").content.decode()

    assert "Forecast underspend</strong> £210,332.00" in html and "-£210,332.00</p>" not in html
