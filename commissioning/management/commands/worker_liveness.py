"""``manage.py worker_liveness``: exit 1 when work waits for the worker and no task has started
or ended for ``WORKER_LIVENESS_SECONDS`` (commissioning/liveness.py). The compose stack's
healthcheck runs it in the worker's container with ``--kill-pidfile``, so a jammed worker is
killed and the container restarted; ``make run`` asks the same question itself."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from commissioning import liveness


class Command(BaseCommand):
    help = "Exit non-zero when tasks wait but the Celery worker has made no progress for too long."

    def add_arguments(self, parser):
        parser.add_argument("--queue", action="append", help="A queue the worker consumes (repeatable).")
        parser.add_argument("--seconds", type=int, help="How long without progress is too long.")
        parser.add_argument(
            "--kill-pidfile",
            help="When not alive, SIGKILL the process whose pid this file holds (the worker).",
        )

    def handle(self, *args, queue=None, seconds=None, kill_pidfile=None, **options):
        try:
            verdict = liveness.check(queues=queue, limit_seconds=seconds)
        except Exception as error:  # noqa: BLE001 - the broker unreachable: not the worker's fault
            self.stderr.write(f"Liveness unknown: the broker could not be read ({error}).")
            sys.exit(2)
        if verdict.alive:
            self.stdout.write(verdict.message)
            return
        self.stderr.write(verdict.message)
        if kill_pidfile:
            try:
                pid = int(Path(kill_pidfile).read_text().strip())
                os.kill(pid, signal.SIGKILL)
                self.stderr.write(f"Killed the worker (pid {pid}) so that it is restarted.")
            except (OSError, ValueError) as error:
                self.stderr.write(f"Could not kill the worker: {error}")
        sys.exit(1)
