"""The recharge ledger (issue 14): the incremental run bills what the full recompute bills.

``recharge_run_execute(incremental=True)`` recomputes only the package months the triggers marked
stale (plus the new ones) and finds the differences with billed in SQL; ``incremental=False`` is
the full recompute of every package month. Random histories written straight to the tables (so
the triggers, not the services, must see every change): costs and splits set over any days,
backdated or not, gaps included; suspensions; package dates and payer, a start moved past every
period; clients moving between two partnerships of the same partners; waivers given (in either
partnership) and removed; deleted and issued drafts (credit notes come from runs whose net is
negative); and runs of either partner in either partnership, each a few months on from the last
(or back). Before each run both ways are executed on the same state and must give the same
documents, lines, issues and counts; the incremental one is kept, so the ledger carries on from
run to run. After each run, every package month where a scope's owed (as the ledger holds it) and
billed differ must be unsettled (``LedgerUnsettled``): a run compares no other month."""

from __future__ import annotations

import os
from datetime import date, timedelta
from decimal import Decimal

import pgtrigger
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brokerage.finance import services as finance_services
from brokerage.models import (
    Client,
    Dispute,
    FundingShare,
    FundingSplit,
    Invoice,
    InvoiceLine,
    LedgerOwed,
    LedgerPackage,
    LedgerUnsettled,
    Package,
    PackageCost,
    RechargeRun,
    Suspension,
    Waiver,
)
from tests.brokerage.factories import ClientFactory, InvoiceFactory, PackageFactory
from tests.brokerage.finance.test_ledger_billed import _from_the_rows
from tests.brokerage.finance.test_ledger_billed import _ledger as _billed_ledger
from tests.commissioning.factories import PartnershipFactory

pytestmark = pytest.mark.django_db

D = Decimal
DAY0 = date(2021, 12, 1)
ONE = timedelta(days=1)


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


# --- Writing histories straight to the tables ---------------------------------------------------


def _assign(model, package, start, end, make, *, clear=False):
    """Rows of ``model`` cover [start, end] (end None: open) with one new row made by ``make``, or
    with none (``clear``): overlapping rows are cut, split in two, or deleted, as a service would."""
    for row in list(model.objects.filter(package=package).order_by("effective_from")):
        row_end = row.effective_to
        if (end is not None and row.effective_from > end) or (row_end is not None and row_end < start):
            continue
        keeps_left = row.effective_from < start
        keeps_right = end is not None and (row_end is None or row_end > end)
        if keeps_left and keeps_right:
            model.objects.filter(pk=row.pk).update(effective_to=start - ONE)
            _copy(row, end + ONE, row_end)
        elif keeps_left:
            model.objects.filter(pk=row.pk).update(effective_to=start - ONE)
        elif keeps_right:
            model.objects.filter(pk=row.pk).update(effective_from=end + ONE)
        else:
            if model is FundingSplit:
                FundingShare.objects.filter(split=row).delete()
            model.objects.filter(pk=row.pk).delete()
    if not clear:
        make(start, end)


def _copy(row, start, end):
    shares = (
        list(row.shares.values_list("organisation_id", "percent")) if isinstance(row, FundingSplit) else []
    )
    row.pk = None
    row.effective_from, row.effective_to = start, end
    row.save()
    for organisation_id, percent in shares:
        FundingShare.objects.create(split=row, organisation_id=organisation_id, percent=percent)
    return row


def _cost(package, rate):
    def make(start, end):
        PackageCost.objects.create(
            package=package,
            effective_from=start,
            effective_to=end,
            unit_rate=rate,
            units_per_week=1,
            unit="week",
        )

    return make


def _split(package, council, ccg, ccg_percent):
    def make(start, end):
        split = FundingSplit.objects.create(
            package=package, effective_from=start, effective_to=end, basis="s117"
        )
        FundingShare.objects.create(split=split, organisation=council, percent=100 - ccg_percent)
        FundingShare.objects.create(split=split, organisation=ccg, percent=ccg_percent)

    return make


# --- Operations ---------------------------------------------------------------------------------

