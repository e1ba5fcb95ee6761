"""Embedded defaults for a newcomer's machine: no database server and no broker needed.

``embedded_database_url`` starts (or reuses) a private PostgreSQL from the ``pgserver`` wheel whose
data directory and socket live under ``var/``. Every process that uses it (web server, worker,
tests) holds a handle; the server stops when the last of them exits, so Ctrl-C on ``make run``
leaves nothing running. ``filesystem_broker_options`` puts Celery's queue in
folders under ``var/`` through kombu's filesystem transport.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path


def embedded_database_url(pgdata: Path) -> str:
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # pgserver logs every pg_ctl call at INFO, the last one from an atexit hook after pytest or the
    # server has closed its log streams ("--- Logging error ---"); its warnings still show.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        server = pgserver.get_server(pgdata, cleanup_mode="stop")
    # pgserver answers on a Unix socket in the data directory: postgresql://postgres:@/postgres?host=...
    return server.get_uri(database="commissioning") if _has_database(server) else _create(server)


def _has_database(server) -> bool:
    out = server.psql("SELECT 1 FROM pg_database WHERE datname = 'commissioning';")
    return "1 row" in out


def _create(server) -> str:
    server.psql("CREATE DATABASE commissioning;")
    return server.get_uri(database="commissioning")


def filesystem_broker_options(folder: Path) -> dict:
    queue = folder / "queue"
    processed = folder / "processed"
    control = folder / "control"
    for path in (queue, processed, control, folder / "results"):
        path.mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "processed_folder": str(processed),
        "store_processed": False,
        "control_folder": str(control),
    }
