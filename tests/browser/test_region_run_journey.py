"""A finance officer runs every partnership for a month: the finance page's "Run every partnership
for a month", the month, the "Are you sure?" step listing the partnerships and the runs it starts,
then the region run's page with each run and the summary. The task service runs in-process at once
(the chord eagerly). axe-core on every page; no console errors."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from brokerage.models import RechargeRun, RegionRun
from commissioning import roles
from commissioning.celery import app as celery_app
from tests.browser.helpers import assert_accessible, assert_no_console_errors, screenshot
from tests.browser.test_finance_journey import bromley, packages, sign_in  # noqa: F401 - fixtures
from tests.commissioning.factories import PartnershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def tasks_run_at_once(monkeypatch, settings, tmp_path):
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    settings.PDF_ROOT = tmp_path / "pdfs"


def check(page, name: str) -> None:
    assert_accessible(page, name)
    screenshot(page, f"region-{name}")


def test_a_finance_officer_runs_every_partnership_for_a_month(page, bromley, packages):  # noqa: F811
    croydon = PartnershipFactory(name="Croydon", council__code="LBC", nhs_commissioner__code="SEL-CR")
    UserFactory(username="fin", role=roles.FINANCE_OFFICER, partnerships=[bromley, croydon])

    sign_in(page, "fin")
    page.goto("/finance/")
    page.get_by_role("link", name="Run every partnership for a month").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Run every partnership for a month")
    check(page, "month")
    page.get_by_label("Month to recharge").fill("2022-05")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Run every partnership for May 2022?")
    expect(page.locator(".govuk-summary-list")).to_contain_text("LBB and SEL-BR")
    expect(page.locator(".govuk-summary-list")).to_contain_text("LBC and SEL-CR")
    check(page, "confirm")
    assert not RechargeRun.objects.exists()
    page.get_by_role("button", name="Start 4 runs").click()

    status = page.locator("#region-run-status")
    expect(status).to_contain_text("Done")
    expect(status).to_contain_text("4 of 4")
    expect(status).to_contain_text("£2,432.02 on 1 invoice")  # Bromley's council bills the NHS
    check(page, "done")
    region_run = RegionRun.objects.get()
    assert (region_run.status, region_run.done_count, region_run.invoice_count) == ("done", 4, 1)

    page.get_by_role("link", name="LBB run in Bromley").click()
    expect(page.locator("#run-status")).to_contain_text("£2,432.02")
    page.goto("/finance/")
    expect(page.get_by_role("link", name="Every partnership, May 2022")).to_be_visible()
    assert_no_console_errors(page)
