"""The cyclic garbage collector paused around a recharge run (commissioning/memory.py)."""

from __future__ import annotations

import gc

import pytest

from commissioning.memory import collector_paused


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_collector_is_off_inside_and_back_on_after(collector_on):
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # nested: still off, and the inner block does not turn it on
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_comes_back_on_when_the_block_raises(collector_on):
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_collector_already_off_is_left_off():
    was = gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


@pytest.mark.django_db
def test_a_recharge_run_computes_with_the_collector_paused(collector_on, monkeypatch, partnership):
    from datetime import date

    from brokerage.finance import ledger
    from brokerage.finance import services as finance_services
    from brokerage.models import RechargeRun

    seen = []
    real = ledger.prepare

    def prepare(run, row_type):
        seen.append(gc.isenabled())
        return real(run, row_type)

    monkeypatch.setattr(ledger, "prepare", prepare)
    run = RechargeRun.objects.create(
        partnership=partnership, issuer=partnership.council, period=date(2022, 5, 1)
    )
    run = finance_services.recharge_run_execute(run_id=run.pk)

    assert run.status == "done"
    assert seen == [False]
    assert gc.isenabled()
