"""The PDF of a pooled fund statement (WeasyPrint through ``commissioning.pdf``, the one URL
fetcher), rendered by the worker and kept under ``PDF_ROOT/statements/`` with its checksum."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from commissioning import pdf


class PdfMissing(Exception):
    """The kept file is gone or altered: an incident, never re-rendered silently."""


def render(row, statement) -> bytes:
    html = render_to_string(
        "budgets/pdf/statement.html",
        {"row": row, "statement": statement, "totals": statement.totals(), "produced_at": timezone.now()},
    )
    return pdf.html(html).write_pdf()


def pdf_root() -> Path:
    return Path(settings.PDF_ROOT) / "statements"


def render_and_store(row, statement) -> tuple[str, str]:
    data = render(row, statement)
    span = f"Q{row.quarter}-" if row.quarter else ""
    relative = f"{row.agreement_id}/statement-{row.year}-{span}{row.pk}.pdf"
    target = pdf_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)
    return relative, hashlib.sha256(data).hexdigest()


def read_kept(row) -> bytes:
    if not row.pdf_checksum:
        raise PdfMissing("not rendered yet")
    path = (pdf_root() / row.pdf_path).resolve()
    if pdf_root().resolve() not in path.parents:
        raise PdfMissing("outside the PDF folder")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PdfMissing(f"the kept file cannot be read ({exc.__class__.__name__})") from exc
    if hashlib.sha256(data).hexdigest() != row.pdf_checksum:
        raise PdfMissing("the kept file does not match its checksum")
    return data
