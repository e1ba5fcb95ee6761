"""The budget pages: the schedule page shows the derived table, variance, risk share, chart and
history; the positions form saves a whole period; permissions and hidden objects."""

from datetime import date
from decimal import Decimal

import pytest

from budgets.models import MonthlyPosition, Schedule
from commissioning import roles
from tests.budgets.factories import AgreementFactory, ScheduleFactory
from tests.budgets.test_demo import ipb

pytestmark = pytest.mark.django_db


def test_the_schedule_page_shows_the_derived_totals_chart_and_history(client, bromley_demo, bromley_users):
    client.force_login(bromley_users["commissioner"])
    schedule = ipb(bromley_demo)

    response = client.get(f"/budgets/schedules/{schedule.pk}/?year=2021")
    html = response.content.decode()
    assert "£162,053.00" in html  # 2021/22's total: the page shows the year asked for

    response = client.get(f"/budgets/schedules/{schedule.pk}/?year=2022")

    html = response.content.decode()
    assert response.status_code == 200
    assert "£220,679.00" in html and "£162,053.00" not in html
    assert "<svg" in html and 'role="img"' in html and "style=" not in html and "<script>" not in html
    assert "Forecast overspend" in html
    # The latest 5 changes here; the demo has more, the first of them on the full history's pages.
    assert html.count("app-timeline__item") == 5 and "View the full change history" in html
    history = client.get(f"/budgets/schedules/{schedule.pk}/history/").content.decode()
    assert "Budget line “Placements and Brokerage” 2021/22 added" in history


def test_the_positions_form_saves_a_whole_period(client, bromley_demo, bromley_users):
    client.force_login(bromley_users["finance_officer"])
    schedule = ipb(bromley_demo)
    lines = list(schedule.lines.filter(year=2022).order_by("pk"))
    data = {"period": "2022-11", "lines-TOTAL_FORMS": "2", "lines-INITIAL_FORMS": "2"}
    for i, line in enumerate(lines):
        data.update(
            {
                f"lines-{i}-line": line.pk,
                f"lines-{i}-actual_to_date": "1,000.00",
                f"lines-{i}-forecast_outturn": str(line.amount + 10),
                f"lines-{i}-commentary": "",
            }
        )

    response = client.post(f"/budgets/schedules/{schedule.pk}/positions/?period=2022-11", data)

    assert response.status_code == 302
    saved = MonthlyPosition.objects.filter(budget_line__in=lines, period=date(2022, 11, 1))
    assert sorted(p.forecast_outturn - p.budget_line.amount for p in saved) == [Decimal("10"), Decimal("10")]


def test_a_bad_row_in_the_positions_form_saves_nothing_and_names_the_line(
    client, bromley_demo, bromley_users
):
    client.force_login(bromley_users["finance_officer"])
    schedule = ipb(bromley_demo)
    lines = list(schedule.lines.filter(year=2022).order_by("pk"))
    data = {
        "period": "2022-11",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "2",
        "lines-0-line": lines[0].pk,
        "lines-0-actual_to_date": "5",
        "lines-0-forecast_outturn": "5",
        "lines-1-line": lines[1].pk,
        "lines-1-actual_to_date": "-5",
        "lines-1-forecast_outturn": "5",
    }

    response = client.post(f"/budgets/schedules/{schedule.pk}/positions/?period=2022-11", data)

    assert response.status_code == 200
    assert "Additional finance costs (CCG): Actual to date cannot be negative" in response.content.decode()
    assert not MonthlyPosition.objects.filter(period=date(2022, 11, 1)).exists()


def test_pages_of_another_partnership_are_404_and_a_role_without_budgets_is_403(
    client, make_user, bromley, other_partnership, bromley_users
):
    theirs = ScheduleFactory(agreement=AgreementFactory(partnership=other_partnership))
    client.force_login(bromley_users["commissioner"])
    assert client.get(f"/budgets/schedules/{theirs.pk}/").status_code == 404
    assert client.get(f"/budgets/schedules/{theirs.pk}/positions/").status_code == 404
    assert client.get(f"/budgets/agreements/{theirs.agreement.pk}/").status_code == 404

    client.force_login(make_user(roles.BROKER, [bromley]))
    assert client.get("/budgets/").status_code == 403


def test_a_board_member_may_read_but_not_enter_positions(client, make_user, bromley_demo):
    client.force_login(make_user(roles.BOARD_MEMBER, [bromley_demo]))
    schedule = ipb(bromley_demo)

    assert client.get(f"/budgets/schedules/{schedule.pk}/").status_code == 200
    assert client.get(f"/budgets/schedules/{schedule.pk}/positions/").status_code == 403


def test_index_summary_and_export_pages(client, bromley_demo, bromley_users):
    client.force_login(bromley_users["commissioner"])
    schedule = ipb(bromley_demo)

    assert client.get("/budgets/").status_code == 200
    summary = client.get(f"/budgets/partnerships/{bromley_demo.pk}/summary/?year=2022")
    assert summary.status_code == 200 and "Pooled fund" in summary.content.decode()
    csv = client.get(f"/budgets/schedules/{schedule.pk}/export.csv").content.decode("utf-8-sig")
    # One row a line, in the import's layout (budgets.imports.COLUMNS): no totals to import back.
    assert csv.startswith("name,year,funding_stream,amount,status,id,version\r\n")
    assert ",2021,CCG,102840.00," in csv and "Total" not in csv


def test_the_pack_context_renders_print_safe(bromley_demo):
    from django.template.loader import render_to_string

    schedule = Schedule.objects.get(title="Integrated Placements and Brokerage")
    html = render_to_string("budgets/pack/schedule.html", schedule.pack_context())

    assert "£162,053.00" in html and "<svg" in html and "style=" not in html
