"""A recharge run over the demo data (brokerage/demo.py: price changes, 50/50 s117 splits, CHC
transfers, a backdated panel decision and an unfunded gap) for the latest month."""

from datetime import date

import pytest

from brokerage import demo
from brokerage.finance import services as finance_services
from brokerage.models import InvoiceLine, Package
from commissioning import demo as core_demo
from tests.brokerage.factories import RechargeRunFactory

pytestmark = pytest.mark.django_db

TODAY = date(2025, 6, 18)


def test_a_run_of_the_demo_for_the_latest_month_bills_lines_and_adjustments_and_reports_the_gap():
    ctx = core_demo.load_demo(seed=7, today=TODAY)
    if demo.demo_step not in core_demo.DEMO_STEPS:
        demo.load(partnerships=ctx.partnerships, users=ctx.users, seed=7, today=TODAY)
    payer_ids = set(Package.objects.values_list("paying_organisation", flat=True))
    runs = []
    for partnership in ctx.partnerships.values() if isinstance(ctx.partnerships, dict) else ctx.partnerships:
        for issuer in partnership.partners:
            if issuer.pk in payer_ids:
                run = RechargeRunFactory(partnership=partnership, issuer=issuer, period=date(2025, 5, 1))
                runs.append(finance_services.recharge_run_execute(run_id=run.pk))

    assert runs and all(r.status == "done" for r in runs)
    lines = InvoiceLine.objects.all()
    assert lines.filter(adjustment=False, month=date(2025, 5, 1)).exists()
    assert lines.filter(adjustment=True).exists()
    assert any(r.unfunded for r in runs)
    # A second run bills nothing.
    for first in runs:
        again = RechargeRunFactory(partnership=first.partnership, issuer=first.issuer, period=first.period)
        again = finance_services.recharge_run_execute(run_id=again.pk)
        assert (again.invoice_count, again.credit_note_count) == (0, 0)
