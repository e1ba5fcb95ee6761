"""Background jobs that survive a broker outage and a worker killed mid-run.

Every job's state lives in the database (a recharge run, an issued invoice without its PDF, a queued
board pack); the broker message only says "go". So:

- ``enqueue`` publishes a task when the current transaction commits. If the broker cannot be
  reached the publish fails within a few seconds (the retry policies in settings), is logged, and is
  remembered for this request so the page can say that the job is recorded and will start when the
  task service is back; the user never sees a 500 for it.
- ``recover_stalled_work`` finds jobs whose message is lost (never published, consumed by a worker
  that was killed, or waiting for the broker's visibility timeout) and queues them again; each app
  registers its kinds of job, with the function that finds the stalled ones, in its
  ``AppConfig.ready`` (``registry.add_stalled_work``), so the core knows no domain. It runs
  when a worker starts (``worker_ready`` in ``commissioning/celery.py``) and every
  ``JOB_RECOVERY_INTERVAL_SECONDS`` from beat. A job counts as stalled once it is older than
  ``JOB_RECOVERY_GRACE_SECONDS`` and no live worker holds it: the recharge and pack tasks hold
  PostgreSQL advisory locks, and the invoice PDF task a row lock, for as long as they work, and
  PostgreSQL drops those locks when a worker's connection dies. Queuing a job twice is harmless:
  every task is idempotent (a finished run, a kept PDF or a ready pack is left as it is).
"""

from __future__ import annotations

import contextvars
import logging
from datetime import timedelta
from functools import partial

from celery import shared_task
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from commissioning import registry

logger = logging.getLogger(__name__)

DEFERRED_MESSAGE = (
    "The task service is not available at the moment. {what} is recorded and will start "
    "automatically when the service is back; you do not need to do it again."
)

# The tasks queued during this request that could not reach the broker (set by JobsMiddleware).
_deferred: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("jobs_deferred", default=None)


# --- Publishing ----------------------------------------------------------------------------------


def warm_up() -> None:
    """Load now what a process's first publish would load: Celery's message machinery, the broker's
    transport and the result backend (about 80 ms of imports here), without connecting to anything.
    A web process calls it as it starts (``commissioning/wsgi.py``), so the first request that
    queues a job in each process does not pay for it."""
    from commissioning.celery import app

    try:
        app.amqp  # noqa: B018 - each property loads its modules
        with app.connection_for_write() as broker:  # lazy: it connects when first used
            broker.transport  # noqa: B018 - kombu's transport module
        app.backend  # noqa: B018
    except Exception:  # a warm-up never stops a process from starting; the first publish will say
        logger.warning("could not load the task service's modules ahead of time", exc_info=True)


def enqueue(task, *args) -> None:
    """Publish ``task(*args)`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(partial(publish, task, *args))


def publish(task, *args) -> bool:
    """Send the message now. False (logged, remembered for the request) if the broker is down: the
    job's row is already committed, and ``recover_stalled_work`` queues it when the broker is back."""
    if task.app.conf.task_always_eager:  # tests and development: errors of the task itself propagate
        task.delay(*args)
        return True
    try:
        task.delay(*args)
    except (BrokerError, OSError, RuntimeError) as exc:
        # kombu wraps connection errors of the broker as OperationalError; the Redis result
        # backend raises RuntimeError when its (short) reconnect policy is exhausted.
        logger.warning(
            "could not queue %s%r (%s: %s); it will be queued again when the broker is back",
            task.name,
            args,
            type(exc).__name__,
            exc,
        )
        deferred = _deferred.get()
        if deferred is not None:
            deferred.append(task.name)
        return False
    return True


def deferred() -> list[str]:
    """Names of the tasks this request could not queue (empty outside a request)."""
    return list(_deferred.get() or [])


def deferred_message(what: str) -> str:
    return DEFERRED_MESSAGE.format(what=what)


class JobsMiddleware:
    """Collects the publishes that failed during a request. Pages say so in their message (the views
    ask ``deferred()``); API responses get a ``Warning`` header with the same sentence."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _deferred.set([])
        try:
            response = self.get_response(request)
            if _deferred.get() and request.path.startswith("/api/"):
                text = deferred_message("The job").replace('"', "'")
                response["Warning"] = f'199 - "{text}"'
            return response
        finally:
            _deferred.reset(token)


# --- Recovery ------------------------------------------------------------------------------------


def held_advisory_locks(lock_class: int) -> set[int]:
    """Second keys of the advisory locks of ``lock_class`` that some session holds right now (a
    worker holds one for as long as it works on a job; PostgreSQL drops it when the worker dies)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 "
            "AND classid = %s AND granted",
            [lock_class],
        )
        return {int(row[0]) for row in cursor.fetchall()}


def recover_stalled_work(*, grace_seconds: int | None = None, now=None) -> dict[str, int]:
    """Queue again every stalled job of every registered kind (``registry.add_stalled_work``);
    returns how many of each kind were queued, and ``deferred`` (jobs left for the next time because
    the broker is still down)."""
    grace = settings.JOB_RECOVERY_GRACE_SECONDS if grace_seconds is None else grace_seconds
    cutoff = (now or timezone.now()) - timedelta(seconds=grace)
    counts = dict.fromkeys(registry.STALLED_WORK, 0)
    counts["deferred"] = 0
    for work in registry.STALLED_WORK.values():
        for pk in work.find(cutoff):
            if counts["deferred"]:  # the broker is down: do not wait a timeout for each job
                counts["deferred"] += 1
            elif publish(work.task, pk):
                counts[work.kind] += 1
            else:
                counts["deferred"] += 1
    if any(counts.values()):
        logger.info("recovered stalled work: %s", counts)
    return counts


@shared_task(name="commissioning.jobs.recover_stalled_work", ignore_result=True)
def recover_stalled_work_task() -> dict[str, int]:
    """Beat: every JOB_RECOVERY_INTERVAL_SECONDS."""
    return recover_stalled_work()


def recover_on_worker_start(**_kwargs) -> None:
    """``worker_ready``: a worker that starts (or restarts after being killed) picks up what was lost.
    A database that is not there yet must not stop the worker: log it, beat will try again."""
    try:
        recover_stalled_work()
    except Exception:
        logger.exception("recovering stalled work at worker start failed")
