"""Import budget lines of a schedule from an XLSX or CSV sheet: every row is validated, every bad
row is reported (row number, column, message), and nothing is written unless every row is good.

Columns (first row, any order, case-insensitive): ``name``, ``year``, ``funding_stream``,
``amount`` and optionally ``status``. A year is ``2022`` or ``2022/23``; an amount may carry £ and
thousands separators; a status is indicative (the default), mobilisation or approved.

A workbook is a zip archive, and a small one can unpack to a great deal (issue 19: 232 KB unpacking
to 94 MB). Before openpyxl opens it, the archive's members are checked: at most
``MAX_UNPACKED_BYTES`` in all (the sizes the archive declares are the most ``zipfile`` will
inflate), no large member inflating more than ``MAX_RATIO`` times. Rows are then streamed (read-only
mode, at most ``MAX_COLUMNS`` columns) and reading stops as soon as the row limit is passed, blank
rows included up to ``MAX_SCANNED_ROWS`` (a sheet can claim a million empty rows in a few bytes).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from budgets import services
from budgets.models import BudgetLine, FundingStream, LineStatus, Schedule
from commissioning.models import User
from commissioning.money import MONEY_MAX

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
MAX_UNPACKED_BYTES = 10 * 1024 * 1024  # a 5,000-row sheet unpacks to about 1.5 MB
MAX_RATIO = 100  # a member over RATIO_FLOOR bytes inflating more than this is refused
RATIO_FLOOR = 1024 * 1024
MAX_MEMBERS = 500
MAX_COLUMNS = 30
MAX_SCANNED_ROWS = 4 * MAX_ROWS  # blank rows count here, so a sheet of empty rows stops too
ALIASES = {
    "name": "name",
    "budget line": "name",
    "line": "name",
    "year": "year",
    "financial year": "year",
    "funding_stream": "funding_stream",
    "funding stream": "funding_stream",
    "stream": "funding_stream",
    "amount": "amount",
    "status": "status",
}
REQUIRED = ("name", "year", "funding_stream", "amount")
_YEAR = re.compile(r"^(\d{4})(?:\s*[/-]\s*(\d{2}|\d{4}))?$")


class ImportFileError(ValueError):
    """The file as a whole cannot be read (wrong type, too big, no header)."""


@dataclass
class RowError:
    row: int  # the row number as the spreadsheet shows it (the header is row 1)
    column: str
    message: str


@dataclass
class ImportReport:
    rows: int = 0
    created: list[BudgetLine] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})


def read_rows(content: bytes, filename: str) -> list[dict[str, Any]]:
    """The sheet's rows as dicts keyed by the canonical column names."""
    if len(content) > MAX_BYTES:
        raise ImportFileError("The file must be smaller than 2 MB.")
    lower = filename.lower()
    if lower.endswith(".xlsx"):
        if not content.startswith(b"PK"):
            raise ImportFileError("The file is not an XLSX workbook.")
        return _rows_as_dicts(_xlsx_rows(content))
    if lower.endswith(".csv"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ImportFileError("The CSV file must be saved as UTF-8.") from None
        return _rows_as_dicts(csv.reader(io.StringIO(text)))
    raise ImportFileError("Upload an XLSX or CSV file.")


def _rows_as_dicts(raw: Iterable[Iterable[Any]]) -> list[dict[str, Any]]:
    """Read rows until the sheet ends or a limit is passed (then stop at once: the rest is never
    read). The first non-blank row is the header."""
    header: list[str | None] | None = None
    rows: list[dict[str, Any]] = []
    for scanned, values in enumerate(raw, start=1):
        if scanned > MAX_SCANNED_ROWS:
            raise ImportFileError(
                f"The sheet has more than {MAX_SCANNED_ROWS} rows (blank ones included); "
                f"a sheet may hold at most {MAX_ROWS} rows."
            )
        values = list(values)
        if not any(str(c or "").strip() for c in values):
            continue
        if header is None:
            header = [ALIASES.get(str(c or "").strip().lower()) for c in values]
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                raise ImportFileError(
                    "The first row must name the columns; missing: " + ", ".join(missing) + "."
                )
            continue
        if len(rows) == MAX_ROWS:
            raise ImportFileError(f"A sheet may hold at most {MAX_ROWS} rows.")
        rows.append({name: value for name, value in zip(header, values, strict=False) if name})
    if header is None:
        raise ImportFileError("The file is empty.")
    return rows


def check_xlsx_archive(content: bytes) -> None:
    """Refuse a workbook whose archive would unpack to too much, before anything inflates it."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError):
        raise ImportFileError("The XLSX workbook cannot be read.") from None
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise ImportFileError("The XLSX workbook cannot be read: it holds too many parts.")
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_FLOOR and ratio > MAX_RATIO:
            raise ImportFileError(
                f"The XLSX workbook unpacks to far more than its size ({member.filename} inflates "
                f"{ratio:.0f} times); save it again without blank or formatted rows."
            )
    if total > MAX_UNPACKED_BYTES:
        raise ImportFileError(
            f"The XLSX workbook unpacks to {total / 1024 / 1024:.1f} MB; a sheet for import may unpack "
            f"to at most {MAX_UNPACKED_BYTES // (1024 * 1024)} MB."
        )


def _xlsx_rows(content: bytes) -> Iterator[tuple[Any, ...]]:
    from openpyxl import load_workbook

    check_xlsx_archive(content)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
    except Exception as error:  # noqa: BLE001 - any unreadable workbook is one message to the user
        raise ImportFileError("The XLSX workbook cannot be read.") from error
    try:
        yield from sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
    except ImportFileError:
        raise
    except Exception as error:  # noqa: BLE001 - a part that cannot be parsed half-way through
        raise ImportFileError("The XLSX workbook cannot be read.") from error
    finally:
        workbook.close()


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def parse_year(value: Any) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool) and int(value) == value:
        return int(value)
    match = _YEAR.match(_text(value))
    if not match:
        raise ValueError("Give the financial year as 2022 or 2022/23.")
    start = int(match.group(1))
    if match.group(2):
        end = int(match.group(2))
        if (len(match.group(2)) == 2 and end != (start + 1) % 100) or (
            len(match.group(2)) == 4 and end != start + 1
        ):
            raise ValueError(f"{_text(value)} is not a financial year: the second year follows the first.")
    return start


def parse_amount(value: Any) -> Decimal:
    if isinstance(value, float):
        value = repr(value)
    text = _text(value).replace("£", "").replace(",", "").replace(" ", "")
    if not text:
        raise ValueError("Enter the amount.")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{_text(value)} is not an amount of money.") from None
    if not amount.is_finite():
        raise ValueError(f"{_text(value)} is not an amount of money.")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("The amount must not have more than 2 decimal places.")
    if amount < 0:
        raise ValueError("The amount cannot be negative.")
    if amount > MONEY_MAX:
        raise ValueError("The amount must be less than £1 trillion.")
    return amount.quantize(Decimal("0.01"))


def parse_status(value: Any) -> str:
    text = _text(value).lower()
    if not text:
        return LineStatus.INDICATIVE
    for choice, label in LineStatus.choices:
        if text in (choice, label.lower()):
            return choice
    raise ValueError("The status must be indicative, mobilisation or approved.")


def validate_rows(schedule: Schedule, rows: list[dict[str, Any]]) -> tuple[list[dict], list[RowError]]:
    """Every row's service arguments, or every row's errors. Reads only; writes nothing."""
    streams = {
        s.name.strip().lower(): s
        for s in FundingStream.objects.filter(partnership=schedule.agreement.partnership).select_related(
            "organisation"
        )
    }
    good: list[dict] = []
    errors: list[RowError] = []
    seen: dict[tuple, int] = {}
    for index, row in enumerate(rows, start=2):
        row_errors: list[RowError] = []
        fields: dict[str, Any] = {"schedule": schedule}
        name = _text(row.get("name"))
        if not name:
            row_errors.append(RowError(index, "name", "Enter the name of the budget line."))
        elif len(name) > 200:
            row_errors.append(RowError(index, "name", "The name must be 200 characters or fewer."))
        fields["name"] = name
        parsers = (("year", parse_year), ("amount", parse_amount), ("status", parse_status))
        for column, parser in parsers:
            try:
                fields[column] = parser(row.get(column))
            except ValueError as error:
                row_errors.append(RowError(index, column, str(error)))
        stream_name = _text(row.get("funding_stream"))
        stream = streams.get(stream_name.lower())
        if stream is None:
            known = ", ".join(s.name for s in streams.values()) or "none yet"
            row_errors.append(
                RowError(
                    index,
                    "funding_stream",
                    f"“{stream_name}” is not a funding stream of {schedule.agreement.partnership.name} "
                    f"(known: {known}).",
                )
            )
        fields["funding_stream"] = stream
        if not row_errors:
            line = BudgetLine(**fields)
            for column, messages in services.budget_line_errors(line).items():
                row_errors.extend(RowError(index, column, m) for m in messages)
            key = (fields["year"], stream.pk, name)
            if key in seen:
                row_errors.append(
                    RowError(index, "name", f"Row {seen[key]} already has this line, stream and year.")
                )
            seen.setdefault(key, index)
        if row_errors:
            errors.extend(row_errors)
        else:
            good.append(fields)
    return good, errors


def import_lines(*, schedule: Schedule, content: bytes, filename: str, by: User) -> ImportReport:
    """Validate the whole sheet; create every line in one transaction only if no row is bad."""
    report = ImportReport()
    try:
        rows = read_rows(content, filename)
    except ImportFileError as error:
        report.errors.append(RowError(1, "file", str(error)))
        return report
    report.rows = len(rows)
    good, errors = validate_rows(schedule, rows)
    if errors:
        report.errors = errors
        return report
    try:
        report.created = services.budget_lines_create_many(by=by, lines=good)
    except ValidationError as error:  # a concurrent change since validation: nothing was written
        report.errors.append(RowError(1, "file", " ".join(error.messages)))
    return report
