"""A real gunicorn server on loopback, the pages and API lists under concurrent clients, and the
region's recharge runs in a fresh process."""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

from benchmarks.common import CLIENTS, PHASE_SECONDS, ROOT, log, stats
from benchmarks.database import env_for, run_module

# --- A real server on loopback ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, url: str):
        self.port = free_port()
        self.url = url
        self.sessions: dict[str, list[str]] = {}  # user -> one session per concurrent client
        self.tokens: dict[str, str] = {}
        self.process = None

    def start(self) -> None:
        args = [
            str(Path(sys.executable).parent / "gunicorn"),
            "benchmarks.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            os.environ.get("BENCH_WORKERS", "2"),
            "--threads",
            os.environ.get("BENCH_THREADS", "5"),
            "--worker-class",
            "gthread",
            "--log-level",
            "warning",
        ]
        # Production-shaped: gunicorn keeps its database connections (docker-compose sets the same).
        env = env_for(self.url) | {"DB_CONN_MAX_AGE": os.environ.get("DB_CONN_MAX_AGE", "60")}
        self.process = subprocess.Popen(args, cwd=ROOT, env=env)  # noqa: S603
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if self.get("/__bench/ping")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the bench server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def get(self, path: str, *, session: str | None = None, token: str | None = None, conn=None):
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Host": "127.0.0.1"}
        if session:
            headers["Cookie"] = f"sessionid={session}"
        if token:
            headers["Authorization"] = f"Token {token}"
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        seconds = time.perf_counter() - started
        if own:
            conn.close()
        return response.status, seconds, int(response.getheader("X-Bench-Queries") or 0), body

    def load(self, paths: list[str], *, session=None, token=None, per_client: int = 20) -> dict:
        """``CLIENTS`` threads, each with its own keep-alive connection (and its own session when
        ``session`` is a list of them), ``per_client`` requests."""
        sessions = session if isinstance(session, list) else [session]
        for path in paths[:3]:  # a wrong URL or a refused session fails here, not in the figures
            status, _s, _q, body = self.get(path, session=sessions[0], token=token)
            if status != 200:
                raise RuntimeError(f"{path}: HTTP {status}: {body[:300]!r}")
        # Warm up as the clients will run, concurrently and with every session: each worker
        # compiles its templates on its first page, and each session's first request writes it
        # (the idle timeout). A cold worker is a start-up cost, not the page's steady latency.
        warm = [
            threading.Thread(
                target=self.get,
                args=(paths[n % len(paths)],),
                kwargs={"session": sessions[n % len(sessions)], "token": token},
            )
            for n in range(CLIENTS)
        ]
        for thread in warm:
            thread.start()
        for thread in warm:
            thread.join()
        samples: list[float] = []
        queries: list[int] = []
        errors: list[str] = []
        lock = threading.Lock()

        def client(n: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
            for k in range(per_client):
                if k and time.perf_counter() - started > PHASE_SECONDS:
                    break  # a slow endpoint: fewer samples rather than a bench that never ends
                path = paths[(n * per_client + k) % len(paths)]
                own = sessions[n % len(sessions)]
                status, seconds, count, _body = self.get(path, session=own, token=token, conn=conn)
                with lock:
                    samples.append(seconds)
                    queries.append(count)
                    if status != 200:
                        errors.append(f"{path}: {status}")
            conn.close()

        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        return {
            "seconds": stats(samples),
            "queries": {"min": min(queries), "max": max(queries), "median": statistics.median(queries)},
            "requests": len(samples),
            "throughput_per_second": round(len(samples) / wall, 1),
            "errors": errors[:5],
        }


def credentials(server: Server) -> None:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from commissioning.models import ApiToken, User

    store = import_module(settings.SESSION_ENGINE).SessionStore
    for user in User.objects.filter(username__startswith="bench_"):
        # Ten clients are ten people signed in: each has its own session (its row is written on
        # every request for the idle timeout, and one shared row would serialise the clients).
        for _ in range(CLIENTS):
            session = store()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = "commissioning.auth_backends.PermissionBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
            server.sessions.setdefault(user.username, []).append(session.session_key)
        key = ApiToken.generate_key()
        ApiToken.objects.create(user=user, name="bench", prefix=key[:8], digest=ApiToken.hash_key(key))
        server.tokens[user.username] = key


def bench_pages(server: Server, partnership) -> dict:
    from django.db.models import Count

    from brokerage.models import Package
    from budgets.models import Schedule

    packages = list(
        Package.objects.filter(client__partnership=partnership)
        .annotate(n=Count("costs", distinct=True) + Count("splits", distinct=True))
        .order_by("-n", "pk")
        .values_list("pk", flat=True)[:20]
    )
    schedules = list(
        Schedule.objects.filter(agreement__partnership=partnership)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    s, t = server.sessions, server.tokens
    plan = [
        ("bare server (no Django)", ["/__bench/ping"], {}),
        ("referral queue page", ["/brokerage/"], {"session": s["bench_broker"]}),
        ("package page", [f"/brokerage/packages/{pk}/" for pk in packages], {"session": s["bench_broker"]}),
        (
            "schedule page",
            [f"/budgets/schedules/{pk}/" for pk in schedules[:20]],
            {"session": s["bench_commissioner"]},
        ),
        ("decision log page", ["/governance/decisions/"], {"session": s["bench_secretary"]}),
        ("invoices/ API, 100 a page", ["/api/v1/invoices/?page_size=100"], {"token": t["bench_finance"]}),
        ("packages/ API, 100 a page", ["/api/v1/packages/?page_size=100"], {"token": t["bench_broker"]}),
    ]
    out = {}
    for name, paths, auth in plan:
        log(f"  {name}")
        out[name] = server.load(paths, **auth)
    return out


def region_runs(url: str, period: date) -> dict:
    """Every recharge run of the month at region size, in a fresh process (peak memory)."""
    return run_module("benchmarks.region", [period.isoformat()], url)
