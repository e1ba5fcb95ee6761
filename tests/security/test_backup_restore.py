"""Backup and restore round trip: issued invoices, a decision, history and access-log rows, uploads
and PDFs survive ``manage.py backup`` then ``manage.py restore`` into a fresh database.

The data is committed (transactional test) so that pg_dump, a separate process, sees it. The fresh
database gets a unique name, so parallel workers (pytest-xdist) never share one; it is dropped at the
end."""

from __future__ import annotations

import io
import json
import tarfile
import uuid
from datetime import date
from pathlib import Path

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from psycopg2 import sql

from brokerage.finance import services as finance_services
from brokerage.models import Invoice
from commissioning.audit import log_access
from commissioning.backups import Target
from commissioning.models import AccessLog
from governance import services as governance_services
from governance.models import Decision
from tests.brokerage.finance import conftest as finance_fixtures
from tests.governance import conftest as governance_fixtures

# Fixtures of the finance and governance suites, used here by name.
broker, ccg, council = finance_fixtures.broker, finance_fixtures.ccg, finance_fixtures.council
make_package, example_one, example_two = (
    finance_fixtures.make_package,
    finance_fixtures.example_one,
    finance_fixtures.example_two,
)
finance = finance_fixtures.finance
scene = governance_fixtures.scene


@pytest.fixture
def run_month(partnership, council, finance, monkeypatch):
    """As the finance suite's run_month, for a committed (transactional) test: the task that
    on_commit would queue is run here instead, as a worker would run it."""
    from brokerage import tasks

    queued = []
    monkeypatch.setattr(tasks.run_recharge, "delay", queued.append)

    def _run(period):
        run = finance_services.recharge_run_request(
            partnership=partnership, issuer=council, period=period, by=finance
        )
        assert queued[-1] == run.pk
        return finance_services.recharge_run_execute(run_id=run.pk)

    return _run


pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


class FakeRequest:
    def __init__(self, user):
        self.user = user
        self.META = {"REMOTE_ADDR": "192.0.2.10"}

    def get_full_path(self):
        return "/finance/invoices/"


