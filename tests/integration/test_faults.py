"""Fault tests with real processes (security.md, issue 8).

1. A Celery worker killed with SIGKILL in the middle of a recharge run, an invoice PDF render and a
   board pack render, then a new worker started: exactly one result (one set of drafts, one PDF, one
   ready pack version), no gap or duplicate invoice number. The killed worker's message is gone
   (filesystem broker) or parked for the visibility timeout (Redis): the restarted worker's
   ``worker_ready`` recovery (commissioning/jobs.py) queues the work again.
2. Redis stopped while users work (a private redis-server on a free port): pages still serve,
   starting a job answers at once with a clear message and records the job, and when Redis is back
   beat's recovery queues it and the worker completes it.
3. The PostgreSQL connection of a request terminated between two writes of a service: a 503 page
   (a JSON 503 in the API) and nothing written.
4. A pool child killed, then a pool jammed (its only child stopped): work still completes after the
   kill; with the jam, ``worker_liveness`` reports work waiting and no progress, kills the worker
   (as the compose healthcheck does), and a restarted worker runs what was waiting (issue 19).

The workers stall at the fault point through a bootstrap script written to the test's tmp_path (a
monkeypatch in the worker process), so the product code carries no test hooks.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from brokerage.finance import services as finance_services
from brokerage.models import (
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    NumberSequence,
    RechargeRun,
    RechargeRunStatus,
)
from commissioning import jobs
from commissioning.celery import app as celery_app
from governance import services as governance_services
from governance.models import BoardPack, PackStatus
from tests.ci import skip_or_fail_in_ci
from tests.integration.test_celery_worker import (
    Worker,
    _drop_cached_connections,
    database_url_of_this_process,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WAIT = 60
MAY, JUNE, JULY = date(2022, 5, 1), date(2022, 6, 1), date(2022, 7, 1)

# Runs in the worker process before Celery: pause for ever at the fault point, after touching a
# marker file, so the test can SIGKILL the worker exactly there.
BOOTSTRAP = """
import os, sys, time
from pathlib import Path

sys.path.insert(0, os.getcwd())  # the project (the worker runs in BASE_DIR), not this script's folder

import django

django.setup()
stall, marker = os.environ["FAULT_STALL"], Path(os.environ["FAULT_MARKER"])


def pause():
    marker.write_text(str(os.getpid()))
    time.sleep(600)


def after(module, name, condition=lambda *a, **k: True):
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        result = original(*args, **kwargs)
        if condition(*args, **kwargs):
            pause()
        return result

    setattr(module, name, wrapper)


if stall == "recharge":  # the run's invoices and lines are inserted, its transaction still open
    from brokerage.finance import services as finance_services

    after(finance_services, "copy_rows", lambda table, *a, **k: table == "brokerage_invoiceline")
elif stall == "invoice_pdf":  # the PDF file is written, the invoice row (locked) not yet updated
    from brokerage import invoice_pdf

    after(invoice_pdf, "render_and_store")
elif stall == "pack":  # the pack file is written, the pack still "rendering"
    from governance import packs

    after(packs, "write_pack_file")
else:
    raise SystemExit("unknown FAULT_STALL " + stall)

from celery.__main__ import main

