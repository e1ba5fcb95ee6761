"""``make bench`` (quality.md, "Benchmarks"): ``python -m benchmarks.run``.

1. A database of its own: with ``DATABASE_URL`` set, ``<name>_bench`` on the same server (cloned
   from a migrated ``<name>_bench_template``); without it, ``commissioning_bench`` in the embedded
   PostgreSQL under ``var/``. Dropped and made again on every run, so figures start from one state.
2. ``migrate`` (the template), then the ``borough`` size (``benchmarks.generate``, seed 1).
3. Each figure as median and p95 over repeated runs, beside its bare reference measured in the same
   run: recharge month (reference: one SQL query of the same owed totals), true-up after a
   backdated split change on 500 packages across a year, the year's recharge report over the API
   (JSON and CSV; reference: one SQL query of the same rows written by ``csv``), a members' pack
   (reference: bare WeasyPrint on the same HTML), pages and API lists under 10 concurrent clients
   on loopback against gunicorn (reference: an answer that never reaches Django), with SQL queries
   per request.
4. Nine more boroughs make the database a ``region``; a fresh process runs every recharge run of
   the month and reports its time and peak memory (``ru_maxrss``).

Writes go inside transactions rolled back, so every repetition sees the same data. The table is
printed and everything is written to ``var/bench.json``.
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("VAR_DIR", ROOT / "var"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
SEED = int(os.environ.get("BENCH_SEED", "1"))
CLIENTS = 10
PHASE_SECONDS = float(os.environ.get("BENCH_PHASE_SECONDS", "20"))


def stats(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, -(-95 * len(ordered) // 100) - 1))]  # nearest rank
    return {"median": statistics.median(ordered), "p95": p95, "n": len(ordered)}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- The database -------------------------------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _admin_sql(url: str, statements: list[str]) -> None:
    import psycopg2

    conn = psycopg2.connect(_with_database(url, "postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        conn.close()


@contextmanager
def bench_database():
    """Yields (bench url, template url); keeps the embedded server up while in use."""
    base = os.environ.get("DATABASE_URL", "")
    server = None
    if base:
        name = urlsplit(base).path.lstrip("/")
    else:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver

            logging.getLogger("pgserver").setLevel(logging.WARNING)  # as commissioning.embedded
            server = pgserver.get_server(VAR / "pgdata", cleanup_mode="stop")
        base = server.get_uri(database="postgres")
        name = "commissioning"
    bench, template = f"{name}_bench", f"{name}_bench_template"
    _admin_sql(base, [f'CREATE DATABASE "{template}"'] if not _exists(base, template) else [])
    yield _with_database(base, bench), _with_database(base, template), base, bench, template
    del server


def _exists(url: str, name: str) -> bool:
    import psycopg2

    conn = psycopg2.connect(_with_database(url, "postgres"))
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cursor.fetchone() is not None
    finally:
        conn.close()


def _env(url: str) -> dict:
    env = dict(os.environ)
    env.update(DATABASE_URL=url, DEBUG="false", DJANGO_SETTINGS_MODULE="commissioning.settings")
    env.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    return env


def _manage(url: str, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=_env(url), check=True)  # noqa: S603


# --- Measurements (in this process, Django set up on the bench database) ------------------------


def _repeat(fn, n: int = REPEAT) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


class _Rollback(Exception):
    pass


@contextmanager
def rolled_back():
    from django.db import transaction

    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


def _run_once(partnership, issuer, period) -> dict:
    """One recharge run through the service, rolled back; returns its figures."""
    from brokerage.finance import services as finance_services
    from brokerage.models import InvoiceLine, RechargeRun

    out = {}
    with rolled_back():
        run = RechargeRun.objects.create(partnership=partnership, issuer=issuer, period=period)
        started = time.perf_counter()
        run = finance_services.recharge_run_execute(run_id=run.pk)
        out["seconds"] = time.perf_counter() - started
        out.update(
            status=run.status,
            invoices=run.invoice_count,
            credit_notes=run.credit_note_count,
            invoiced=str(run.total_invoiced),
            credited=str(run.total_credited),
            lines=InvoiceLine.objects.filter(invoice__run=run).count(),
            failure=run.failure,
        )
        out["billed_after"] = _billed_totals(partnership, issuer)
    return out


def _billed_totals(partnership, issuer) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.recipient_id, SUM(CASE WHEN i.kind = 'credit_note' THEN -l.amount ELSE l.amount END) "
            "FROM brokerage_invoiceline l JOIN brokerage_invoice i ON i.id = l.invoice_id "
            "WHERE i.partnership_id = %s AND i.issuer_id = %s GROUP BY 1",
            [partnership.pk, issuer.pk],
        )
        return {r: str(v) for r, v in cursor.fetchall()}


def bench_recharge(partnership, issuer, period) -> dict:
    from benchmarks import reference

    runs = [_run_once(partnership, issuer, period) for _ in range(REPEAT)]
    sql_times, totals = [], {}
    for _ in range(REPEAT):
        started = time.perf_counter()
        totals = reference.owed_totals(partnership=partnership.pk, issuer=issuer.pk, period=period)
        sql_times.append(time.perf_counter() - started)
    last = runs[-1]
    agrees = {str(k): str(v) for k, v in totals.items()} == {
        str(k): v for k, v in last["billed_after"].items()
    }
    return {
        "seconds": stats([r["seconds"] for r in runs]),
        "reference_seconds": stats(sql_times),
        "run": {k: v for k, v in last.items() if k not in ("seconds", "billed_after")},
        "agrees_with_sql_to_the_penny": agrees,
    }


def bench_true_up(partnership, issuer, period) -> dict:
    """A backdated split change on 500 packages from a year before the period, then the run."""
    from dateutil.relativedelta import relativedelta
    from django.db import transaction

    from benchmarks import reference
    from brokerage import services
    from brokerage.models import FundingSplit, Package
    from brokerage.services import Share
    from commissioning.models import User

    change_from = period - relativedelta(months=11)
    by = User.objects.get(username="bench_broker")
    other = partnership.nhs_commissioner if issuer.pk == partnership.council_id else partnership.council
    ids = list(
        FundingSplit.objects.filter(
            package__client__partnership=partnership,
            package__paying_organisation=issuer,
            package__start__lt=change_from,
            package__end__isnull=True,
            effective_from__lte=change_from,
            effective_to__isnull=True,
            basis__in=["s117", "panel_decision"],
        )
        .order_by("package_id")
        .values_list("package_id", flat=True)[:500]
    )
    result: dict = {"packages_changed": len(ids), "change_from": change_from.isoformat()}
    with rolled_back():
        started = time.perf_counter()
        for package in Package.objects.filter(pk__in=ids).select_related("client__partnership"):
            services.package_change_funding(
                package=package,
                effective_from=change_from,
                by=by,
                basis="panel_decision",
                decision_reference="BENCH-TRUE-UP",
                shares=[Share(issuer, Decimal("35")), Share(other, Decimal("65"))],
            )
        result["change_seconds"] = round(time.perf_counter() - started, 2)
        runs = []
        for _ in range(REPEAT):
            sid = transaction.savepoint()
            runs.append(_run_once(partnership, issuer, period))
            transaction.savepoint_rollback(sid)
        sql_times, totals = [], {}
        for _ in range(REPEAT):
            started = time.perf_counter()
            totals = reference.owed_totals(partnership=partnership.pk, issuer=issuer.pk, period=period)
            sql_times.append(time.perf_counter() - started)
    last = runs[-1]
    result.update(
        seconds=stats([r["seconds"] for r in runs]),
        reference_seconds=stats(sql_times),
        run={k: v for k, v in last.items() if k not in ("seconds", "billed_after")},
        agrees_with_sql_to_the_penny={str(k): str(v) for k, v in totals.items()}
        == {str(k): v for k, v in last["billed_after"].items()},
    )
    return result


REPORT_SQL = """
SELECT i.number, i.kind, io.code, ro.code, to_char(i.period, 'YYYY-MM'), i.issue_date, l.package_id,
       l.client_reference, l.provider, l.service_type, to_char(l.month, 'YYYY-MM'), l.start, l."end", l.days,
       ROUND(l.weekly_cost, 2), l.percent, CASE WHEN i.kind = 'credit_note' THEN -l.amount ELSE l.amount END,
       l.adjustment, to_char(l.corrects_month, 'YYYY-MM')
