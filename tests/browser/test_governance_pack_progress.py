"""The pack's progress on the meeting page, in a real browser, with generation really queued (not run
eagerly): the page polls with htmx and shows the progress, then the download link, without a reload.

The queue is replaced by a list (no broker, so the test is safe under xdist); the test plays the
worker: it moves the pack on as a worker would, then runs the task itself while the page polls."""

from __future__ import annotations

from datetime import date

import pytest

from commissioning import roles
from governance import services, tasks
from governance.models import BoardPack, Membership, PackStatus
from tests.browser.helpers import assert_accessible, assert_no_console_errors, screenshot
from tests.browser.test_contract_register import sign_in
from tests.commissioning.factories import PartnershipFactory, PersonFactory, UserFactory
from tests.governance.factories import BoardFactory, london

pytestmark = pytest.mark.browser


@pytest.fixture
def meeting(db):
    partnership = PartnershipFactory(name="Bromley")
    board = BoardFactory(partnership=partnership, name="Bromley Borough Based Board", code="BBB")
    Membership.objects.create(
        board=board,
        person=PersonFactory(name="GP chair"),
        role="chair",
        representing=partnership.nhs_commissioner,
        start=date(2020, 1, 1),
    )
    meeting = services.meeting_create(
        board=board, starts_at=london(2021, 10, 7), venue="Civic Centre", by=None
    )
    services.agenda_item_add(meeting=meeting, title="Integrated Placements and Brokerage", by=None)
    return meeting


@pytest.fixture
def queued(monkeypatch, settings, tmp_path):
    """Pack ids queued by the page, instead of a broker; the packs are written under tmp_path."""
    settings.PDF_ROOT = tmp_path / "pdfs"
    settings.MEDIA_ROOT = tmp_path / "media"
    ids: list[int] = []
    monkeypatch.setattr(tasks.generate_pack, "delay", ids.append)
    return ids


def test_the_meeting_page_polls_the_queued_pack_and_shows_progress_then_the_download(page, meeting, queued):
    secretary = UserFactory(
        username="sam.secretary", role=roles.BOARD_SECRETARY, partnerships=[meeting.board.partnership]
    )
    sign_in(page, secretary.username)
    page.goto(meeting.get_absolute_url())
    page.get_by_role("button", name="Generate public pack").click()
    page.wait_for_load_state()

    assert len(queued) == 1, "the page queues the task once the request's transaction commits"
    pack = BoardPack.objects.get(pk=queued[0])
    assert pack.status == PackStatus.QUEUED
    packs = page.locator("#packs")
    assert packs.get_attribute("hx-trigger") == "every 2s"
    assert "Queued" in packs.inner_text()
    assert page.get_by_role("link", name="Download public pack v1 (PDF)").count() == 0
    assert_accessible(page, "meeting page with a queued pack")
    # A marker that a full page load would wipe: the updates below must arrive by htmx alone.
    page.evaluate("window.__notReloaded = true")

    # The worker picks the pack up and reports progress; the page's next poll shows it.
    BoardPack.objects.filter(pk=pack.pk).update(status=PackStatus.RENDERING, progress=40)
    page.locator(f"#progress-{pack.pk}[value='40']").wait_for(timeout=10_000)
    assert "Rendering" in packs.inner_text()
    screenshot(page, "governance-pack-progress")

    # The worker finishes; the page swaps in the download link and stops polling.
    assert tasks.generate_pack_now(pack.pk) == PackStatus.READY
    link = page.get_by_role("link", name="Download public pack v1 (PDF)")
    link.wait_for(timeout=10_000)
    assert page.evaluate("window.__notReloaded === true"), "the page was reloaded"
    assert page.locator("#packs").get_attribute("hx-trigger") is None
    assert "Ready" in page.locator("#packs").inner_text()
    assert_accessible(page, "meeting page with the pack ready")

    with page.expect_download() as download_info:
        link.click()
    assert download_info.value.path().read_bytes().startswith(b"%PDF-")
    assert_no_console_errors(page)


def test_the_secretarys_board_and_register_forms_are_accessible_with_their_errors(page, meeting):
    secretary = UserFactory(
        username="sam.secretary", role=roles.BOARD_SECRETARY, partnerships=[meeting.board.partnership]
    )
    sign_in(page, secretary.username)
    page.goto(f"/governance/boards/{meeting.board.pk}/edit/")
    page.locator("#id_code").fill("bb")
    page.get_by_role("button", name="Save board").click()
    page.wait_for_load_state()
    assert (
        "Code must be 2 to 10 capital letters and digits" in page.locator(".govuk-error-summary").inner_text()
    )
    assert_accessible(page, "board form with an error")
    screenshot(page, "governance-board-form")
    page.goto(f"/governance/boards/{meeting.board.pk}/members/new/")
    page.get_by_role("button", name="Add member").click()
    page.wait_for_load_state()
    assert "Select the person" in page.locator(".govuk-error-summary").inner_text()
    assert_accessible(page, "membership form with errors")
    page.goto("/governance/register/changes/new/")
    assert_accessible(page, "declare a change to interests")
    page.goto(meeting.board.get_absolute_url())
    assert "Board added" in page.locator("#history ~ .app-timeline").inner_text()
    assert_accessible(page, "board page with history")
    screenshot(page, "governance-board")
    assert_no_console_errors(page)
