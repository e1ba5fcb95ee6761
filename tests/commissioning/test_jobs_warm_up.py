"""``jobs.warm_up``: a web process loads the task service's modules as it starts, so the first
request that queues a job does not pay for them; it connects to nothing, and never stops a process
from starting."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

from django.conf import settings

from commissioning import jobs

MODULES = ("celery.app.amqp", "kombu.transport.redis", "celery.backends.redis")

PROBE = """
import json, os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commissioning.settings")
import django
django.setup()
before = {m: m in sys.modules for m in %(modules)r}
started = time.perf_counter()
%(code)s
after = {m: m in sys.modules for m in %(modules)r}
print(json.dumps({"before": before, "after": after, "seconds": time.perf_counter() - started}))
"""


def _probe(code: str) -> dict:
    """Run ``code`` in a fresh interpreter whose broker is Redis on a port where nothing listens."""
    environ = dict(os.environ, REDIS_URL="redis://127.0.0.1:1/0")
    done = subprocess.run(  # noqa: S603 - a fixed command line
        [sys.executable, "-c", PROBE % {"modules": MODULES, "code": code}],
        cwd=settings.BASE_DIR,
        env=environ,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_warm_up_loads_what_the_first_publish_would_without_connecting():
    loaded = _probe("from commissioning import jobs; jobs.warm_up()")
    assert not any(loaded["before"].values())  # Django's start alone does not load them
    assert all(loaded["after"].values())
    # Nothing listens on the broker's port: a connection attempt would have retried for seconds
    # (the broker's connect timeout is 3 s) or failed; the warm-up neither waits nor fails.
    assert loaded["seconds"] < 2


def test_the_web_process_warms_up_as_it_starts():
    loaded = _probe("import commissioning.wsgi")
    assert all(loaded["after"].values())


def test_a_warm_up_that_fails_is_logged_and_the_process_goes_on(monkeypatch, caplog):
    from commissioning.celery import app

    def broken():
        raise RuntimeError("no transport")

    monkeypatch.setattr(app, "connection_for_write", broken)
    with caplog.at_level(logging.WARNING, logger="commissioning.jobs"):
        jobs.warm_up()
    assert "could not load the task service's modules ahead of time" in caplog.text
