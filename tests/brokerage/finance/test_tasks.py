"""The tasks are thin adapters: primary keys in, the service called, safe to run twice."""

from datetime import date

import pytest

from brokerage.models import Invoice
from brokerage.tasks import render_invoice_pdf, run_recharge
from tests.brokerage.factories import RechargeRunFactory


@pytest.fixture(autouse=True)
def pdf_root(settings, tmp_path):
    settings.PDF_ROOT = tmp_path / "pdfs"


def test_the_run_task_runs_once_and_a_retry_changes_nothing(partnership, council, finance, example_one):
    run = RechargeRunFactory(partnership=partnership, issuer=council, period=date(2022, 5, 1))

    first = run_recharge.apply(args=[run.pk]).get()
    retry = run_recharge.apply(args=[run.pk]).get()

    assert first == {"run": run.pk, "status": "done", "invoices": 1, "credit_notes": 0}
    assert retry == first and Invoice.objects.count() == 1


def test_the_pdf_task_keeps_one_file(issued):
    first = render_invoice_pdf.apply(args=[issued.pk]).get()
    retry = render_invoice_pdf.apply(args=[issued.pk]).get()

    assert first["number"] == "LBB-2223-00001" and len(first["checksum"]) == 64
    assert retry == first


def test_a_failing_run_is_marked_failed_and_can_be_asked_for_again(partnership, council, monkeypatch):
    from brokerage import recharges
    from brokerage.finance import services as finance_services

    def boom(*args, **kwargs):
        raise RuntimeError("the rule broke")

    monkeypatch.setattr(recharges, "true_up", boom)
    run = RechargeRunFactory(partnership=partnership, issuer=council, period=date(2022, 5, 1))

    result = run_recharge.apply(args=[run.pk]).get()

    run.refresh_from_db()
    assert (result["status"], run.status, run.failure) == ("failed", "failed", "the rule broke")
    assert Invoice.objects.count() == 0
    again = finance_services.recharge_run_request(
        partnership=partnership, issuer=council, period=date(2022, 5, 1), by=None
    )
    assert again.pk != run.pk and again.status == "queued"
