"""The finance pages: a finance officer's month end, and who may see and do what."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from brokerage.finance import services as finance_services
from brokerage.models import Dispute, Invoice, Payment, RechargeRun
from commissioning import roles
from commissioning.models import AccessLog
from tests.brokerage.factories import RechargeRunFactory, change_price

D = Decimal
MAY = date(2022, 5, 1)


@pytest.fixture(autouse=True)
def pdf_root(settings, tmp_path):
    settings.PDF_ROOT = tmp_path / "pdfs"


@pytest.fixture
def as_finance(client, finance):
    client.force_login(finance)
    return client


@pytest.fixture
def outsider_finance(make_user, other_partnership):
    return make_user(roles.FINANCE_OFFICER, [other_partnership])


def test_starting_a_run_from_the_page(as_finance, partnership, council, django_capture_on_commit_callbacks):
    page = as_finance.get(reverse("finance:run-create"))
    assert page.status_code == 200
    choice = f"{partnership.pk}:{council.pk}"

    with django_capture_on_commit_callbacks() as callbacks:
        response = as_finance.post(reverse("finance:run-create"), {"issuer": choice, "period": "2022-05"})

    run = RechargeRun.objects.get()
    assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
    assert len(callbacks) == 1


def test_a_bad_month_is_named_and_nothing_starts(as_finance, partnership, council):
    response = as_finance.post(
        reverse("finance:run-create"), {"issuer": f"{partnership.pk}:{council.pk}", "period": "May"}
    )
    assert response.status_code == 200 and "Give the period as a month" in response.content.decode()
    assert RechargeRun.objects.count() == 0


def test_the_run_page_polls_while_the_run_works_and_then_shows_the_result(
    as_finance, partnership, council, finance, run_month, example_one
):
    queued = RechargeRunFactory(partnership=partnership, issuer=council, period=MAY)
    page = as_finance.get(queued.get_absolute_url()).content.decode()
    assert 'hx-trigger="every 2s"' in page
    fragment = as_finance.get(queued.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()
    assert fragment.startswith('<div id="run-status"') and "<html" not in fragment
    queued.delete()

    done = run_month(MAY)
    page = as_finance.get(done.get_absolute_url()).content.decode()
    assert "hx-trigger" not in page and "£1,552.02" in page and "Unfunded days" in page


def test_invoice_review_groups_lines_and_marks_adjustments(
    as_finance, run_month, example_one, broker, finance
):

    finance_services.invoice_issue(invoice=run_month(MAY).invoices.get(), by=finance, today=date(2022, 6, 1))
    change_price(
        package=example_one, effective_from=date(2022, 5, 20), unit_rate=D("1400"), units_per_week=D("1"),
        unit="week", by=broker,
    )  # fmt: skip
    june = run_month(date(2022, 6, 1)).invoices.get()

    page = as_finance.get(june.get_absolute_url()).content.decode()

    assert "LAS000001" in page and "Adjustment for May 2022" in page and "Less billed before" in page
    assert "Issue invoice" in page and "Delete draft" in page


def test_issue_payment_dispute_and_pdf_from_the_pages(as_finance, run_month, example_one, finance):
    today = timezone.localdate()
    paid = {"date_day": str(today.day), "date_month": str(today.month), "date_year": str(today.year)}
    draft = run_month(MAY).invoices.get()

    response = as_finance.post(reverse("finance:invoice-issue", args=[draft.pk]))
    draft.refresh_from_db()
    assert response.status_code == 302 and draft.number and draft.status == "issued"

    pdf = as_finance.get(reverse("finance:invoice-pdf", args=[draft.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert AccessLog.objects.filter(action="download", object_id=str(draft.pk)).count() == 1

    bad = as_finance.post(
        reverse("finance:payment-create", args=[draft.pk]),
        {"amount": "99999", **paid},
    )
    assert (
        bad.status_code == 200 and "is payable now" in bad.content.decode() and Payment.objects.count() == 0
    )
    line = draft.lines.get()
    raised = as_finance.post(
        reverse("finance:dispute-create", args=[draft.pk]), {"lines": [str(line.pk)], "reason": "wrong_rate"}
    )
    assert raised.status_code == 302
    dispute = Dispute.objects.get()
    draft.refresh_from_db()
    assert draft.status == "disputed"
    page = as_finance.get(draft.get_absolute_url()).content.decode()
    assert "In dispute" in page and "Wrong rate" in page

    as_finance.post(reverse("finance:dispute-resolve", args=[dispute.pk]), {"outcome": "upheld"})
    as_finance.post(reverse("finance:payment-create", args=[draft.pk]), {"amount": "552.02", **paid})
    draft.refresh_from_db()
    assert (draft.status, draft.amount_paid) == ("part_paid", D("552.02"))


def test_a_draft_can_be_deleted_from_its_page(as_finance, run_month, example_one):
    draft = run_month(MAY).invoices.get()
    assert as_finance.post(reverse("finance:invoice-delete", args=[draft.pk])).status_code == 302
    assert not Invoice.objects.exists()


def test_reports_pages_and_downloads(as_finance, issued, finance):
    assert as_finance.get(reverse("finance:index")).status_code == 200
    assert as_finance.get(reverse("finance:invoices") + "?status=issued").status_code == 200
    assert as_finance.get(reverse("finance:disputes")).status_code == 200
    page = as_finance.get(reverse("finance:report") + "?period_from=2022-05&period_to=2022-05")
    assert "LBB-2223-00001" in page.content.decode()
    csv = as_finance.get(reverse("finance:report") + "?period_from=2022-05&format=csv")
    assert csv["Content-Type"].startswith("text/csv")
    assert "LBB-2223-00001" in csv.getvalue().decode("utf-8-sig")
    xlsx = as_finance.get(reverse("finance:report") + "?format=xlsx&issuer=LBB")
    assert xlsx.content[:2] == b"PK"
    aged = as_finance.get(reverse("finance:aged-debt") + "?as_at_day=15&as_at_month=9&as_at_year=2022")
    assert "£1,552.02" in aged.content.decode()
    balances = as_finance.get(
        reverse("finance:balances") + "?first=LBB&second=SELCCG-BR&as_at_day=30&as_at_month=9&as_at_year=2022"
    )
    assert balances.status_code == 200 and balances.content.decode().count("£1,552.02") >= 2


@pytest.mark.parametrize("name", ["finance:invoice", "finance:invoice-pdf"])
def test_another_partnerships_finance_officer_gets_404(client, outsider_finance, issued, name):
    client.force_login(outsider_finance)
    assert client.get(reverse(name, args=[issued.pk])).status_code == 404


def test_an_auditor_can_read_but_not_issue(client, make_user, partnership, run_month, example_one):
    auditor = make_user(roles.AUDITOR, [partnership])
    client.force_login(auditor)
    draft = run_month(MAY).invoices.get()

    assert client.get(draft.get_absolute_url()).status_code == 200
    assert client.post(reverse("finance:invoice-issue", args=[draft.pk])).status_code == 403
    assert client.get(reverse("finance:run-create")).status_code == 403
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_a_broker_has_no_finance_pages(client, broker):
    client.force_login(broker)
    assert client.get(reverse("finance:index")).status_code == 403


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get(reverse("finance:index"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_dashboard_shows_drafts_disputes_and_old_debt(as_finance, run_month, example_one):
    run_month(MAY)
    page = as_finance.get(reverse("dashboard")).content.decode()
    assert "Drafts waiting to be issued" in page and "Disputes open" in page and "Debt over 90 days" in page


def test_issue_and_delete_ask_are_you_sure_first(as_finance, run_month, example_one):
    draft = run_month(MAY).invoices.get()
    page = as_finance.get(draft.get_absolute_url()).content.decode()
    assert 'href="' + reverse("finance:invoice-issue", args=[draft.pk]) + '"' in page  # a link, not a POST

    for name, heading, button in [
        ("finance:invoice-issue", "Are you sure you want to issue this invoice?", "Yes, issue the invoice"),
        ("finance:invoice-delete", "Are you sure you want to delete this draft?", "Yes, delete the draft"),
    ]:
        confirm = as_finance.get(reverse(name, args=[draft.pk]))
        text = confirm.content.decode()
        assert confirm.status_code == 200 and heading in text and button in text and "£1,552.02" in text
        draft.refresh_from_db()
        assert draft.is_draft  # asking changes nothing

    assert as_finance.post(reverse("finance:invoice-issue", args=[draft.pk])).status_code == 302
    draft.refresh_from_db()
    assert not draft.is_draft


def test_settling_a_dispute_is_its_own_page_not_one_click(as_finance, issued, finance):
    dispute = finance_services.dispute_raise(
        invoice=issued, lines=list(issued.lines.all()), reason="wrong_rate", note="", by=finance
    )
    page = as_finance.get(issued.get_absolute_url()).content.decode()
    assert "Credit the lines" not in page
    assert 'href="' + reverse("finance:dispute-resolve", args=[dispute.pk]) + '"' in page
    assert as_finance.post(reverse("finance:dispute-resolve", args=[dispute.pk]), {}).status_code == 200
    dispute.refresh_from_db()
    assert dispute.status == "open"  # nothing chosen, nothing settled


def test_the_agreement_of_balances_lists_documents_nets_and_downloads(as_finance, issued, finance):
    dispute = finance_services.dispute_raise(
        invoice=issued, lines=list(issued.lines.all()), reason="wrong_rate", note="", by=finance
    )
    finance_services.dispute_resolve(dispute=dispute, outcome="upheld", by=finance)
    finance_services.invoice_record_payment(
        invoice=issued, amount=D("552.02"), paid_on=date(2022, 7, 1), by=finance
    )
    url = (
        reverse("finance:balances") + "?first=LBB&second=SELCCG-BR&as_at_day=30&as_at_month=9&as_at_year=2022"
    )

    page = as_finance.get(url).content.decode()

    assert "LBB-2223-00001" in page and "Documents" in page
    assert "South East London CCG (Bromley) (SELCCG-BR) owes LBB £1,000.00 net" in page
    csv = as_finance.get(url + "&format=csv").content.decode("utf-8-sig").splitlines()
    assert csv[0] == "Number,Kind,From,To,Period,Issue date,Amount,Paid by the date,Outstanding"
    assert csv[1] == "LBB-2223-00001,Invoice,LBB,SELCCG-BR,2022-05,2022-06-01,1552.02,552.02,1000.00"
    assert csv[2] == "Total LBB to SELCCG-BR,,,,,,1552.02,552.02,1000.00"
    assert csv[-1].startswith('"Net: South East London CCG') and csv[-1].endswith(",1000.00")
    assert as_finance.get(url + "&format=xlsx").content[:2] == b"PK"
    pdf = as_finance.get(url + "&format=pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_balances_and_aged_debt_name_the_missing_date_plainly(as_finance, issued):
    page = as_finance.get(reverse("finance:balances") + "?first=LBB&second=SELCCG-BR").content.decode()
    assert "Enter the date to agree balances at" in page and "Enter the as at" not in page
    aged = as_finance.get(reverse("finance:aged-debt") + "?as_at_day=").content.decode()
    assert "Enter the date to age the debt at" in aged


def test_hints_match_their_errors_and_blank_choices_are_not_none(as_finance, issued):
    page = as_finance.get(reverse("finance:report") + "?period=2022-13").content.decode()
    assert "for example 2022-05" in page and "2024-05" not in page
    assert ">None<" not in page and ">Any<" in page
