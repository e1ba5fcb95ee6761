"""Backup and restore of the database and the file folders (``manage.py backup`` / ``restore``).

A backup is one ``.tar.gz`` archive under ``var/backups`` (or ``--output-dir``), named by the UTC time
it was taken, holding:

- ``database.dump``: ``pg_dump --format=custom`` of the whole database (data, history tables,
  triggers, sequences), taken as one consistent snapshot;
- ``media/``: uploaded appendices (``MEDIA_ROOT``); ``pdfs/``: generated invoices and packs
  (``PDF_ROOT``); copied after the dump, so every file a dumped row names is already there;
- ``manifest.json``: when, from which database, the dump's SHA-256, file counts, and the latest
  migration of each app.

Restore goes into a *fresh* database only (it refuses one that already has tables), in a single
transaction (all or nothing), after checking the dump against the manifest; the database is created
when it does not exist. ``pg_dump``/``pg_restore`` are taken from the PATH or from the ``pgserver``
wheel (the embedded PostgreSQL), whichever matches the server's major version (else the nearest
newer one).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
from psycopg2 import sql

MANIFEST = "manifest.json"
DUMP = "database.dump"
FOLDERS = ("media", "pdfs")
FORMAT_VERSION = 1


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class Target:
    """Where a PostgreSQL database is, as libpq understands it."""

    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""

    @classmethod
    def from_settings_dict(cls, db: dict) -> Target:
        options = db.get("OPTIONS") or {}
        return cls(
            name=db["NAME"],
            user=db.get("USER") or "",
            password=db.get("PASSWORD") or "",
            host=db.get("HOST") or options.get("host", "") or "",
            port=str(db.get("PORT") or options.get("port", "") or ""),
        )

    @classmethod
    def from_url(cls, url: str) -> Target:
        import dj_database_url

        return cls.from_settings_dict(dj_database_url.parse(url))

    def env(self) -> dict[str, str]:
        """libpq environment for pg_dump/pg_restore: the password never appears in a process list."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        values = {
            "PGDATABASE": self.name,
            "PGUSER": self.user,
            "PGPASSWORD": self.password,
            "PGHOST": self.host,
            "PGPORT": self.port,
        }
        env.update({k: v for k, v in values.items() if v})
        return env

    def connect(self, database: str | None = None):
        kwargs = {"dbname": database or self.name}
        for key in ("user", "password", "host", "port"):
            if getattr(self, key):
                kwargs[key] = getattr(self, key)
        return psycopg2.connect(**kwargs)


# --- PostgreSQL tools -------------------------------------------------------------------------------


def _candidate_bin_dirs() -> list[Path]:
    dirs = []
    on_path = shutil.which("pg_dump")
    if on_path:
        dirs.append(Path(on_path).parent)  # not resolved: Debian's /usr/bin/pg_dump is a wrapper link
    dirs.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin")))  # Debian: every installed version
    try:
        import pgserver

        dirs.append(Path(pgserver.__file__).parent / "pginstall" / "bin")
    except ImportError:  # pragma: no cover - pgserver is a dependency
        pass
    unique = list(dict.fromkeys(dirs))
    return [d for d in unique if (d / "pg_dump").exists() and (d / "pg_restore").exists()]


def _major(binary: Path) -> int:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", out)
    if not match:
        raise BackupError(f"Cannot read the version of {binary}: {out.strip()}")
    return int(match.group(1))


def pg_tool(name: str, server_major: int) -> Path:
    """The ``pg_dump``/``pg_restore`` for a server: the same major version, else the nearest newer."""
    found = sorted((_major(d / name), d / name) for d in _candidate_bin_dirs())
    usable = [(major, path) for major, path in found if major >= server_major]
    if not usable:
        versions = ", ".join(str(m) for m, _ in found) or "none"
        raise BackupError(
            f"No {name} for PostgreSQL {server_major} (found versions: {versions}). "
            "Install the PostgreSQL client tools of that version."
        )
    exact = [item for item in usable if item[0] == server_major]
    return (exact or usable)[0][1]


def server_major(conn) -> int:
    return conn.server_version // 10000


