"""Concurrency against PostgreSQL (rules.md, security.md): two runs of one issuer at once never
bill the same difference twice; fifty issues at once get fifty consecutive numbers."""

from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Sum

from brokerage.finance import services as finance_services
from brokerage.models import Invoice, InvoiceLine, RechargeRun
from tests.brokerage.factories import RechargeRunFactory
from tests.brokerage.test_concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal
MAY, JUNE = date(2022, 5, 1), date(2022, 6, 1)


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
