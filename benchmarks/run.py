"""``make bench`` (quality.md, "Benchmarks"): ``python -m benchmarks.run``.

1. A database of its own: with ``DATABASE_URL`` set, ``<name>_bench`` on the same server (cloned
   from a migrated ``<name>_bench_template``); without it, ``commissioning_bench`` in the embedded
   PostgreSQL under ``var/``. Dropped and made again on every run, so figures start from one state.
2. ``migrate`` (the template), then the ``borough`` size (``benchmarks.generate``, seed 1).
3. Each figure as median and p95 over repeated runs, beside its bare reference measured in the same
   run: recharge month (reference: one SQL query of the same owed totals), true-up after a
   backdated split change on 500 packages across a year, the year's recharge report over the API
   (JSON and CSV; reference: one SQL query of the same rows written by ``csv``), a members' pack
   (reference: bare WeasyPrint on the same HTML), pages and API lists under 10 concurrent clients
   on loopback against gunicorn (reference: an answer that never reaches Django), with SQL queries
   per request. The month run and the true-up again on a copy of the database whose ledger was
   primed and committed and then vacuumed, as a month's run meets it (``benchmarks.committed``).
4. Nine more boroughs make the database a ``region``; a fresh process runs every recharge run of
   the month and reports its time and peak memory (``ru_maxrss``).
5. The same month as one region run fanned out across ``celery worker -c 1`` and ``-c 2``
   (``benchmarks.fanout``): request to summary, each repetition on a copy of the bench database
   (the workers commit) whose ledger last month's runs primed, committed and then vacuumed, beside
   the runs one after another in one process.

Writes go inside transactions rolled back, so every repetition sees the same data. The table is
printed and everything is written to ``var/bench.json``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import date

from benchmarks.common import CLIENTS, REPEAT, ROOT, SEED, VAR, log
from benchmarks.database import admin_sql, bench_database, copy_of, env_for, manage, run_module, with_database
from benchmarks.fanout import fanout_runs
from benchmarks.measure import bench_pack, bench_recharge, bench_report, bench_true_up
from benchmarks.server import Server, bench_pages, credentials, region_runs

# --- The table ----------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value * 1000:,.0f} ms" if value < 10 else f"{value:,.1f} s"


def table(results: dict) -> str:
    rows = [("measure", "median", "p95", "reference median", "reference p95", "ratio", "target", "extra")]

    def add(name, figure, ref, target, extra=""):
        ratio = figure["median"] / ref["median"] if ref and ref["median"] else None
        rows.append(
            (
                name,
                _ms(figure["median"]),
                _ms(figure["p95"]),
                _ms(ref["median"]) if ref else "",
                _ms(ref["p95"]) if ref else "",
                f"{ratio:.1f}x" if ratio else "",
                target,
                extra,
            )
        )

    r = results

    def runs(name, m, target, ways=(("full", "full recompute"), ("incremental", "incremental (ledger)"))):
        """The full recompute and the incremental run (recharge ledger) of one state."""
        for way, label in ways:
            if way in m:
                figure = m[way]
                same = f"; same as full: {figure['same_as_full']}" if way == "incremental" else ""
                agrees = figure["agrees_with_sql_to_the_penny"]
                add(
                    f"{name}, {label}",
                    figure["seconds"],
                    m["reference_seconds"],
                    target if way == "incremental" else "",
                    f"{figure['run']['lines']} lines; SQL agrees: {agrees}{same}",
                )

    if "recharge_month" in r:
        runs("recharge run, one month", r["recharge_month"], "< 3x SQL")
    if "true_up" in r:
        m = r["true_up"]
        runs(f"true-up, {m['packages_changed']} packages x 1 year", m, "< 1 s")
    if "committed" in r:
        ways = (("incremental", "incremental, ledger committed and vacuumed"),)
        m = r["committed"]["recharge_month"]
        runs("recharge run, one month", m, "< 3x SQL", ways)
        if "writes_alone" in m:
            w = m["writes_alone"]
            add(
                "  the same run's writes alone (its rows COPYed again, no rule)",
                w["seconds"],
                m["reference_seconds"],
                "",
                f"{w['lines']} lines, {w['invoices']} invoices, {w['ledger_rows']} ledger rows, mark",
            )
        m = r["committed"]["true_up"]
        runs(f"true-up, {m['packages_changed']} packages x 1 year", m, "< 1 s", ways)
    if "recharge_report" in r:
        m = r["recharge_report"]
        add(
            f"recharge report API, JSON ({m['json']['rows']} rows, 1,000 a page)",
            m["json"]["seconds"],
            m["reference_seconds"],
            "",
            f"{m['json']['bytes']:,} bytes",
        )
        add(
            f"recharge report API, CSV ({m['csv']['rows']} rows)",
            m["csv"]["seconds"],
            m["reference_seconds"],
            "",
            f"{m['csv']['bytes']:,} bytes",
        )
    if "pack" in r:
        m = r["pack"]
        add(f"members' pack, {m['pages']} pages", m["seconds"], m["reference_seconds"], "< 1.3x WeasyPrint")
    bare = r.get("pages", {}).get("bare server (no Django)")
    for name, m in r.get("pages", {}).items():
        if name.startswith("bare"):
            continue
        add(
            f"{name}, {CLIENTS} clients",
            m["seconds"],
            bare["seconds"] if bare else None,
            "p95 < 150 ms",
            f"SQL/request {m['queries']['min']}-{m['queries']['max']}; {m['throughput_per_second']}/s"
            + (f"; errors {m['errors']}" if m["errors"] else ""),
        )
    if "region" in r:
        m = r["region"]
        add(
            f"region recharge, {m['runs']} runs x {m['repeats']}",
            m["seconds"],
            m["reference_seconds"],
            "< 20 s, < 500 MB",
            f"peak RSS {m['peak_rss_mb']} MB (start {m['start_rss_mb']} MB)",
        )
    for workers, m in r.get("region_fanout", {}).items():
        if not isinstance(m, dict):  # repeats, the priming's seconds
            continue
        processes = "1 worker process" if workers == "1" else f"{workers} worker processes"
        add(
            f"region recharge fanned out, {m['runs']} runs, {processes}",
            m["seconds"],
            r["region"]["seconds"] if "region" in r else None,
            "< 5 s" if workers == "1" else "< 1 worker's",
            f"reference: one process, one run after another; {m['done']} done, {m['failed']} failed",
        )
    for name, value in r.get("load", {}).items():
        rows.append(
            (f"load {name}", f"{value:.1f} s", "", "", "", "", "< 60 s" if name == "borough" else "", "")
        )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# --- Main ---------------------------------------------------------------------------------------


def main() -> int:
    started = time.perf_counter()
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    results: dict = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "repeat": REPEAT,
        "seed": SEED,
        "load": {},
    }
    with bench_database() as (url, template_url, admin_url, bench, template):
        log(f"migrating {template}")
        manage(template_url, "migrate", "--no-input", "-v", "0")
        admin_sql(
            admin_url,
            [
                f'DROP DATABASE IF EXISTS "{bench}" WITH (FORCE)',
                f'CREATE DATABASE "{bench}" TEMPLATE "{template}"',
            ],
        )
        os.environ.update(env_for(url))
        import django

        django.setup()
        from django.db import connection

        from benchmarks.generate import first_borough, generate, period_for

        today = date.today()
        period = period_for(today)
        log("loading the borough size")
        loaded = generate(size="borough", seed=SEED, today=today, log=log)
        results["load"]["borough"] = loaded["loaded"][0]["seconds"]
        results["load_parts"] = loaded["loaded"][0]["parts"]
        partnership = first_borough()
        issuer = partnership.council
        results["period"] = period.isoformat()
        log("recharge run, one month")
        results["recharge_month"] = bench_recharge(partnership, issuer, period)
        log("true-up after a backdated change")
        results["true_up"] = bench_true_up(partnership, issuer, period)
        log("members' pack")
        results["pack"] = bench_pack()
        server = Server(url)
        credentials(server)
        connection.close()
        server.start()
        try:
            log("recharge report over the API")
            results["recharge_report"] = bench_report(server, partnership, period)
            log("pages and API lists")
            results["pages"] = bench_pages(server, partnership)
        finally:
            server.stop()
        log("recharge run and true-up on a committed, vacuumed ledger (a copy of the database)")
        results["committed"] = committed_runs(admin_url, url, bench, period)
        _save(results)
        if os.environ.get("BENCH_REGION", "1") != "1":
            log("the region size is skipped (BENCH_REGION=0)")
            return _finish(results, started)
        log("loading the region size (nine more boroughs)")
        loaded = generate(size="region", seed=SEED, today=today, log=log)
        results["load"]["region (9 more boroughs)"] = loaded["seconds"]
        connection.close()
        log("region recharge runs (peak memory)")
        results["region"] = region_runs(url, period)
        connection.close()
        _save(results)
        log("region recharge fanned out across 1 and 2 Celery worker processes")
        results["region_fanout"] = fanout_runs(url, period)
    return _finish(results, started)


def committed_runs(admin_url: str, url: str, bench: str, period: date) -> dict:
    """``benchmarks.committed`` in a fresh process on a copy of the bench database (it commits)."""
    from django.db import connection

    copy = f"{bench}_committed"
    connection.close()
    with copy_of(admin_url, bench, copy):
        return run_module("benchmarks.committed", [period.isoformat()], with_database(url, copy))


def _save(results: dict) -> None:
    VAR.mkdir(parents=True, exist_ok=True)
    (VAR / "bench.json").write_text(json.dumps(results, indent=1, default=str))


def _finish(results: dict, started: float) -> int:
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    results["table"] = table(results)
    _save(results)
    print()
    print(results["table"])
    print(f"\nmake bench took {results['total_seconds']:.0f} s; figures in {VAR / 'bench.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
