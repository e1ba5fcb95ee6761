"""CSV and XLSX downloads of a list, for every app.

A list is described by columns, each a ``(header, accessor)`` pair. The accessor is a callable
taking a row, or a dotted attribute path (``"provider.organisation.name"``); a callable attribute at
the end of the path is called (``"get_status_display"``). Rows are any iterable, so a queryset can
be streamed with ``.iterator()``.

This is the one CSV writer of the product: web exports, the API's ``?format=csv``
(``commissioning.api.renderers``) and the audit trail's streamed exports all write through
``csv_lines``, so there is one dialect (api.md): UTF-8 with a byte-order mark, CRLF, ISO dates,
plain numbers, and formula-like text neutralised. A long report whose cells the database already
writes in that dialect (``CsvLineSQL``, held to ``csv_row`` by a test) streams through
``csv_text_chunks`` a chunk of lines at a time.

Values keep their types: numbers and dates stay numbers and dates in XLSX and are written plainly
(ISO dates, plain decimals) in CSV. Text that a spreadsheet would run as a formula (a leading
``=``, ``+``, ``-``, ``@``, tab or carriage return; OWASP "CSV injection") is neutralised: in CSV
with a leading apostrophe, in XLSX by storing it as a text cell with Excel's quote prefix, so it
shows exactly as typed and is never evaluated, even after the cell is edited.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Func, TextField
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify

Accessor = str | Callable[[Any], Any]
Column = tuple[str, Accessor]

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")

_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
# ASCII digits to the very end (``\Z``, not ``$``, which also matches before a final line break):
# the same test as ``CsvTextSQL``'s in PostgreSQL.
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?\Z")
_MONEY_FORMAT = "#,##0.00"
_DATE_FORMAT = "dd/mm/yyyy"
_XLSX_SHEET_TITLE_MAX = 31


def resolve(row: Any, accessor: Accessor) -> Any:
    """The value of one cell: call the accessor, or follow the dotted path (None stops it)."""
    if callable(accessor):
        return accessor(row)
    value = row
    for part in accessor.split("."):
        if value is None:
            return None
        value = value.get(part) if isinstance(value, dict) else getattr(value, part)
    if callable(value):
        value = value()
    return value


def is_formula_like(text: str) -> bool:
    """Would a spreadsheet treat this text as a formula (or DDE payload)? A plain number (``-250.91``)
    is not; text whose first character, after any leading spaces and line breaks, is ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return is (api.md)."""
    if not text or _PLAIN_NUMBER.match(text):
        return False
    return text[0] in _FORMULA_TRIGGERS or text.lstrip(" \n\r")[:1] in _FORMULA_TRIGGERS


def neutralise(text: str) -> str:
    """The text as a CSV cell that spreadsheets show as typed and never evaluate."""
    return "'" + text if is_formula_like(text) else text


def _plain(value: Any) -> Any:
    """A cell value with a type a spreadsheet understands (model instances become their text)."""
    if value is None or isinstance(value, bool | int | float | Decimal | date):
        return value
    if isinstance(value, list | tuple | set):
        return "; ".join(str(v) for v in value)
    return str(value)


def table(columns: Sequence[Column], rows: Iterable[Any]) -> Iterable[list[Any]]:
    """The header row, then one list of plain values per row."""
    yield [header for header, _ in columns]
    for row in rows:
        yield [_plain(resolve(row, accessor)) for _, accessor in columns]


def csv_cell(value: Any) -> str:
    """One value in the one CSV dialect (api.md): ISO dates, plain numbers (money with its two
    places), ``True``/``False`` (what a spreadsheet reads as a boolean, as the XLSX cell is), and
    text that could run as a formula neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(value) else str(value)
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int | float):
        return str(value)
    return neutralise(str(value))


class _Echo:
    """A file-like object that hands back what csv.writer writes, for streaming."""

    def write(self, value: str) -> str:
        return value


def csv_row(values: Sequence[Any]) -> str:
    """One line of the one dialect: every cell through ``csv_cell``, ``csv.writer``'s quoting, CRLF."""
    return csv.writer(_Echo(), lineterminator="\r\n").writerow([csv_cell(v) for v in values])


