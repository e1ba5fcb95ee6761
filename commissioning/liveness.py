"""Is the Celery worker making progress? (issue 19: a pool can jam after a child is killed, with
tasks "received" but none run for minutes, stalled-job recovery included.)

- **Progress**: the worker touches a file when it is ready and whenever a task starts or ends
  (Celery signals, connected in ``commissioning/celery.py``). The file lives under ``VAR_DIR``
  (``settings.WORKER_PROGRESS_FILE``), so it is the worker's own: in the compose stack the
  check runs in the worker's container, under ``make run`` on the same machine.
- **Waiting work**: the messages waiting in the worker's queues on the broker (Redis lists, or the
  filesystem transport's files). Beat sends a small probe task every minute
  (``commissioning.tasks.worker_probe``, expiring after two), so a jammed pool always has
  something waiting in front of it.
- **Verdict**: not alive when work is waiting and nothing started or ended for
  ``settings.WORKER_LIVENESS_SECONDS`` (longer than the longest task's time limit). An idle worker
  with an empty queue is alive.

``manage.py worker_liveness`` prints the verdict and exits 1 when not alive (the compose
healthcheck, which then kills the worker so the container restarts); ``make run`` asks the same
question every few seconds and restarts its worker.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

# kombu's Redis transport keeps priorities 3, 6 and 9 of a queue in lists of their own.
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


def progress_file() -> Path:
    configured = getattr(settings, "WORKER_PROGRESS_FILE", "")
    return Path(configured) if configured else Path(settings.VAR_DIR) / "celery" / "progress"


def record_progress(**_signal_kwargs) -> None:
    """A task started or ended, or the worker is ready: now is the last sign of progress."""
    path = progress_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"at": time.time()}))
    except OSError:  # a full or read-only disk must not fail the task itself
        pass


def last_progress() -> float | None:
    try:
        return float(json.loads(progress_file().read_text())["at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def default_queues() -> list[str]:
    return [settings.CELERY_TASK_DEFAULT_QUEUE]


def waiting_messages(queues: list[str]) -> int:
    """Messages waiting in these queues on the broker (not those a worker has already taken)."""
    broker = settings.CELERY_BROKER_URL
    if broker.startswith(("redis://", "rediss://", "unix://")):
        import redis

        client = redis.Redis.from_url(broker, socket_connect_timeout=3, socket_timeout=3)
        try:
            return sum(client.llen(queue + suffix) for queue in queues for suffix in _PRIORITY_SUFFIXES)
        finally:
            client.close()
    if broker.startswith("filesystem://"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        folder = Path(options["data_folder_in"])
        return sum(1 for queue in queues for _ in folder.glob(f"*.{queue}.msg"))
    raise ValueError(f"no liveness check for the broker {broker.split(':', 1)[0]}")


@dataclass(frozen=True)
class Liveness:
    alive: bool
    waiting: int
    idle_seconds: float | None
    limit_seconds: int

    @property
    def message(self) -> str:
        idle = "never" if self.idle_seconds is None else f"{self.idle_seconds:.0f} s ago"
        state = "alive" if self.alive else "NOT alive"
        return (
            f"Worker {state}: {self.waiting} message(s) waiting; last task started or ended {idle} "
            f"(limit {self.limit_seconds} s)."
        )


def check(
    *, queues: list[str] | None = None, limit_seconds: int | None = None, now: float | None = None
) -> Liveness:
    limit = int(limit_seconds if limit_seconds is not None else settings.WORKER_LIVENESS_SECONDS)
    waiting = waiting_messages(queues or default_queues())
    last = last_progress()
    idle = None if last is None else max(0.0, (now or time.time()) - last)
    stuck = waiting > 0 and (idle is None or idle > limit)
    return Liveness(alive=not stuck, waiting=waiting, idle_seconds=idle, limit_seconds=limit)
