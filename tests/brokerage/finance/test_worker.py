"""Through a real Celery worker process (the fixtures of tests/integration/test_celery_worker.py):
a run queued on commit ends with its draft; issuing queues the PDF, which the worker renders and
keeps; the file opens and says what the invoice says."""

from __future__ import annotations

import io
import os
import time
from datetime import date

import pytest
from django.db import transaction
from pypdf import PdfReader

from brokerage import invoice_pdf
from brokerage.finance import services as finance_services
from brokerage.models import Invoice, RechargeRun
from tests.integration.test_celery_worker import (  # noqa: F401 - fixtures
    WAIT_SECONDS,
    mail_dir,
    shared_broker,
    worker,
    worker_queue,
    worker_var_dir,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pdf_root(settings, request):
    if "PDF_ROOT" not in os.environ:  # the worker keeps files under its VAR_DIR
        settings.PDF_ROOT = request.getfixturevalue("worker_var_dir") / "pdfs"
    return settings.PDF_ROOT


def wait_until(check, running, what):
    deadline = time.monotonic() + WAIT_SECONDS
    while not check():
        if running.process.poll() is not None:
            pytest.fail(f"the worker exited ({running.process.returncode}):\n{running.output()}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not done within {WAIT_SECONDS}s; worker log:\n{running.output()}")
        time.sleep(0.25)


def test_a_real_worker_runs_the_recharge_and_renders_the_issued_pdf(
    request, pdf_root, partnership, council, ccg, finance, example_one
):
    running = request.getfixturevalue("worker")
    with transaction.atomic():
        run = finance_services.recharge_run_request(
            partnership=partnership, issuer=council, period=date(2022, 5, 1), by=finance
        )
    wait_until(lambda: RechargeRun.objects.get(pk=run.pk).status == "done", running, "the run")

    draft = Invoice.objects.get(run=run)
    with transaction.atomic():
        finance_services.invoice_issue(invoice=draft, by=finance, today=date(2022, 6, 1))
    wait_until(lambda: Invoice.objects.get(pk=draft.pk).pdf_checksum != "", running, "the PDF")

    invoice = Invoice.objects.get(pk=draft.pk)
    text = " ".join(
        " ".join(
            page.extract_text() for page in PdfReader(io.BytesIO(invoice_pdf.read_kept(invoice))).pages
        ).split()
    )
    assert "Invoice LBB-2223-00001" in text
    assert "£1,552.02" in text and "LAS000001" in text and "outside the scope of VAT" in text
    assert "South East London CCG (Bromley)" in text
