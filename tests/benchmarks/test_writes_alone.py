"""``benchmarks.measure.writes_alone``: the month run's writes made again with no rule, the run's floor
printed beside it. It must write what the run writes (the same lines, the same billed amounts and
ledger rows), and leave nothing behind."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import pytest

from benchmarks import measure
from benchmarks.generate import first_borough, generate, period_for
from brokerage.models import Invoice, InvoiceLine, LedgerBilled, LedgerOwed, LedgerPackage, RechargeRun

TODAY = date(2026, 11, 15)
PERIOD = period_for(TODAY)

pytestmark = pytest.mark.django_db


def _state(partnership, issuer) -> dict:
    return {
        "billed": measure.billed_totals(partnership, issuer),
        "lines": InvoiceLine.objects.filter(invoice__run__issuer=issuer, invoice__run__period=PERIOD).count(),
        "ledger_billed": sorted(
            LedgerBilled.objects.filter(issuer_id=issuer.pk, month=PERIOD).values_list(
                "package_id", "recipient_id", "billed_pence"
            )
        ),
        "ledger_owed": sorted(
            LedgerOwed.objects.filter(month=PERIOD).values_list("package_id", "recipient_id", "owed_pence")
        ),
        "computed_through": sorted(
            LedgerPackage.objects.filter(computed_through=PERIOD).values_list("package_id", flat=True)
        ),
    }


def test_the_writes_alone_are_the_runs_writes_and_leave_nothing(monkeypatch):
    generate(size="tiny", seed=5, today=TODAY)
    partnership = first_borough()
    issuer = partnership.council
    measure.prime_ledger(partnership, issuer, PERIOD)
    before = _state(partnership, issuer)

    seen = []
    real = measure.rolled_back

    @contextmanager
    def looked_at_before_rolling_back():
        with real():
            yield
            seen.append(_state(partnership, issuer))

    monkeypatch.setattr(measure, "REPEAT", 2)
    monkeypatch.setattr(measure, "rolled_back", looked_at_before_rolling_back)
    figures = measure.writes_alone(partnership, issuer, PERIOD)

    run, *replays = seen  # the run whose writes were kept, then each repetition
    assert run["lines"] == figures["lines"] > 0 and figures["invoices"] >= 1
    assert run["ledger_owed"] and figures["ledger_rows"] >= len(run["ledger_owed"])
    assert len(replays) == 2
    for replay in replays:
        assert replay == run  # the same lines, billed amounts, ledger rows and packages marked
    assert run != before
    assert _state(partnership, issuer) == before  # everything rolled back
    assert not Invoice.objects.filter(run__period=PERIOD).exists()
    assert not RechargeRun.objects.filter(period=PERIOD).exists()
    assert figures["seconds"]["n"] == 2
