"""The bench's own database: created fresh from a migrated template on every run."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

from benchmarks.common import ROOT, VAR

# --- The database -------------------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def admin_sql(url: str, statements: list[str]) -> None:
    import psycopg2

    conn = psycopg2.connect(with_database(url, "postgres"))
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
    admin_sql(base, [f'CREATE DATABASE "{template}"'] if not exists(base, template) else [])
    yield with_database(base, bench), with_database(base, template), base, bench, template
    del server


def exists(url: str, name: str) -> bool:
    import psycopg2

    conn = psycopg2.connect(with_database(url, "postgres"))
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cursor.fetchone() is not None
    finally:
        conn.close()


def env_for(url: str) -> dict:
    env = dict(os.environ)
    env.update(DATABASE_URL=url, DEBUG="false", DJANGO_SETTINGS_MODULE="commissioning.settings")
    env.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    return env


def run_module(module: str, args: list[str], url: str):
    """``python -m module *args`` in a fresh process on the database at ``url``; the last line it
    printed, read as JSON."""
    import json

    done = subprocess.run(  # noqa: S603 - our own module, our own arguments
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env_for(url),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@contextmanager
def copy_of(admin_url: str, source: str, copy: str):
    """Database ``copy``, made from ``source`` (nothing may be connected to it) and dropped after."""
    drop = f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)'
    admin_sql(admin_url, [drop, f'CREATE DATABASE "{copy}" TEMPLATE "{source}"'])
    try:
        yield
    finally:
        admin_sql(admin_url, [drop])


def manage(url: str, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env_for(url), check=True)  # noqa: S603
