"""Uploaded files: the one place that decides whether an upload is acceptable (security.md, Bad input).

Every upload form field (``PdfUploadField``, ``SpreadsheetUploadField``) and every service that
stores uploaded bytes (``check_pdf``) goes through this module, so the rules are the same in the
web pages, the API and the services:

- **Size**: at most ``settings.MAX_UPLOAD_MB`` (and a smaller per-field limit where one is given).
  ``SizeLimitUploadHandler``, first in ``FILE_UPLOAD_HANDLERS``, passes at most that many bytes
  plus one of each file to Django's memory/temporary-file handlers and drops the rest, so an
  oversized file never fills memory or the disk; the field then sees a file one byte over the
  limit and refuses it with a message naming the field.
- **Type by content, not by name**: a PDF must start with ``%PDF-``, be readable by pypdf, not be
  password protected and have at least one page; an XLSX must be a readable OOXML workbook
  (zip-bomb and macro checks); a CSV must be UTF-8 text without NUL bytes. The name's extension
  must agree with the content.
- **Active content in PDFs is refused, not neutralised**: JavaScript (``/JS``, ``/JavaScript``),
  automatic actions (``/OpenAction`` other than a plain "open at this page" destination, ``/AA``),
  ``/Launch``, ``/SubmitForm``, ``/ImportData``, embedded files (``/EmbeddedFiles``, ``/EF``,
  ``/EmbeddedFile``), ``/RichMedia`` and ``/XFA``. The whole object graph pypdf reads is walked
  (so names inside compressed object streams are found too), and the file's text outside streams
  is scanned with ``#xx`` name escapes decoded (so ``/J#53`` is ``/JS``).
- **PDF bombs are refused at upload**: at most ``MAX_PDF_PAGES`` pages (``settings.MAX_PDF_PAGES``)
  and every stream is trial-decompressed with limits, never more than the limit inflated:
  no stream over ``MAX_PDF_STREAM_INFLATED`` (below pypdf's own 75 MB limit, which would
  otherwise stop a board pack that merges the page), all streams together at most
  ``MAX_PDF_INFLATED``. A 300 KB file inflating to 300 MB, or a 3,000-page file, is refused.
- **Names**: the original name is kept only as display text (``display_name``: no folders, no
  control characters, at most 100 characters); a file is stored under a generated name
  (``storage_name``), never under anything the user chose.

A refusal is a ``ValidationError`` keyed by the field (``{"file": [...]}``): a form shows it on the
field, the API answers 400 with it, and nothing is written.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import FileUploadHandler

PDF_CONTENT_TYPE = "application/pdf"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv"

# PDF dictionary keys that run something, or carry files, when the document is opened or used.
ACTIVE_KEYS = frozenset(
    {
        "/JS",
        "/JavaScript",
        "/AA",
        "/Launch",
        "/EmbeddedFiles",
        "/EF",
        "/RichMedia",
        "/XFA",
    }
)
# Action types (``/S``) and object types (``/Type``) that do the same.
ACTIVE_ACTIONS = frozenset(
    {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/RichMediaExecute", "/GoToE", "/Rendition"}
)
ACTIVE_TYPES = frozenset({"/EmbeddedFile"})
ACTIVE_MARKERS = frozenset({("/S", a) for a in ACTIVE_ACTIONS} | {("/Type", t) for t in ACTIVE_TYPES})
# The same names as they may appear in the file's text (outside streams), after #xx decoding.
_RAW_ACTIVE = re.compile(
    rb"/(JS|JavaScript|AA|Launch|EmbeddedFiles?|RichMedia|XFA|SubmitForm|ImportData)(?=[\s()<>\[\]{}/%]|$)"
)
_RAW_NAME = re.compile(rb"/[^\s()<>\[\]{}/%]+")
_STREAM = re.compile(rb"stream\r?\n.*?endstream", re.DOTALL)
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# A PDF whose object graph is bigger than this is refused rather than checked for ever.
MAX_PDF_OBJECTS = 200_000
# PDF bombs (issue 19): pages, one stream inflated, all streams inflated.
MAX_PDF_PAGES = 500
MAX_PDF_STREAM_INFLATED = 50 * 1024 * 1024
MAX_PDF_INFLATED = 150 * 1024 * 1024
# Filters of image data only: pypdf copies such streams into a pack without decoding them.
IMAGE_FILTERS = frozenset({"/DCTDecode", "/DCT", "/JPXDecode", "/JBIG2Decode", "/CCITTFaxDecode", "/CCF"})
FLATE_FILTERS = frozenset({"/FlateDecode", "/Fl"})
# An XLSX (a zip) may not unpack to more than this, nor hold more members.
MAX_XLSX_UNPACKED = 100 * 1024 * 1024
MAX_XLSX_MEMBERS = 10_000


def max_upload_bytes() -> int:
    """The largest file any upload may be (``settings.MAX_UPLOAD_MB``, default 10 MB)."""
    return int(getattr(settings, "MAX_UPLOAD_MB", 10)) * 1024 * 1024


def _megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:g} MB" if value >= 1 else f"{size // 1024} KB"


def _refuse(field: str, message: str) -> ValidationError:
    return ValidationError({field: [ValidationError(message, code="invalid_upload")]})


# --- Names --------------------------------------------------------------------------------------


def display_name(name: str | None, *, fallback: str = "upload") -> str:
    """The original name as text to show: the last path part only (``/`` and ``\\`` both count),
    no control or format characters, no leading dots, at most 100 characters."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = text.strip().lstrip(".").strip()
    if len(text) > 100:
        stem, dot, suffix = text.rpartition(".")
        text = (stem[: 99 - len(suffix)] + dot + suffix) if dot and len(suffix) <= 10 else text[:100]
    return text or fallback