days = st.integers(0, 420)
span = st.tuples(days, st.one_of(st.none(), st.integers(0, 150)))
operations = st.one_of(
    st.tuples(st.just("cost"), st.integers(0, 2), span, st.sampled_from([D("700"), D("1234.56"), D("95.5")])),
    st.tuples(st.just("split"), st.integers(0, 2), span, st.sampled_from([0, 40, 50, 100, D("33.33")])),
    st.tuples(
        st.just("gap"), st.integers(0, 2), st.sampled_from(["cost", "split"]), days, st.integers(0, 60)
    ),
    st.tuples(st.just("suspend"), st.integers(0, 2), days, st.integers(0, 45), st.sampled_from([0, 50, 100])),
    st.tuples(st.just("dates"), st.integers(0, 2), days, st.one_of(st.none(), st.integers(0, 300))),
    st.tuples(st.just("payer"), st.integers(0, 2)),
    st.tuples(st.just("late"), st.integers(0, 2), st.integers(0, 60)),  # a start past every period
    st.tuples(st.just("end"), st.integers(0, 2), st.one_of(st.none(), days)),  # the end alone
    st.tuples(st.just("move"), st.integers(0, 2)),  # the client to the other partnership
    st.tuples(
        st.just("waive"),
        st.integers(0, 2),
        st.integers(0, 12),
        st.sampled_from([D("0.01"), D("100")]),
        st.sampled_from([0, 0, 1]),  # the partnership waiving: the package's own, or not
    ),
    st.tuples(st.just("delete_draft"), st.integers(0, 5)),
    st.tuples(st.just("unwaive"), st.integers(0, 5)),
    st.tuples(st.just("issue"), st.integers(0, 5)),
)
who = st.sampled_from(["council", "council", "ccg"])
# A run's period moves from the last run's by a step, as month after month of runs do (with the odd
# run of an earlier month): the runs then find months computed before, steady or made stale, and
# months billed and settled before. Random absolute months mostly ran the same early month again.
runs = st.tuples(st.just("run"), who, st.integers(-2, 4), st.sampled_from([0, 0, 1]))  # step, partnership
# Rounds of a few changes then a run: most changes land between two runs, so the second run must
# find what the first computed and the change made stale.
rounds = st.lists(st.tuples(st.lists(operations, max_size=3), runs), min_size=2, max_size=5)