sys.argv = ["celery", *sys.argv[1:]]
main()
"""


# --- Processes -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_worker(
    tmp_path: Path,
    queue: str,
    var_dir: Path,
    *,
    stall: str | None = None,
    env=None,
    beat=False,
    pool="solo",
    extra=(),
):
    """A worker on ``queue`` against the test database; ``stall`` makes it pause at a fault point."""
    name = f"{stall or 'worker'}-{uuid.uuid4().hex[:6]}"
    environment = os.environ.copy()
    environment.pop("CELERY_TASK_ALWAYS_EAGER", None)
    environment.update(
        DJANGO_SETTINGS_MODULE="commissioning.settings",
        DATABASE_URL=with_application_name(database_url_of_this_process(), name),
        VAR_DIR=str(var_dir),
        CELERY_QUEUE=queue,  # what its recovery publishes to
        JOB_RECOVERY_GRACE_SECONDS="0",
        **(env or {}),
    )
    if stall:
        script = tmp_path / "fault_bootstrap.py"
        script.write_text(BOOTSTRAP)
        environment.update(FAULT_STALL=stall, FAULT_MARKER=str(tmp_path / f"{name}.stalled"))
        command = [sys.executable, str(script)]
    else:
        command = [sys.executable, "-m", "celery"]
    command += ["-A", "commissioning", "worker", f"--pool={pool}", "--concurrency=1", "-l", "info"]
    command += ["-Q", queue, "-n", f"{queue}-{name}@%h", "--without-gossip", "--without-mingle"]
    command += ["--without-heartbeat"]
    if beat:
        command += ["-B", "-s", str(var_dir / "beat-schedule")]
    command += list(extra)
    var_dir.mkdir(parents=True, exist_ok=True)
    log = tmp_path / f"{name}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(  # noqa: S603 - a fixed command line
            command,
            cwd=settings.BASE_DIR,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = Worker(process, log)
    worker.marker = tmp_path / f"{name}.stalled"
    worker.name = name
    return worker


def with_application_name(url: str, name: str) -> str:
    """The worker's sessions carry its name, so the test can tell them from other sessions on the
    test database (e.g. a live server thread left by a browser test in the same process)."""
    return f"{url}{'&' if '?' in url else '?'}application_name={name}"


def kill_when_stalled(worker: Worker) -> None:
    deadline = time.monotonic() + WAIT
    while not worker.marker.exists():
        if worker.process.poll() is not None:
            pytest.fail(f"the worker exited before the fault point:\n{worker.output()}")
        if time.monotonic() > deadline:
            pytest.fail(f"the worker never reached the fault point:\n{worker.output()}")
        time.sleep(0.1)
    os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait(timeout=10)
    # PostgreSQL rolls back the dead worker's transaction and drops its locks once it sees the
    # socket close; wait for that so the assertions below see the state a restart would find.
    deadline = time.monotonic() + 20
    while backends_named(worker.name):
        if time.monotonic() > deadline:
            pytest.fail("the killed worker's database session is still there")
        time.sleep(0.1)


def backends_named(name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s",
            [name],
        )
        return cursor.fetchone()[0]


def wait_until(predicate, worker: Worker, what: str, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if worker.process.poll() is not None:
            pytest.fail(f"the worker exited while waiting for {what}:\n{worker.output()}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout}s; worker log:\n{worker.output()}")
        time.sleep(0.25)


def pdf_root(var_dir: Path) -> Path:
    return Path(os.environ.get("PDF_ROOT", var_dir / "pdfs"))


def run_done(run_id: int) -> bool:
    return RechargeRun.objects.get(pk=run_id).status == RechargeRunStatus.DONE


# --- 1. A worker killed mid-job -------------------------------------------------------------------


def test_a_worker_killed_mid_run_leaves_nothing_and_the_restarted_worker_makes_one_set(
    tmp_path, shared_broker, worker_queue, worker_var_dir, partnership, council, ccg, finance, example_one
):
    killed = start_worker(tmp_path, worker_queue, worker_var_dir, stall="recharge")
    run = finance_services.recharge_run_request(
        partnership=partnership, issuer=council, period=MAY, by=finance
    )
    kill_when_stalled(killed)

    run.refresh_from_db()
    assert run.status == RechargeRunStatus.RUNNING  # committed before the work; the work rolled back
    assert not Invoice.objects.exists() and not InvoiceLine.objects.exists()

    restarted = start_worker(tmp_path, worker_queue, worker_var_dir)
    try:
        wait_until(lambda: run_done(run.pk), restarted, "the recovered run")
    finally:
        restarted.stop()

    (invoice,) = Invoice.objects.all()  # one set of drafts: one invoice to the CCG
    assert invoice.run_id == run.pk and invoice.status == InvoiceStatus.DRAFT and invoice.recipient == ccg
    assert invoice.lines.count() == InvoiceLine.objects.count() > 0
    run.refresh_from_db()
    assert run.invoice_count == 1
    # Nothing is left to recover, and the task delivered again changes nothing.
    assert jobs.recover_stalled_work(grace_seconds=0) == {
        "recharge_runs": 0,
        "region_runs": 0,
        "invoice_pdfs": 0,
        "packs": 0,
        "fund_statements": 0,
        "deferred": 0,
    }
    finance_services.recharge_run_execute(run_id=run.pk)
    assert Invoice.objects.count() == 1 and InvoiceLine.objects.count() == invoice.lines.count()


def test_a_worker_killed_mid_pdf_keeps_the_number_and_the_restarted_worker_keeps_one_pdf(
    tmp_path, shared_broker, worker_queue, worker_var_dir, partnership, council, ccg, finance, example_one
):
    killed = start_worker(tmp_path, worker_queue, worker_var_dir, stall="invoice_pdf")
    may = finance_services.recharge_run_request(
        partnership=partnership, issuer=council, period=MAY, by=finance
    )
    wait_until(lambda: run_done(may.pk), killed, "the May run")
    draft = Invoice.objects.get(run=may)
    issued = finance_services.invoice_issue(invoice=draft, by=finance, today=date(2022, 6, 1))
    kill_when_stalled(killed)

    issued.refresh_from_db()
    assert issued.number == "LBB-2223-00001" and issued.status == InvoiceStatus.ISSUED
    assert issued.pdf_checksum == ""  # the file was written, its recording rolled back

    restarted = start_worker(tmp_path, worker_queue, worker_var_dir)
    try:
        wait_until(lambda: Invoice.objects.get(pk=issued.pk).pdf_checksum, restarted, "the recovered PDF")
        # The office carries on: the next invoice takes the next number.
        june = finance_services.recharge_run_request(
            partnership=partnership, issuer=council, period=JUNE, by=finance
        )
        wait_until(lambda: run_done(june.pk), restarted, "the June run")
        second = finance_services.invoice_issue(
            invoice=Invoice.objects.get(run=june), by=finance, today=date(2022, 7, 1)
        )
        wait_until(lambda: Invoice.objects.get(pk=second.pk).pdf_checksum, restarted, "the second PDF")
    finally:
        restarted.stop()

    issued.refresh_from_db()
    assert issued.number == "LBB-2223-00001"
    assert sorted(Invoice.objects.exclude(number=None).values_list("number", flat=True)) == [
        "LBB-2223-00001",
        "LBB-2223-00002",
    ]
    assert NumberSequence.objects.get(issuer=council, kind="invoice").last == 2  # no gap, no duplicate
    folder = pdf_root(worker_var_dir) / "invoices" / "LBB"
    assert sorted(p.name for p in folder.iterdir()) == ["LBB-2223-00001.pdf", "LBB-2223-00002.pdf"]
    data = (folder / "LBB-2223-00001.pdf").read_bytes()
    assert data.startswith(b"%PDF") and hashlib.sha256(data).hexdigest() == issued.pdf_checksum
    assert jobs.recover_stalled_work(grace_seconds=0)["invoice_pdfs"] == 0


def test_a_worker_killed_mid_pack_and_restarted_makes_one_ready_version(
    tmp_path, shared_broker, worker_queue, worker_var_dir, scene, secretary
):
    killed = start_worker(tmp_path, worker_queue, worker_var_dir, stall="pack")
    pack = governance_services.pack_request(meeting=scene.meeting, audience="public", by=secretary)
    kill_when_stalled(killed)

    pack.refresh_from_db()
    assert pack.status == PackStatus.RENDERING and pack.file == ""

    restarted = start_worker(tmp_path, worker_queue, worker_var_dir)
    try:
        wait_until(
            lambda: BoardPack.objects.get(pk=pack.pk).status == PackStatus.READY,
            restarted,
            "the recovered pack",
        )
    finally:
        restarted.stop()

    (ready,) = BoardPack.objects.filter(meeting=scene.meeting)  # one version, the one requested
    assert ready.pk == pack.pk and ready.version == 1 and ready.progress == 100
    data = (pdf_root(worker_var_dir) / ready.file).read_bytes()
    assert hashlib.sha256(data).hexdigest() == ready.checksum
    assert jobs.recover_stalled_work(grace_seconds=0)["packs"] == 0


# --- 2. The broker down while users work ----------------------------------------------------------


class RedisServer:
    def __init__(self, folder: Path):
        self.port = free_port()
        self.folder = folder
        self.process = None
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - a fixed command line
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("redis-server did not start")
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path, worker_queue):
    if not shutil.which("redis-server"):
        skip_or_fail_in_ci(
            "redis-server is not installed (Debian's redis-server package)",
            in_ci_because="the broker-outage test must run in CI",
        )
    server = RedisServer(tmp_path / "redis")
    server.start()
    wanted = {
        "broker_url": server.url,
        "result_backend": server.url,
        "broker_transport_options": {"socket_connect_timeout": 3},
        "result_backend_transport_options": {
            "retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
        },
        "redis_socket_connect_timeout": 3,
    }
    saved = {key: celery_app.conf[key] for key in wanted}
    celery_app.conf.update(wanted)
    _drop_cached_connections(celery_app)
    try:
        yield server
    finally:
        server.stop()
        celery_app.conf.update(saved)
        _drop_cached_connections(celery_app)


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_with_redis_down_pages_serve_jobs_are_recorded_and_complete_when_redis_returns(
    tmp_path,
    private_redis,
    worker_queue,
    worker_var_dir,
    partnership,
    council,
    ccg,
    finance,
    example_one,
    scene,
    secretary,
    api_as,
):
    worker = start_worker(
        tmp_path,
        worker_queue,
        worker_var_dir,
        beat=True,
        env={"REDIS_URL": private_redis.url, "JOB_RECOVERY_INTERVAL_SECONDS": "2"},
    )
    try:
        finance_page, secretary_page = Client(), Client()
        finance_page.force_login(finance)
        secretary_page.force_login(secretary)
        # Redis up: a run goes through as usual.
        response = finance_page.post(
            reverse("finance:run-create"), {"issuer": f"{partnership.pk}:{council.pk}", "period": "2022-05"}
        )
        may = RechargeRun.objects.get(period=MAY)
        assert response.status_code == 302
        wait_until(lambda: run_done(may.pk), worker, "the May run")
        draft = Invoice.objects.get(run=may)

        private_redis.stop()

        # Pages still serve.
        for page, url in [
            (finance_page, reverse("finance:index")),
            (finance_page, draft.get_absolute_url()),
            (secretary_page, reverse("governance:meeting", args=[scene.meeting.pk])),
        ]:
            response, seconds = timed(lambda page=page, url=url: page.get(url))
            assert response.status_code == 200, url
            assert seconds < 5, (url, seconds)

        # Starting jobs: recorded, a clear message, no 500 and no long wait.
        response, seconds = timed(
            lambda: finance_page.post(
                reverse("finance:run-create"),
                {"issuer": f"{partnership.pk}:{council.pk}", "period": "2022-06"},
                follow=True,
            )
        )
        assert response.status_code == 200 and seconds < 10, seconds
        text = response.content.decode()
        assert "The run for LBB June 2022 is recorded and will start automatically" in text
        assert "has started" not in text
        june = RechargeRun.objects.get(period=JUNE)
        assert june.status == RechargeRunStatus.QUEUED

        response, seconds = timed(
            lambda: finance_page.post(reverse("finance:invoice-issue", args=[draft.pk]), follow=True)
        )
        assert response.status_code == 200 and seconds < 10, seconds
        text = response.content.decode()
        draft.refresh_from_db()
        assert draft.status == InvoiceStatus.ISSUED and draft.pdf_checksum == ""
        assert f"Issued {draft.number}" in text and "Rendering its PDF is recorded" in text

        response, seconds = timed(
            lambda: secretary_page.post(
                reverse("governance:pack-request", args=[scene.meeting.pk]),
                {"audience": "public"},
                follow=True,
            )
        )
        assert response.status_code == 200 and seconds < 10, seconds
        assert "Public pack version 1 is recorded and will start automatically" in response.content.decode()
        pack = BoardPack.objects.get(meeting=scene.meeting)
        assert pack.status == PackStatus.QUEUED

        response, seconds = timed(
            lambda: api_as(finance).post(
                "/api/v1/recharge-runs/",
                {"partnership": partnership.pk, "issuer": council.code, "period": "2022-07"},
                format="json",
            )
        )
        assert response.status_code == 202 and seconds < 10, (response.content, seconds)
        assert "will start automatically" in response["Warning"]
        july = RechargeRun.objects.get(period=JULY)

        time.sleep(3)  # beat ticks while Redis is down: nothing is lost, nothing done twice
        assert worker.process.poll() is None, worker.output()

        private_redis.start()  # the same port: the worker and beat reconnect

        for run in (june, july):
            wait_until(lambda run=run: run_done(run.pk), worker, f"the {run.period:%B} run", timeout=90)
        wait_until(lambda: Invoice.objects.get(pk=draft.pk).pdf_checksum, worker, "the PDF", timeout=60)
        wait_until(
            lambda: BoardPack.objects.get(pk=pack.pk).status == PackStatus.READY,
            worker,
            "the pack",
            timeout=60,
        )
    finally:
        worker.stop()

    assert BoardPack.objects.filter(meeting=scene.meeting).count() == 1
    assert RechargeRun.objects.filter(status=RechargeRunStatus.DONE).count() == 3
    assert Invoice.objects.filter(run=june).count() == 1 and Invoice.objects.filter(run=july).count() == 1
    draft.refresh_from_db()
    assert (pdf_root(worker_var_dir) / "invoices" / draft.pdf_path).read_bytes().startswith(b"%PDF")


# --- 3. The database connection dropped mid-request ----------------------------------------------


@pytest.fixture
def drop_connection_after_numbering(monkeypatch):
    """Terminate the request's PostgreSQL backend from another connection between the invoice
    service's first write (the number sequence) and its second (the invoice)."""
    dropped = []
    original = finance_services.invoice_number

    def invoice_number(**kwargs):
        number = original(**kwargs)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        other = connection.copy()
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        finally:
            other.close()
        dropped.append(pid)
        return number

    monkeypatch.setattr(finance_services, "invoice_number", invoice_number)
    return dropped


