"""The digest task through a real Celery worker process, against the test database.

The worker gets ``DATABASE_URL`` naming the test database, e-mail written to files in a temporary
folder, a temporary ``VAR_DIR`` and a queue of its own. The broker is the one the settings choose:
Redis when ``REDIS_URL`` is set (the worker inherits it), otherwise kombu's filesystem transport
under ``VAR_DIR``, so this process's Celery app is pointed at the worker's temporary folders for
the test. The queue of its own means no other worker on the same broker (``make run``, or another
test run sharing a Redis database) can take the task, and this worker takes nothing else.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings
from django.db import connection

from commissioning import roles
from commissioning.celery import app as celery_app
from commissioning.embedded import filesystem_broker_options
from commissioning.models import DigestDelivery
from commissioning.tasks import send_contracts_ending_digest
from tests.commissioning.factories import ContractFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TODAY = date(2025, 1, 15)
WAIT_SECONDS = 60


def database_url_of_this_process() -> str:
    """A DATABASE_URL for the database this test process uses (the test database)."""
    db = connection.settings_dict
    netloc = ""
    if db["USER"]:
        netloc = quote(db["USER"], safe="")
        if db["PASSWORD"]:
            netloc += ":" + quote(db["PASSWORD"], safe="")
        netloc += "@"
    query = {k: v for k, v in (db.get("OPTIONS") or {}).items() if isinstance(v, str | int)}
    host = db["HOST"] or ""
    if host.startswith("/"):  # a socket directory (the embedded PostgreSQL): keep its case
        query["host"] = host
    else:
        netloc += host
    if db["PORT"]:
        netloc += f":{db['PORT']}"
    url = f"postgres://{netloc}/{quote(db['NAME'], safe='')}"
    return f"{url}?{urlencode(query)}" if query else url


class Worker:
    def __init__(self, process: subprocess.Popen, log: Path):
        self.process = process
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def wait_for(self, result, timeout: float = WAIT_SECONDS):
        deadline = time.monotonic() + timeout
        while not result.ready():
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited ({self.process.returncode}):\n{self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"no result within {timeout}s; worker log:\n{self.output()}")
            time.sleep(0.25)
        return result.get(timeout=5)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _drop_cached_connections(app) -> None:
    """Celery caches the broker pool, the producer pool and the result backend on first use."""
    app._pool = None
    app.amqp._producer_pool = None
    app._backend_cache = None
    vars(app._local).pop("backend", None)


@pytest.fixture
def worker_var_dir(tmp_path) -> Path:
    return tmp_path / "var"


@pytest.fixture
def shared_broker(worker_var_dir):
    """Point this process's Celery app at the broker and results the worker will use."""
    if settings.REDIS_URL:  # the worker inherits REDIS_URL: the same Redis broker and backend
        yield settings.REDIS_URL
        return
    # What commissioning/settings.py configures when REDIS_URL is unset, for the worker's VAR_DIR.
    wanted = {
        "broker_url": "filesystem://",
        "broker_transport_options": filesystem_broker_options(worker_var_dir / "celery"),
        "result_backend": f"file://{worker_var_dir / 'celery' / 'results'}",
    }
    saved = {key: celery_app.conf[key] for key in wanted}
    celery_app.conf.update(wanted)
    _drop_cached_connections(celery_app)
    try:
        yield wanted["broker_url"]
    finally:
        celery_app.conf.update(saved)
        _drop_cached_connections(celery_app)


@pytest.fixture
def worker_queue(monkeypatch):
    """A queue of this test's own; .delay() routes to it because it is the default queue."""
    queue = f"test-digest-{uuid.uuid4().hex[:12]}"
    monkeypatch.setitem(celery_app.conf, "task_default_queue", queue)
    return queue


@pytest.fixture
def mail_dir(tmp_path) -> Path:
    path = tmp_path / "mail"
    path.mkdir()
    return path


@pytest.fixture
def worker(shared_broker, worker_queue, worker_var_dir, mail_dir, tmp_path):
    env = os.environ.copy()
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    env.update(
        DJANGO_SETTINGS_MODULE="commissioning.settings",
        DATABASE_URL=database_url_of_this_process(),
        VAR_DIR=str(worker_var_dir),
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
    )
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(  # noqa: S603 - a fixed command line
            [
                sys.executable,  # the project's virtualenv python: .venv/bin/celery, without the path
                "-m",
                "celery",
                "-A",
                "commissioning",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "-l",
                "info",
                "-Q",
                worker_queue,
                "-n",
                f"{worker_queue}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Worker(process, log)
    try:
        yield running
    finally:
        running.stop()


def sent_messages(mail_dir: Path) -> list:
    messages = []
    for path in sorted(mail_dir.iterdir()):
        for chunk in path.read_bytes().split(b"-" * 79):
            if chunk.strip():
                messages.append(message_from_bytes(chunk.strip() + b"\n", policy=policy.default))
    return messages


def test_a_real_worker_sends_the_digest_once_a_week(partnership, make_user, worker, mail_dir):
    manager = make_user(roles.COMMISSIONER, [partnership], username="dana", email="dana@example.org")
    ContractFactory(
        partnership=partnership, reference="BR-WORKER-6", end=date(2025, 4, 30), contract_manager=manager
    )
    ContractFactory(
        partnership=partnership, reference="BR-WORKER-12", end=date(2025, 11, 30), contract_manager=manager
    )

    result = send_contracts_ending_digest.delay(today=TODAY.isoformat())
    summary = worker.wait_for(result)

    assert summary == {
        "managers": 1,
        "emails": 1,
        "already_sent": 0,
        "no_email": 0,
        "failed": 0,
        "contracts_6": 1,
        "contracts_12": 2,
        "reminders": 0,
    }
    (message,) = sent_messages(mail_dir)
    assert message["To"] == "dana@example.org"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "BR-WORKER-6" in text and "BR-WORKER-12" in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "BR-WORKER-6" in html
    # The worker wrote to the test database: the delivery is recorded for this week.
    assert list(DigestDelivery.objects.values_list("user__username", "week_start", "contracts_count")) == [
        ("dana", date(2025, 1, 13), 2)
    ]

    retried = send_contracts_ending_digest.delay(today=TODAY.isoformat())
    again = worker.wait_for(retried)

    assert again["emails"] == 0 and again["already_sent"] == 1
    assert len(sent_messages(mail_dir)) == 1
    result.forget()
    retried.forget()
