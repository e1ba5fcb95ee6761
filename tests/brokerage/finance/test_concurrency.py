"""Concurrency against PostgreSQL (rules.md, security.md): two runs of one issuer at once never
bill the same difference twice; fifty issues at once get fifty consecutive numbers; a write
committed while a run settles its package months keeps its month unsettled."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from brokerage.finance import ledger
from brokerage.finance import services as finance_services
from brokerage.models import Dispute, Invoice, InvoiceLine, LedgerUnsettled, RechargeRun, Waiver
from tests.brokerage.factories import RechargeRunFactory
from tests.brokerage.test_concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal
APRIL, MAY, JUNE, JULY = date(2022, 4, 1), date(2022, 5, 1), date(2022, 6, 1), date(2022, 7, 1)


def billed_by_month():
    rows = InvoiceLine.objects.values("month").annotate(total=Sum("amount")).order_by("month")
    return {row["month"]: row["total"] for row in rows}


def test_two_concurrent_runs_of_one_issuer_bill_each_difference_once(
    make_package, partnership, council, ccg, finance
):
    for start in (date(2022, 3, 1), date(2022, 4, 10), date(2022, 5, 3)):
        make_package(start, rate=D("700"), shares=[(council, 50), (ccg, 50)])
    may = RechargeRunFactory(partnership=partnership, issuer=council, period=MAY, requested_by=finance)
    june = RechargeRunFactory(partnership=partnership, issuer=council, period=JUNE, requested_by=finance)

    results = run_together(
        lambda: finance_services.recharge_run_execute(run_id=may.pk),
        lambda: finance_services.recharge_run_execute(run_id=june.pk),
    )

    assert [r.status for r in results] == ["done", "done"]
    # Whichever ran second saw the first's drafts as billed: each month billed exactly once.
    # 350 a week each: March 31 days (1550.00); April 30 + 21 days (1500.00 + 1050.00);
    # May 31 + 31 + 29 days; June 30 days x 3.
    assert billed_by_month() == {
        date(2022, 3, 1): D("1550.00"),
        date(2022, 4, 1): D("2550.00"),
        date(2022, 5, 1): D("1550.00") * 2 + D("1450.00"),
        date(2022, 6, 1): D("1500.00") * 3,
    }
    again = RechargeRunFactory(partnership=partnership, issuer=council, period=JUNE, requested_by=finance)
    assert finance_services.recharge_run_execute(run_id=again.pk).invoice_count == 0


def test_one_run_executed_twice_at_once_writes_one_set_of_drafts(
    make_package, partnership, council, ccg, finance
):
    make_package(date(2022, 5, 1), rate=D("700"), shares=[(council, 50), (ccg, 50)])
    run = RechargeRunFactory(partnership=partnership, issuer=council, period=MAY, requested_by=finance)

    results = run_together(
        lambda: finance_services.recharge_run_execute(run_id=run.pk),
        lambda: finance_services.recharge_run_execute(run_id=run.pk),
    )

    assert all(r.status == "done" for r in results)
    assert Invoice.objects.count() == 1 and Invoice.objects.get().total == D("1550.00")


def test_two_concurrent_requests_for_one_month_start_one_run(partnership, council, finance):
    request = lambda: finance_services.recharge_run_request(  # noqa: E731
        partnership=partnership, issuer=council, period=MAY, by=finance
    )

    results = run_together(request, request)

    assert not [r for r in results if isinstance(r, Exception)]
    assert results[0].pk == results[1].pk and RechargeRun.objects.count() == 1


def test_fifty_concurrent_issues_get_fifty_consecutive_numbers(partnership, council, ccg, finance):
    drafts = Invoice.objects.bulk_create(
        Invoice(partnership=partnership, issuer=council, recipient=ccg, period=MAY, total=D("10.00"))
        for _ in range(50)
    )

    results = run_together(
        *[
            (
                lambda draft=draft: finance_services.invoice_issue(
                    invoice=draft, by=finance, today=date(2022, 6, 1)
                )
            )
            for draft in drafts
        ]
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"LBB-2223-{n:05d}" for n in range(1, 51)]


def test_a_write_committed_between_a_runs_comparison_and_its_settling_keeps_the_month_unsettled(
    make_package, partnership, council, ccg, finance, monkeypatch
):
    package = make_package(date(2022, 3, 1), rate=D("700"), shares=[(council, 50), (ccg, 50)])
    may = RechargeRunFactory(partnership=partnership, issuer=council, period=MAY, requested_by=finance)
    finance_services.recharge_run_execute(run_id=may.pk)  # bills March to May; all settled
    unsettled = LedgerUnsettled.objects.filter(
        issuer_id=council.pk, partnership_id=partnership.pk, package_id=package.pk
    )
    assert not unsettled.exists()
    with connection.cursor() as cursor:  # a write to April that changed nothing (April agrees)
        cursor.execute(
            "SELECT brokerage_ledger_unsettle(%s, %s, %s, %s)",
            [[council.pk], [partnership.pk], [package.pk], [APRIL]],
        )
    real = ledger._settle

    def a_waiver_committed_meanwhile(rows):
        """The June run has read April as agreeing; another session waives £100 of it and
        commits before the run deletes what it read."""

        def waive():
            try:
                with transaction.atomic():
                    invoice = Invoice.objects.filter(run=may).get()
                    dispute = Dispute.objects.create(invoice=invoice, reason="other", amount=D("100"))
                    Waiver.objects.create(
                        partnership=partnership, issuer=council, recipient=ccg, package=package,
                        month=APRIL, amount=D("100"), dispute=dispute,
                    )  # fmt: skip
            finally:
                connection.close()

        assert (package.pk, APRIL) in {(p, m) for p, m in unsettled.filter(id__in=[r[0] for r in rows])
                                        .values_list("package_id", "month")}  # fmt: skip
        thread = threading.Thread(target=waive)
        thread.start()
        thread.join(30)
        return real(rows)

    monkeypatch.setattr(ledger, "_settle", a_waiver_committed_meanwhile)
    june = RechargeRunFactory(partnership=partnership, issuer=council, period=JUNE, requested_by=finance)
    assert finance_services.recharge_run_execute(run_id=june.pk).status == "done"
    monkeypatch.setattr(ledger, "_settle", real)

    assert list(unsettled.values_list("month", flat=True)) == [APRIL]  # June settled, April kept
    july = RechargeRunFactory(partnership=partnership, issuer=council, period=JULY, requested_by=finance)
    july = finance_services.recharge_run_execute(run_id=july.pk)
    # April: the £100 waived counts as settled, so the £1,500.00 billed is now £100 too much.
    assert (july.invoice_count, july.total_invoiced - D("1550.00")) == (1, D("-100.00"))
    assert not unsettled.exists()
