"""What the schedule page shows of its virements, decisions, reporting, contracts and history, drawn
cold (issue 14: the block reads the schedule with whether it has any virement, funded contract, fed
line or decision link, and reads no more for the sections without): every section with rows shows
them, and a schedule without any reads none of them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from budgets.models import BudgetLine, ContractSchedule, ScheduleFixedShare, Virement
from commissioning import roles
from governance.models import DecisionLink
from tests.budgets.factories import (
    AgreementFactory,
    BudgetLineFactory,
    FundingStreamFactory,
    MonthlyPositionFactory,
    ScheduleFactory,
    VirementFactory,
)
from tests.commissioning.factories import ContractFactory
from tests.governance.factories import BoardFactory, DecisionFactory, MeetingFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]
D = Decimal
AT = datetime(2022, 6, 3, 10, tzinfo=UTC)


@pytest.fixture
def scene(partnership, make_user):
    board = BoardFactory(partnership=partnership, name="Joint board", delegated_limit=D("5000"))
    schedule = ScheduleFactory(agreement=AgreementFactory(partnership=partnership), board=board)
    stream = FundingStreamFactory(partnership=partnership, name="Council stream")
    a, b, c = (
        BudgetLineFactory(schedule=schedule, name=name, year=2022, funding_stream=stream, amount=D("1000.00"))
        for name in ("Placements", "Support team", "Equipment")
    )
    BudgetLineFactory(schedule=schedule, name="Next year", year=2023, funding_stream=stream)
    ScheduleFixedShare.objects.create(schedule=schedule, organisation=partnership.council, percent=D("60"))
    secretary = make_user(username="approver", role=roles.FINANCE_OFFICER, partnerships=[partnership])
    public = DecisionFactory(
        agenda_item__meeting__board=board, reference="JB/2022/001", decided_on=date(2022, 6, 1)
    )
    exempt = DecisionFactory(
        agenda_item__meeting__board=board,
        agenda_item__exemption_regime="schedule_12a",
        agenda_item__exemption_paragraph="3",
        agenda_item__exemption_reason="Commercially sensitive",
        reference="JB/2022/002",
    )
    proposed = VirementFactory(
        schedule=schedule, from_line=a, to_line=b, amount=D("321.00"), proposed_by=secretary
    )
    approved = VirementFactory(
        schedule=schedule,
        from_line=b,
        to_line=c,
        amount=D("654.00"),
        status="approved",
        decision=public,
        proposed_by=secretary,
        approved_by=secretary,
        approved_at=AT,
    )
    VirementFactory(
        schedule=schedule,
        from_line=c,
        to_line=a,
        amount=D("987.00"),
        status="applied",
        decision=exempt,
        proposed_by=secretary,
        approved_by=secretary,
        approved_at=AT,
        applied_by=secretary,
        applied_at=AT,
    )
    line_type, virement_type = (ContentType.objects.get_for_model(m) for m in (BudgetLine, Virement))
    # The approved virement's decision records what it did to its two lines.
    DecisionLink.objects.create(
        decision=public,
        content_type=line_type,
        object_id=b.pk,
        amount_before=D("1000"),
        amount_after=D("346"),
    )
    DecisionLink.objects.create(
        decision=public,
        content_type=line_type,
        object_id=c.pk,
        amount_before=D("1000"),
        amount_after=D("1654"),
    )
    # A decision that only notes the proposed virement (no line's decision, no approving decision).
    noted = DecisionFactory(agenda_item__meeting__board=board, reference="JB/2022/003")
    DecisionLink.objects.create(decision=noted, content_type=virement_type, object_id=proposed.pk)
    held = MeetingFactory(board=board, status="held", starts_at=datetime(2022, 6, 20, 14, tzinfo=UTC))
    later = MeetingFactory(board=board, status="scheduled", starts_at=datetime(2022, 7, 20, 14, tzinfo=UTC))
    for line in (a, b, c):
        MonthlyPositionFactory(budget_line=line, period=date(2022, 4, 1), reported_at=held)
    MonthlyPositionFactory(
        budget_line=a, period=date(2022, 5, 1), reported_at=later, forecast_outturn=D("1500")
    )
    MonthlyPositionFactory(budget_line=b, period=date(2022, 5, 1))
    contract = ContractFactory(partnership=partnership, reference="CON-FUNDED-1")
    ContractSchedule.objects.create(contract=contract, schedule=schedule)
    return {"schedule": schedule, "lines": [a, b, c], "approved": approved}


def _page(client, user, schedule, query="?year=2022") -> str:
    client.force_login(user)
    response = client.get(f"/budgets/schedules/{schedule.pk}/{query}")
    assert response.status_code == 200
    return response.content.decode()


def test_every_section_with_rows_shows_them(client, commissioner, scene):
    html = _page(client, commissioner, scene["schedule"])
    # Virements, newest first, with their lines, people and decisions.
    assert html.index("£987.00") < html.index("£654.00") < html.index("£321.00")
    assert "Placements" in html and "Equipment" in html
    assert "Proposed by" in html and "approved by" in html and "applied by" in html
    assert "JB/2022/001</a>" in html  # the approved virement's decision, linked
    assert "JB/2022/002 (restricted: you may not see this decision)" in html  # exempt: its reference only
    assert "JB/2022/003</a>" in html  # linked to the proposed virement alone
    assert "Support team: £1,000.00 to £346.00" in html  # what the decision did to the lines
    assert "Equipment: £1,000.00 to £1,654.00" in html
    # The decisions behind the lines (the links on two of them).
    assert "No decision is recorded against the budget lines" not in html
    assert "£1,000.00 before, £346.00 after" in html
    # Reporting: April's positions locked by the held meeting, May's partly reported.
    assert 'id="reporting-2022-04"' in html and "Locked" in html
    assert 'id="reporting-2022-05"' in html and "Partly reported" in html and "1 not reported" in html
    # Monitoring at the latest period (May: one line carried forward from April).
    assert "Not complete: 2 of 3 lines have a May 2022 position." in html
    assert "Fixed shares" in html
    assert "CON-FUNDED-1" in html
    assert 'id="history"' in html and "Virement" in html


def test_a_chosen_period_reports_the_whole_year_and_monitors_to_the_period(client, commissioner, scene):
    html = _page(client, commissioner, scene["schedule"], "?year=2022&period=2022-04")
    assert "Complete: every line has a April 2022 position." in html
    assert 'id="reporting-2022-05"' in html  # the reporting is the year's, whatever the period


def test_a_user_who_may_not_see_virements_sees_no_virement_section(client, make_user, partnership, scene):
    auditor = make_user(username="reader", role=roles.BOARD_MEMBER, partnerships=[partnership])
    html = _page(client, auditor, scene["schedule"])
    assert ("£654.00" in html) == auditor.has_perm("budgets.view_virement")


def test_a_decision_linked_to_a_virement_alone_is_shown(client, commissioner, partnership):
    schedule = ScheduleFactory(agreement=AgreementFactory(partnership=partnership))
    virement = VirementFactory(schedule=schedule, amount=D("432.00"))
    board = BoardFactory(partnership=partnership)
    noted = DecisionFactory(agenda_item__meeting__board=board, reference="JB/2022/004")
    DecisionLink.objects.create(
        decision=noted, content_type=ContentType.objects.get_for_model(Virement), object_id=virement.pk
    )
    html = _page(client, commissioner, schedule)
    assert "£432.00" in html and "JB/2022/004</a>" in html


def test_a_schedule_without_virements_decisions_contracts_or_feeds_reads_none_of_them(
    client, commissioner, partnership
):
    schedule = ScheduleFactory(agreement=AgreementFactory(partnership=partnership))
    BudgetLineFactory(schedule=schedule, name="Placements", year=2022)
    client.force_login(commissioner)
    with CaptureQueriesContext(connection) as queries:
        html = _page(client, commissioner, schedule)
    read = [q["sql"] for q in queries.captured_queries]
    for table in (
        "budgets_virement",
        "governance_decisionlink",
        "commissioning_contract",
        "budgets_linefeed",
    ):
        assert not [sql for sql in read if sql.startswith(f'SELECT "{table}"."id"')], table
    assert "No virements have been proposed on this schedule." in html
    assert "No decision is recorded against the budget lines of this schedule." in html
    assert "No contract is recorded as funded by this schedule." in html
