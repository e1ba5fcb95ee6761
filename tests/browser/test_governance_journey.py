"""A board secretary's journey in a real browser: plan a meeting, build its agenda with one exempt
item, record attendance, a declared interest and a vote with the conflicted member left out,
generate the members' and the public pack and download both. axe-core on every page visited."""

from __future__ import annotations

import io
from datetime import date

import pytest
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
            representing=organisation,
            start=date(2020, 1, 1),
        )
    return board


@pytest.fixture
def secretary(board):
    return UserFactory(
        username="sam.secretary",
        first_name="Sam",
        last_name="Secretary",
        role=roles.BOARD_SECRETARY,
        partnerships=[board.partnership],
    )


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
