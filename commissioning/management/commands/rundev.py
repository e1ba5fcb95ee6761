"""``make run``: migrate, load the demo data on an empty database, print the logins, then run the
web server and a Celery worker (with beat) together until Ctrl-C, which stops both.

Each child runs in a process group of its own, and stopping one signals its whole group: the
worker's pool children and its embedded beat go with it, even when the worker itself has crashed
(a crashed worker once left beat running as an orphan). Every ``LIVENESS_POLL_SECONDS`` the worker's
progress is checked (commissioning/liveness.py): work waiting and no task started or ended for
``WORKER_LIVENESS_SECONDS`` means a jammed pool, and the worker's group is killed and started again."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from commissioning import liveness

LIVENESS_POLL_SECONDS = 15
STOP_SECONDS = 15


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Run the web server and a Celery worker with beat, after migrating and loading demo data."

    def add_arguments(self, parser):
        parser.add_argument("--addrport", default=os.environ.get("RUN_ADDRPORT", "127.0.0.1:8000"))
        parser.add_argument("--no-worker", action="store_true", help="Serve pages without a worker.")

    def handle(self, *args, addrport: str, no_worker: bool, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        call_command("load_demo", if_empty=True)  # prints the demo logins either way
        self._children: list[subprocess.Popen] = []
        env = os.environ.copy()
        # Children reuse this process's database (the embedded one included) and broker.
        env["DATABASE_URL"] = settings.DATABASE_URL
        python = sys.executable
        self._start("web", [python, "manage.py", "runserver", addrport, "--noreload"], env)
        if not no_worker:
            beat_file = str(settings.VAR_DIR / "celery" / "beat-schedule")
            self._worker_argv = [
                python,
                "-m",
                "celery",
                "-A",
                "commissioning",
                "worker",
                "--beat",
                "--schedule",
                beat_file,
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
            ]
            self._env = env
            self._start("worker", self._worker_argv, env)
        self.stdout.write(self.style.SUCCESS(f"Serving http://{addrport}/  (Ctrl-C stops everything)"))
        # Ctrl-C and a polite kill both stop everything, even when the shell that started us left
        # SIGINT ignored (as non-interactive shells do for background jobs).
        signal.signal(signal.SIGINT, _interrupt)
        signal.signal(signal.SIGTERM, _interrupt)
        code = 0
        next_check = time.monotonic() + LIVENESS_POLL_SECONDS
        try:
            while True:
                for name, child in self._named:
                    if child.poll() is not None:
                        self.stderr.write(f"The {name} process stopped (exit code {child.returncode}).")
                        code = child.returncode or 1
                        raise KeyboardInterrupt
                if not no_worker and time.monotonic() >= next_check:
                    self._check_worker()
                    next_check = time.monotonic() + LIVENESS_POLL_SECONDS
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self._stop_all()
        if code:
            sys.exit(code)

    @property
    def _named(self):
        return list(zip(self._names, self._children, strict=True))

    def _check_worker(self) -> None:
        """Restart a jammed worker (its whole group: pool children and beat included)."""
        try:
            verdict = liveness.check()
        except Exception as error:  # noqa: BLE001 - the broker down: the jobs module copes with that
            self.stderr.write(f"Worker liveness unknown: {error}")
            return
        if verdict.alive:
            return
        self.stderr.write(verdict.message + " Restarting the worker.")
        index = self._names.index("worker")
        stop_groups([self._children[index]], timeout=5)
        liveness.record_progress()  # the new worker gets the full limit to show progress
        self._children[index] = _spawn(self._worker_argv, self._env)

    def _start(self, name: str, argv: list[str], env: dict) -> None:
        if not hasattr(self, "_names"):
            self._names: list[str] = []
        self._names.append(name)
        self._children.append(_spawn(argv, env))

    def _stop_all(self) -> None:
        self.stdout.write("Stopping the web server and the worker…")
        stop_groups(self._children, timeout=STOP_SECONDS)
        self.stdout.write("Stopped.")


def _spawn(argv: list[str], env: dict) -> subprocess.Popen:
    # A session (and so a process group) of its own: the group is what stop_groups signals.
    return subprocess.Popen(argv, cwd=settings.BASE_DIR, env=env, start_new_session=True)  # noqa: S603


def _signal_group(pgid: int, signum: int) -> bool:
    """Signal a process group; False when no process of it is left."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_groups(children: list[subprocess.Popen], *, timeout: float) -> None:
    """SIGTERM each child's whole process group, whether or not the child itself is still running
    (a crashed worker's beat and pool children are still in its group), then SIGKILL whatever of
    the groups is left after ``timeout`` seconds."""
    for child in children:
        _signal_group(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
    for child in children:
        while _signal_group(child.pid, 0) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _signal_group(child.pid, signal.SIGKILL):
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=5)