FROM brokerage_invoiceline l
JOIN brokerage_invoice i ON i.id = l.invoice_id
JOIN commissioning_organisation io ON io.id = i.issuer_id
JOIN commissioning_organisation ro ON ro.id = i.recipient_id
WHERE i.partnership_id = %s AND i.status <> 'draft' AND i.period BETWEEN %s AND %s
ORDER BY i.period, i.number, l.position, l.id
"""


def bench_report(server, partnership, period) -> dict:
    from dateutil.relativedelta import relativedelta
    from django.db import connection

    first = period - relativedelta(months=12)
    last = period - relativedelta(months=1)
    query = f"period_from={first:%Y-%m}&period_to={last:%Y-%m}"
    token = server.tokens["bench_finance"]
    out = {}
    for fmt, extra in (("json", "&page_size=1000"), ("csv", "&format=csv")):
        samples, sizes, rows = [], [], 0
        for _ in range(REPEAT):
            status, seconds, _q, body = server.get(f"/api/v1/recharge-report/?{query}{extra}", token=token)
            if status != 200:
                raise RuntimeError(f"recharge report {fmt}: HTTP {status}: {body[:300]!r}")
            samples.append(seconds)
            sizes.append(len(body))
            rows = body.count(b"\n") - 1 if fmt == "csv" else json.loads(body).get("count")
        out[fmt] = {"seconds": stats(samples), "bytes": sizes[-1], "rows": rows}

    def bare():
        with connection.cursor() as cursor:
            cursor.execute(REPORT_SQL, [partnership.pk, first, last])
            buffer = io.StringIO()
            csv.writer(buffer).writerows(cursor.fetchall())
            return buffer

    out["reference_seconds"] = stats(_repeat(bare))
    out["range"] = query
    return out


def bench_pack() -> dict:
    from benchmarks.governance import pack_benchmark

    figures = pack_benchmark(runs=max(3, REPEAT))
    return {
        "pages": figures["pages"],
        "seconds": stats(figures["pack_seconds"]),
        "reference_seconds": stats(figures["bare_weasyprint_seconds"]),
        "stages_last_run": figures.get("pack_stages_last_run"),
    }


# --- A real server on loopback ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, url: str):
        self.port = _free_port()
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
        env = _env(self.url) | {"DB_CONN_MAX_AGE": os.environ.get("DB_CONN_MAX_AGE", "60")}
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


def _credentials(server: Server) -> None:
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


def _region(url: str, period: date) -> dict:
    """Every recharge run of the month at region size, in a fresh process (peak memory)."""
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "benchmarks.region", period.isoformat()],
        cwd=ROOT,
        env=_env(url),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- The table ----------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value * 1000:,.0f} ms" if value < 10 else f"{value:,.1f} s"


def table(results: dict) -> str:
    rows = [("measure", "median", "p95", "reference median", "reference p95", "ratio", "target", "extra")]

    def add(name, figure, ref, target, extra=""):
        ratio = figure["median"] / ref["median"] if ref and ref["median"] else None
        rows.append(
            (
                name,
                _ms(figure["median"]),
                _ms(figure["p95"]),
                _ms(ref["median"]) if ref else "",
                _ms(ref["p95"]) if ref else "",
                f"{ratio:.1f}x" if ratio else "",
                target,
                extra,
            )
        )

    r = results
    if "recharge_month" in r:
        m = r["recharge_month"]
        add(
            "recharge run, one month",
            m["seconds"],
            m["reference_seconds"],
            "< 2 s, < 3x SQL",
            f"{m['run']['lines']} lines; SQL agrees: {m['agrees_with_sql_to_the_penny']}",
        )
    if "true_up" in r:
        m = r["true_up"]
        add(
            f"true-up, {m['packages_changed']} packages x 1 year",
            m["seconds"],
            m["reference_seconds"],
            "< 5 s",
            f"{m['run']['lines']} lines; SQL agrees: {m['agrees_with_sql_to_the_penny']}",
        )
    if "recharge_report" in r:
        m = r["recharge_report"]
        add(
            f"recharge report API, JSON ({m['json']['rows']} rows, 1,000 a page)",
            m["json"]["seconds"],
            m["reference_seconds"],
            "",
            f"{m['json']['bytes']:,} bytes",
        )
        add(
            f"recharge report API, CSV ({m['csv']['rows']} rows)",
            m["csv"]["seconds"],
            m["reference_seconds"],
            "",
            f"{m['csv']['bytes']:,} bytes",
        )
    if "pack" in r:
        m = r["pack"]
        add(f"members' pack, {m['pages']} pages", m["seconds"], m["reference_seconds"], "< 1.3x WeasyPrint")
    bare = r.get("pages", {}).get("bare server (no Django)")
    for name, m in r.get("pages", {}).items():
        if name.startswith("bare"):
            continue
        add(
            f"{name}, {CLIENTS} clients",
            m["seconds"],
            bare["seconds"] if bare else None,
            "p95 < 150 ms",
            f"SQL/request {m['queries']['min']}-{m['queries']['max']}; {m['throughput_per_second']}/s"
            + (f"; errors {m['errors']}" if m["errors"] else ""),
        )
    if "region" in r:
        m = r["region"]
        add(
            f"region recharge, {m['runs']} runs x {m['repeats']}",
            m["seconds"],
            m["reference_seconds"],
            "< 20 s, < 500 MB",
            f"peak RSS {m['peak_rss_mb']} MB (start {m['start_rss_mb']} MB)",
        )
    for name, value in r.get("load", {}).items():
        rows.append(
            (f"load {name}", f"{value:.1f} s", "", "", "", "", "< 60 s" if name == "borough" else "", "")
        )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# --- Main ---------------------------------------------------------------------------------------


def main() -> int:
    started = time.perf_counter()
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    results: dict = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "repeat": REPEAT,
        "seed": SEED,
        "load": {},
    }
    with bench_database() as (url, template_url, admin_url, bench, template):
        log(f"migrating {template}")
        _manage(template_url, "migrate", "--no-input", "-v", "0")
        _admin_sql(
            admin_url,
            [
                f'DROP DATABASE IF EXISTS "{bench}" WITH (FORCE)',
                f'CREATE DATABASE "{bench}" TEMPLATE "{template}"',
            ],
        )
        os.environ.update(_env(url))
        import django

        django.setup()
        from django.db import connection

        from benchmarks.generate import generate, period_for
        from commissioning.models import Partnership

        today = date.today()
        period = period_for(today)
        log("loading the borough size")
        loaded = generate(size="borough", seed=SEED, today=today, log=log)
        results["load"]["borough"] = loaded["loaded"][0]["seconds"]
        results["load_parts"] = loaded["loaded"][0]["parts"]
        partnership = Partnership.objects.select_related("council", "nhs_commissioner").get(
            name="Scale borough 01"
        )
        issuer = partnership.council
        results["period"] = period.isoformat()
        log("recharge run, one month")
        results["recharge_month"] = bench_recharge(partnership, issuer, period)
        log("true-up after a backdated change")
        results["true_up"] = bench_true_up(partnership, issuer, period)
        log("members' pack")
        results["pack"] = bench_pack()
        server = Server(url)
        _credentials(server)
        connection.close()
        server.start()
        try:
            log("recharge report over the API")
            results["recharge_report"] = bench_report(server, partnership, period)
            log("pages and API lists")
            results["pages"] = bench_pages(server, partnership)
        finally:
            server.stop()
        _save(results)
        if os.environ.get("BENCH_REGION", "1") != "1":
            log("the region size is skipped (BENCH_REGION=0)")
            return _finish(results, started)
        log("loading the region size (nine more boroughs)")
        loaded = generate(size="region", seed=SEED, today=today, log=log)
        results["load"]["region (9 more boroughs)"] = loaded["seconds"]
        connection.close()
        log("region recharge runs (peak memory)")
        results["region"] = _region(url, period)
        connection.close()
    return _finish(results, started)


def _save(results: dict) -> None:
    VAR.mkdir(parents=True, exist_ok=True)
    (VAR / "bench.json").write_text(json.dumps(results, indent=1, default=str))


def _finish(results: dict, started: float) -> int:
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    results["table"] = table(results)
    _save(results)
    print()
    print(results["table"])
    print(f"\nmake bench took {results['total_seconds']:.0f} s; figures in {VAR / 'bench.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
