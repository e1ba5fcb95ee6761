"""The pool manager sees the reminder of the agreement's review on the dashboard, records a
variation from a board decision (with its signed deed) on the agreement page, and reads it in the
agreement's timeline; axe-core finds no WCAG 2.x A/AA violation and the console stays clean."""

from __future__ import annotations

import pytest
from django.utils import timezone
from pghistory.models import Events
from playwright.sync_api import expect

from budgets import demo
from budgets.models import Section75Agreement
from commissioning import roles
from commissioning.models import User
from governance.models import DecisionLink
from tests.browser.helpers import assert_accessible, assert_no_console_errors, screenshot
from tests.commissioning.factories import TEST_PASSWORD, PartnershipFactory, UserFactory
from tests.governance.factories import DecisionFactory, pdf_bytes

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
    # The demo makes Amira the pool manager of the pooled schedules and puts a review 45 days ahead.
    demo.load(partnerships={"Bromley": partnership}, users=users, seed=2021, today=timezone.localdate())
    return partnership


def test_the_pool_manager_records_a_variation_from_a_decision_and_sees_the_review_reminder(page, bromley):
    agreement = Section75Agreement.objects.get(partnership=bromley)
    amira = User.objects.get(username="amira.khan")
    decision = DecisionFactory(
        agenda_item__meeting__board__partnership=bromley,
        agenda_item__meeting__board__name="Bromley Borough Based Board",
        agenda_item__title="Section 75 agreement: notice period",
        reference="BBB/2024/014",
        resolution="Agrees a deed of variation setting the notice period at six months.",
    )

    page.goto("/accounts/login/?next=/")
    page.locator("#id_username").fill("amira.khan")
    page.locator("#id_password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()

    panel = page.get_by_text("Agreement reviews due within 60 days")
    expect(panel).to_be_visible()
    reminder = page.get_by_role("link", name="BR-S75-2021", exact=False).first
    expect(reminder).to_contain_text("in 45 days")
    screenshot(page, "agreement-01-dashboard-reminder")
    assert_accessible(page, "dashboard with the review reminder")

    reminder.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(agreement.title)
    expect(page.locator("#terms-list")).to_contain_text("disadvantaged through the agreement")
    expect(page.locator("#reviews-table")).to_contain_text("Not yet held")
    page.get_by_role("link", name="Record a variation").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Record a variation of BR-S75-2021")
    page.get_by_label("Approving decision").select_option(str(decision.pk))
    page.locator("#id_effective_from_day").fill("1")
    page.locator("#id_effective_from_month").fill("4")
    page.locator("#id_effective_from_year").fill(str(timezone.localdate().year))
    page.get_by_label("What it changes").fill("The notice period for termination becomes six months.")
    page.get_by_label("Schedule 2: Integrated Placements and Brokerage").check()
    page.get_by_label("Signed deed of variation (PDF)").set_input_files(
        {"name": "Deed of variation 1.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes(1, "Deed")}
    )
    assert_accessible(page, "variation form")
    screenshot(page, "agreement-02-variation-form")
    page.get_by_role("button", name="Record the variation").click()

    expect(page.get_by_text("Variation 1 of BR-S75-2021 recorded")).to_be_visible()
    table = page.locator("#variations-table")
    expect(table).to_contain_text("The notice period for termination becomes six months.")
    expect(table).to_contain_text("BBB/2024/014")
    expect(table).to_contain_text("Deed of variation 1.pdf")
    expect(page.locator(".govuk-summary-list").first).to_contain_text("Varied")
    assert_accessible(page, "agreement page after the variation")
    screenshot(page, "agreement-03-agreement-page")

    page.get_by_role("link", name="The agreement's timeline").click()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Variation 1 takes effect")
    expect(timeline).to_contain_text("Decision BBB/2024/014 of the Bromley Borough Based Board: approved")
    expect(timeline).not_to_contain_text("#1")
    assert_accessible(page, "agreement timeline")
    screenshot(page, "agreement-04-timeline")
    assert_no_console_errors(page)

    # The decision is linked to what it changed, from the agreement's own page (issue 16).
    page.goto(agreement.get_absolute_url())
    page.get_by_role("link", name="Link a decision to this agreement or one of its variations").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Link a decision to what it changed")
    expect(page.get_by_label("What the decision approved or changed")).to_have_value(
        f"budgets.section75agreement:{agreement.pk}"
    )
    page.get_by_label("Decision", exact=True).select_option(str(decision.pk))
    page.get_by_label("What changed").fill("Variation 1: the notice period set at six months")
    assert_accessible(page, "decision link form")
    screenshot(page, "agreement-05-link-decision")
    page.get_by_role("button", name="Save link").click()
    expect(page.get_by_text("Decision BBB/2024/014 linked to Variation 1: the notice period")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text(agreement.title)
    assert_accessible(page, "agreement page after linking the decision")
    assert_no_console_errors(page)

    # A link recorded in error is removed from the decision's page, behind "Are you sure?" (issue
    # 16); it is gone from the page and the change history keeps that it was there, and who removed it.
    described = "Variation 1: the notice period set at six months"
    page.goto(decision.get_absolute_url())
    expect(page.locator("main")).to_contain_text(described)
    page.get_by_role("link", name=f"Remove the link to {described}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Remove the link to {described}?")
    assert_accessible(page, "remove a decision link: are you sure?")
    screenshot(page, "agreement-06-remove-link-confirm")
    page.get_by_role("button", name="Remove the link").click()
    expect(page.get_by_text(f"Decision BBB/2024/014 is no longer linked to {described}")).to_be_visible()
    expect(page.get_by_text("No linked agreements, budget lines or virements.")).to_be_visible()
    expect(page.get_by_role("link", name=f"Remove the link to {described}")).to_have_count(0)
    assert not DecisionLink.objects.filter(decision=decision).exists()
    assert_accessible(page, "decision page after removing the link")
    screenshot(page, "agreement-07-link-removed")
    assert_no_console_errors(page)

    # The change history (pghistory) keeps the removed link and who removed it; the audit trail
    # shows it where the decision is seen (tests/governance/test_link_removal.py).
    removed = Events.objects.get(pgh_obj_model="governance.DecisionLink", pgh_label="delete")
    assert removed.pgh_context["user"] == amira.pk and removed.pgh_data["description"] == described
