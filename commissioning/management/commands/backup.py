"""``manage.py backup [--output-dir DIR]``: one archive of the database and the file folders.

The archive (``var/backups/backup-<UTC time>.tar.gz`` by default) holds a ``pg_dump`` in custom
format, ``MEDIA_ROOT`` (uploads) and ``PDF_ROOT`` (generated invoices and packs), and a manifest;
see ``commissioning/backups.py``. Only the archive's path goes to standard output.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from commissioning import backups


class Command(BaseCommand):
    help = "Back up the database (pg_dump, custom format) and the uploads and PDF folders into one archive."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output-dir",
            type=Path,
            default=None,
            help="Folder for the archive (default: var/backups under VAR_DIR)",
        )

    def handle(self, *args, output_dir: Path | None, **options):
        output_dir = output_dir or (Path(settings.VAR_DIR) / "backups")
        target = backups.Target.from_settings_dict(connections["default"].settings_dict)
        try:
            archive = backups.backup(
                target=target,
                media_root=Path(settings.MEDIA_ROOT),
                pdf_root=Path(settings.PDF_ROOT),
                output_dir=output_dir,
            )
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        manifest = backups.read_manifest(archive)
        self.stderr.write(
            f"Backed up database {target.name!r} ({manifest['dump_bytes']} bytes), "
            f"{manifest['files']['media']} uploaded and {manifest['files']['pdfs']} generated files."
        )
        self.stdout.write(str(archive))
