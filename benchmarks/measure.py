"""Measurements in this process (Django set up on the bench database), each beside its reference."""

from __future__ import annotations

import csv
import io
import json
import time
from contextlib import contextmanager
from decimal import Decimal

from benchmarks.common import REPEAT, stats

# --- Measurements (in this process, Django set up on the bench database) ------------------------


def repeat(fn, n: int = REPEAT) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


class _Rollback(Exception):
    pass


@contextmanager
def rolled_back():
    from django.db import transaction

    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


def run_once(partnership, issuer, period, *, incremental: bool = True) -> dict:
    """One recharge run through the service, rolled back; returns its figures. ``incremental``:
    through the recharge ledger (the default), else the full recompute of every package month."""
    from brokerage.finance import services as finance_services
    from brokerage.models import InvoiceLine, RechargeRun

    out = {}
    with rolled_back():
        run = RechargeRun.objects.create(partnership=partnership, issuer=issuer, period=period)
        started = time.perf_counter()
        run = finance_services.recharge_run_execute(run_id=run.pk, incremental=incremental)
        out["seconds"] = time.perf_counter() - started
        out.update(
            status=run.status,
            invoices=run.invoice_count,
            credit_notes=run.credit_note_count,
            invoiced=str(run.total_invoiced),
            credited=str(run.total_credited),
            lines=InvoiceLine.objects.filter(invoice__run=run).count(),
            failure=run.failure,
        )
        out["billed_after"] = billed_totals(partnership, issuer)
    return out


def billed_totals(partnership, issuer) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.recipient_id, SUM(CASE WHEN i.kind = 'credit_note' THEN -l.amount ELSE l.amount END) "
            "FROM brokerage_invoiceline l JOIN brokerage_invoice i ON i.id = l.invoice_id "
            "WHERE i.partnership_id = %s AND i.issuer_id = %s GROUP BY 1",
            [partnership.pk, issuer.pk],
        )
        return {r: str(v) for r, v in cursor.fetchall()}


def prime_ledger(partnership, issuer, period) -> float:
    """The recharge ledger as last month's run leaves it: that run, on the generated data (which
    bills every earlier month exactly), computes every package month and bills nothing. Seconds."""
    from dateutil.relativedelta import relativedelta

    from brokerage.finance import services as finance_services
    from brokerage.models import RechargeRun

    run = RechargeRun.objects.create(
        partnership=partnership, issuer=issuer, period=period - relativedelta(months=1)
    )
    started = time.perf_counter()
    run = finance_services.recharge_run_execute(run_id=run.pk)
    if run.status != "done" or run.invoice_count or run.credit_note_count:
        raise RuntimeError(f"priming the ledger: {run.status} {run.failure} {run.invoice_count} invoices")
    return time.perf_counter() - started


def _agrees(totals: dict, run: dict) -> bool:
    return {str(k): str(v) for k, v in totals.items()} == {str(k): v for k, v in run["billed_after"].items()}


def _runs(partnership, issuer, period, totals: dict, *, incremental: bool) -> dict:
    runs = [run_once(partnership, issuer, period, incremental=incremental) for _ in range(REPEAT)]
    last = runs[-1]
    return {
        "seconds": stats([r["seconds"] for r in runs]),
        "run": {k: v for k, v in last.items() if k not in ("seconds", "billed_after")},
        "agrees_with_sql_to_the_penny": _agrees(totals, last),
        "same_as_full": None,
        "_billed_after": last["billed_after"],
    }


def _reference(partnership, issuer, period) -> tuple[dict, dict]:
    from benchmarks import reference

    sql_times, totals = [], {}
    for _ in range(REPEAT):
        started = time.perf_counter()
        totals = reference.owed_totals(partnership=partnership.pk, issuer=issuer.pk, period=period)
        sql_times.append(time.perf_counter() - started)
    return stats(sql_times), totals


def _full_and_incremental(partnership, issuer, period) -> dict:
    """The run both ways on the same state, beside the SQL reference."""
    reference_seconds, totals = _reference(partnership, issuer, period)
    full = _runs(partnership, issuer, period, totals, incremental=False)
    incremental = _runs(partnership, issuer, period, totals, incremental=True)
    incremental["same_as_full"] = incremental.pop("_billed_after") == full.pop("_billed_after")
    return {"reference_seconds": reference_seconds, "full": full, "incremental": incremental}


def bench_recharge(partnership, issuer, period) -> dict:
    """The month's run with the ledger as last month's run left it: incremental and full."""
    with rolled_back():
        first = prime_ledger(partnership, issuer, period)
        out = _full_and_incremental(partnership, issuer, period)
    return _figures(out) | {"ledger_first_run_seconds": round(first, 2)}


