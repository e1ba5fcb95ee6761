"""A financial year and period asked for are checked by one validator (``budgets.periods.choose``)
for the pages and the API: a page given a bad year or period says so, naming the field in GOV.UK's
error summary, and shows no figures of another year in their place; the API answers 400 naming it."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from budgets import periods
from budgets.models import MonthlyPosition
from tests.budgets.factories import AgreementFactory, BudgetLineFactory, ScheduleFactory

pytestmark = pytest.mark.django_db

YEARS = [2021, 2022, 2023]


def _choose(year=None, period=None):
    return periods.choose(year=year, period=period, years=YEARS, default=2022, covering="the years of X")


@pytest.mark.parametrize(
    "year,period,expected",
    [
        (None, None, periods.Choice(2022)),
        ("", "", periods.Choice(2022)),
        ("2021", None, periods.Choice(2021)),
        ("2021", "2022-03", periods.Choice(2021, date(2022, 3, 1))),
        (None, "2023-05", periods.Choice(2023, date(2023, 5, 1))),
    ],
)
def test_a_good_year_and_period_are_chosen(year, period, expected):
    assert _choose(year, period) == expected


@pytest.mark.parametrize(
    "year,period,errors",
    [
        ("abc", None, {"year": ["Give the financial year as its starting year, e.g. 2022."]}),
        ("2030", None, {"year": ["The financial year 2030 is outside the years of X."]}),
        (None, "2022-13", {"period": ["Give the period as YYYY-MM, e.g. 2022-05."]}),
        (None, "2022-05-01", {"period": ["Give the period as YYYY-MM, e.g. 2022-05."]}),
        ("2021", "2022-05", {"period": ["The period May 2022 is outside the financial year 2021/22."]}),
        (None, "2030-05", {"period": ["The period May 2030 is outside the years of X."]}),
        ("x", "y", {"year": [periods.YEAR_FORMAT], "period": [periods.PERIOD_FORMAT]}),
    ],
)
def test_a_bad_year_or_period_is_refused_naming_the_field(year, period, errors):
    with pytest.raises(ValidationError) as error:
        _choose(year, period)

    assert error.value.message_dict == errors


@pytest.fixture
def schedule(bromley):
    agreement = AgreementFactory(
        partnership=bromley, reference="BR-S75", start=date(2021, 4, 1), end=date(2024, 3, 31)
    )
    schedule = ScheduleFactory(agreement=agreement)
    BudgetLineFactory(schedule=schedule, year=2022, name="Placements", amount=Decimal("1000.00"))
    BudgetLineFactory(schedule=schedule, year=2023, name="Support", amount=Decimal("500.00"))
    return schedule


def _problem(html: str) -> str:
    """The error summary of a page."""
    assert "There is a problem" in html
    start = html.index("govuk-error-summary__list")
    return html[start : html.index("</ul>", start)]


@pytest.mark.parametrize(
    "query,anchor,message",
    [
        ("year=2030", "monitoring-year", "The financial year 2030 is outside the years of agreement BR-S75."),
        ("year=twenty", "monitoring-year", "Give the financial year as its starting year, e.g. 2022."),
        ("year=2022&period=2022-13", "monitoring-period", "Give the period as YYYY-MM, e.g. 2022-05."),
        (
            "year=2022&period=2021-05",
            "monitoring-period",
            "The period May 2021 is outside the financial year 2022/23.",
        ),
    ],
)
def test_the_schedule_page_says_a_bad_year_or_period_and_shows_no_figures_for_another(
    client, bromley_users, schedule, query, anchor, message
):
    client.force_login(bromley_users["commissioner"])

    response = client.get(f"/budgets/schedules/{schedule.pk}/?{query}")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: " in html
    assert f'<a href="#{anchor}">{message}</a>' in _problem(html)
    assert f'<p id="{anchor}-error" class="govuk-error-message">' in html
    assert 'id="schedule-variance"' not in html and "<svg" not in html
    assert "Budget lines of the schedule" in html  # the rest of the page is still there


def test_the_schedule_page_shows_the_year_of_a_period_asked_for_alone(client, bromley_users, schedule):
    client.force_login(bromley_users["commissioner"])

    html = client.get(f"/budgets/schedules/{schedule.pk}/?period=2023-05").content.decode()

    assert "There is a problem" not in html
    assert "Monitoring 2023/24" in html and 'id="schedule-variance"' in html


def test_the_summary_says_a_bad_year(client, bromley, bromley_users, schedule):
    client.force_login(bromley_users["commissioner"])

    response = client.get(f"/budgets/partnerships/{bromley.pk}/summary/?year=1999")

    html = response.content.decode()
    assert response.status_code == 200 and "<title>Error: " in html
    assert (
        '<a href="#summary-year">The financial year 1999 is outside the years of the section 75 budgets '
        "of Bromley.</a>" in _problem(html)
    )
    assert 'id="partner-summary"' not in html


def test_the_positions_page_says_a_bad_period_and_saves_nothing(client, bromley_users, schedule):
    client.force_login(bromley_users["finance_officer"])
    line = schedule.lines.get(year=2022)
    url = f"/budgets/schedules/{schedule.pk}/positions/"

    shown = client.get(f"{url}?period=2030-05")
    posted = client.post(
        url,
        {
            "period": "2022-5",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "1",
            "lines-0-line": line.pk,
            "lines-0-actual_to_date": "10",
            "lines-0-forecast_outturn": "1000",
        },
    )

    assert shown.status_code == 200
    assert (
        '<a href="#id_period">The period May 2030 is outside the years of agreement BR-S75.</a>'
        in _problem(shown.content.decode())
    )
    assert posted.status_code == 200
    assert '<a href="#id_period">Give the period as YYYY-MM, e.g. 2022-05.</a>' in _problem(
        posted.content.decode()
    )
    assert not MonthlyPosition.objects.exists()


def test_the_report_page_says_a_bad_year(client, bromley_users, schedule):
    client.force_login(bromley_users["finance_officer"])

    response = client.get(f"/budgets/schedules/{schedule.pk}/positions/report/?year=2019")

    html = response.content.decode()
    assert response.status_code == 200 and "<title>Error: " in html
    assert (
        '<a href="#report-year">The financial year 2019 is outside the years of agreement BR-S75.</a>'
        in _problem(html)
    )
    assert "Periods of" not in html


def test_the_api_refuses_a_period_outside_the_agreement(api_as, bromley_users, schedule):
    response = api_as(bromley_users["commissioner"]).get(
        f"/api/v1/schedules/{schedule.pk}/summary/?period=2030-05"
    )

    assert response.status_code == 400
    assert response.json() == {"period": ["The period May 2030 is outside the years of agreement BR-S75."]}
