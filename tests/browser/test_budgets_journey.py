"""A commissioner enters a month's positions for the IPB schedule in a real browser, then sees the
variance and the chart; axe-core finds no WCAG 2.x A/AA violation and the console stays clean."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from budgets import demo
from budgets.models import MonthlyPosition, Schedule, financial_year_of
from commissioning import roles
from tests.browser.helpers import assert_accessible, assert_no_console_errors, screenshot
from tests.commissioning.factories import TEST_PASSWORD, PartnershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def bromley():
    partnership = PartnershipFactory(
        name="Bromley",
        council__code="LBB",
        council__name="London Borough of Bromley",
        nhs_commissioner__code="SELCCG-BR",
        nhs_commissioner__name="NHS South East London CCG (Bromley)",
    )
    users = {
        "commissioner": UserFactory(
            username="amira.khan",
            first_name="Amira",
            last_name="Khan",
            role=roles.COMMISSIONER,
            partnerships=[partnership],
        ),
    }
    demo.load(partnerships={"Bromley": partnership}, users=users, seed=2021, today=timezone.localdate())
    return partnership


def test_a_commissioner_enters_a_months_positions_and_sees_the_variance_and_chart(page, bromley):
    today = timezone.localdate()
    year = financial_year_of(today)
    schedule = Schedule.objects.get(title="Integrated Placements and Brokerage")
    lines = list(schedule.lines.filter(year=year).order_by("pk"))

    page.goto(f"/accounts/login/?next=/budgets/schedules/{schedule.pk}/")
    page.locator("#id_username").fill("amira.khan")
    page.locator("#id_password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()

    expect(page.get_by_role("heading", level=1)).to_have_text("Integrated Placements and Brokerage")
    expect(page.locator("table.app-budget-table")).to_contain_text("£220,679.00")
    assert_accessible(page, "schedule page")

    page.get_by_role("link", name="Enter monthly positions").click()
    page.get_by_label("Period").select_option(f"{today:%Y-%m}")
    page.get_by_role("button", name="Choose period").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Monthly positions for {today:%B %Y}")
    assert_accessible(page, "positions form")
    for line in lines:
        label = f"for {line.name} ({line.funding_stream.name})"
        page.get_by_label(f"Actual to date {label}").fill("1000")
        page.get_by_label(f"Forecast outturn {label}").fill(str(line.amount + 1000))
    page.get_by_label(f"Commentary for {lines[0].name} ({lines[0].funding_stream.name})").fill(
        "Two complex discharges"
    )
    screenshot(page, "budgets-01-positions")
    page.get_by_role("button", name="Save positions").click()

    expect(page.get_by_text(f"Positions for {today:%B %Y} saved ({len(lines)} lines)")).to_be_visible()
    variance = f"£{1000 * len(lines):,}.00"
    expect(page.locator("#schedule-variance")).to_have_text(variance)
    expect(page.locator("#variance-summary")).to_contain_text("Forecast overspend")
    expect(page.locator("svg.app-chart")).to_be_visible()
    expect(page.locator("svg.app-chart desc")).to_contain_text(f"a forecast overspend of {variance}")
    assert MonthlyPosition.objects.filter(budget_line__in=lines, period=today.replace(day=1)).count() == len(
        lines
    )
    assert_accessible(page, "schedule page after entering positions")
    screenshot(page, "budgets-02-schedule")
    assert_no_console_errors(page)


def test_a_commissioner_reports_a_months_positions_to_a_board_meeting(page, bromley):
    from datetime import datetime

    from governance.models import Board, Meeting

    today = timezone.localdate()
    schedule = Schedule.objects.get(title="Integrated Placements and Brokerage")
    board = Board.objects.create(
        partnership=bromley, name="Integrated Commissioning Board", code="ICBB", delegated_limit=5000
    )
    Schedule.objects.filter(pk=schedule.pk).update(board=board)
    meeting = Meeting.objects.create(
        board=board,
        starts_at=timezone.make_aware(datetime(today.year, today.month, 1, 14, 0)),
        venue="Civic Centre",
    )
    from budgets import services
    from commissioning.models import User

    period = today.replace(day=1)
    for line in schedule.lines.filter(year=financial_year_of(today)):
        services.monthly_position_save(
            budget_line=line,
            period=period,
            actual_to_date=line.amount / 2,
            forecast_outturn=line.amount,
            by=User.objects.get(username="amira.khan"),
        )

    page.goto(f"/accounts/login/?next=/budgets/schedules/{schedule.pk}/")
    page.locator("#id_username").fill("amira.khan")
    page.locator("#id_password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()

    expect(page.locator(f"#reporting-{period:%Y-%m}")).to_contain_text("Not reported")
    page.get_by_role("link", name="Report positions to a board meeting").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Report positions to a board meeting")
    assert_accessible(page, "report positions page")
    page.get_by_label("Board meeting").select_option(str(meeting.pk))
    page.get_by_label(f"{period:%B %Y}:").check()
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check before you report the positions")
    expect(page.locator("#report-check")).to_contain_text(f"{period:%B %Y}")
    assert_accessible(page, "confirm reporting page")
    screenshot(page, "budgets-03-report-check")
    page.get_by_role("button", name="Confirm and report").click()

    row = page.locator(f"#reporting-{period:%Y-%m}")
    expect(row).to_contain_text("Integrated Commissioning Board")
    expect(row).to_contain_text("Reported")
    assert set(
        MonthlyPosition.objects.filter(budget_line__schedule=schedule, period=period).values_list(
            "reported_at", flat=True
        )
    ) == {meeting.pk}
    assert_accessible(page, "schedule page after reporting")
    screenshot(page, "budgets-04-reported")

    page.goto(f"/budgets/agreements/{schedule.agreement.pk}/")
    page.get_by_role("link", name="Change funding stream iBCF").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change funding stream iBCF")
    page.get_by_label("Name of the funding stream").fill("Improved Better Care Fund")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#streams-table")).to_contain_text("Improved Better Care Fund")
    # The agreement page's success banner takes focus (and scrolls to the top) when GOV.UK
    # Frontend starts; a click before the page has loaded can land where the link used to be.
    page.wait_for_load_state()
    page.get_by_role("link", name="Change funding stream Improved Better Care Fund").click()
    # The agreement page has a #history too: wait for the stream's own page first.
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Change funding stream Improved Better Care Fund")
    expect(page.locator("#history")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Funding stream “Improved Better Care Fund” changed")
    assert_accessible(page, "funding stream page")
    screenshot(page, "budgets-05-stream")
    assert_no_console_errors(page)


def _sign_in(page, username: str, next_url: str) -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_a_virement_proposed_by_one_officer_is_approved_by_a_second(page, browser, live_server, bromley):
    """Separation of duties (issue 18): the commissioner who proposes a virement above the board's
    delegated limit cannot approve it; a second commissioner approves it with the board's decision,
    which the approval page offers with its title (only the schedule's board, on or after the
    proposal), then applies it."""
    from budgets.models import BudgetLine, Virement
    from governance.models import Board
    from tests.governance.factories import DecisionFactory

    today = timezone.localdate()
    year = financial_year_of(today)
    schedule = Schedule.objects.get(title="Integrated Placements and Brokerage")
    board = Board.objects.create(
        partnership=bromley, name="Integrated Commissioning Board", code="ICBB", delegated_limit=5000
    )
    Schedule.objects.filter(pk=schedule.pk).update(board=board)
    UserFactory(
        username="sam.okoro",
        first_name="Sam",
        last_name="Okoro",
        role=roles.COMMISSIONER,
        partnerships=[bromley],
    )
    source = schedule.lines.get(year=year, name="Placements and Brokerage")
    target = schedule.lines.get(year=year, name="Additional finance costs")

    _sign_in(page, "amira.khan", f"/budgets/schedules/{schedule.pk}/virements/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Propose a virement")
    page.get_by_label("Line to move the money from").select_option(str(source.pk))
    page.get_by_label("Line to move the money to").select_option(str(target.pk))
    page.get_by_label("Amount").fill("6,000")
    page.get_by_label("Reason").fill("Finance team costs above plan")
    assert_accessible(page, "propose a virement")
    page.get_by_role("button", name="Propose virement").click()
    expect(page.get_by_text("Virement of £6,000.00 proposed")).to_be_visible()
    virements = page.locator("#virements ~ table").first
    expect(virements).to_contain_text("Proposed by Amira Khan")
    expect(virements).to_contain_text("You proposed it: another officer approves it")
    virement = Virement.objects.get()
    # The proposer is refused the approval page itself.
    assert page.goto(f"/budgets/virements/{virement.pk}/approve/").status == 403
    expect(page.locator("main")).to_contain_text("another officer must approve it")
    # Chromium logs the 403 we asked for as a console error: that one is expected.
    page.console_errors[:] = [e for e in page.console_errors if "403 (Forbidden)" not in e]
    # The board meets after the proposal and approves it.
    decision = DecisionFactory(
        agenda_item__meeting__board=board,
        agenda_item__title="Virement to the finance costs line",
        decided_on=today,
    )
    page.context.clear_cookies()

    _sign_in(page, "sam.okoro", f"/budgets/schedules/{schedule.pk}/")
    page.get_by_role("link", name="Approve the virement of £6,000.00").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Approve the virement of £6,000.00")
    expect(page.locator("main")).not_to_contain_text("None: within")
    option = page.get_by_label(f"{decision.reference}: Virement to the finance costs line")
    expect(option).to_be_visible()
    expect(page.locator("main")).to_contain_text(
        f"Decided on {today:%-d %B %Y} by Integrated Commissioning Board"
    )
    assert_accessible(page, "approve a virement")
    screenshot(page, "budgets-06-virement-approve")
    option.check()
    page.get_by_role("button", name="Approve the virement").click()
    expect(page.get_by_text("Virement of £6,000.00 approved")).to_be_visible()
    page.get_by_role("button", name="Apply virement of £6,000.00").click()
    expect(page.get_by_text("Virement of £6,000.00 applied to the budget lines")).to_be_visible()
    virements = page.locator("#virements ~ table").first
    expect(virements).to_contain_text("approved by Sam Okoro")
    expect(virements).to_contain_text("applied by Sam Okoro")
    expect(virements).to_contain_text(decision.reference)
    assert_accessible(page, "schedule page after the virement")
    screenshot(page, "budgets-07-virement-applied")
    stored = Virement.objects.get()
    assert (stored.status, stored.proposed_by.username, stored.approved_by.username) == (
        "applied",
        "amira.khan",
        "sam.okoro",
    )
    assert BudgetLine.objects.get(pk=target.pk).amount == target.amount + 6000
    assert_no_console_errors(page)


def test_a_commissioner_fills_in_the_template_imports_it_then_edits_the_download_and_imports_it_back(
    page, bromley, tmp_path
):
    """Issue 18: import and export share one layout. The import page says which columns are
    required and in what format, and offers a template; the template filled in imports; a bad row is
    reported by row and column with nothing imported; the schedule's download, edited, imports back
    and changes only the edited line."""
    import csv

    from budgets.models import BudgetLine

    year = financial_year_of(timezone.localdate())
    schedule = Schedule.objects.get(title="Integrated Placements and Brokerage")
    count = schedule.lines.count()

    _sign_in(page, "amira.khan", f"/budgets/schedules/{schedule.pk}/")
    page.get_by_role("link", name="Import budget lines").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import budget lines")
    columns = page.locator("#import-columns")
    expect(columns).to_contain_text("Required")
    expect(columns).to_contain_text("indicative, mobilisation or approved")
    expect(columns).to_contain_text("iBCF")
    assert_accessible(page, "import page")
    screenshot(page, "budgets-08-import-page")

    with page.expect_download() as download:
        page.get_by_role("link", name="Template as CSV").click()
    template = download.value.path().read_bytes()
    assert download.value.suggested_filename == "budget-lines-template.csv"
    assert template.decode("utf-8-sig") == "name,year,funding_stream,amount,status,id,version\r\n"
    with page.expect_download() as download:
        page.get_by_role("link", name="Template as XLSX (Excel)").click()
    assert download.value.suggested_filename == "budget-lines-template.xlsx"

    # A bad row first: nothing is imported, and the report names the row and the column.
    bad = tmp_path / "bad.csv"
    bad.write_bytes(template + f"Brokerage system licence,{year},Lottery,12500,,,\r\n".encode())
    page.get_by_label("Spreadsheet of budget lines").set_input_files(str(bad))
    page.get_by_role("button", name="Check and import").click()
    expect(page.locator(".govuk-error-summary").first).to_contain_text(
        "Nothing was imported: 1 row needs correcting"
    )
    report = page.locator("#import-report + table")
    expect(report.locator("tbody tr").first).to_contain_text("2")
    expect(report.locator("tbody tr").first).to_contain_text("funding_stream")
    expect(report).to_contain_text("“Lottery” is not a funding stream of Bromley")
    assert_accessible(page, "import page with a bad row")
    screenshot(page, "budgets-09-import-errors")
    assert schedule.lines.count() == count

    filled = tmp_path / "lines.csv"
    filled.write_bytes(template + f"Brokerage system licence,{year},iBCF,12500,,,\r\n".encode())
    page.get_by_label("Spreadsheet of budget lines").set_input_files(str(filled))
    page.get_by_role("button", name="Check and import").click()
    expect(page.get_by_text("1 budget line added", exact=True)).to_be_visible()
    expect(page.locator("table.app-budget-table")).to_contain_text("Brokerage system licence")
    line = BudgetLine.objects.get(schedule=schedule, name="Brokerage system licence")
    assert (line.year, line.funding_stream.name, str(line.amount), line.status) == (
        year,
        "iBCF",
        "12500.00",
        "indicative",
    )

    # The schedule's download is the same layout: change the new line's amount and import it back.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    rows = list(csv.reader(download.value.path().read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0] == ["name", "year", "funding_stream", "amount", "status", "id", "version"]
    assert len(rows) == count + 2
    [edited] = [row for row in rows if row[0] == "Brokerage system licence"]
    edited[3] = "13000.00"
    exported = tmp_path / "exported.csv"
    with exported.open("w", newline="", encoding="utf-8-sig") as handle:
        csv.writer(handle).writerows(rows)
    page.get_by_role("link", name="Import budget lines").click()
    page.get_by_label("Spreadsheet of budget lines").set_input_files(str(exported))
    page.get_by_role("button", name="Check and import").click()
    expect(page.get_by_text(f"1 budget line changed; {count} unchanged", exact=True)).to_be_visible()
    assert str(BudgetLine.objects.get(pk=line.pk).amount) == "13000.00"
    assert schedule.lines.count() == count + 1
    assert_accessible(page, "schedule page after the import")
    screenshot(page, "budgets-10-imported")
    assert_no_console_errors(page)