def _draft(partnership, council, finance) -> Invoice:
    run = finance_services.recharge_run_request(
        partnership=partnership, issuer=council, period=MAY, by=finance
    )
    finance_services.recharge_run_execute(run_id=run.pk)
    return Invoice.objects.get(run=run)


@pytest.fixture
def no_broker(monkeypatch):
    """Section 3 is about the database: the run's queued task message goes nowhere."""
    monkeypatch.setattr(jobs, "publish", lambda task, *args: True)


def test_a_dropped_database_connection_gives_a_clean_page_and_writes_nothing(
    no_broker, drop_connection_after_numbering, partnership, council, ccg, finance, example_one
):
    draft = _draft(partnership, council, finance)
    page = Client(raise_request_exception=False)
    page.force_login(finance)

    response = page.post(reverse("finance:invoice-issue", args=[draft.pk]))

    assert drop_connection_after_numbering, "the fault was not injected"
    assert response.status_code == 503 and response["Retry-After"]
    text = response.content.decode()
    assert "Sorry, the service is unavailable" in text and "Nothing from this request was saved" in text
    assert 'class="govuk-template"' in text
    # This process reconnects; the service's transaction was rolled back: no number was used.
    draft.refresh_from_db()
    assert draft.status == InvoiceStatus.DRAFT and draft.number is None
    assert not NumberSequence.objects.filter(last__gt=0).exists()
    assert page.get(reverse("finance:index")).status_code == 200  # the next request reconnects


