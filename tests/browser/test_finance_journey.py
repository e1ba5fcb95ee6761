"""A finance officer's month end: start the recharge run, review the draft (lines grouped by
package), issue it, download the PDF, record the payment of the undisputed line while the other is
disputed, waive the disputed line (a credit note), run the next month (the waived amount is not
billed again), and read the aged debt and recharge reports. axe-core runs on
every page visited and the pages log no console errors (CSP: no inline script or style)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from brokerage import services
from brokerage.models import Dispute, Invoice, RechargeRun
from brokerage.services import Share
from commissioning import roles
from commissioning.celery import app as celery_app
from tests.brokerage.factories import ClientFactory, PackageFactory, PanelDecisionFactory
from tests.browser.helpers import assert_accessible, assert_no_console_errors, screenshot
from tests.commissioning.factories import TEST_PASSWORD, PartnershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAY = date(2022, 5, 1)


@pytest.fixture(autouse=True)
def tasks_run_at_once(monkeypatch, settings, tmp_path):
    """The live server's requests queue tasks on commit; here they run in-process at once."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    settings.PDF_ROOT = tmp_path / "pdfs"


@pytest.fixture
def bromley():
    return PartnershipFactory(
        name="Bromley",
        council__name="London Borough of Bromley",
        council__code="LBB",
        nhs_commissioner__name="NHS South East London (Bromley)",
        nhs_commissioner__code="SEL-BR",
    )


@pytest.fixture
def packages(bromley):
    broker = UserFactory(username="bea", role=roles.BROKER, partnerships=[bromley])
    made = []
    for reference, rate in (("LAS100001", "1234.56"), ("LAS100002", "700.00")):
        client = ClientFactory(partnership=bromley, case_reference=reference)
        package = PackageFactory(client=client, start=date(2022, 5, 10), paying_organisation=bromley.council)
        services.package_cost_add(
            package=package,
            effective_from=package.start,
            unit_rate=Decimal(rate),
            units_per_week=Decimal("1"),
            unit="week",
            by=broker,
        )
        services.funding_split_add(
            package=package,
            effective_from=package.start,
            shares=[Share(bromley.council, Decimal("60")), Share(bromley.nhs_commissioner, Decimal("40"))],
            basis="panel_decision",
            decision_reference=PanelDecisionFactory(client=client).reference,
            by=broker,
        )
        made.append(package)
    return made


def sign_in(page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def check(page, name: str) -> None:
    assert_accessible(page, name)
    screenshot(page, f"finance-{name}")


def fill_date(page, prefix: str, day) -> None:
    page.locator(f"#id_{prefix}_day").fill(str(day.day))
    page.locator(f"#id_{prefix}_month").fill(str(day.month))
    page.locator(f"#id_{prefix}_year").fill(str(day.year))


def test_a_finance_officer_runs_month_end(page, bromley, packages):
    UserFactory(
        username="fin",
        first_name="Fay",
        last_name="Finance",
        role=roles.FINANCE_OFFICER,
        partnerships=[bromley],
    )
    today = timezone.localdate()

    sign_in(page, "fin")
    page.get_by_role("link", name="Finance", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Finance")
    check(page, "index")

    # Start the run for May 2022.
    page.get_by_role("link", name="Start a recharge run").click()
    check(page, "start-run")
    page.get_by_label("Paying organisation (issuer)").select_option(
        label="London Borough of Bromley (LBB) in Bromley"
    )
    page.get_by_label("Month to recharge").fill("2022-05")
    page.get_by_role("button", name="Start the run").click()
    expect(page.locator("#run-status")).to_contain_text("Done")
    expect(page.locator("#run-status")).to_contain_text("£2,432.02")  # 1552.02 + 700 x 22 x 40 / 700 = 880.00
    check(page, "run")
    run = RechargeRun.objects.get()
    assert (run.status, run.invoice_count) == ("done", 1)

    # Review the draft and issue it.
    page.get_by_role("link", name=re.compile("^Draft invoice to SEL-BR")).click()
    expect(page.get_by_text(re.compile("client LAS100001"))).to_be_visible()
    expect(page.get_by_text(re.compile("client LAS100002"))).to_be_visible()
    check(page, "draft")
    page.get_by_role("link", name="Issue invoice").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Are you sure you want to issue this invoice?")
    check(page, "issue-confirm")
    page.get_by_role("button", name="Yes, issue the invoice").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Issued LBB-")
    invoice = Invoice.objects.get()
    assert invoice.status == "issued" and invoice.number.startswith("LBB-")
    check(page, "issued")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename == f"{invoice.number}.pdf"

    # The CCG disputes the smaller line and pays the other.
    page.get_by_role("link", name="Dispute lines").click()
    check(page, "dispute-form")
    page.get_by_label(re.compile("^LAS100002")).check()
    page.get_by_label("Wrong rate").check()
    page.get_by_label("Note").fill("The rate was not agreed at panel")
    page.get_by_role("button", name="Raise the dispute").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Dispute raised")
    page.wait_for_load_state()  # the success banner takes focus once scripts run
    page.get_by_role("link", name="Record a payment").click()
    check(page, "payment-form")
    page.get_by_label("Amount paid").fill("1552.02")
    fill_date(page, "date", today)
    page.get_by_role("button", name="Record the payment").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Payment of £1,552.02 recorded")
    invoice.refresh_from_db()
    assert invoice.status == "disputed"
    check(page, "disputed")

    # The disputed line is waived: a credit note at once, and nothing is left to pay.
    page.get_by_role("link", name="Settle the dispute").click()
    check(page, "settle-dispute")
    page.get_by_label("Waived: not billed, as a settlement").check()
    page.get_by_role("button", name="Settle the dispute").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("credit note LBB-CN-")
    expect(page.get_by_text("never billed again")).to_be_visible()
    invoice.refresh_from_db()
    assert (invoice.status, invoice.outstanding) == ("paid", Decimal("0.00"))
    assert Dispute.objects.get().credit_note.total == Decimal("880.00")

    # The next run (June) bills June only: the waived May amount is not billed again.
    page.get_by_role("link", name="Overview").click()
    page.get_by_role("link", name="Start a recharge run").click()
    page.get_by_label("Paying organisation (issuer)").select_option(
        label="London Borough of Bromley (LBB) in Bromley"
    )
    page.get_by_label("Month to recharge").fill("2022-06")
    page.get_by_role("button", name="Start the run").click()
    expect(page.locator("#run-status")).to_contain_text("Done")
    # June: 1234.56 x 30 x 40 / 700 = 2116.39, and 700 x 30 x 40 / 700 = 1200.00.
    expect(page.locator("#run-status")).to_contain_text("£3,316.39")
    june = Invoice.objects.get(period=date(2022, 6, 1))
    assert june.total == Decimal("3316.39")
    assert {line.month for line in june.lines.all()} == {date(2022, 6, 1)}  # nothing for May again

    # Reports.
    page.get_by_role("link", name="Aged debt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Aged debt")
    check(page, "aged-debt")
    page.get_by_role("link", name="Recharge report").click()
    page.get_by_label("From month").fill("2022-05")
    page.get_by_role("button", name="Show the report").click()
    expect(page.get_by_role("cell", name=invoice.number)).to_have_count(2)
    check(page, "report")
    page.get_by_role("link", name="Disputes").first.click()
    check(page, "disputes")
    assert_no_console_errors(page)
