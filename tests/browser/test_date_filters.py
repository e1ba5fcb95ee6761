"""Date filters on list pages are the GOV.UK date input (issue 18: "use the GOV.UK date input
everywhere"): the decision log and the audit trail take a date as day, month and year boxes in a
fieldset, an impossible date is an error naming the filter in the error summary, and axe-core finds
no WCAG 2.x A/AA violation either way."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from brokerage.models import PackageStatus
from commissioning import roles
from tests.brokerage.factories import ClientFactory, PackageFactory, PanelDecisionFactory
from tests.browser.helpers import assert_accessible, assert_no_console_errors, screenshot
from tests.commissioning.factories import TEST_PASSWORD, ContractFactory, PartnershipFactory, UserFactory
from tests.governance.factories import BoardFactory, DecisionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, username: str, next_url: str) -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def _fill_date(page, group: str, day, month, year) -> None:
    boxes = page.get_by_role("group", name=group)
    boxes.get_by_label("Day").fill(str(day))
    boxes.get_by_label("Month").fill(str(month))
    boxes.get_by_label("Year").fill(str(year))


def _follow_the_error(page, message: str, first_box: str) -> None:
    """The error summary names the filter; its link moves to the filter's first box."""
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text(message)
    summary.get_by_role("link", name=message).click()
    expect(page.locator(first_box)).to_be_focused()


def test_the_decision_log_filters_by_dates_typed_in_day_month_and_year_boxes(page):
    partnership = PartnershipFactory(name="Bromley")
    UserFactory(username="sec", role=roles.BOARD_SECRETARY, partnerships=[partnership])
    board = BoardFactory(partnership=partnership, code="ICB", name="Integrated Commissioning Board")
    for reference, day in (("ICB/2025/001", date(2025, 5, 1)), ("ICB/2026/001", date(2026, 2, 12))):
        DecisionFactory(
            agenda_item__meeting__board=board,
            agenda_item__title=f"Item of {day:%B %Y}",
            reference=reference,
            decided_on=day,
        )

    _sign_in(page, "sec", "/governance/decisions/")
    _fill_date(page, "Decided from", 1, 1, 2026)
    page.get_by_role("button", name="Filter").click()

    table = page.locator("main table")
    expect(table).to_contain_text("ICB/2026/001")
    expect(table).not_to_contain_text("ICB/2025/001")
    assert "decided_from_day=1" in page.url
    expect(page.get_by_role("group", name="Decided from").get_by_label("Year")).to_have_value("2026")
    assert_accessible(page, "decision log filtered by date")
    screenshot(page, "filters-01-decision-log")

    _fill_date(page, "Decided to", 30, 2, 2026)
    page.get_by_role("button", name="Filter").click()

    _follow_the_error(page, "Decided to must be a real date", "#id_decided_to_day")
    assert_accessible(page, "decision log with an impossible date")
    screenshot(page, "filters-02-decision-log-error")
    assert_no_console_errors(page)


def test_the_audit_trail_takes_its_dates_as_day_month_and_year(page):
    partnership = PartnershipFactory(name="Bromley")
    UserFactory(username="aud", role=roles.AUDITOR, partnerships=[partnership])

    _sign_in(page, "aud", "/audit/")
    date_from = page.get_by_role("group", name="From date")
    date_from.get_by_label("Day").fill("31")
    date_from.get_by_label("Month").fill("4")
    date_from.get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Apply filters").click()

    expect(page.locator(".govuk-error-summary")).to_contain_text("From date must be a real date")
    expect(page.locator("input[type=date]")).to_have_count(0)
    assert_accessible(page, "audit trail with an impossible date")
    screenshot(page, "filters-03-audit")
    assert_no_console_errors(page)


def test_the_contract_register_takes_its_end_dates_as_day_month_and_year(page):
    partnership = PartnershipFactory(name="Bromley")
    UserFactory(username="com", role=roles.COMMISSIONER, partnerships=[partnership])
    ContractFactory(
        partnership=partnership, reference="ENDS-2026", start=date(2022, 4, 1), end=date(2026, 9, 30)
    )
    ContractFactory(
        partnership=partnership, reference="ENDS-2028", start=date(2022, 4, 1), end=date(2028, 3, 31)
    )

    _sign_in(page, "com", "/contracts/")
    _fill_date(page, "Ending on or before", 31, 3, 2027)
    page.get_by_role("button", name="Apply filters").click()

    table = page.locator("main table")
    expect(table).to_contain_text("ENDS-2026")
    expect(table).not_to_contain_text("ENDS-2028")
    expect(page.get_by_role("group", name="Ending on or before").get_by_label("Year")).to_have_value("2027")

    _fill_date(page, "Ending on or after", 30, 2, 2026)
    page.get_by_role("button", name="Apply filters").click()

    _follow_the_error(page, "Ending on or after must be a real date", "#id_end_after_day")
    assert_accessible(page, "contract register with an impossible end date")
    screenshot(page, "filters-04-contracts-error")
    assert_no_console_errors(page)


