"""The region recharge fanned out across Celery worker processes (issue 14): one region run of the
month (``brokerage.finance.region``: a chord of the 20 runs, its callback recording the summary),
timed from the request until the callback has written the summary, with ``celery worker -c 1`` and
``-c 2`` against the bench's PostgreSQL and broker (Redis when ``REDIS_URL`` is set).

The workers commit, so nothing can be rolled back: each repetition runs on a copy of the bench
database made for it (``CREATE DATABASE ... TEMPLATE``, a file copy of a few seconds) and dropped
afterwards, so every repetition bills the same month from the same state and the bench database
itself is never written. Its worker listens on a queue of its own, so no other worker on the same
broker takes its tasks.

``fanout_runs(...)`` is what ``make bench`` calls (``benchmarks.run``); ``python -m benchmarks.fanout
PERIOD WORKERS`` is one repetition, in a process whose ``DATABASE_URL`` names the copy; and
``python -m benchmarks.fanout --bench PERIOD`` measures an existing bench database (``DATABASE_URL``
names the application's database, as for ``make bench``) without loading anything.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

from benchmarks.common import REPEAT, ROOT, VAR, log, stats
from benchmarks.database import copy_of, run_module, with_database

WORKER_COUNTS = (1, 2)
READY_SECONDS = 120
DONE_SECONDS = float(os.environ.get("BENCH_FANOUT_TIMEOUT", "600"))
FANOUT_REPEAT = int(os.environ.get("BENCH_FANOUT_REPEAT", str(max(2, min(REPEAT, 3)))))


# --- One repetition (in the process whose DATABASE_URL names the copy) -----------------------------


def _start_worker(concurrency: int, queue: str, log_path: Path) -> subprocess.Popen:
    env = dict(os.environ, CELERY_QUEUE=queue)  # the chord's tasks (sent by the worker) go there too
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    with open(log_path, "wb") as out:
        return subprocess.Popen(  # noqa: S603 - a fixed command line
            [
                sys.executable,
                "-m",
                "benchmarks.fanout",
                "--worker",
                "-A",
                "commissioning",
                "worker",
                "--pool=prefork",
                f"--concurrency={concurrency}",
                "-l",
                "info",
                "-Q",
                queue,
                "-n",
                f"{queue}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_ready(worker: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while b" ready." not in log_path.read_bytes():
        if worker.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def once(period: date, concurrency: int) -> dict:
    """Start a worker of ``concurrency`` processes, request the region run, wait for its summary.
    The requesting process has loaded the task service's modules before the clock starts, as the
    web process that takes the request has (``jobs.warm_up``); its first publish still connects."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commissioning.settings")
    import django

    django.setup()
    from django.db import transaction

    from brokerage.finance import region
    from brokerage.models import InvoiceLine
    from commissioning import jobs
    from commissioning.celery import app as celery_app
    from commissioning.models import User

    jobs.warm_up()  # as a web process does when it starts (commissioning/wsgi.py)
    queue = f"bench-fanout-{uuid.uuid4().hex[:10]}"
    celery_app.conf.task_default_queue = queue
    log_path = VAR / f"{queue}.log"
    VAR.mkdir(parents=True, exist_ok=True)
    process = _start_worker(concurrency, queue, log_path)
    try:
        _wait_ready(process, log_path)
        by = User.objects.get(username="bench_finance")
        started = time.perf_counter()
        with transaction.atomic():
            region_run = region.region_run_request(period=period, by=by)
        while True:
            region_run.refresh_from_db()
            if not region_run.is_active:
                break
            if process.poll() is not None or time.perf_counter() - started > DONE_SECONDS:
                raise RuntimeError(f"no summary:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.05)
        seconds = time.perf_counter() - started
    finally:
        _stop(process)
        with celery_app.connection_for_write() as conn:  # what is left of the queue (nothing, normally)
            channel = conn.default_channel
            channel.queue_delete(queue)
            client = getattr(channel, "client", None)  # Redis: the queue's exchange bindings too
            if client is not None and hasattr(client, "delete"):
                client.delete(f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    log_path.unlink(missing_ok=True)
    return {
        "seconds": seconds,
        "status": region_run.status,
        "runs": region_run.run_count,
        "done": region_run.done_count,
        "failed": region_run.failed_count,
        "invoices": region_run.invoice_count,
        "credit_notes": region_run.credit_note_count,
        "invoiced": str(region_run.total_invoiced),
        "lines": InvoiceLine.objects.filter(invoice__run__region_members__region_run=region_run).count(),
    }


# --- The figures (``make bench``) --------------------------------------------------------------------


def prime(period: date) -> float:
    """The recharge ledger as last month's runs leave it, for every partnership and issuer (as the
    borough figure primes it: ``measure.prime_ledger``), committed in this process's database, then
    the tables vacuumed and analysed, as autovacuum leaves them in the month between two runs (as
    ``measure.bench_committed`` does). Unvacuumed, the runs also step over the dead row versions of
    every run the bench rolled back before on the same tables (the borough's and the in-process
    region's): about half a second of the one-worker figure, measured on the same copy both ways.
    Returns the priming's seconds, without the vacuum."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commissioning.settings")
    import django

    django.setup()
    from benchmarks.measure import prime_ledger, vacuum
    from commissioning.models import Partnership

    seconds = 0.0
    for partnership in Partnership.objects.select_related("council", "nhs_commissioner").order_by("name"):
        for issuer in (partnership.council, partnership.nhs_commissioner):
            seconds += prime_ledger(partnership, issuer, period)
    vacuum()
    return seconds


def fanout_runs(url: str, period: date, *, repeat: int = FANOUT_REPEAT) -> dict:
    """Per worker count: seconds from the request to the summary, each repetition on a fresh copy of
    the bench database at ``url`` (nothing may be connected to it meanwhile) whose recharge ledger
    last month's runs have primed (a copy of its own, made once)."""
    bench = url.rsplit("/", 1)[1].split("?")[0]
    copy, primed = f"{bench}_fanout", f"{bench}_primed"
    with copy_of(url, bench, primed):
        log("priming the recharge ledger of every partnership and issuer (last month's runs)")
        seconds = run_module("benchmarks.fanout", ["--prime", period.isoformat()], with_database(url, primed))
        results: dict = {"primed_seconds": round(float(seconds), 2)}
        results |= _fanout(url, primed, copy, period, repeat)
    return results


def _fanout(url: str, primed: str, copy: str, period: date, repeat: int) -> dict:
    results: dict = {}
    for concurrency in WORKER_COUNTS:
        samples, last = [], {}
        for n in range(repeat):
            with copy_of(url, primed, copy):
                last = run_module(
                    "benchmarks.fanout", [period.isoformat(), str(concurrency)], with_database(url, copy)
                )
            samples.append(last["seconds"])
            log(f"region fan-out, {concurrency} worker process(es), #{n + 1}: {last['seconds']:.1f} s")
        results[str(concurrency)] = {
            **{k: v for k, v in last.items() if k != "seconds"},
            "seconds": stats(samples),
        }
        results[str(concurrency)]["samples"] = [round(s, 2) for s in samples]
    results["repeats"] = repeat
    return results


def worker(argv: list[str]) -> None:
    """``celery worker`` without the recovery of stalled work at its start (commissioning/celery.py):
    the generated history's issued invoices have no PDFs, and the recovery would queue all of them
    (thousands of renders) ahead of the region run."""
    from celery.__main__ import main as celery_main
    from celery.signals import worker_ready

    from commissioning import celery as project_celery

    worker_ready.disconnect(project_celery._recover_stalled_work)
    sys.argv = ["celery", *argv]
    celery_main()


def main(argv: list[str]) -> int:
    if argv[:1] == ["--prime"]:
        print(prime(date.fromisoformat(argv[1])))
        return 0
    if argv[:1] == ["--worker"]:
        worker(argv[1:])
        return 0
    if argv[:1] == ["--bench"]:  # an existing bench database: <DATABASE_URL's name>_bench
        period = date.fromisoformat(argv[1])
        base = os.environ["DATABASE_URL"]
        name = base.rsplit("/", 1)[1].split("?")[0]
        print(json.dumps(fanout_runs(with_database(base, f"{name}_bench"), period)))
        return 0
    print(json.dumps(once(date.fromisoformat(argv[0]), int(argv[1]))))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main(sys.argv[1:]))
