"""The pool manager changes the CCG's contribution plan to monthly (behind its confirmation step),
raises this quarter's contribution invoices from the agreement page (behind the "Are you sure?"
step), is refused a change of frequency once they are raised, and produces the pooled fund
statement's PDF, which the worker renders (here at once); axe-core finds no WCAG 2.x A/AA
violation and the console stays clean."""

from __future__ import annotations

import subprocess

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from brokerage.models import Invoice
from budgets import contributions, demo
from budgets.models import FundStatement, Section75Agreement, financial_year_of, year_label
from commissioning import roles
from commissioning.celery import app as celery_app
from tests.browser.helpers import SCREENSHOT_DIR, assert_accessible, assert_no_console_errors, screenshot
from tests.commissioning.factories import TEST_PASSWORD, PartnershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def tasks_run_at_once(monkeypatch, settings, tmp_path):
    """The live server's requests queue tasks on commit; here they run in-process at once."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    settings.PDF_ROOT = tmp_path / "pdfs"


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
    # The demo makes Amira the pool manager and plans the CCG's contributions for this year.
    demo.load(partnerships={"Bromley": partnership}, users=users, seed=2021, today=timezone.localdate())
    return partnership


def test_the_pool_manager_raises_the_quarter_s_contributions_and_produces_the_statement(page, bromley):
    agreement = Section75Agreement.objects.get(partnership=bromley)
    today = timezone.localdate()
    year, quarter = financial_year_of(today), contributions.quarter_of(today)

    page.goto("/accounts/login/?next=" + agreement.get_absolute_url())
    page.locator("#id_username").fill("amira.khan")
    page.locator("#id_password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(agreement.title)
    ipb = page.locator("#contributions-2-selccg-br")
    expect(ipb).to_contain_text("quarterly in advance")
    expect(ipb).to_contain_text("Not raised yet")

    # The CCG asks to pay the IPB contribution monthly: the plan changes before anything is raised.
    ccg = "NHS South East London CCG (Bromley)"
    page.get_by_role("link", name=f"Change how {ccg} is invoiced for schedule 2").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{ccg}'s contribution, {year_label(year)}")
    expect(page.locator("#plan-current")).to_contain_text("Quarterly in advance")
    page.get_by_label("Monthly in advance").check()
    page.get_by_role("button", name="Save the plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the change to the instalments")
    expect(page.locator("#plan-check")).to_contain_text("Monthly in advance, 12 instalments")
    expect(page.locator("#plan-proposed tbody tr")).to_have_count(12)
    assert_accessible(page, "the confirmation of a contribution plan's change")
    screenshot(page, "pool-00-confirm-plan")
    page.get_by_role("button", name="Confirm and save the plan").click()
    expect(
        page.get_by_text(f"{ccg} pays its {year_label(year)} contribution to schedule 2 monthly")
    ).to_be_visible()
    expect(ipb).to_contain_text("monthly in advance")
    page.wait_for_load_state()  # the success banner takes focus once scripts run (a click meanwhile is lost)
    month = (today.month - 4) % 12 + 1

    page.get_by_role("button", name="Raise this quarter's contribution invoices").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Raise this quarter's contribution invoices")
    expect(page.locator(".govuk-summary-list")).to_contain_text(
        f"SELCCG-BR to schedule 2, instalment {month} of 12"
    )
    assert_accessible(page, "the confirmation of raising the contribution invoices")
    screenshot(page, "pool-01-confirm-raise")
    assert not Invoice.objects.filter(kind="contribution").exists()
    page.get_by_role("button", name="Raise the invoices").click()

    expect(page.get_by_text("contribution invoices as drafts")).to_be_visible()
    page.wait_for_load_state()  # the success banner takes focus once scripts run
    raised = Invoice.objects.filter(kind="contribution")
    # Both monthly now, each month of the quarter to date (in advance: the quarter's last month too).
    quarter_end = contributions.quarter_bounds(year, quarter)[1]
    months = (quarter_end.month - 4) % 12 + 1
    assert raised.count() == 2 * months
    expect(ipb).to_contain_text("Draft contribution invoice to SELCCG-BR")
    assert_accessible(page, "the agreement page with the raised contributions")
    screenshot(page, "pool-02-agreement-contributions")

    # Once an instalment is raised, going back to quarterly is refused on the field.
    page.get_by_role("link", name=f"Change how {ccg} is invoiced for schedule 2").click()
    page.get_by_label("Quarterly in advance").check()
    page.get_by_role("button", name="Save the plan").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Instalments of this year have been raised: the frequency can no longer change."
    )
    assert_accessible(page, "the contribution plan refused")
    screenshot(page, "pool-02b-plan-refused")
    page.get_by_role("link", name="Cancel").click()

    page.get_by_role("link", name="Pooled fund statement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Pooled fund statement, {year_label(year)}")
    page.get_by_label("Period").select_option(str(quarter))
    page.get_by_role("button", name="Show the statement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Pooled fund statement, quarter {quarter} of {year_label(year)}"
    )
    expect(page.locator("#schedule-2")).to_be_visible()
    assert_accessible(page, "the pooled fund statement")
    page.get_by_role("button", name="Produce the statement PDF").click()

    link = page.get_by_role("link", name="PDF produced", exact=False).first
    expect(link).to_be_visible()
    row = FundStatement.objects.get()
    assert (row.status, row.year, row.quarter) == ("ready", year, quarter)
    assert_accessible(page, "the statement page with its PDF")
    screenshot(page, "pool-03-statement")
    response = page.request.get(link.get_attribute("href"))
    assert response.status == 200 and response.body().startswith(b"%PDF")
    pdf = SCREENSHOT_DIR / "pool-04-statement.pdf"
    pdf.write_bytes(response.body())
    image = str(pdf.with_suffix(""))
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), image], check=True)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True)
    text = text.stdout.decode()
    assert f"Pooled fund statement, quarter {quarter} of {year_label(year)}" in text
    assert "Integrated Placements and Brokerage" in text
    assert_no_console_errors(page)
