"""Settling disputes (rules.md rule 1): upheld, corrected (naming or recording the change) and
waived (a credit note at once; never billed again), with the worked example to the penny; a note
required for reason Other (service, page and API)."""

from datetime import date
from decimal import Decimal

import pgtrigger
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from brokerage.finance import services as finance_services
from brokerage.models import Dispute, Invoice, PackageCost, PriceChange, Waiver
from tests.brokerage.factories import RateCardFactory, change_price

D = Decimal
OCT, NOV, DEC = date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)


@pytest.fixture(autouse=True)
def pdf_root(settings, tmp_path):
    settings.PDF_ROOT = tmp_path / "pdfs"


@pytest.fixture
def october(make_package, council, ccg, run_month, finance):
    """£141.64 a week, CCG 40%, October 2026 only: 141.64 * 31 * 40 / 700 = 250.905... -> £250.91,
    invoiced and issued on 2 November 2026."""
    package = make_package(
        OCT,
        rate=D("141.64"),
        shares=[(council, 60), (ccg, 40)],
        end=date(2026, 10, 31),
        reference="LAS000008",
    )
    invoice = run_month(OCT).invoices.get()
    invoice = finance_services.invoice_issue(invoice=invoice, by=finance, today=date(2026, 11, 2))
    assert invoice.total == D("250.91")
    return package, invoice


def _dispute(invoice, finance, reason="wrong_rate", note=""):
    return finance_services.dispute_raise(
        invoice=invoice, lines=list(invoice.lines.all()), reason=reason, note=note, by=finance
    )


def test_worked_example_a_waived_line_is_never_billed_again_and_a_later_rise_bills_only_10(
    october, finance, broker, run_month
):
    package, invoice = october
    dispute = _dispute(invoice, finance)

    waived = finance_services.dispute_resolve(
        dispute=dispute, outcome="waived", by=finance, today=date(2026, 11, 5)
    )

    note = waived.credit_note
    assert (note.kind, note.total, note.status) == ("credit_note", D("250.91"), "issued")
    assert note.number.startswith("LBB-CN-2627-")
    assert [(w.package_id, w.month, w.amount) for w in Waiver.objects.all()] == [
        (package.pk, OCT, D("250.91"))
    ]
    invoice.refresh_from_db()
    assert (invoice.status, invoice.outstanding) == ("credited", D("0.00"))

    november = run_month(NOV)
    assert not november.invoices.exists()  # nothing more for October

    change_price(
        package=package,
        effective_from=OCT,
        unit_rate=D("147.29"),
        units_per_week=D("1"),
        unit="week",
        by=broker,
    )  # 147.29 * 31 * 40 / 700 = 260.913... -> £260.91
    december = run_month(DEC).invoices.get()

    assert (december.kind, december.total) == ("invoice", D("10.00"))
    lines = list(december.lines.order_by("position"))
    assert all(line.adjustment and line.corrects_month == OCT for line in lines)
    assert [line.amount for line in lines] == [D("260.91"), D("-250.91")]


def test_without_the_waiver_recorded_the_next_run_would_bill_the_credited_line_again(
    october, finance, run_month
):
    """What the waiver fixes: the credit note alone leaves October's net billed at £0.00."""
    _package, invoice = october
    dispute = _dispute(invoice, finance)
    finance_services.dispute_resolve(dispute=dispute, outcome="waived", by=finance, today=date(2026, 11, 5))
    with pgtrigger.ignore("brokerage.Waiver:waivers_append_only"):
        Waiver.objects.all().delete()

    assert run_month(NOV).invoices.get().total == D("250.91")


def test_corrected_records_the_change_and_the_next_run_credits_the_difference(october, finance, run_month):
    package, invoice = october
    RateCardFactory(
        partnership=package.client.partnership,
        service_type=package.service_type,
        year=2026,
        unit="week",
        unit_rate=D("140.00"),
    )  # the corrected price is within the card, so it applies at once
    dispute = _dispute(invoice, finance)
    change = {
        "kind": "cost",
        "effective_from": "2026-10-01",
        "unit_rate": "135.00",
        "units_per_week": "1",
        "unit": "week",
        "reason": "The agreed rate was £135 a week",
        "replaces_later_prices": True,
    }

    corrected = finance_services.dispute_resolve(
        dispute=dispute, outcome="corrected", change=change, by=finance
    )

    cost = PackageCost.objects.get(package=package, unit_rate=D("135.00"))
    assert (corrected.correction_kind, corrected.correction_id) == ("cost", cost.pk)
    assert corrected.correction.startswith("Price change from 1 October 2026: £135.00 a week")
    assert corrected.credit_note is None and not Waiver.objects.exists()
    invoice.refresh_from_db()
    assert invoice.status == "issued"  # the lines stand; the credit comes from the true-up
    credit = run_month(NOV).invoices.get()
    assert (credit.kind, credit.total) == ("credit_note", D("11.77"))  # 250.91 - 239.14 (135 * 31 * 40 / 700)


def test_a_corrected_price_above_the_card_is_not_a_correction_until_a_manager_approves_it(october, finance):
    package, invoice = october
    dispute = _dispute(invoice, finance)
    change = {
        "kind": "cost",
        "effective_from": "2026-10-01",
        "unit_rate": "150.00",
        "units_per_week": "1",
        "unit": "week",
        "replaces_later_prices": True,
    }

    with pytest.raises(ValidationError, match="needs a brokerage manager's approval"):
        finance_services.dispute_resolve(dispute=dispute, outcome="corrected", change=change, by=finance)

    assert not PriceChange.objects.filter(package=package).exists()
    assert list(package.costs.values_list("unit_rate", flat=True)) == [D("141.64")]


