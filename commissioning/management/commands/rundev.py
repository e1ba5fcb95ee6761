"""``make run``: migrate, load the demo data on an empty database, print the logins, then run the
web server and a Celery worker (with beat) together until Ctrl-C, which stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


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
            self._start(
                "worker",
                [
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
                ],
                env,
            )
        self.stdout.write(self.style.SUCCESS(f"Serving http://{addrport}/  (Ctrl-C stops everything)"))
        # Ctrl-C and a polite kill both stop everything, even when the shell that started us left
        # SIGINT ignored (as non-interactive shells do for background jobs).
        signal.signal(signal.SIGINT, _interrupt)
        signal.signal(signal.SIGTERM, _interrupt)
        code = 0
        try:
            while True:
                for name, child in self._named:
                    if child.poll() is not None:
                        self.stderr.write(f"The {name} process stopped (exit code {child.returncode}).")
                        code = child.returncode or 1
                        raise KeyboardInterrupt
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

    def _start(self, name: str, argv: list[str], env: dict) -> None:
        if not hasattr(self, "_names"):
            self._names: list[str] = []
        child = subprocess.Popen(argv, cwd=settings.BASE_DIR, env=env, start_new_session=True)  # noqa: S603
        self._names.append(name)
        self._children.append(child)

    def _stop_all(self) -> None:
        self.stdout.write("Stopping the web server and the worker…")
        for child in self._children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in self._children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        self.stdout.write("Stopped.")
