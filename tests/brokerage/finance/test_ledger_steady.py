"""A package steady on a split with no funder but its payer owes nobody (``recharges.owed_by_nobody``),
so the month run computes none of its new months (``ledger_rows.steady_lines``): about a third of a
borough's packages. The rule decides it, and the run bills what the full recompute bills."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokerage import recharges
from brokerage.models import InvoiceLine, LedgerOwed
from tests.brokerage.finance.test_ledger import _incremental_run, _state, _steady, books  # noqa: F401

D = Decimal
FUNDERS = ("council", "icb", "other")


@st.composite
def steady_cases(draw):
    payer = draw(st.sampled_from(FUNDERS))
    funders = draw(st.lists(st.sampled_from(FUNDERS), min_size=1, max_size=3, unique=True))
    percents = [draw(st.sampled_from([D("0"), D("0.01"), D("33.33"), D("50"), D("100")])) for _ in funders]
    weekly = draw(st.sampled_from([D("0"), D("0.01"), D("95.5"), D("700"), D("1234.56")]))
    start = date(2022, 1, 1) + timedelta(days=draw(st.integers(0, 400)))
    end = draw(st.one_of(st.none(), st.integers(0, 500).map(lambda n: start + timedelta(days=n))))
    first = recharges.month_start(start + timedelta(days=draw(st.integers(-60, 300))))
    last = recharges.month_start(first + timedelta(days=draw(st.integers(0, 120))))
    return payer, tuple(zip(funders, percents, strict=True)), weekly, start, end, first, last


@given(steady_cases())
def test_owed_by_nobody_is_what_the_rule_gives_in_every_month(case):
    payer, shares, weekly, start, end, first, last = case
    steady = (weekly, shares)
    facts = recharges.steady_facts(1, start, end, payer, first, steady)
    by_month = recharges.steady_months(facts, first, last, steady)
    owed = [recharges.owed_by_funder(facts, result) for result in by_month.values()]
    if owed:  # a month the package is live in: nobody owes anything exactly when the rule says so
        assert recharges.owed_by_nobody(payer, shares) == all(not o for o in owed)
    if recharges.owed_by_nobody(payer, shares):
        assert not any(owed)


@pytest.mark.django_db
def test_a_package_its_payer_funds_alone_is_not_computed_but_marked_and_billed_if_it_must_be(
    books,  # noqa: F811 - the fixture
    monkeypatch,
):
    books.add_package(10, D("700"), 0)  # the council pays and funds it all
    books.add_package(10, D("700"), 50)  # half each
    books.run(books.council, date(2022, 2, 1))
    alone, shared = books.packages
    assert _steady(alone) == (7_000_000, [books.council.pk, books.ccg.pk], [10000, 0])

    computed = []
    real = recharges.steady_months
    monkeypatch.setattr(
        recharges, "steady_months", lambda facts, *a: computed.append(facts.package) or real(facts, *a)
    )
    run, sql = _incremental_run(books, date(2022, 4, 1))

    assert computed == [shared.pk]  # the other's months are not computed ...
    assert _state(alone) == (date(2022, 4, 1), None)  # ... but it is marked computed to April
    assert not LedgerOwed.objects.filter(package_id=alone.pk).exists()
    assert not InvoiceLine.objects.filter(invoice__run=run, package=alone).exists()
    assert InvoiceLine.objects.filter(invoice__run=run, package=shared).count() == 2
    assert not [q for q in sql if "brokerage_packagecost" in q]
    monkeypatch.undo()

    # £100 of its May waived (it owed nothing): the month differs from what it owes, so the run
    # compares it in SQL, loads its facts and bills it, as the full recompute does (books.run).
    books.apply(("waive", 0, 5, D("100"), 0))
    books.run(books.council, date(2022, 5, 1))
    may = InvoiceLine.objects.filter(invoice__run__period=date(2022, 5, 1), package=alone)
    assert [(line.month, line.amount) for line in may] == [(date(2022, 5, 1), D("-100.00"))]