def month(n: int) -> date:
    return date(2021 + (11 + n) // 12, (11 + n) % 12 + 1, 1)  # 0: December 2021


class Books:
    def __init__(self, partnership, council, ccg, elsewhere):
        self.partnership, self.council, self.ccg = partnership, council, ccg
        self.partnerships = (partnership, elsewhere)  # the same two partners in both
        self.packages: list[Package] = []
        self.invoice = None
        self.at = 0  # the month of the last run (month(0): December 2021)

    def package(self, index: int) -> Package:
        return self.packages[index % len(self.packages)]

    def add_package(self, start_day: int, rate: D, ccg_percent) -> None:
        client = ClientFactory(partnership=self.partnership)
        start = day(start_day)
        package = PackageFactory(client=client, start=start, paying_organisation=self.council)
        _cost(package, rate)(start, None)
        _split(package, self.council, self.ccg, ccg_percent)(start, None)
        self.packages.append(package)

    def apply(self, op) -> None:
        kind = op[0]
        if kind == "cost":
            _, index, (start, length), rate = op
            package = self.package(index)
            _assign(
                PackageCost,
                package,
                day(start),
                None if length is None else day(start + length),
                _cost(package, rate),
            )
        elif kind == "split":
            _, index, (start, length), percent = op
            package = self.package(index)
            end = None if length is None else day(start + length)
            _assign(
                FundingSplit, package, day(start), end, _split(package, self.council, self.ccg, D(percent))
            )
        elif kind == "gap":
            _, index, what, start, length = op
            model = PackageCost if what == "cost" else FundingSplit
            _assign(model, self.package(index), day(start), day(start + length), None, clear=True)
        elif kind == "suspend":
            _, index, start, length, paid = op
            package = self.package(index)
            a, b = day(start), day(start + length)
            Suspension.objects.filter(package=package, effective_from__lte=b, effective_to__gte=a).delete()
            treatment = {0: "stopped", 50: "reduced", 100: "retained"}[paid]
            Suspension.objects.create(
                package=package,
                effective_from=a,
                effective_to=b,
                treatment=treatment,
                paid_percent=paid,
                reason="Test",
            )
        elif kind == "dates":
            _, index, start, length = op
            end = None if length is None else day(start + length)
            Package.objects.filter(pk=self.package(index).pk).update(start=day(start), end=end)
        elif kind == "end":
            _, index, end = op
            package = Package.objects.get(pk=self.package(index).pk)
            end = None if end is None else max(day(end), package.start)
            Package.objects.filter(pk=package.pk).update(end=end)
        elif kind == "late":
            Package.objects.filter(pk=self.package(op[1]).pk).update(start=day(430 + op[2]), end=None)
        elif kind == "move":
            client = Client.objects.get(pk=self.package(op[1]).client_id)
            there = self.partnerships[1] if client.partnership_id == self.partnership.pk else self.partnership
            Client.objects.filter(pk=client.pk).update(partnership=there)
        elif kind == "payer":
            package = Package.objects.get(pk=self.package(op[1]).pk)
            payer = self.ccg if package.paying_organisation_id == self.council.pk else self.council
            Package.objects.filter(pk=package.pk).update(paying_organisation=payer)
        elif kind == "waive":
            _, index, n, amount, other = op
            package = Package.objects.select_related("client").get(pk=self.package(index).pk)
            own = package.client.partnership_id == self.partnership.pk
            partnership = self.partnerships[0 if own != bool(other) else 1]
            issuer = package.paying_organisation
            recipient = self.ccg if issuer.pk == self.council.pk else self.council
            if self.invoice is None:  # the disputed invoice the waivers settle (one month each)
                self.invoice = InvoiceFactory(partnership=self.partnership, total=D("1.00"))
            dispute = Dispute.objects.create(invoice=self.invoice, reason="other", amount=D("1.00"))
            Waiver.objects.create(
                partnership=partnership, issuer=issuer, recipient=recipient, package=package,
                month=month(n), amount=amount, dispute=dispute,
            )  # fmt: skip
        elif kind == "delete_draft":
            drafts = list(Invoice.objects.filter(run__isnull=False, status="draft").order_by("pk"))
            if drafts:
                draft = drafts[op[1] % len(drafts)]
                InvoiceLine.objects.filter(invoice=draft).delete()
                draft.delete()
        elif kind == "unwaive":  # waivers are append-only; a correction by hand removes one
            waivers = list(Waiver.objects.order_by("pk"))
            if waivers:
                with pgtrigger.ignore("brokerage.Waiver:waivers_append_only"):
                    waivers[op[1] % len(waivers)].delete()
        elif kind == "issue":  # an issued invoice stays billed (its credit notes count against it)
            drafts = list(Invoice.objects.filter(run__isnull=False, status="draft").order_by("pk"))
            if drafts:
                finance_services.invoice_issue(invoice=drafts[op[1] % len(drafts)], by=None)
        elif kind == "run":
            _, who, step, where = op
            self.at = min(13, max(0, self.at + step))
            self.run(self.council if who == "council" else self.ccg, month(self.at), self.partnerships[where])

    def run(self, issuer, period, partnership=None) -> None:
        partnership = partnership or self.partnership

        def execute(incremental: bool):
            run = RechargeRun.objects.create(partnership=partnership, issuer=issuer, period=period)
            run = finance_services.recharge_run_execute(run_id=run.pk, incremental=incremental)
            assert run.status == "done", run.failure
            return run, billing(run)

        sid = transaction.savepoint()
        _full_run, full = execute(False)
        transaction.savepoint_rollback(sid)
        _run, incremental = execute(True)
        assert incremental == full
        assert _billed_ledger() == _from_the_rows()  # the billed side the runs compare with
        assert _differing_but_settled() == []


# Every (issuer, partnership, package, month) where owed (as the ledger holds it) and billed plus
# waived differ, in every scope with a package or a billed row, that is not unsettled. A scope
# counts a package's owed when its issuer pays the package and the package's client is in the
# partnership, from the package's first month (a full run loads no facts of the others).
DIFFERING_BUT_SETTLED = """
WITH scopes AS (
    SELECT p.paying_organisation_id AS issuer, c.partnership_id AS partnership
    FROM brokerage_package p JOIN brokerage_client c ON c.id = p.client_id
    UNION SELECT issuer_id, partnership_id FROM brokerage_ledgerbilled
),
owed AS (
    SELECT s.issuer, s.partnership, o.package_id, o.recipient_id, o.month, o.owed_pence AS pence
    FROM scopes s
    JOIN brokerage_package p ON p.paying_organisation_id = s.issuer
    JOIN brokerage_client c ON c.id = p.client_id
    JOIN brokerage_ledgerowed o ON o.package_id = p.id AND o.month >= date_trunc('month', p.start)
    WHERE c.partnership_id = s.partnership
),
billed AS (
    SELECT issuer_id AS issuer, partnership_id AS partnership, package_id, recipient_id, month,
           billed_pence + waived_pence AS pence
    FROM brokerage_ledgerbilled
)
SELECT DISTINCT COALESCE(o.issuer, b.issuer), COALESCE(o.partnership, b.partnership),
       COALESCE(o.package_id, b.package_id), COALESCE(o.month, b.month)
FROM owed o FULL JOIN billed b
  ON (b.issuer, b.partnership, b.package_id, b.recipient_id, b.month)
   = (o.issuer, o.partnership, o.package_id, o.recipient_id, o.month)
WHERE COALESCE(o.pence, 0) <> COALESCE(b.pence, 0)
EXCEPT
SELECT issuer_id, partnership_id, package_id, month FROM brokerage_ledgerunsettled
"""


def _differing_but_settled() -> list:
    with connection.cursor() as cursor:
        cursor.execute(DIFFERING_BUT_SETTLED)
        return cursor.fetchall()


def billing(run) -> dict:
    """Everything a run produced that a person or a later run can see."""
    documents = [
        (
            invoice.recipient_id,
            invoice.kind,
            invoice.total,
            list(invoice.lines.order_by("position").values_list(*InvoiceLine.CONTENT_COLUMNS, "position")),
        )
        for invoice in Invoice.objects.filter(run=run).order_by("recipient__code", "kind")
    ]
    return {
        "documents": documents,
        "unfunded": run.unfunded,
        "errors": run.errors,
        "counts": (run.package_count, run.invoice_count, run.credit_note_count),
        "totals": (run.total_invoiced, run.total_credited),
    }


@pytest.fixture
def books(partnership, council, ccg):
    return Books(partnership, council, ccg, PartnershipFactory(council=council, nhs_commissioner=ccg))


class _Rollback(Exception):
    pass


@settings(
    max_examples=int(os.environ.get("LEDGER_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    packages=st.lists(
        st.tuples(
            st.integers(0, 200), st.sampled_from([D("700"), D("1000.01")]), st.sampled_from([40, 50, 100])
        ),
        min_size=1,
        max_size=3,
    ),
    history=rounds,
)
def test_the_incremental_run_bills_what_the_full_recompute_bills_to_the_penny(books, packages, history):
    books.packages, books.invoice, books.at = [], None, 0
    try:
        with transaction.atomic():  # each example starts from the fixtures alone
            for start, rate, percent in packages:
                books.add_package(start, rate, percent)
            for changes, run in history:
                for op in [*changes, run]:
                    books.apply(op)
            raise _Rollback
    except _Rollback:
        pass


# --- The triggers -------------------------------------------------------------------------------


def _state(package):
    row = LedgerPackage.objects.filter(package_id=package.pk).first()
    return (row.computed_through, row.stale_from) if row else None


def test_an_existing_database_starts_with_an_empty_ledger_and_every_package_is_computed(books):
    books.add_package(10, D("700"), 50)
    package = books.packages[0]
    assert _state(package) == (None, date(2021, 12, 1))  # never computed: everything stale

    books.run(books.council, date(2022, 3, 1))

    assert _state(package) == (date(2022, 3, 1), None)
    assert sorted(LedgerOwed.objects.filter(package_id=package.pk).values_list("month", "owed_pence")) == [
        (date(2021, 12, 1), 700 * 50 * 21 // 7),  # 11 to 31 December: 21 days at £50 a day
        (date(2022, 1, 1), 700 * 50 * 31 // 7),
        (date(2022, 2, 1), 700 * 50 * 28 // 7),
        (date(2022, 3, 1), 700 * 50 * 31 // 7),
    ]


def test_a_backdated_price_marks_the_package_stale_from_that_month_only(books):
    books.add_package(10, D("700"), 50)
    books.add_package(10, D("700"), 50)
    books.run(books.council, date(2022, 6, 1))
    changed, untouched = books.packages

    books.apply(("cost", 0, (75, None), D("800")))  # from 14 February 2022

    assert _state(changed) == (date(2022, 6, 1), date(2022, 2, 1))
    assert _state(untouched) == (date(2022, 6, 1), None)


def test_a_bulk_update_marks_every_package_it_touches(books):
    for _ in range(3):
        books.add_package(10, D("700"), 50)
    books.run(books.council, date(2022, 6, 1))

    FundingSplit.objects.filter(package__in=books.packages).update(effective_from=date(2022, 1, 1))
    FundingShare.objects.filter(split__package=books.packages[0]).update(percent=50)

    assert [_state(p) for p in books.packages] == [(date(2022, 6, 1), date(2021, 12, 1))] * 3


def test_an_ended_package_is_stale_from_the_month_after_its_new_end(books):
    books.add_package(10, D("700"), 50)
    books.run(books.council, date(2022, 6, 1))

    Package.objects.filter(pk=books.packages[0].pk).update(end=date(2022, 3, 31))

    assert _state(books.packages[0]) == (date(2022, 6, 1), date(2022, 4, 1))


def test_a_write_while_a_run_computes_leaves_the_package_stale(books, monkeypatch):
    """The run read the package's count of writes before its facts; a write counted since then
    keeps the package stale (the run's rows may predate it)."""
    from brokerage.finance import ledger

    books.add_package(10, D("700"), 50)
    real = ledger._mark_statements

    def with_a_write_in_between(ids, through, seen, steady):
        PackageCost.objects.filter(package=books.packages[0]).update(unit_rate=D("900"))
        return real(ids, through, seen, steady)

    monkeypatch.setattr(ledger, "_mark_statements", with_a_write_in_between)
    books.run(books.council, date(2022, 2, 1))

    assert _state(books.packages[0]) == (date(2022, 2, 1), date(2021, 12, 1))


def _incremental_run(books, period):
    """The council's incremental run of ``period`` alone, and the SQL it sent."""
    run = RechargeRun.objects.create(partnership=books.partnership, issuer=books.council, period=period)
    with CaptureQueriesContext(connection) as queries:
        run = finance_services.recharge_run_execute(run_id=run.pk)
    assert run.status == "done", run.failure
    return run, [q["sql"] for q in queries]


def _steady(package):
    row = LedgerPackage.objects.get(package_id=package.pk)
    return row.steady_weekly_ten_thousandths, row.steady_funders, row.steady_percent_hundredths


def test_a_steady_package_is_billed_its_new_months_without_its_facts_being_read(books):
    books.add_package(10, D("700"), 50)
    books.run(books.council, date(2022, 2, 1))
    package = books.packages[0]
    assert _steady(package) == (7_000_000, [books.council.pk, books.ccg.pk], [5000, 5000])

    run, sql = _incremental_run(books, date(2022, 4, 1))

    assert not [q for q in sql if "brokerage_packagecost" in q or "brokerage_fundingsplit" in q]
    lines = InvoiceLine.objects.filter(invoice__run=run).order_by("month")
    # £700 a week, half each: £50 a day to the ICB for each day of March and April.
    assert [(line.month, line.days, line.amount) for line in lines] == [
        (date(2022, 3, 1), 31, D("1550.00")),
        (date(2022, 4, 1), 30, D("1500.00")),
    ]
    assert _state(package) == (date(2022, 4, 1), None)


def test_a_package_with_a_change_to_come_is_not_steady_and_its_facts_are_read(books):
    books.add_package(10, D("700"), 50)
    books.apply(("cost", 0, (160, None), D("1400")))  # from 10 May 2022, written in advance
    books.run(books.council, date(2022, 2, 1))
    assert _steady(books.packages[0]) == (None, None, None)

    run, sql = _incremental_run(books, date(2022, 5, 1))

    assert [q for q in sql if "brokerage_packagecost" in q]
    may = InvoiceLine.objects.get(invoice__run=run, month=date(2022, 5, 1), start=date(2022, 5, 10))
    assert (may.days, may.amount) == (22, D("2200.00"))  # £100 a day to the ICB from the 10th
    assert _steady(books.packages[0]) == (14_000_000, [books.council.pk, books.ccg.pk], [5000, 5000])


def test_months_settled_before_the_ledger_computed_them_are_billed_what_is_left(books):
    """Waivers for months no run has reached yet: those months are unsettled, so the run compares
    them with what was waived instead of billing all they owe."""
    books.add_package(10, D("700"), 50)
    books.run(books.council, date(2022, 2, 1))
    books.apply(("waive", 0, 4, D("1500"), 0))  # all April 2022 owes (30 days at £50) waived
    books.apply(("waive", 0, 5, D("100"), 0))  # £100 of May's £1,550 waived

    books.run(books.council, date(2022, 5, 1))  # the same as a full recompute, or it fails here

    lines = InvoiceLine.objects.filter(invoice__run__period=date(2022, 5, 1))
    assert sorted((line.month, line.amount) for line in lines) == [
        (date(2022, 3, 1), D("1550.00")),
        (date(2022, 5, 1), D("-100.00")),
        (date(2022, 5, 1), D("1550.00")),
    ]


def test_a_backdated_price_rebills_the_settled_months_less_what_they_were_billed(books):
    """Months billed and settled, then a backdated price: the run computes them again and bills each
    whose owed changed in full, less what it owed before (every settled month was billed what the
    ledger held for it)."""
    books.add_package(10, D("700"), 50)
    books.run(books.council, date(2022, 3, 1))
    books.apply(("cost", 0, (62, None), D("1400")))  # £1,400 a week from 1 February 2022

    run, _sql = _incremental_run(books, date(2022, 4, 1))

    lines = InvoiceLine.objects.filter(invoice__run=run).order_by("month", "previously_billed")
    assert [(line.month, line.amount, line.previously_billed) for line in lines] == [
        (date(2022, 2, 1), D("2800.00"), False),  # 28 days at £100 (half of £200 a day)
        (date(2022, 2, 1), D("-1400.00"), True),  # 28 days at £50, billed before
        (date(2022, 3, 1), D("3100.00"), False),
        (date(2022, 3, 1), D("-1550.00"), True),
        (date(2022, 4, 1), D("3000.00"), False),
    ]


def test_a_deleted_package_takes_its_ledger_rows_with_it(books):
    books.add_package(10, D("700"), 50)
    books.run(books.council, date(2022, 2, 1))
    package = books.packages[0]
    for invoice in Invoice.objects.all():
        invoice.lines.all().delete()
        invoice.delete()

    PackageCost.objects.filter(package=package).delete()
    FundingShare.objects.filter(split__package=package).delete()
    FundingSplit.objects.filter(package=package).delete()
    package.delete()

    assert not LedgerOwed.objects.filter(package_id=package.pk).exists()
    assert not LedgerPackage.objects.filter(package_id=package.pk).exists()


def test_the_rows_a_run_updates_have_room_on_their_page_for_the_next_version():
    """A run updates every package row it computes and every billed key it bills again: with room
    on the page, PostgreSQL updates them in place (no new index entry per update)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class "
            "WHERE relname IN ('brokerage_ledgerpackage', 'brokerage_ledgerbilled') ORDER BY relname"
        )
        assert cursor.fetchall() == [
            ("brokerage_ledgerbilled", ["fillfactor=70"]),
            ("brokerage_ledgerpackage", ["fillfactor=50"]),
        ]


def _unsettled_months(package):
    return sorted(
        LedgerUnsettled.objects.filter(package_id=package.pk).values_list(
            "issuer_id", "partnership_id", "month"
        )
    )


@pytest.mark.parametrize("running", ["none", "own", "other"])
def test_owed_rows_written_outside_their_scopes_run_unsettle_their_month(books, running):
    """Owed rows a run of the package's own scope writes unsettle nothing (it compares them itself);
    any other write unsettles the month in the scope that counts the package."""
    books.add_package(10, D("700"), 50)
    package = books.packages[0]
    LedgerUnsettled.objects.all().delete()
    scopes = {
        "none": "",
        "own": f"{books.council.pk}:{books.partnership.pk}",
        "other": f"{books.ccg.pk}:{books.partnership.pk}",
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('brokerage.ledger_run', %s, true)", [scopes[running]])
        cursor.execute(
            "INSERT INTO brokerage_ledgerowed (package_id, month, recipient_id, owed_pence) "
            "VALUES (%s, %s, %s, 100)",
            [package.pk, date(2022, 1, 1), books.ccg.pk],
        )
        cursor.execute("DELETE FROM brokerage_ledgerowed WHERE package_id = %s", [package.pk])
        cursor.execute("SELECT set_config('brokerage.ledger_run', '', true)")

    expected = [] if running == "own" else [(books.council.pk, books.partnership.pk, date(2022, 1, 1))]
    assert _unsettled_months(package) == expected