def backdated_change(partnership, issuer, period) -> dict:
    """A split change on 500 of the issuer's open packages, backdated to a year before the period
    (the true-up's state); returns what was changed and how long it took."""
    from dateutil.relativedelta import relativedelta
    from django.db import connection

    from brokerage import services
    from brokerage.models import FundingSplit, Package
    from brokerage.services import Share
    from commissioning.models import User

    change_from = period - relativedelta(months=11)
    by = User.objects.get(username="bench_broker")
    other = partnership.nhs_commissioner if issuer.pk == partnership.council_id else partnership.council
    ids = list(
        FundingSplit.objects.filter(
            package__client__partnership=partnership,
            package__paying_organisation=issuer,
            package__start__lt=change_from,
            package__end__isnull=True,
            effective_from__lte=change_from,
            effective_to__isnull=True,
            basis__in=["s117", "panel_decision"],
        )
        .order_by("package_id")
        .values_list("package_id", flat=True)[:500]
    )
    started = time.perf_counter()
    for package in Package.objects.filter(pk__in=ids).select_related("client__partnership"):
        services.package_change_funding(
            package=package,
            effective_from=change_from,
            by=by,
            basis="s117",  # a panel basis would have to cite a recorded decision of the client
            shares=[Share(issuer, Decimal("35")), Share(other, Decimal("65"))],
        )
    # The change commits before the run: its deferred checks (the foreign keys of its splits,
    # shares and history rows) are made as its commit would make them. Left queued, the run's
    # first SET CONSTRAINTS ALL IMMEDIATE made them, again in every repetition (each rolls back).
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    return {
        "packages_changed": len(ids),
        "change_from": change_from.isoformat(),
        "change_seconds": round(time.perf_counter() - started, 2),
    }


def bench_true_up(partnership, issuer, period) -> dict:
    """A backdated split change on 500 packages from a year before the period, then the run."""
    with rolled_back():
        prime_ledger(partnership, issuer, period)  # the change comes after last month's run
        result = backdated_change(partnership, issuer, period)
        both = _full_and_incremental(partnership, issuer, period)
    return result | _figures(both)


def _figures(both: dict) -> dict:
    """The run as it now runs (through the ledger) beside its reference, with both ways' figures."""
    incremental = both["incremental"]
    return {
        "seconds": incremental["seconds"],
        "reference_seconds": both["reference_seconds"],
        "run": incremental["run"],
        "agrees_with_sql_to_the_penny": incremental["agrees_with_sql_to_the_penny"],
        "full": both["full"],
        "incremental": incremental,
    }


def _captured_writes(partnership, issuer, period) -> dict:
    """One run through the service (rolled back) with the rows it COPYs, the statements it sends
    from its second thread and its invoices' fields kept: what ``writes_alone`` writes again."""
    from unittest import mock

    from brokerage.finance import ledger, services
    from brokerage.models import Invoice
    from commissioning import bulk

    kept: dict = {"owed": [], "mark": []}

    def copy_kept(kind):
        def copy(table, columns, rows, **kwargs):
            rows = list(rows)
            if kind == "lines":
                ids = {int(row.split("\t", 1)[0]) for row in rows}
                kept["invoices"] = list(Invoice.objects.filter(pk__in=ids).order_by("pk").values())
                kept["lines"] = (table, columns, rows, kwargs)
            else:
                kept["owed"].append((table, columns, rows, kwargs))
            return bulk.copy_rows(table, columns, rows, **kwargs)

        return copy

    def meanwhile_kept(statements):
        kept["mark"] = list(statements)
        return bulk.meanwhile(statements)

    with (
        mock.patch.object(services, "copy_rows", copy_kept("lines")),
        mock.patch.object(ledger, "copy_rows", copy_kept("owed")),
        mock.patch.object(ledger, "meanwhile", meanwhile_kept),
    ):
        run_once(partnership, issuer, period)
    return kept


