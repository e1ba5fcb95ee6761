"""The PDF of an issued invoice or credit note (WeasyPrint), rendered once and kept.

User text (names, addresses, references) goes through Django's autoescaping; WeasyPrint's URL
fetcher serves only the project's own static files, never the network or other local files."""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string

from commissioning import pdf

from .models import Invoice

# Every render goes through commissioning.pdf: the one URL fetcher (static files only).
BASE_URL = pdf.BASE_URL
STATIC_PREFIX = pdf.STATIC_PREFIX
StaticOnlyFetcher = pdf.StaticOnlyFetcher


def _groups(invoice: Invoice) -> list[dict]:
    groups: OrderedDict[int, dict] = OrderedDict()
    for line in invoice.lines.select_related("package").order_by("position", "pk"):
        group = groups.setdefault(
            line.package_id or f"line-{line.pk}",
            {
                "package": line.package,
                "client_reference": line.client_reference,
                "nhs_number": line.nhs_number,
                "provider": line.provider,
                "service": line.get_service_type_display(),
                "lines": [],
                "total": 0,
            },
        )
        group["lines"].append(line)
        group["total"] += line.amount
    return list(groups.values())


def render(invoice: Invoice) -> bytes:
    groups = _groups(invoice)
    html = render_to_string(
        "brokerage/pdf/invoice.html",
        {
            "invoice": invoice,
            "is_credit_note": invoice.is_credit_note,
            "is_recharge": invoice.is_recharge,
            "groups": groups,
            "line_count": sum(len(group["lines"]) for group in groups),
            "terms_days": (invoice.due_date - invoice.issue_date).days if invoice.due_date else None,
        },
    )
    return pdf.html(html).write_pdf()


def pdf_root() -> Path:
    return Path(settings.PDF_ROOT) / "invoices"


def render_and_store(invoice: Invoice) -> tuple[str, str]:
    """Write the PDF under ``PDF_ROOT/invoices/`` atomically; return (relative path, SHA-256)."""
    data = render(invoice)
    relative = f"{invoice.issuer.code}/{invoice.number}.pdf"
    target = pdf_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)
    return relative, hashlib.sha256(data).hexdigest()


class PdfMissing(Exception):
    """The kept PDF of an issued invoice is gone or altered: an incident, never re-rendered silently
    (the kept file is the document that was sent; restore it from the backup)."""


def read_kept(invoice: Invoice) -> bytes:
    """The kept file, checked against the checksum recorded when it was rendered."""
    if not invoice.pdf_checksum:
        raise PdfMissing("not rendered yet")
    path = (pdf_root() / invoice.pdf_path).resolve()
    if pdf_root().resolve() not in path.parents:
        raise PdfMissing("outside the PDF folder")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PdfMissing(f"the kept file cannot be read ({exc.__class__.__name__})") from exc
    if hashlib.sha256(data).hexdigest() != invoice.pdf_checksum:
        raise PdfMissing("the kept file does not match its checksum")
    return data