@pytest.fixture
def fresh_database():
    """The name of a database that does not exist yet; dropped afterwards."""
    target = Target.from_settings_dict(connection.settings_dict)
    name = f"{target.name}_restore_{uuid.uuid4().hex[:10]}"
    yield name
    admin = target.connect("postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    admin.close()


def _rows(conn, query: str) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(query)
        return cur.fetchall()


HISTORY_TABLES = ("brokerage_invoiceevent", "brokerage_invoicelineevent", "governance_decisionevent")


def _snapshot(conn) -> dict:
    snapshot = {
        "invoices": _rows(
            conn, "SELECT id, number, status, total, issue_date FROM brokerage_invoice ORDER BY id"
        ),
        "invoice_lines": _rows(conn, "SELECT id, invoice_id, amount FROM brokerage_invoiceline ORDER BY id"),
        "decisions": _rows(
            conn, "SELECT id, reference, resolution, outcome FROM governance_decision ORDER BY id"
        ),
        "access_log": _rows(
            conn,
            "SELECT id, user_id, action, object_id, ip_address, at FROM commissioning_accesslog ORDER BY id",
        ),
        "contexts": _rows(conn, "SELECT id, metadata::text FROM pghistory_context ORDER BY id"),
    }
    for table in HISTORY_TABLES:
        snapshot[table] = _rows(conn, f"SELECT pgh_id, pgh_label, pgh_obj_id FROM {table} ORDER BY pgh_id")  # noqa: S608
    return snapshot


def test_backup_then_restore_into_a_fresh_database_keeps_every_number_decision_and_audit_row(
    tmp_path,
    settings,
    example_one,
    example_two,
    run_month,
    finance,
    scene,
    fresh_database,
):
    # Issued invoices with their numbers, and their PDFs on disk
    may = run_month(date(2022, 5, 1))
    june = run_month(date(2022, 6, 1))
    issued = [
        finance_services.invoice_issue(invoice=invoice, by=finance, today=date(2022, 7, 1))
        for invoice in [*may.invoices.all(), *june.invoices.all()]
    ]
    assert len(issued) >= 2 and all(invoice.number for invoice in issued)
    pdf_root = Path(settings.PDF_ROOT)
    for invoice in issued:
        path = pdf_root / "invoices" / f"{invoice.number}.pdf"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.7 invoice " + invoice.number.encode())
    upload = Path(settings.MEDIA_ROOT) / "appendices" / "2022" / "05" / "appendix.pdf"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_bytes(b"%PDF-1.7 appendix")

    # A decision, and access-log rows
    decision = governance_services.decision_record(
        agenda_item=scene.item, resolution="Agreed the brokerage model.", outcome="approved", by=None
    )
    for invoice in issued:
        log_access(request=FakeRequest(finance), obj=invoice, action=AccessLog.Action.DOWNLOAD)

    before = _snapshot(connection.connection)
    assert before["decisions"] == [
        (decision.pk, decision.reference, "Agreed the brokerage model.", "approved")
    ]
    assert {row[1] for row in before["invoices"]} == {invoice.number for invoice in issued}
    assert len(before["access_log"]) == len(issued)
    assert all(before[table] for table in HISTORY_TABLES)

    # Back up
    out = io.StringIO()
    call_command("backup", output_dir=tmp_path / "backups", stdout=out, stderr=io.StringIO())
    archive = Path(out.getvalue().strip())
    assert archive.parent == tmp_path / "backups"
    assert archive.name.startswith("backup-") and archive.name.endswith(".tar.gz")
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert {"manifest.json", "database.dump"} <= names
    assert f"pdfs/invoices/{issued[0].number}.pdf" in names
    assert "media/appendices/2022/05/appendix.pdf" in names
    assert manifest["files"] == {"media": 1, "pdfs": len(issued)}
    assert manifest["database"] == connection.settings_dict["NAME"]

    # Restore into a database that does not exist yet, and into empty folders
    target = Target.from_settings_dict({**connection.settings_dict, "NAME": fresh_database})
    restored_media, restored_pdfs = tmp_path / "restored" / "media", tmp_path / "restored" / "pdfs"
    url = _url(target)
    call_command(
        "restore",
        str(archive),
        database_url=url,
        media_root=restored_media,
        pdf_root=restored_pdfs,
        stdout=io.StringIO(),
    )

    restored = target.connect()
    try:
        after = _snapshot(restored)
        migrations = _rows(restored, "SELECT count(*) FROM django_migrations")[0][0]
        # the restored audit tables are still append-only, and issued invoices still frozen
        with restored.cursor() as cur, pytest.raises(psycopg2.Error):
            cur.execute("UPDATE brokerage_invoice SET total = total + 1 WHERE number IS NOT NULL")
        restored.rollback()
        with restored.cursor() as cur, pytest.raises(psycopg2.Error):
            cur.execute("DELETE FROM commissioning_accesslog")
        restored.rollback()
        with restored.cursor() as cur, pytest.raises(psycopg2.Error):
            cur.execute("DELETE FROM governance_decisionevent")
        restored.rollback()
    finally:
        restored.close()
    assert after == before
    assert migrations > 0
    assert (
        (restored_pdfs / "invoices" / f"{issued[0].number}.pdf").read_bytes().startswith(b"%PDF-1.7 invoice")
    )
    assert (
        restored_media / "appendices" / "2022" / "05" / "appendix.pdf"
    ).read_bytes() == b"%PDF-1.7 appendix"
    assert Invoice.objects.issued().count() == len(issued)  # the source is untouched
    assert Decision.objects.count() == 1

    # A second restore into the now non-empty database is refused, naming the database
    with pytest.raises(CommandError, match=f"Database '{fresh_database}' already has .* tables"):
        call_command(
            "restore", str(archive), database_url=url, media_root=tmp_path / "m2", pdf_root=tmp_path / "p2"
        )


def test_restore_refuses_a_damaged_archive_and_changes_nothing(tmp_path, fresh_database):
    target = Target.from_settings_dict({**connection.settings_dict, "NAME": fresh_database})
    out = io.StringIO()
    call_command("backup", output_dir=tmp_path, stdout=out, stderr=io.StringIO())
    archive = Path(out.getvalue().strip())

    # Same manifest, different dump: the checksum no longer matches
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(damaged, "w:gz") as copy:
        for member in source.getmembers():
            data = source.extractfile(member) if member.isfile() else None
            if member.name == "database.dump":
                payload = data.read()[:-10] + b"0123456789"
                member.size = len(payload)
                copy.addfile(member, io.BytesIO(payload))
            else:
                copy.addfile(member, data)

    with pytest.raises(CommandError, match="does not match its manifest"):
        call_command(
            "restore",
            str(damaged),
            database_url=_url(target),
            media_root=tmp_path / "m",
            pdf_root=tmp_path / "p",
        )
    with pytest.raises(CommandError, match="is not a backup made by"):
        not_a_backup = tmp_path / "nothing.tar.gz"
        not_a_backup.write_bytes(b"not a tar file")
        call_command("restore", str(not_a_backup), database_url=_url(target))
    admin = target.connect("postgres")
    try:
        assert _rows(admin, f"SELECT 1 FROM pg_database WHERE datname = '{fresh_database}'") == []
    finally:
        admin.close()
    assert not (tmp_path / "m").exists()


def test_restore_refuses_files_over_existing_ones(tmp_path, fresh_database):
    out = io.StringIO()
    call_command("backup", output_dir=tmp_path, stdout=out, stderr=io.StringIO())
    archive = Path(out.getvalue().strip())
    media = tmp_path / "media"
    media.mkdir()
    (media / "someone-elses.pdf").write_bytes(b"%PDF")
    target = Target.from_settings_dict({**connection.settings_dict, "NAME": fresh_database})

    with pytest.raises(CommandError, match="is not empty"):
        call_command(
            "restore", str(archive), database_url=_url(target), media_root=media, pdf_root=tmp_path / "p"
        )


def _url(target: Target) -> str:
    from urllib.parse import quote

    auth = quote(target.user or "postgres", safe="")
    if target.password:
        auth += ":" + quote(target.password, safe="")
    if target.host.startswith("/"):
        return f"postgres://{auth}@/{quote(target.name, safe='')}?host={quote(target.host, safe='')}"
    host = target.host or "localhost"
    port = f":{target.port}" if target.port else ""
    return f"postgres://{auth}@{host}{port}/{quote(target.name, safe='')}"
