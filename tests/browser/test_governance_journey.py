"""A board secretary's journeys in a real browser. One: plan a meeting, build its agenda with one
exempt item, record attendance, a declared interest and a vote with the conflicted member left out,
generate the members' and the public pack and download both. Two (rule 3, the public record): publish
the agenda, add a late item (numbers unchanged, a supplement), record a decision once the meeting
has started, check the public page before and after publishing the notice, correct the published
decision by a correction notice, approve the minutes at the next meeting. axe-core on every page."""

from __future__ import annotations

import io
from datetime import date

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from commissioning import roles
from commissioning.celery import app as celery_app
from governance.models import Board, Decision, Membership
from tests.browser.helpers import assert_accessible, assert_no_console_errors, screenshot
from tests.browser.test_contract_register import sign_in
from tests.commissioning.factories import PartnershipFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.browser

SECRET = "Wombat tender prices"


@pytest.fixture
def board(db):
    bromley = PartnershipFactory(name="Bromley")
    board = Board.objects.create(
        partnership=bromley,
        name="Bromley Borough Based Board",
        code="BBB",
        quorum_min_voting=3,
        quorum_min_per_partner=1,
    )
    people = [
        ("GP chair", bromley.nhs_commissioner, "chair"),
        ("Lay member", bromley.nhs_commissioner, "lay_member"),
        ("Director of Adult Services", bromley.council, "member"),
        ("Portfolio Holder for Adult Care", bromley.council, "member"),
    ]
    for name, organisation, role in people:
        Membership.objects.create(
            board=board,
            person=PersonFactory(name=name),
            role=role,
            voting=True,
            representing=organisation,
            start=date(2020, 1, 1),
        )
    return board


@pytest.fixture
def secretary(board):
    user = UserFactory(
        username="sam.secretary",
        first_name="Sam",
        last_name="Secretary",
        role=roles.BOARD_SECRETARY,
        partnerships=[board.partnership],
    )
    # the board's own secretary: sees its exempt business (rules.md, rule 3)
    Membership.objects.create(
        board=board,
        person=PersonFactory(name="Sam Secretary", user=user),
        role="secretary",
        start=date(2020, 1, 1),
    )
    return user


@pytest.fixture
def eager_tasks(settings, tmp_path):
    settings.PDF_ROOT = tmp_path / "pdfs"
    settings.MEDIA_ROOT = tmp_path / "media"
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = saved


def open_details(page, summary: str) -> None:
    page.locator("summary", has_text=summary).click()


