"""Celery tasks of the shared core. Tasks are adapters: plain arguments in, a service call, a
JSON-serialisable result out; the logic lives in the modules they call."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from commissioning import digest

DIGEST_RETRY_SECONDS = 15 * 60


@shared_task(bind=True, max_retries=3)
def send_contracts_ending_digest(self, today: str | None = None) -> dict[str, int]:
    """Weekly (CELERY_BEAT_SCHEDULE): e-mail each contract manager the contracts ending soon.

    ``today`` (ISO date) is for reruns and tests; beat passes nothing and the digest uses today.
    Safe to retry: each manager gets at most one digest per ISO week. Sends that failed (the mail
    server refused or was unreachable) were not recorded, so a retry sends just those.
    """
    day = date.fromisoformat(today) if today else timezone.localdate()
    summary = digest.send_contracts_ending_digest(today=day)
    if summary["failed"] and self.request.retries < self.max_retries:
        # Pin the date so a retry after midnight still completes the same week's digest.
        raise self.retry(kwargs={"today": day.isoformat()}, countdown=DIGEST_RETRY_SECONDS)
    return summary


@shared_task(name="commissioning.tasks.worker_probe", ignore_result=False)
def worker_probe() -> int:
    """Sent by beat every minute (expiring after two): something always waits in front of a
    jammed pool, so the liveness check sees it (commissioning/liveness.py). Returns the pid of the
    process that ran it."""
    import os

    return os.getpid()