def storage_name(extension: str) -> str:
    """A generated file name to store an upload under: nothing of the user's name is used."""
    extension = re.sub(r"[^a-z0-9]", "", extension.lower())[:8] or "bin"
    return f"{uuid.uuid4().hex}.{extension}"


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


# --- Reading ------------------------------------------------------------------------------------


def read_limited(upload, *, field: str, label: str, max_bytes: int | None = None) -> bytes:
    """All the bytes of an uploaded file, refused (naming the field) if it is over the limit."""
    limit = min(max_bytes or max_upload_bytes(), max_upload_bytes())
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _refuse(field, f"{label} must be {_megabytes(limit)} or smaller.")
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise _refuse(field, f"{label} must be {_megabytes(limit)} or smaller.")
    if not data:
        raise _refuse(field, f"{label} is empty.")
    return data


# --- PDF ----------------------------------------------------------------------------------------


def _decode_names(text: bytes) -> bytes:
    """PDF names with their ``#xx`` escapes decoded (``/J#53`` is ``/JS``)."""
    return _RAW_NAME.sub(lambda m: _HEX_ESCAPE.sub(lambda h: bytes([int(h.group(1), 16)]), m.group(0)), text)


def _raw_active_names(data: bytes) -> set[str]:
    outside_streams = _STREAM.sub(b" ", data)
    return {"/" + m.group(1).decode() for m in _RAW_ACTIVE.finditer(_decode_names(outside_streams))}