def test_corrected_may_name_a_change_already_made_and_must_name_one(october, finance, broker):
    package, invoice = october
    cost = change_price(
        package=package,
        effective_from=OCT,
        unit_rate=D("135.00"),
        units_per_week=D("1"),
        unit="week",
        by=broker,
    )
    dispute = _dispute(invoice, finance)
    for change, words in [
        (None, "Name the change"),
        ({"kind": "cost", "id": cost.pk + 1000}, "No cost change"),
        ({"kind": "rent", "id": cost.pk}, "cost, funding or suspension"),
    ]:
        with pytest.raises(ValidationError) as caught:
            finance_services.dispute_resolve(dispute=dispute, outcome="corrected", change=change, by=finance)
        assert words in str(caught.value.message_dict["change"])

    named = finance_services.dispute_resolve(
        dispute=dispute, outcome="corrected", change={"kind": "cost", "id": cost.pk}, by=finance
    )
    assert named.correction_id == cost.pk


def test_upheld_changes_no_money_and_returns_the_lines_to_issued(october, finance, run_month):
    _package, invoice = october
    dispute = _dispute(invoice, finance)
    upheld = finance_services.dispute_resolve(dispute=dispute, outcome="upheld", by=finance)
    invoice.refresh_from_db()
    assert (upheld.outcome, upheld.credit_note, invoice.status, invoice.outstanding) == (
        "upheld",
        None,
        "issued",
        D("250.91"),
    )
    assert not run_month(NOV).invoices.exists()


def test_reason_other_needs_a_note(october, finance):
    _package, invoice = october
    with pytest.raises(ValidationError) as caught:
        _dispute(invoice, finance, reason="other", note="  ")
    assert "note" in caught.value.message_dict and not Dispute.objects.exists()
    assert _dispute(invoice, finance, reason="other", note="Client was in hospital").note


def test_reason_other_needs_a_note_on_the_page_and_in_the_api(october, finance, client, api_as):
    _package, invoice = october
    line = invoice.lines.get()
    client.force_login(finance)
    page = client.post(
        reverse("finance:dispute-create", args=[invoice.pk]), {"lines": [str(line.pk)], "reason": "other"}
    )
    assert page.status_code == 200 and "the reason is Other" in page.text
    api = api_as(finance).post(
        f"/api/v1/invoices/{invoice.pk}/disputes/", {"lines": [line.pk], "reason": "other"}, format="json"
    )
    assert api.status_code == 400 and "note" in api.json()
    assert not Dispute.objects.exists()


def test_settling_on_the_page_and_the_invoice_says_how(october, finance, client):
    _package, invoice = october
    dispute = _dispute(invoice, finance)
    client.force_login(finance)
    url = reverse("finance:dispute-resolve", args=[dispute.pk])
    form = client.get(url)
    assert (
        form.status_code == 200 and "Waived" in form.text and "Price change from 1 October 2026" in form.text
    )
    missing = client.post(url, {"outcome": "corrected"})
    assert missing.status_code == 200 and "Choose the change that corrects the lines" in missing.text

    done = client.post(url, {"outcome": "waived", "note": "Settlement agreed at the finance meeting"})

    assert done.status_code == 302
    page = client.get(invoice.get_absolute_url()).text
    note = Invoice.objects.get(kind="credit_note")
    assert "Waived: not billed, as a settlement" in page and note.number in page
    assert "£250.91 for P" in page and "never billed again" in page
    assert "Settlement agreed at the finance meeting" in page


def test_the_api_settles_as_waived_and_corrected(october, finance, api_as):
    package, invoice = october
    api = api_as(finance)
    dispute = _dispute(invoice, finance)
    wrong = api.post(f"/api/v1/disputes/{dispute.pk}/resolve/", {"outcome": "corrected"}, format="json")
    assert wrong.status_code == 400 and "change" in wrong.json()

    done = api.post(f"/api/v1/disputes/{dispute.pk}/resolve/", {"outcome": "waived"}, format="json")

    assert done.status_code == 200
    body = done.json()
    assert (body["outcome"], body["change"]) == ("waived", None)
    assert body["waived"] == [
        {
            "package": package.pk,
            "package_reference": package.reference,
            "month": "2026-10",
            "amount": "250.91",
        }
    ]


def test_the_api_settles_as_corrected_recording_a_suspension(october, finance, api_as, run_month):
    package, invoice = october
    dispute = _dispute(invoice, finance)
    change = {
        "kind": "suspension",
        "effective_from": "2026-10-11",
        "effective_to": "2026-10-20",
        "treatment": "stopped",
        "reason": "Hospital stay the provider was not paid for",
    }

    done = api_as(finance).post(
        f"/api/v1/disputes/{dispute.pk}/resolve/", {"outcome": "corrected", "change": change}, format="json"
    )

    assert done.status_code == 200, done.json()
    body = done.json()
    assert body["outcome"] == "corrected" and body["change"]["kind"] == "suspension"
    assert body["change"]["description"].startswith("Suspension 11 October 2026 to 20 October 2026")
    # 21 days billed: 141.64 * 21 * 40 / 700 = 169.97; 250.91 was billed: a credit of 80.94.
    credit = run_month(NOV).invoices.get()
    assert (credit.kind, credit.total) == ("credit_note", D("80.94"))
