"""``manage.py restore ARCHIVE [--database-url URL]``: restore a backup into a fresh database.

The target database is ``--database-url`` or, without it, the configured one (``DATABASE_URL`` or the
embedded PostgreSQL). It is created when missing and refused when it already has tables; the restore
runs in one transaction. Uploads and PDFs go to ``MEDIA_ROOT`` and ``PDF_ROOT`` (or
``--media-root``/``--pdf-root``), which must be empty unless ``--replace-files``.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from commissioning import backups


class Command(BaseCommand):
    help = "Restore a backup made by `manage.py backup` into a fresh database and the file folders."

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path, help="The .tar.gz made by `manage.py backup`")
        parser.add_argument(
            "--database-url",
            default="",
            help="postgres://user:password@host:5432/name of the (fresh) database to restore into",
        )
        parser.add_argument("--media-root", type=Path, default=None, help="Default: MEDIA_ROOT")
        parser.add_argument("--pdf-root", type=Path, default=None, help="Default: PDF_ROOT")
        parser.add_argument(
            "--no-create", action="store_true", help="Fail rather than create a missing database"
        )
        parser.add_argument(
            "--replace-files", action="store_true", help="Allow restoring files into non-empty folders"
        )

    def handle(self, *args, archive: Path, database_url: str, media_root, pdf_root, **options):
        if database_url:
            target = backups.Target.from_url(database_url)
        else:
            connections["default"].close()  # restoring into our own database: hold no connection to it
            target = backups.Target.from_settings_dict(connections["default"].settings_dict)
        try:
            manifest = backups.restore(
                archive=archive,
                target=target,
                media_root=media_root or Path(settings.MEDIA_ROOT),
                pdf_root=pdf_root or Path(settings.PDF_ROOT),
                create=not options["no_create"],
                replace_files=options["replace_files"],
            )
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Restored the backup of {manifest['created_at']} into database {target.name!r} "
            f"with {manifest['files']['media']} uploaded and {manifest['files']['pdfs']} generated files."
        )
