"""A part-entered month does not pass for a whole one (issue 18): with December entered for 2 of 5
lines, the position at December shows the other lines' November figures labelled as carried
forward, says it is not complete and that the schedule total and risk share rest on them; it is
complete only when every line has a December position."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from budgets import selectors, services
from budgets.models import Schedule
from tests.budgets.factories import AgreementFactory, BudgetLineFactory, FundingStreamFactory, ScheduleFactory

pytestmark = pytest.mark.django_db
NOVEMBER, DECEMBER = date(2025, 11, 1), date(2025, 12, 1)


@pytest.fixture
def scene(bromley, bromley_users):
    agreement = AgreementFactory(
        partnership=bromley, host=bromley.council, start=date(2024, 4, 1), end=date(2027, 3, 31)
    )
    schedule = ScheduleFactory(agreement=agreement)
    ccg = FundingStreamFactory(partnership=bromley, name="CCG", organisation=bromley.nhs_commissioner)
    lbb = FundingStreamFactory(partnership=bromley, name="LBB core", organisation=bromley.council)
    lines = [
        BudgetLineFactory(schedule=schedule, name=name, year=2025, funding_stream=stream, amount=D("10000"))
        for name, stream in (
            ("Placements", ccg),
            ("Brokerage team", ccg),
            ("Finance costs", ccg),
            ("Support team", lbb),
            ("Equipment", lbb),
        )
    ]
    return {"schedule": schedule, "lines": lines, "by": bromley_users["commissioner"]}


def enter(scene, line, period, forecast):
    return services.monthly_position_save(
        budget_line=line, period=period, actual_to_date=D("0"), forecast_outturn=D(forecast), by=scene["by"]
    )


def monitoring_at(scene, period):
    schedule = selectors.with_related(Schedule.objects.filter(pk=scene["schedule"].pk)).get()
    return selectors.monitor(schedule, 2025, period)


def part_entered(scene):
    for line in scene["lines"]:
        enter(scene, line, NOVEMBER, "11000")
    for line in scene["lines"][:2]:
        enter(scene, line, DECEMBER, "12000")


def test_a_part_entered_month_labels_the_figures_carried_forward_and_is_not_complete(scene):
    part_entered(scene)

    monitoring = monitoring_at(scene, DECEMBER)

    assert not monitoring.complete
    assert [m.basis for m in monitoring.lines] == [""] * 2 + ["November 2025 figure carried forward"] * 3
    assert [m.line.name for m in monitoring.carried_forward_lines] == [
        "Finance costs",
        "Support team",
        "Equipment",
    ]
    assert monitoring.completeness == (
        "Not complete: 2 of 5 lines have a December 2025 position. The schedule total, variance and "
        "risk share include 3 lines carried forward from an earlier month."
    )
    # The figures themselves are what was entered: December's where there is one, else November's.
    assert monitoring.forecast == D("12000") * 2 + D("11000") * 3
    assert sum(s.amount for s in monitoring.shares) == monitoring.variance == D("7000.00")


def test_a_line_with_no_position_is_said_to_be_at_budget(scene):
    enter(scene, scene["lines"][0], DECEMBER, "12000")

    monitoring = monitoring_at(scene, DECEMBER)

    assert monitoring.lines[1].basis == "No position yet: forecast at budget"
    assert monitoring.completeness == (
        "Not complete: 1 of 5 lines have a December 2025 position. The schedule total, variance and "
        "risk share include 4 lines with no position, forecast at budget."
    )


def test_a_month_is_complete_only_when_every_line_has_a_position_for_it(scene):
    part_entered(scene)
    for line in scene["lines"][2:4]:
        enter(scene, line, DECEMBER, "12000")
    assert not monitoring_at(scene, DECEMBER).complete

    enter(scene, scene["lines"][4], DECEMBER, "12000")

    monitoring = monitoring_at(scene, DECEMBER)
    assert monitoring.complete and not monitoring.carried_forward_lines
    assert monitoring.completeness == "Complete: every line has a December 2025 position."
    assert monitoring_at(scene, NOVEMBER).complete


def test_the_schedule_page_and_the_api_say_so(client, api_as, scene):
    part_entered(scene)
    client.force_login(scene["by"])
    url = f"/budgets/schedules/{scene['schedule'].pk}/?year=2025&period=2025-12"

    html = client.get(url).content.decode()
    api = api_as(scene["by"])
    summary = api.get(f"/api/v1/schedules/{scene['schedule'].pk}/summary/?year=2025&period=2025-12").json()

    assert html.count("November 2025 figure carried forward") == 3
    assert "position at December 2025 (not complete)" in html
    assert "Not complete: 2 of 5 lines have a December 2025 position." in html
    assert "(not complete: it rests on figures carried forward)</caption>" in html
    assert "Forecast overspend</strong> £7,000.00" in html
    assert (summary["complete"], summary["lines_carried_forward"], summary["lines_without_position"]) == (
        False,
        3,
        0,
    )