def _graph_active_names(reader, streams: list | None = None) -> set[str]:
    """Active keys and action types anywhere in the objects reachable from the trailer (and the
    stream objects met on the way, appended to ``streams``)."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

    found: set[str] = set()
    seen: set[tuple[int, int]] = set()
    stack: list = [reader.trailer]
    visited = 0
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            key = (obj.idnum, obj.generation)
            if key in seen:
                continue
            seen.add(key)
            obj = obj.get_object()
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            raise ValueError("too many objects to check")
        if streams is not None and isinstance(obj, StreamObject):
            streams.append(obj)
        if isinstance(obj, DictionaryObject):
            for name, value in dict.items(obj):
                name = str(name)
                if name in ACTIVE_KEYS:
                    found.add(name)
                elif name == "/OpenAction":
                    # "Open at this page" (a destination array or a /GoTo action) is harmless.
                    action = value.get_object() if isinstance(value, IndirectObject) else value
                    if isinstance(action, DictionaryObject) and str(action.get("/S", "")) != "/GoTo":
                        found.add(name)
                elif (name, str(value)) in ACTIVE_MARKERS:
                    found.add(str(value))
                stack.append(value)
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    return found


class PdfBomb(ValueError):
    """A stream inflates past the limits."""


def _inflate_limited(encoded: bytes, limit: int) -> int:
    """How many bytes a Flate stream inflates to, never inflating more than ``limit + 1`` of them
    (and never holding more than a chunk): ``PdfBomb`` past the limit."""
    import zlib

    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 32)  # zlib or gzip header, as pypdf reads
    size = 0
    data = encoded
    try:
        while data:
            chunk = decompressor.decompress(data, 1024 * 1024)
            size += len(chunk)
            if size > limit:
                raise PdfBomb(size)
            data = decompressor.unconsumed_tail
            if decompressor.eof or not chunk:
                break
    except zlib.error:
        pass  # damaged data: pypdf recovers what it can, which is no more than was inflated here
    return size


def _filters(stream) -> list[str]:
    from pypdf.generic import ArrayObject

    value = stream.get("/Filter")
    if value is None:
        return []
    value = value.get_object()
    items = value if isinstance(value, ArrayObject) else [value]
    return [str(f.get_object() if hasattr(f, "get_object") else f) for f in items]


def check_pdf_streams(streams, *, per_stream: int | None = None, total: int | None = None) -> int:
    """The inflated size of the streams, measured with limits: ``PdfBomb`` when one stream would
    inflate past ``per_stream`` or all of them past ``total``."""
    per_stream = per_stream or getattr(settings, "MAX_PDF_STREAM_INFLATED", MAX_PDF_STREAM_INFLATED)
    total = total or getattr(settings, "MAX_PDF_INFLATED", MAX_PDF_INFLATED)
    inflated = 0
    for stream in streams:
        encoded = getattr(stream, "_data", b"") or b""
        filters = _filters(stream)
        if not filters or filters[0] in IMAGE_FILTERS:
            size = len(encoded)
        elif filters[0] in FLATE_FILTERS and len(filters) == 1:
            size = _inflate_limited(encoded, min(per_stream, total - inflated))
        else:  # other or chained filters: pypdf decodes them under its own limits
            size = len(stream.get_data())
        if size > per_stream:
            raise PdfBomb(size)
        inflated += size
        if inflated > total:
            raise PdfBomb(inflated)
    return inflated


@dataclass(frozen=True)
class PdfInfo:
    page_count: int


def check_pdf(
    data: bytes, *, field: str = "file", label: str = "The file", max_pages: int | None = None
) -> PdfInfo:
    """Refuse anything that is not a plain, readable PDF (see the module docstring)."""
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError

    max_pages = max_pages or getattr(settings, "MAX_PDF_PAGES", MAX_PDF_PAGES)
    too_big = (
        f"{label} unpacks to far more than its size (a compressed part inflates past the limit "
        "this service reads). Save or print it again as a plain PDF and upload that."
    )
    if not data.startswith(b"%PDF-"):
        raise _refuse(field, f"{label} must be a PDF: its content is not a PDF, whatever its name says.")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise _refuse(field, f"{label} is password protected: upload it without a password.")
        pages = len(reader.pages)
        if pages > max_pages:
            raise _refuse(field, f"{label} has {pages} pages; a PDF may have at most {max_pages}.")
        streams: list = []
        active = _graph_active_names(reader, streams) | _raw_active_names(data)
        check_pdf_streams(streams)
    except ValidationError:
        raise
    except (PdfBomb, LimitReachedError) as error:
        raise _refuse(field, too_big) from error
    except Exception as error:  # noqa: BLE001 - pypdf raises many kinds; any of them means unreadable
        raise _refuse(field, f"{label} is not a readable PDF.") from error
    if pages < 1:
        raise _refuse(field, f"{label} has no pages.")
    if active:
        raise _refuse(
            field,
            f"{label} contains active content ({', '.join(sorted(active))}): scripts, automatic "
            "actions and embedded files are not accepted. Save or print it again as a plain PDF "
            "and upload that.",
        )
    return PdfInfo(page_count=pages)


# --- Spreadsheets -------------------------------------------------------------------------------


def check_spreadsheet(data: bytes, name: str, *, field: str = "file", label: str = "The file") -> str:
    """``"xlsx"`` or ``"csv"``, checked by content; refused if it is neither or the name disagrees."""
    extension = _extension(name)
    if extension not in ("xlsx", "csv"):
        raise _refuse(field, f"{label} must be an XLSX or CSV file.")
    is_zip = data.startswith(b"PK\x03\x04")
    if extension == "xlsx":
        if not is_zip:
            raise _refuse(field, f"{label} is named .xlsx but its content is not an XLSX workbook.")
        _check_xlsx(data, field=field, label=label)
        return "xlsx"
    if is_zip or data.startswith(b"%PDF-") or b"\x00" in data:
        raise _refuse(field, f"{label} is named .csv but its content is not text.")
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse(field, f"{label} must be saved as UTF-8 CSV.") from None
    return "csv"


def _check_xlsx(data: bytes, *, field: str, label: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise _refuse(field, f"{label} is not a readable XLSX workbook.") from error
    names = {m.filename for m in members}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise _refuse(field, f"{label} is not an XLSX workbook.")
    if any(m.flag_bits & 0x1 for m in members):
        raise _refuse(field, f"{label} is password protected: upload it without a password.")
    if any(m.filename.lower().endswith("vbaproject.bin") for m in members):
        raise _refuse(field, f"{label} contains macros: save it as a plain .xlsx workbook.")
    if len(members) > MAX_XLSX_MEMBERS or sum(m.file_size for m in members) > MAX_XLSX_UNPACKED:
        raise _refuse(field, f"{label} unpacks to more than {_megabytes(MAX_XLSX_UNPACKED)}.")


# --- The checked file ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed every check: its bytes, its original name as display text only, and
    the generated name to store it under."""

    data: bytes
    display_name: str
    storage_name: str
    kind: str  # "pdf", "xlsx" or "csv"
    content_type: str
    page_count: int | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def check_pdf_upload(
    upload, *, field: str = "file", label: str = "The file", max_bytes: int | None = None
) -> CheckedUpload:
    data = read_limited(upload, field=field, label=label, max_bytes=max_bytes)
    info = check_pdf(data, field=field, label=label)
    return CheckedUpload(
        data=data,
        display_name=display_name(getattr(upload, "name", ""), fallback="document.pdf"),
        storage_name=storage_name("pdf"),
        kind="pdf",
        content_type=PDF_CONTENT_TYPE,
        page_count=info.page_count,
    )


