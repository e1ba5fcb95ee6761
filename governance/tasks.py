"""Celery tasks of the governance app: adapters that take primary keys, re-fetch and call the
pack code. Queued with ``transaction.on_commit`` by ``services.pack_request``."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from commissioning.jobs import held_advisory_locks
from governance import packs
from governance.models import BoardPack, PackStatus

logger = logging.getLogger(__name__)

PACK_SOFT_TIME_LIMIT = 300  # seconds: a render has a time limit (security.md)

# Advisory lock class (the first key of pg_advisory_lock(int4, int4); the second is the pack id) held
# by generate_pack_now while it renders.
PACK_LOCK_CLASS = 75_002


def _progress(pack_id: int, percent: int) -> None:
    BoardPack.objects.filter(pk=pack_id, status=PackStatus.RENDERING).update(progress=percent)


def generate_pack_now(pack_id: int) -> str:
    """Render one queued pack version. Idempotent: a pack already ready is left alone, and a retry
    (or a worker killed mid-run) renders the same version again into the same file, never a new one.
    While it renders the task holds an advisory lock on the pack (released by PostgreSQL if the worker
    dies): a second delivery meanwhile renders nothing, and the recovery of stalled work
    (commissioning/jobs.py) leaves a pack alone while its lock is held."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [PACK_LOCK_CLASS, pack_id])
        (locked,) = cursor.fetchone()
    if not locked:  # another worker is rendering this pack right now
        return BoardPack.objects.values_list("status", flat=True).get(pk=pack_id)
    try:
        return _generate_locked(pack_id)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [PACK_LOCK_CLASS, pack_id])


def _generate_locked(pack_id: int) -> str:
    with transaction.atomic():
        pack = BoardPack.objects.select_for_update().select_related("meeting__board").get(pk=pack_id)
        if pack.status == PackStatus.READY:
            return pack.status
        pack.status = PackStatus.RENDERING
        pack.progress = 5
        pack.started_at = timezone.now()
        pack.error = ""
        pack.save(update_fields=["status", "progress", "started_at", "error"])
    try:
        rendered = packs.render_pack(
            pack.meeting,
            pack.audience,
            version=pack.version,
            supplement=pack.supplement_number,
            progress=lambda percent: _progress(pack_id, percent),
        )
        relative, checksum = packs.write_pack_file(pack, rendered.pdf)
    except SoftTimeLimitExceeded:
        _fail(pack_id, f"The pack took longer than {PACK_SOFT_TIME_LIMIT} seconds to render.")
        raise
    except Exception as exc:  # recorded on the pack for the page to show, then re-raised for the log
        logger.exception("pack %s failed", pack_id)
        _fail(pack_id, f"{type(exc).__name__}: {exc}"[:2000])
        raise
    BoardPack.objects.filter(pk=pack_id).update(
        status=PackStatus.READY,
        progress=100,
        file=relative,
        page_count=rendered.page_count,
        checksum=checksum,
        item_pages={str(k): v for k, v in rendered.item_pages.items()},
        finished_at=timezone.now(),
    )
    return PackStatus.READY


def _fail(pack_id: int, message: str) -> None:
    BoardPack.objects.filter(pk=pack_id).update(
        status=PackStatus.FAILED, error=message, finished_at=timezone.now()
    )


@shared_task(soft_time_limit=PACK_SOFT_TIME_LIMIT, time_limit=PACK_SOFT_TIME_LIMIT + 30, acks_late=True)
def generate_pack(pack_id: int) -> str:
    return generate_pack_now(pack_id)


def stalled_packs(cutoff) -> list[int]:
    """Packs queued or rendering since before ``cutoff`` that no worker holds (registered with the
    core's stalled-work recovery in ``GovernanceConfig.ready``)."""
    rows = BoardPack.objects.filter(
        Q(status=PackStatus.QUEUED, requested_at__lt=cutoff)
        | Q(status=PackStatus.RENDERING, started_at__lt=cutoff)
    ).values_list("pk", flat=True)
    busy = held_advisory_locks(PACK_LOCK_CLASS)
    return sorted(pk for pk in rows if pk not in busy)