def _run(command: list[str], *, env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{what} failed: {(result.stderr or result.stdout).strip()}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _latest_migrations(conn) -> dict[str, str]:
    with conn.cursor() as cur:
        cur.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app")
        return dict(cur.fetchall())


# --- Backup ----------------------------------------------------------------------------------------


def backup(*, target: Target, media_root: Path, pdf_root: Path, output_dir: Path, now=None) -> Path:
    now = now or datetime.now(UTC)
    output_dir.mkdir(parents=True, exist_ok=True)
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    archive = output_dir / f"backup-{stamp}.tar.gz"
    if archive.exists():
        raise BackupError(f"{archive} already exists")
    with target.connect() as conn:
        major = server_major(conn)
        migrations = _latest_migrations(conn)
    conn.close()
    pg_dump = pg_tool("pg_dump", major)
    with tempfile.TemporaryDirectory(prefix="backup-", dir=output_dir) as work:
        dump = Path(work) / DUMP
        _run(
            [str(pg_dump), "--format=custom", "--no-owner", "--no-privileges", f"--file={dump}"],
            env=target.env(),
            what="pg_dump",
        )
        folders = {"media": Path(media_root), "pdfs": Path(pdf_root)}
        manifest = {
            "format": FORMAT_VERSION,
            "created_at": now.isoformat(),
            "database": target.name,
            "server_major_version": major,
            "pg_dump": str(pg_dump),
            "dump_sha256": _sha256(dump),
            "dump_bytes": dump.stat().st_size,
            "files": {name: _count_files(folder) for name, folder in folders.items()},
            "migrations": migrations,
        }
        (Path(work) / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        partial = archive.with_suffix(".partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(Path(work) / MANIFEST, arcname=MANIFEST)
            tar.add(dump, arcname=DUMP)
            for name, folder in folders.items():
                if folder.is_dir():
                    tar.add(folder, arcname=name)
                else:
                    info = tarfile.TarInfo(name)
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)
        partial.rename(archive)  # a half-written archive never carries the final name
    return archive


def _count_files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0


# --- Restore ---------------------------------------------------------------------------------------


def read_manifest(archive: Path) -> dict:
    if not archive.is_file():
        raise BackupError(f"No backup archive at {archive}")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            manifest = json.loads(member.read())
    except (tarfile.TarError, KeyError, json.JSONDecodeError, OSError) as exc:
        raise BackupError(f"{archive} is not a backup made by `manage.py backup`: {exc}") from exc
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"{archive} has backup format {manifest.get('format')}, expected {FORMAT_VERSION}")
    return manifest


def _ensure_fresh_database(target: Target, *, create: bool) -> int:
    """Create the database if it is missing (when allowed); refuse one that has any table in it."""
    try:
        conn = target.connect()
    except psycopg2.OperationalError as exc:
        if "does not exist" not in str(exc) or not create:
            raise BackupError(f"Cannot connect to database {target.name!r}: {str(exc).strip()}") from exc
        admin = target.connect("postgres")
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.name)))
        admin.close()
        conn = target.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                "AND n.nspname NOT LIKE 'pg_toast%%'"
            )
            (tables,) = cur.fetchone()
        if tables:
            raise BackupError(
                f"Database {target.name!r} already has {tables} tables: restore only into a fresh, empty "
                "database (create one, or drop this one first)."
            )
        return server_major(conn)
    finally:
        conn.close()


def _check_folder_empty(folder: Path, *, replace: bool) -> None:
    if folder.is_dir() and any(folder.iterdir()) and not replace:
        raise BackupError(
            f"{folder} is not empty: restore files into empty folders, or pass --replace-files to "
            "overwrite files of the same name."
        )


def restore(
    *,
    archive: Path,
    target: Target,
    media_root: Path,
    pdf_root: Path,
    create: bool = True,
    replace_files: bool = False,
) -> dict:
    manifest = read_manifest(archive)
    folders = {"media": Path(media_root), "pdfs": Path(pdf_root)}
    for folder in folders.values():
        _check_folder_empty(folder, replace=replace_files)
    with tempfile.TemporaryDirectory(prefix="restore-") as work:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                tar.extractall(work, filter="data")
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise BackupError(f"{archive} cannot be read: {exc}. Nothing was restored.") from exc
        dump = Path(work) / DUMP
        if not dump.is_file() or _sha256(dump) != manifest["dump_sha256"]:
            raise BackupError(f"The database dump in {archive} does not match its manifest: not restored.")
        major = _ensure_fresh_database(target, create=create)
        pg_restore = pg_tool("pg_restore", max(major, int(manifest.get("server_major_version", major))))
        _run(
            [
                str(pg_restore),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={target.name}",
                str(dump),
            ],
            env=target.env(),
            what="pg_restore",
        )
        for name, folder in folders.items():
            source = Path(work) / name
            if source.is_dir():
                folder.mkdir(parents=True, exist_ok=True)
                shutil.copytree(source, folder, dirs_exist_ok=True)
    return manifest
