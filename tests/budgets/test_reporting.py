"""Reporting a schedule's monthly positions to a board meeting (rule 2: positions lock once the
meeting that received them is held): the two-step page, what the schedule page then shows, who may
do it, and the service's all-or-nothing rules."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from budgets import selectors, services
from budgets.models import MonthlyPosition, Schedule
from commissioning import roles
from tests.budgets.factories import (
    AgreementFactory,
    BudgetLineFactory,
    MonthlyPositionFactory,
    ScheduleFactory,
)
from tests.budgets.test_demo import ipb
from tests.governance.factories import BoardFactory, MeetingFactory

pytestmark = pytest.mark.django_db
SEPT, OCT = date(2022, 9, 1), date(2022, 10, 1)


@pytest.fixture
def reporting(bromley_demo):
    """The demo IPB schedule (positions April to October 2022) with an approving board and a
    scheduled meeting of it."""
    schedule = ipb(bromley_demo)
    board = BoardFactory(partnership=bromley_demo)
    Schedule.objects.filter(pk=schedule.pk).update(board=board)
    schedule.refresh_from_db()
    return {"schedule": schedule, "board": board, "meeting": MeetingFactory(board=board)}


def url(schedule) -> str:
    return f"/budgets/schedules/{schedule.pk}/positions/report/"


def positions(schedule, period):
    return MonthlyPosition.objects.filter(budget_line__schedule=schedule, period=period)


def test_a_commissioner_chooses_a_meeting_and_periods_then_confirms(client, bromley_users, reporting):
    schedule, meeting = reporting["schedule"], reporting["meeting"]
    client.force_login(bromley_users["commissioner"])
    choose = {"meeting": meeting.pk, "periods": [SEPT.isoformat(), OCT.isoformat()]}

    page = client.get(f"{url(schedule)}?year=2022")
    check = client.post(f"{url(schedule)}?year=2022", choose)

    assert page.status_code == 200
    assert f"{reporting['board'].name}, 2 September 2021 (scheduled)" in page.content.decode()
    assert check.status_code == 200
    assert "Check before you report the positions" in check.content.decode()
    assert "The positions lock when this meeting is marked held" in check.content.decode()
    assert not MonthlyPosition.objects.filter(reported_at__isnull=False).exists()

    done = client.post(f"{url(schedule)}?year=2022", {**choose, "confirmed": "True"})

    assert done.status_code == 302 and done["Location"].endswith("?year=2022#reporting")
    assert positions(schedule, SEPT).count() == 2
    assert set(positions(schedule, SEPT).values_list("reported_at", flat=True)) == {meeting.pk}
    assert set(positions(schedule, OCT).values_list("reported_at", flat=True)) == {meeting.pk}
    assert not positions(schedule, date(2022, 8, 1)).filter(reported_at__isnull=False).exists()


def test_the_schedule_page_shows_which_meeting_each_period_went_to_and_locks_once_held(
    client, bromley_users, reporting
):
    schedule, meeting = reporting["schedule"], reporting["meeting"]
    services.positions_report_periods(
        schedule=schedule, periods=[OCT], meeting=meeting, by=bromley_users["commissioner"]
    )
    client.force_login(bromley_users["finance_officer"])

    before = client.get(f"/budgets/schedules/{schedule.pk}/?year=2022").content.decode()
    row = before[before.index('id="reporting-2022-10"') :]
    row = row[: row.index("</tr>")]
    assert str(meeting) in row and "Reported" in row and "Locked" not in row
    assert ">Not reported<" in before[before.index('id="reporting-2022-09"') :]

    meeting.status = "held"
    meeting.save()
    after = client.get(f"/budgets/schedules/{schedule.pk}/?year=2022").content.decode()
    row = after[after.index('id="reporting-2022-10"') :]
    assert "Locked" in row[: row.index("</tr>")]
    form = client.get(f"/budgets/schedules/{schedule.pk}/positions/?period=2022-10").content.decode()
    assert form.count('govuk-tag--grey">Locked') == 2
    offered = client.get(f"{url(schedule)}?year=2022").content.decode()
    assert 'value="2022-10-01"' not in offered and 'value="2022-09-01"' in offered


def test_a_period_already_locked_cannot_be_reported_again(bromley_users, reporting):
    schedule, meeting = reporting["schedule"], reporting["meeting"]
    by = bromley_users["commissioner"]
    services.positions_report_periods(schedule=schedule, periods=[OCT], meeting=meeting, by=by)
    meeting.status = "held"
    meeting.save()
    later = MeetingFactory(board=reporting["board"])

    with pytest.raises(ValidationError) as error:
        services.positions_report_periods(schedule=schedule, periods=[SEPT, OCT], meeting=later, by=by)

    assert "October 2022 positions were reported to a meeting that has been held" in str(error.value)
    assert not positions(schedule, SEPT).filter(reported_at__isnull=False).exists()  # all or nothing
    assert set(positions(schedule, OCT).values_list("reported_at", flat=True)) == {meeting.pk}


def test_a_meeting_of_another_board_is_refused_naming_the_field(client, bromley_users, reporting):
    schedule = reporting["schedule"]
    other_board_meeting = MeetingFactory(board__partnership=schedule.agreement.partnership)
    client.force_login(bromley_users["commissioner"])

    response = client.post(
        f"{url(schedule)}?year=2022",
        {"meeting": other_board_meeting.pk, "periods": [OCT.isoformat()], "confirmed": "True"},
    )

    assert response.status_code == 200
    assert "Choose a board meeting from the list" in response.content.decode()
    with pytest.raises(ValidationError, match="the schedule's board"):
        services.positions_report(
            schedule=schedule, period=OCT, meeting=other_board_meeting, by=bromley_users["commissioner"]
        )
    assert not MonthlyPosition.objects.filter(reported_at__isnull=False).exists()


def test_no_period_chosen_is_an_error_naming_the_field(client, bromley_users, reporting):
    client.force_login(bromley_users["commissioner"])

    response = client.post(
        f"{url(reporting['schedule'])}?year=2022", {"meeting": reporting["meeting"].pk, "confirmed": "True"}
    )

    html = response.content.decode()
    assert response.status_code == 200 and "Error: Report positions" in html
    assert "Choose at least one period to report" in html
    assert not MonthlyPosition.objects.filter(reported_at__isnull=False).exists()


def test_a_schedule_without_a_board_may_report_to_any_meeting_of_its_partnership(bromley_users, bromley):
    line = BudgetLineFactory(schedule=ScheduleFactory(agreement=AgreementFactory(partnership=bromley)))
    MonthlyPositionFactory(budget_line=line, period=date(2022, 5, 1))
    meeting = MeetingFactory(board__partnership=bromley, status="held")

    marked = services.positions_report_periods(
        schedule=line.schedule, periods=[date(2022, 5, 1)], meeting=meeting, by=bromley_users["commissioner"]
    )

    assert marked == {date(2022, 5, 1): 1}
    assert MonthlyPosition.objects.get(budget_line=line).is_locked


def test_a_meeting_of_another_partnership_is_refused(bromley_users, reporting, other_partnership):
    with pytest.raises(ValidationError, match="Choose a meeting of a Bromley board"):
        services.positions_report_periods(
            schedule=reporting["schedule"],
            periods=[OCT],
            meeting=MeetingFactory(board__partnership=other_partnership),
            by=bromley_users["commissioner"],
        )


def test_who_may_report(client, make_user, bromley_users, reporting, other_partnership):
    schedule = reporting["schedule"]
    body = {"meeting": reporting["meeting"].pk, "periods": [OCT.isoformat()], "confirmed": "True"}

    assert client.get(url(schedule)).status_code == 302  # anonymous: to the login page
    client.force_login(make_user(roles.BOARD_MEMBER, [schedule.agreement.partnership]))
    assert client.get(url(schedule)).status_code == 403
    assert client.post(url(schedule), body).status_code == 403
    client.force_login(make_user(roles.COMMISSIONER, [other_partnership]))
    assert client.get(url(schedule)).status_code == 404
    assert client.post(url(schedule), body).status_code == 404
    assert not MonthlyPosition.objects.filter(reported_at__isnull=False).exists()

    client.force_login(bromley_users["finance_officer"])
    assert client.post(f"{url(schedule)}?year=2022", body).status_code == 302
    assert positions(schedule, OCT).filter(reported_at=reporting["meeting"]).count() == 2


def test_reporting_by_period_runs_two_queries_whatever_the_rows(
    bromley_users, reporting, django_assert_num_queries
):
    schedule = reporting["schedule"]
    services.positions_report_periods(
        schedule=schedule, periods=[SEPT, OCT], meeting=reporting["meeting"], by=bromley_users["commissioner"]
    )

    with django_assert_num_queries(2):
        reports = selectors.reporting_by_period(schedule, 2022)

    assert [r.value for r in reports] == [f"2022-{m:02d}" for m in range(4, 11)]
    assert [r.status for r in reports][-3:] == [
        "Not reported",
        "Reported, meeting not yet held",
        "Reported, meeting not yet held",
    ]
    assert reports[-1].positions == 2 and reports[-1].meetings == [reporting["meeting"]]


def test_positions_entered_after_reporting_show_as_partly_reported(bromley_users, reporting):
    schedule = reporting["schedule"]
    services.positions_report_periods(
        schedule=schedule, periods=[OCT], meeting=reporting["meeting"], by=bromley_users["commissioner"]
    )
    extra = BudgetLineFactory(schedule=schedule, year=2022, amount=Decimal("10.00"))
    MonthlyPositionFactory(budget_line=extra, period=OCT)

    october = selectors.reporting_by_period(schedule, 2022)[-1]

    assert (october.positions, october.unreported, october.status) == (3, 1, "Partly reported")