def check_spreadsheet_upload(
    upload, *, field: str = "file", label: str = "The file", max_bytes: int | None = None
) -> CheckedUpload:
    data = read_limited(upload, field=field, label=label, max_bytes=max_bytes)
    name = display_name(getattr(upload, "name", ""), fallback="sheet")
    kind = check_spreadsheet(data, name, field=field, label=label)
    return CheckedUpload(
        data=data,
        display_name=name,
        storage_name=storage_name(kind),
        kind=kind,
        content_type=XLSX_CONTENT_TYPE if kind == "xlsx" else CSV_CONTENT_TYPE,
    )


# --- Form fields --------------------------------------------------------------------------------


class _CheckedFileField(forms.FileField):
    """A file field whose cleaned value is a ``CheckedUpload`` (or None when optional and empty)."""

    checker = None
    accept = ""

    def __init__(self, *args, max_bytes: int | None = None, **kwargs):
        self.max_bytes = max_bytes
        super().__init__(*args, **kwargs)
        if self.accept:
            self.widget.attrs.setdefault("accept", self.accept)

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if not upload:
            return None
        label = "The file"
        if self.label:
            text = str(self.label)
            label = "The " + (text if text[1:2].isupper() else text[:1].lower() + text[1:])
        try:
            return type(self).checker(upload, field="file", label=label, max_bytes=self.max_bytes)
        except ValidationError as error:
            raise forms.ValidationError(
                [message for messages in error.message_dict.values() for message in messages],
                code="invalid_upload",
            ) from error


class PdfUploadField(_CheckedFileField):
    checker = staticmethod(check_pdf_upload)
    accept = ".pdf,application/pdf"


class SpreadsheetUploadField(_CheckedFileField):
    checker = staticmethod(check_spreadsheet_upload)
    accept = ".xlsx,.csv"


# --- The upload handler -------------------------------------------------------------------------


class SizeLimitUploadHandler(FileUploadHandler):
    """First in ``FILE_UPLOAD_HANDLERS``: passes at most ``max_upload_bytes() + 1`` bytes of each
    file on to the handlers after it and drops the rest, so an oversized file costs neither memory
    nor disk; the form field sees a file over the limit and refuses it by name."""

    def receive_data_chunk(self, raw_data, start):
        keep = max_upload_bytes() + 1
        if start >= keep:
            return None
        if start + len(raw_data) > keep:
            return raw_data[: keep - start]
        return raw_data

    def file_complete(self, file_size):
        return None