def writes_alone(partnership, issuer, period) -> dict:
    """What the month's run writes, written again with no rule and no Python making the rows: its
    ledger rows and its invoices and lines COPYed from the text the run sent, and the statements
    marking its packages computed, each repetition in a transaction rolled back, on the state the run
    starts from. Every trigger, check and index the run's writes meet, they meet too (``RUNNING`` set
    as the run sets it). The run's floor: what it would take if computing cost nothing."""
    from django.db import connection

    from brokerage.finance.ledger_sql import RUNNING
    from brokerage.models import Invoice, RechargeRun
    from commissioning.bulk import copy_rows

    kept = _captured_writes(partnership, issuer, period)
    parts: dict[str, list[float]] = {"seconds": [], "ledger": [], "mark": [], "documents": []}
    for _ in range(REPEAT):
        with rolled_back():
            run = RechargeRun.objects.create(
                partnership=partnership, issuer=issuer, period=period, status="running"
            )
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(RUNNING, [f"{issuer.pk}:{partnership.pk}"])
            for table, columns, rows, kwargs in kept["owed"]:
                copy_rows(table, columns, rows, **kwargs)
            ledger_done = time.perf_counter()
            with connection.cursor() as cursor:
                for sql, params in kept["mark"]:
                    cursor.execute(sql, params)
            mark_done = time.perf_counter()
            made = Invoice.objects.bulk_create(
                Invoice(**{k: v for k, v in fields.items() if k != "id"} | {"run_id": run.pk})
                for fields in kept["invoices"]
            )
            ids = {str(old["id"]): str(new.pk) for old, new in zip(kept["invoices"], made, strict=True)}
            table, columns, rows, kwargs = kept["lines"]
            copy_rows(table, columns, (ids[r.split("\t", 1)[0]] + r[r.index("\t") :] for r in rows), **kwargs)
            done = time.perf_counter()
        parts["seconds"].append(done - started)
        parts["ledger"].append(ledger_done - started)
        parts["mark"].append(mark_done - ledger_done)
        parts["documents"].append(done - mark_done)
    return {k: stats(v) for k, v in parts.items()} | {
        "lines": len(kept["lines"][2]),
        "ledger_rows": sum(len(rows) for _t, _c, rows, _k in kept["owed"]),
        "invoices": len(kept["invoices"]),
    }


def vacuum() -> None:
    """``VACUUM ANALYZE`` of the whole database, as autovacuum leaves it between two months' runs."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def bench_committed(partnership, issuer, period) -> dict:
    """The month's run and the true-up as they meet the database in use: last month's run (and
    then the backdated change) committed and the tables vacuumed and analysed, as autovacuum leaves
    them between a month's run and the next; each repetition rolled back. The figures above prime
    the ledger inside the transaction they roll back, so their runs also step over the priming's
    uncommitted row versions, on planner statistics from before the ledger was filled. Changes the
    database for good: run it on a copy (``benchmarks.committed``)."""
    prime_ledger(partnership, issuer, period)
    vacuum()
    month = _figures(_full_and_incremental(partnership, issuer, period))
    month["writes_alone"] = writes_alone(partnership, issuer, period)
    change = backdated_change(partnership, issuer, period)
    vacuum()
    return {
        "recharge_month": month,
        "true_up": change | _figures(_full_and_incremental(partnership, issuer, period)),
    }


REPORT_SQL = """
SELECT i.number, i.kind, io.code, ro.code, to_char(i.period, 'YYYY-MM'), i.issue_date, l.package_id,
       l.client_reference, l.provider, l.service_type, to_char(l.month, 'YYYY-MM'), l.start, l."end", l.days,
       ROUND(l.weekly_cost, 2), l.percent, CASE WHEN i.kind = 'credit_note' THEN -l.amount ELSE l.amount END,
       l.adjustment, to_char(l.corrects_month, 'YYYY-MM')
FROM brokerage_invoiceline l
JOIN brokerage_invoice i ON i.id = l.invoice_id
JOIN commissioning_organisation io ON io.id = i.issuer_id
JOIN commissioning_organisation ro ON ro.id = i.recipient_id
WHERE i.partnership_id = %s AND i.status <> 'draft' AND i.period BETWEEN %s AND %s
ORDER BY i.period, i.number, l.position, l.id
"""


def bench_report(server, partnership, period) -> dict:
    from dateutil.relativedelta import relativedelta
    from django.db import connection

    first = period - relativedelta(months=12)
    last = period - relativedelta(months=1)
    query = f"period_from={first:%Y-%m}&period_to={last:%Y-%m}"
    token = server.tokens["bench_finance"]
    out = {}
    for fmt, extra in (("json", "&page_size=1000"), ("csv", "&format=csv")):
        samples, sizes, rows = [], [], 0
        for _ in range(REPEAT):
            status, seconds, _q, body = server.get(f"/api/v1/recharge-report/?{query}{extra}", token=token)
            if status != 200:
                raise RuntimeError(f"recharge report {fmt}: HTTP {status}: {body[:300]!r}")
            samples.append(seconds)
            sizes.append(len(body))
            rows = body.count(b"\n") - 1 if fmt == "csv" else json.loads(body).get("count")
        out[fmt] = {"seconds": stats(samples), "bytes": sizes[-1], "rows": rows}

    def bare():
        with connection.cursor() as cursor:
            cursor.execute(REPORT_SQL, [partnership.pk, first, last])
            buffer = io.StringIO()
            csv.writer(buffer).writerows(cursor.fetchall())
            return buffer

    out["reference_seconds"] = stats(repeat(bare))
    out["range"] = query
    return out


def bench_pack() -> dict:
    from benchmarks.governance import pack_benchmark

    figures = pack_benchmark(runs=max(3, REPEAT))
    return {
        "pages": figures["pages"],
        "seconds": stats(figures["pack_seconds"]),
        "reference_seconds": stats(figures["bare_weasyprint_seconds"]),
        "stages_last_run": figures.get("pack_stages_last_run"),
    }