def csv_lines(rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV text of ``rows`` (the header first), a line at a time: a byte-order mark (so Excel
    reads £ and accents as UTF-8), every cell through ``csv_cell``, CRLF line ends."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield BOM
    for values in rows:
        yield writer.writerow([csv_cell(v) for v in values])


# --- The same dialect written by PostgreSQL, for long reports ------------------------------------

# ``is_formula_like`` (and so ``neutralise``), then ``csv.writer``'s minimal quoting, as SQL on one
# text expression ``{x}``.
_SQL_NEUTRALISED = (
    r"CASE WHEN {x} ~ '^([\t\r]|[ \n\r]*[-=+@\t])' AND {x} !~ '^[+-]?[0-9]+(\.[0-9]+)?$' "
    r"THEN '''' || {x} ELSE {x} END"
)
_SQL_CELL = r"""CASE WHEN {x} ~ '[,"\r\n]' THEN '"' || replace({n}, '"', '""') || '"' ELSE {n} END"""


class CsvTextSQL(Func):
    """A text cell as ``csv_cell`` and ``csv.writer`` write it, in PostgreSQL: neutralised
    (``neutralise``), then quoted when it holds a comma, a double quote or a line break (its double
    quotes doubled); NULL stays NULL (a blank cell). The expression is written several times in
    the SQL, so it must be a column or another expression without parameters."""

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        if params:
            raise ValueError("CsvTextSQL takes an expression without parameters (a column)")
        x = f"({sql})"
        neutralised = "(" + _SQL_NEUTRALISED.format(x=x) + ")"
        return "(" + _SQL_CELL.format(x=x, n=neutralised) + ")", []


class CsvLineSQL(Func):
    """One line of the one dialect written by PostgreSQL: the cells joined by commas, ended by CRLF,
    NULL blank. Text cells go in as ``CsvTextSQL``; every other cell must already be the plain text
    the dialect writes as it is (dates by ``to_char`` as ISO, numbers ``::text``, ``True`` or
    ``False``). A test holds it to ``csv_row`` byte for byte on any text."""

    arg_joiner = ", ',', "
    template = r"concat(%(expressions)s, E'\r\n')"
    output_field = TextField()


def csv_text_chunks(header: Sequence[str], chunks: Iterable[Iterable[str]]) -> Iterator[str]:
    """A long CSV in the one dialect, streamed: the byte-order mark and the header (``csv_row``),
    then one string per chunk of lines already written (by ``CsvLineSQL`` in the database, or by
    ``csv_row``), so memory stays flat in the rows and Python touches each line once."""
    yield BOM + csv_row(header)
    for lines in chunks:
        yield "".join(lines)


def to_csv(columns: Sequence[Column], rows: Iterable[Any]) -> bytes:
    return "".join(csv_lines(table(columns, rows))).encode("utf-8")


def csv_response(filename: str, rows: Iterable[Sequence[Any]], *, stream: bool = False) -> HttpResponse:
    """A CSV download of ``rows`` (header first); ``stream`` for long exports (memory stays flat)."""
    if stream:
        response = StreamingHttpResponse(
            (line.encode("utf-8") for line in csv_lines(rows)), content_type=CSV_CONTENT_TYPE
        )
    else:
        response = HttpResponse("".join(csv_lines(rows)).encode("utf-8"), content_type=CSV_CONTENT_TYPE)
    return _attachment(response, filename if filename.endswith(".csv") else f"{filename}.csv")


def _attachment(response: HttpResponse, name: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


def to_xlsx(columns: Sequence[Column], rows: Iterable[Any], *, sheet_title: str = "Export") -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=re.sub(r"[\[\]:*?/\\]", " ", sheet_title)[:_XLSX_SHEET_TITLE_MAX])
    bold = Font(bold=True)
    for index, values in enumerate(table(columns, rows)):
        cells = []
        for value in values:
            if isinstance(value, datetime) and timezone.is_aware(value):
                value = timezone.localtime(value).replace(tzinfo=None)
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, never a formula or an error code
                if is_formula_like(value):
                    cell.quotePrefix = True
            elif isinstance(value, Decimal):
                cell.number_format = _MONEY_FORMAT
            elif isinstance(value, date) and not isinstance(value, datetime):
                cell.number_format = _DATE_FORMAT
            if index == 0:
                cell.font = bold
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_response(
    fmt: str, *, columns: Sequence[Column], rows: Iterable[Any], filename: str, sheet_title: str = "Export"
) -> HttpResponse:
    """A download of the rows as ``fmt`` (``csv`` or ``xlsx``); ``filename`` has no extension."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    name = f"{slugify(filename) or 'export'}.{fmt}"
    if fmt == "csv":
        response = HttpResponse(to_csv(columns, rows), content_type=CSV_CONTENT_TYPE)
    else:
        response = HttpResponse(
            to_xlsx(columns, rows, sheet_title=sheet_title), content_type=XLSX_CONTENT_TYPE
        )
    return _attachment(response, name)
