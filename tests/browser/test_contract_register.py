"""A commissioner's journeys through the contract register in a real browser, with axe-core on
every page visited and no console errors (a Content-Security-Policy violation is one)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone
from playwright.sync_api import expect

from commissioning import choices, roles
from commissioning.models import Contract, ContractReview
from tests.browser.helpers import assert_accessible, assert_no_console_errors, screenshot
from tests.commissioning.factories import (
    TEST_PASSWORD,
    ContractFactory,
    PartnershipFactory,
    ProviderFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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
def register(bromley):
    """A small register: two contracts end within six months, two later, one has ended."""
    today = timezone.localdate()
    oak = ProviderFactory(organisation__name="Oak Tree Care Ltd")
    willow = ProviderFactory(organisation__name="Willow Homes")
    return {
        "soon": ContractFactory(
            partnership=bromley,
            reference="LBB-HC-01",
            service="Home care framework (north)",
            provider=oak,
            annual_value=Decimal("1250000.00"),
            start=date(2022, 4, 1),
            end=today + relativedelta(months=3),
        ),
        "sooner": ContractFactory(
            partnership=bromley,
            reference="LBB-RES-04",
            service="Residential care block",
            service_type=choices.ServiceType.RESIDENTIAL,
            provider=willow,
            annual_value=Decimal("842000.00"),
            start=date(2021, 4, 1),
            end=today + relativedelta(months=1),
        ),
        "later": ContractFactory(
            partnership=bromley,
            reference="LBB-SL-02",
            service="Supported living",
            service_type=choices.ServiceType.SUPPORTED_LIVING,
            provider=oak,
            end=today + relativedelta(months=20),
        ),
        "much_later": ContractFactory(
            partnership=bromley,
            reference="SEL-CHC-07",
            service="Continuing healthcare nursing beds",
            service_type=choices.ServiceType.NURSING,
            provider=willow,
            lead_commissioner=bromley.nhs_commissioner,
            end=today + relativedelta(months=30),
        ),
        "ended": ContractFactory(
            partnership=bromley,
            reference="LBB-OLD-99",
            service="Day centre (closed)",
            provider=oak,
            start=date(2019, 4, 1),
            end=date(2023, 3, 31),
            status=choices.ContractStatus.ENDED,
        ),
        "provider": oak,
    }


@pytest.fixture
def commissioner_user(bromley):
    return UserFactory(
        username="amira.khan",
        first_name="Amira",
        last_name="Khan",
        role=roles.COMMISSIONER,
        partnerships=[bromley],
    )


def sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    assert_accessible(page, "sign in")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def register_rows(page) -> list[str]:
    return page.locator("table.govuk-table tbody tr th[scope=row] a").all_inner_texts()


def test_a_commissioner_finds_contracts_ending_soon_and_adds_a_contract(
    page, register, commissioner_user, bromley
):
    # Sign in through the real form and land on the home page.
    sign_in(page, "amira.khan")
    expect(page.get_by_role("heading", level=1)).to_have_text("What needs attention")
    panel = page.locator("section.app-panel", has_text="Contracts ending soon")
    expect(panel.locator(".app-count")).to_have_text("2")
    expect(panel.get_by_role("link", name="LBB-RES-04")).to_be_visible()
    assert_accessible(page, "dashboard")
    screenshot(page, "01-dashboard")

    # Open the contract register from the main navigation.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contracts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contract register")
    assert register_rows(page) == ["LBB-OLD-99", "LBB-RES-04", "LBB-HC-01", "LBB-SL-02", "SEL-CHC-07"]
    assert_accessible(page, "contract register")
    screenshot(page, "02-register")

    # Filter it to the contracts ending within 6 months.
    page.get_by_label("Ending").select_option(label="Within 6 months")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"ending=6"))
    expect(page.locator("#result-count")).to_contain_text("2 contracts match your filters")
    assert register_rows(page) == ["LBB-RES-04", "LBB-HC-01"]
    assert_accessible(page, "filtered register")

    # Sort by annual value, largest first (the header toggles the order).
    page.get_by_role("link", name=re.compile(r"^Annual value")).click()
    page.get_by_role("link", name=re.compile(r"^Annual value")).click()
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Annual value")
    assert register_rows(page) == ["LBB-HC-01", "LBB-RES-04"]
    screenshot(page, "03-register-filtered")

    # Open a contract.
    page.get_by_role("link", name="LBB-HC-01").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Home care framework (north)")
    summary = page.locator("dl.govuk-summary-list")
    expect(summary).to_contain_text("Oak Tree Care Ltd")
    expect(summary).to_contain_text("£1,250,000.00")
    assert_accessible(page, "contract page")
    screenshot(page, "04-contract")

    # Add a contract, first with the end before the start.
    page.get_by_role("link", name="Contract register").click()
    page.get_by_role("button", name="Add a contract").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a contract")
    assert_accessible(page, "add a contract")
    page.get_by_label("Contract reference").fill("LBB-DP-2025-01")
    page.get_by_label("Service", exact=True).fill("Day opportunities for adults with learning disabilities")
    page.get_by_label("Service type").select_option(label="Other")
    page.get_by_label("Provider").select_option(label="Oak Tree Care Ltd")
    page.get_by_label("Lead commissioner").select_option(label="London Borough of Bromley (LBB)")
    page.get_by_label("NHS South East London (Bromley) (SEL-BR)").check()
    page.get_by_label("Annual value").fill("315,000")
    page.locator("#id_start_day").fill("1")
    page.locator("#id_start_month").fill("4")
    page.locator("#id_start_year").fill("2025")
    page.locator("#id_end_day").fill("31")
    page.locator("#id_end_month").fill("3")
    page.locator("#id_end_year").fill("2024")
    page.get_by_label("Procurement route").select_option(label="Competitive flexible procedure")
    page.get_by_role("button", name="Save contract").click()

    summary_box = page.locator(".govuk-error-summary")
    expect(summary_box).to_be_visible()
    expect(summary_box).to_contain_text("The end date must be after the start date.")
    expect(summary_box).to_be_focused()  # GOV.UK Frontend moves focus to the summary
    expect(page).to_have_title(re.compile(r"^Error: Add a contract"))
    expect(page.locator("#id_end_error")).to_contain_text("The end date must be after the start date.")
    assert_accessible(page, "add a contract with an error")
    screenshot(page, "05-add-contract-error")
    summary_box.get_by_role("link", name="The end date must be after the start date.").click()
    expect(page.locator("#id_end_day")).to_be_focused()
    assert not Contract.objects.filter(reference="LBB-DP-2025-01").exists()

    # Fix the end date and save: the new contract's page opens with a confirmation.
    expect(page.locator("#id_end_year")).to_have_value("2024")  # what was typed is kept
    page.locator("#id_end_year").fill("2028")
    page.get_by_role("button", name="Save contract").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Contract LBB-DP-2025-01 added"
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Day opportunities for adults with learning disabilities"
    )
    expect(page.locator("#history ~ .app-timeline")).to_contain_text("Contract added")
    expect(page.locator("#history ~ .app-timeline")).to_contain_text("by Amira Khan")
    assert_accessible(page, "new contract's page")
    screenshot(page, "06-contract-added")

    contract = Contract.objects.get(reference="LBB-DP-2025-01")
    assert contract.annual_value == Decimal("315000.00")
    assert (contract.start, contract.end) == (date(2025, 4, 1), date(2028, 3, 31))
    assert list(contract.associate_commissioners.all()) == [bromley.nhs_commissioner]
    assert_no_console_errors(page)


def test_a_commissioner_reviews_a_contract_and_changes_its_value(page, register, commissioner_user):
    contract = register["soon"]
    sign_in(page, "amira.khan")
    page.goto(f"/contracts/{contract.pk}/")

    # A review without a rating is refused, naming the field.
    page.locator("#id_review_date_day").fill("12")
    page.locator("#id_review_date_month").fill("5")
    page.locator("#id_review_date_year").fill("2025")
    page.get_by_label("Notes").fill("Missed visits in April; action plan agreed")
    page.get_by_role("button", name="Add review").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select the RAG rating")
    assert_accessible(page, "review with an error")
    page.get_by_label("Amber").check()
    page.get_by_role("button", name="Add review").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Review of 12 May 2025 added")
    expect(page.locator("#reviews ~ table .govuk-tag--orange")).to_have_text("Amber")
    assert ContractReview.objects.get(contract=contract).rag_rating == "amber"
    page.wait_for_load_state()  # the success banner takes focus once scripts run

    # Change the contract's value.
    page.get_by_role("button", name="Change contract LBB-HC-01").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change contract LBB-HC-01")
    expect(page.get_by_label("Annual value")).to_have_value("1250000.00")
    assert_accessible(page, "change a contract")
    page.get_by_label("Annual value").fill("1300000")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Contract LBB-HC-01 updated")
    timeline = page.locator("#history ~ .app-timeline")
    expect(timeline.locator("li").first).to_contain_text("Contract changed")
    expect(timeline.locator("li").first).to_contain_text(
        "Annual value: changed from £1,250,000.00 → to £1,300,000.00"
    )
    assert_accessible(page, "changed contract")
    screenshot(page, "07-contract-reviewed-and-changed")
    assert_no_console_errors(page)


def test_a_read_only_auditor_sees_the_register_without_ways_to_change_it(page, register, bromley):
    UserFactory(username="auditor", role=roles.AUDITOR, partnerships=[bromley])
    sign_in(page, "auditor")

    page.goto("/contracts/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Contract register")
    expect(page.get_by_role("button", name="Add a contract")).to_have_count(0)
    page.get_by_role("link", name="LBB-SL-02").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Supported living")
    expect(page.get_by_role("button", name=re.compile("^Change"))).to_have_count(0)
    expect(page.get_by_role("button", name="Add review")).to_have_count(0)
    assert_accessible(page, "contract page for an auditor")
    assert_no_console_errors(page)