def test_a_secretary_builds_a_meeting_records_a_conflicted_vote_and_generates_both_packs(
    page, board, secretary, eager_tasks
):
    sign_in(page, secretary.username)
    page.goto("/governance/")
    assert_accessible(page, "governance landing page")
    page.get_by_role("link", name="Bromley Borough Based Board").click()
    assert_accessible(page, "board page")

    open_details(page, "Plan a meeting")
    page.locator("#id_date_day").fill("7")
    page.locator("#id_date_month").fill("10")
    page.locator("#id_date_year").fill("2021")
    page.locator("#id_start_time").fill("14:00")
    page.locator("#id_venue").fill("Bromley Civic Centre")
    page.get_by_role("button", name="Plan meeting").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Meeting of Thursday 7 October 2021, 14:00"
    assert_accessible(page, "meeting page")

    open_details(page, "Add an agenda item")
    page.locator("#id_title").fill("Integrated Placements and Brokerage")
    page.locator("#id_purpose").select_option("decision")
    page.get_by_role("button", name="Add item").click()
    page.wait_for_load_state()

    open_details(page, "Add an agenda item")
    page.locator("#id_title").fill("Provider market position")
    page.locator("#id_purpose").select_option("discussion")
    page.get_by_label("Section 1(2) of the Public Bodies (Admission to Meetings) Act 1960").check()
    page.get_by_role("button", name="Add item").click()
    page.wait_for_load_state()
    assert_accessible(page, "add an exempt item without its reason")
    assert "Give the reason the information is exempt." in page.locator(".govuk-error-summary").inner_text()
    page.locator("#id_title").fill("Provider market position")
    page.get_by_label("Section 1(2) of the Public Bodies (Admission to Meetings) Act 1960").check()
    page.locator("#id_exemption_reason").fill(f"Commercial confidentiality: {SECRET}")
    page.get_by_role("button", name="Add item").click()
    page.wait_for_load_state()
    agenda = page.locator("table.govuk-table").first.inner_text()
    assert "Exclusion of the press and public" in agenda and "Provider market position" in agenda

    for name in ("GP chair", "Lay member", "Director of Adult Services", "Portfolio Holder for Adult Care"):
        open_details(page, "Record attendance")
        page.locator("#id_person").select_option(label=name)
        page.locator("#id_status").select_option("present")
        page.get_by_role("button", name="Record attendance").click()
        page.wait_for_load_state()
    assert_accessible(page, "meeting page with attendance")
    screenshot(page, "governance-meeting")

    page.get_by_role("link", name="Integrated Placements and Brokerage").click()
    assert_accessible(page, "agenda item page")
    open_details(page, "Record a declaration of interest")
    page.locator("#id_person").select_option(label="Lay member")
    page.locator("#id_nature").select_option("financial")
    page.locator("#id_description").fill("Trustee of a provider bidding for the service")
    page.get_by_label("Withdrew from the item").check()
    page.get_by_role("button", name="Record declaration").click()
    page.wait_for_load_state()
    assert "Quorate: 3 voting members present and not conflicted." in page.locator("#quorum").inner_text()
    assert page.get_by_label("Vote of Lay member").count() == 0  # the conflicted member has no vote

    page.locator("#id_resolution").fill("Agreed that the IPB service be established by 1 April 2022.")
    page.locator("#id_outcome").select_option("approved")
    page.locator("#id_financial_value").fill("162,053")
    for name in ("GP chair", "Director of Adult Services"):
        page.get_by_label(f"Vote of {name}").select_option("for")
    page.get_by_label("Vote of Portfolio Holder for Adult Care").select_option("against")
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_load_state()
    assert_accessible(page, "decision notice")
    screenshot(page, "governance-decision")
    notice = page.locator("main").inner_text()
    assert "Decision BBB/2021/001" in notice and "Carried 2 to 1." in notice
    assert "Lay member: Trustee of a provider bidding for the service (withdrew from the item)" in notice
    assert Decision.objects.get().votes.count() == 3

    page.get_by_role("link", name="7 October 2021").click()
    page.get_by_role("button", name="Generate members' pack").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Generate public pack").click()
    page.wait_for_load_state()
    assert_accessible(page, "meeting page with packs")
    screenshot(page, "governance-packs")

    texts = {}
    for audience in ("members", "public"):
        with page.expect_download() as download_info:
            page.get_by_role("link", name=f"Download {audience} pack v1 (PDF)").click()
        path = download_info.value.path()
        reader = PdfReader(io.BytesIO(path.read_bytes()))
        texts[audience] = " ".join(" ".join((p.extract_text() or "") for p in reader.pages).split())
    assert "Provider market position" in texts["members"] and "Provider market position" in texts["public"]
    assert "Page 1 of" in texts["public"]
    assert_no_console_errors(page)


def plan_meeting(page, day: int, month: int, year: int = 2021) -> None:
    page.goto("/governance/")
    page.get_by_role("link", name="Bromley Borough Based Board", exact=True).click()
    open_details(page, "Plan a meeting")
    page.locator("#id_date_day").fill(str(day))
    page.locator("#id_date_month").fill(str(month))
    page.locator("#id_date_year").fill(str(year))
    page.locator("#id_start_time").fill("14:00")
    page.get_by_role("button", name="Plan meeting").click()
    page.wait_for_load_state()


def add_item(page, title: str) -> None:
    open_details(page, "Add an agenda item")
    page.locator("#id_title").fill(title)
    page.locator("#id_purpose").select_option("decision")
    page.get_by_role("button", name="Add item").click()
    page.wait_for_load_state()


def agenda_rows(page) -> dict[str, str]:
    rows = page.locator("table.govuk-table").first.locator("tbody tr")
    out = {}
    for n in range(rows.count()):
        cells = rows.nth(n).locator("td")
        out[cells.nth(1).locator("a").inner_text()] = cells.nth(0).inner_text().strip()
    return out