def test_the_package_list_takes_its_live_on_date_as_day_month_and_year(page):
    partnership = PartnershipFactory(name="Bromley")
    UserFactory(username="bea", role=roles.BROKER, partnerships=[partnership])
    client = ClientFactory(partnership=partnership)
    ended = PackageFactory(
        client=client, start=date(2023, 4, 1), end=date(2024, 3, 31), status=PackageStatus.ENDED
    )
    live = PackageFactory(client=client, start=date(2024, 4, 1))

    _sign_in(page, "bea", "/brokerage/packages/")
    table = page.locator("main table")
    expect(table).not_to_contain_text(ended.reference)  # active and suspended by default
    # A live-on date lists what was live then, ended since or not, with no status ticked.
    _fill_date(page, "Live on", 1, 6, 2023)
    page.get_by_role("button", name="Apply filters").click()

    expect(table).to_contain_text(ended.reference)
    expect(table).not_to_contain_text(live.reference)
    screenshot(page, "filters-05-packages-live-on")

    _fill_date(page, "Live on", 29, 2, 2023)
    page.get_by_role("button", name="Apply filters").click()

    _follow_the_error(page, "Live on must be a real date", "#id_live_on_day")
    expect(page.locator("#id_live_on_error")).to_contain_text("Live on must be a real date")
    assert_accessible(page, "package list with an impossible date")
    screenshot(page, "filters-05-packages-error")
    assert_no_console_errors(page)


def test_the_panel_decisions_page_shows_its_filters_and_names_a_bad_one(page):
    partnership = PartnershipFactory(name="Bromley")
    UserFactory(username="mo", role=roles.BROKERAGE_MANAGER, partnerships=[partnership])
    client = ClientFactory(partnership=partnership)
    PanelDecisionFactory(client=client, reference="JFP-22-001", meeting_date=date(2022, 4, 1))
    PanelDecisionFactory(
        client=client,
        reference="JFP-23-001",
        meeting_date=date(2023, 6, 15),
        effective_from=date(2023, 6, 15),
    )

    _sign_in(page, "mo", "/brokerage/panel/")
    _fill_date(page, "Met on or after", 1, 1, 2023)
    page.get_by_role("button", name="Apply filters").click()

    table = page.locator("main table")
    expect(table).to_contain_text("JFP-23-001")
    expect(table).not_to_contain_text("JFP-22-001")

    _fill_date(page, "Met on or before", 31, 6, 2023)
    page.get_by_role("button", name="Apply filters").click()

    _follow_the_error(page, "Met on or before must be a real date", "#id_meeting_to_day")
    assert_accessible(page, "panel decisions with an impossible date")
    screenshot(page, "filters-06-panel-error")

    page.goto("/brokerage/panel/?applied=perhaps")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Applied to a package must be true or false")
    assert_no_console_errors(page)


def test_the_contract_register_filters_by_a_schedule_chosen_from_a_list(page):
    from budgets import services as budget_services
    from tests.budgets.factories import AgreementFactory, ScheduleFactory

    partnership = PartnershipFactory(name="Bromley")
    commissioner = UserFactory(username="com", role=roles.COMMISSIONER, partnerships=[partnership])
    agreement = AgreementFactory(partnership=partnership, reference="BR-S75")
    placements = ScheduleFactory(agreement=agreement, number=2, title="Integrated Placements")
    ScheduleFactory(agreement=agreement, number=3, title="Better Care Fund")
    funded = ContractFactory(partnership=partnership, reference="BR-101")
    ContractFactory(partnership=partnership, reference="BR-303")
    budget_services.contract_schedule_set(contract=funded, schedule=placements, by=commissioner)

    _sign_in(page, "com", "/contracts/")
    page.get_by_label("Funded by schedule").select_option(label="BR-S75, Schedule 2: Integrated Placements")
    page.get_by_role("button", name="Apply filters").click()

    table = page.locator("main table")
    expect(table).to_contain_text("BR-101")
    expect(table).not_to_contain_text("BR-303")
    assert f"schedule={placements.pk}" in page.url
    assert_accessible(page, "contract register filtered by schedule")
    screenshot(page, "filters-07-contracts-schedule")
    assert_no_console_errors(page)