def test_a_dropped_database_connection_gives_the_api_a_json_503_and_writes_nothing(
    no_broker, drop_connection_after_numbering, partnership, council, ccg, finance, example_one, api_as
):
    draft = _draft(partnership, council, finance)
    client = api_as(finance)
    client.raise_request_exception = False

    response = client.post(f"/api/v1/invoices/{draft.pk}/issue/")

    assert drop_connection_after_numbering
    assert response.status_code == 503 and response["Content-Type"] == "application/json"
    assert "Nothing from this request was saved" in response.json()["detail"]
    draft.refresh_from_db()
    assert draft.status == InvoiceStatus.DRAFT and draft.number is None
    assert NumberSequence.objects.filter(last__gt=0).count() == 0


# --- 4. A pool child killed; a jammed pool found by the liveness check -----------------------------


def liveness(var_dir: Path, queue: str, *extra: str) -> subprocess.CompletedProcess:
    """``manage.py worker_liveness`` as the compose healthcheck runs it, beside the worker."""
    environment = os.environ.copy()
    environment.update(DJANGO_SETTINGS_MODULE="commissioning.settings", VAR_DIR=str(var_dir))
    return subprocess.run(  # noqa: S603 - a fixed command line
        [sys.executable, "manage.py", "worker_liveness", "--queue", queue, "--seconds", "3", *extra],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def kill_group(worker: Worker) -> None:
    """What a supervisor's restart does: nothing of the old worker's group is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait(timeout=10)


def test_a_killed_pool_child_is_replaced_and_a_jammed_pool_is_found_and_restarted(
    tmp_path, shared_broker, worker_queue, worker_var_dir, db
):
    from commissioning.tasks import worker_probe

    pidfile = tmp_path / "worker.pid"
    first = start_worker(
        tmp_path, worker_queue, worker_var_dir, pool="prefork", extra=["--pidfile", str(pidfile)]
    )
    try:
        child = first.wait_for(worker_probe.delay())
        assert liveness(worker_var_dir, worker_queue).returncode == 0  # nothing waiting
        os.kill(child, signal.SIGKILL)  # a pool child killed
        after_kill = worker_probe.delay()
        deadline = time.monotonic() + 15
        while not after_kill.ready() and time.monotonic() < deadline:
            time.sleep(0.25)
        if after_kill.ready():  # the pool replaced its child and ran the next task ...
            replacement = after_kill.get(timeout=5)
            assert replacement != child
            os.kill(replacement, signal.SIGSTOP)  # ... so jam it: its only child takes nothing more
        # else: the pool jammed by itself after the kill (issue 19: "received" but never run)
        waiting = [worker_probe.delay() for _ in range(3)]  # the first may be taken by the jammed pool
        time.sleep(4.5)  # past the 3 s limit with no task started or ended
        jammed = liveness(worker_var_dir, worker_queue, "--kill-pidfile", str(pidfile))
        assert jammed.returncode == 1, jammed.stdout + jammed.stderr
        assert "NOT alive" in jammed.stderr and "Killed the worker" in jammed.stderr
        first.process.wait(timeout=10)  # the check killed it, as the healthcheck does
    finally:
        kill_group(first)  # the pool children too, as a container restart would

    restarted = start_worker(tmp_path, worker_queue, worker_var_dir, pool="prefork")
    try:
        # What waited behind the jam runs (the one the jammed pool had taken, if any, comes back
        # after the broker's visibility timeout, or through stalled-job recovery for jobs).
        done = [restarted.wait_for(result) for result in waiting[1:]]
        assert all(isinstance(pid, int) for pid in done)
        after = liveness(worker_var_dir, worker_queue)
        assert after.returncode == 0, after.stdout + after.stderr
    finally:
        restarted.stop()