def test_the_public_record_is_what_was_published(page, board, secretary):
    sign_in(page, secretary.username)
    plan_meeting(page, 7, 10)
    meeting_url = page.url
    add_item(page, "Integrated Placements and Brokerage")
    add_item(page, "Better Care Fund plan")
    before = agenda_rows(page)
    assert before["Integrated Placements and Brokerage"] == "4" and before["Better Care Fund plan"] == "5"

    # publish the agenda, after "Are you sure?"
    page.get_by_role("link", name="Publish the agenda").click()
    assert_accessible(page, "are you sure: publish the agenda")
    assert page.locator("h1").inner_text() == "Publish the agenda of 7 October 2021?"
    page.get_by_role("button", name="Yes, publish the agenda").click()
    page.wait_for_load_state()
    assert "Agenda published on" in page.locator("main").inner_text()

    # a late item: the next number at the end (no exempt business follows), in supplement 1, and
    # nothing renumbered (a late item before exempt business takes 5A: the service tests)
    add_item(page, "Winter discharge funding")
    after = agenda_rows(page)
    assert after["Winter discharge funding"] == "6"
    assert all(after[title] == number for title, number in before.items())
    assert "Supplement 1" in page.locator("table.govuk-table").first.inner_text()
    assert_accessible(page, "meeting page with a late item")

    # the meeting has started (7 October 2021): attendance, then the decision
    for name in ("GP chair", "Lay member", "Director of Adult Services", "Portfolio Holder for Adult Care"):
        open_details(page, "Record attendance")
        page.locator("#id_person").select_option(label=name)
        page.locator("#id_status").select_option("present")
        page.get_by_role("button", name="Record attendance").click()
        page.wait_for_load_state()
    page.get_by_role("button", name="Mark the meeting held").click()
    page.wait_for_load_state()
    assert "Held" in page.locator(".govuk-caption-l").inner_text()
    page.get_by_role("link", name="Integrated Placements and Brokerage").click()
    page.locator("#id_resolution").fill("Agreed a budget of £1.2m for the IPB service.")
    page.locator("#id_outcome").select_option("approved")
    page.locator("#id_financial_value").fill("1,200")
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_load_state()
    decision_url = page.url
    notice = page.locator("main").inner_text()
    assert "Decision BBB/2021/001" in notice and "Not published" in notice
    assert "minute 4/21" in notice  # minute numbers follow the agenda

    # the public page before publication: not there
    page.goto("/governance/public/boards/BBB/")
    assert_accessible(page, "public board page before publication")
    assert "£1.2m" not in page.locator("main").inner_text()
    assert "No decisions published." in page.locator("main").inner_text()

    # publish the notice, after "Are you sure?"
    page.goto(decision_url)
    page.get_by_role("link", name="Publish decision notice").click()
    assert_accessible(page, "are you sure: publish the notice")
    assert "never edited" in page.locator("main").inner_text()
    page.get_by_role("button", name="Yes, publish the notice").click()
    page.wait_for_load_state()
    page.goto("/governance/public/boards/BBB/")
    assert "£1.2m" in page.locator("main").inner_text()

    # the mistyped value is put right by a correction notice, published the same way
    page.goto(decision_url)
    page.get_by_role("link", name="Issue a correction notice").click()
    assert_accessible(page, "correction notice form")
    page.locator("#id_resolution").fill("Agreed a budget of £120,000 for the IPB service.")
    page.locator("#id_correction_note").fill("The value was mistyped.")
    page.get_by_role("button", name="Record the correction notice").click()
    page.wait_for_load_state()
    assert "Correction notice: corrects BBB/2021/001" in page.locator("main").inner_text()
    page.get_by_role("link", name="Publish decision notice").click()
    page.get_by_role("button", name="Yes, publish the notice").click()
    page.wait_for_load_state()
    page.goto("/governance/public/boards/BBB/")
    public = page.locator("main").inner_text()
    assert "£120,000" in public and "corrects BBB/2021/001" in public
    assert "Corrected by BBB/2021/002" in public and "£1.2m" in public  # the original stays
    assert_accessible(page, "public board page with a correction")
    screenshot(page, "governance-public-correction")

    # draft minutes, then approved at the next meeting
    page.goto(meeting_url)
    open_details(page, "Write the minutes")
    page.get_by_label("4. Integrated Placements and Brokerage").fill("The Board agreed the IPB budget.")
    page.get_by_role("button", name="Save minutes").click()
    page.wait_for_load_state()
    plan_meeting(page, 4, 11)
    page.get_by_role("link", name="Approve the minutes of 7 October 2021").click()
    assert_accessible(page, "are you sure: approve the minutes")
    page.get_by_role("button", name="Yes, approve the minutes").click()
    page.wait_for_load_state()
    assert (
        "The minutes of 7 October 2021 were approved on 4 November 2021." in page.locator("main").inner_text()
    )
    page.goto("/governance/public/")
    page.get_by_role("link", name="Bromley Borough Based Board", exact=True).click()
    page.get_by_role("link", name="Thursday 7 October 2021, 14:00").click()
    expect(page.locator("main")).to_contain_text("The Board agreed the IPB budget.")
    assert_no_console_errors(page)
