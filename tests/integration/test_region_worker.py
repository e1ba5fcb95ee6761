"""A region run through a real Celery worker process (the fault tests' ``start_worker``: a queue of
its own, the test database): the dispatch task sends the chord, the worker runs every member and
the callback records the summary."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction

from brokerage.finance import region
from brokerage.models import Invoice, RechargeRun, RegionRun
from commissioning.models import PartnershipGrant
from tests.brokerage.finance.test_region import _package
from tests.commissioning.factories import PartnershipFactory
from tests.integration.test_faults import start_worker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

MAY = date(2022, 5, 1)


def test_a_real_worker_runs_the_chord_and_records_the_summary(
    tmp_path,
    shared_broker,
    worker_queue,
    worker_var_dir,
    partnership,
    council,
    ccg,
    finance,
    broker,
    example_one,
):
    other = PartnershipFactory(name="Croydon")
    PartnershipGrant.objects.create(user=finance, partnership=other)
    PartnershipGrant.objects.create(user=broker, partnership=other)
    _package(other, broker, other.nhs_commissioner, [(other.council, 25), (other.nhs_commissioner, 75)])
    worker = start_worker(tmp_path, worker_queue, worker_var_dir, pool="prefork")
    try:
        with transaction.atomic():
            region_run = region.region_run_request(period=MAY, by=finance)
        wait_until(
            lambda: not RegionRun.objects.get(pk=region_run.pk).is_active, worker, "the region run's summary"
        )
    finally:
        worker.stop()

    region_run.refresh_from_db()
    assert (region_run.status, region_run.done_count, region_run.failed_count) == ("done", 4, 0)
    assert region_run.invoice_count == Invoice.objects.count() == 2
    assert region_run.total_invoiced == Decimal("1552.02") + Decimal("970.01")
    assert RechargeRun.objects.filter(status="done").count() == 4
    assert "finish_region_run" in worker.output() and "run_region_member" in worker.output()
