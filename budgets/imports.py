"""Import budget lines of a schedule from an XLSX or CSV sheet: every row is validated, every bad
row is reported (row number, column, message), and nothing is written unless every row is good.

Columns (first row, any order, case-insensitive): ``name``, ``year``, ``funding_stream``,
``amount`` and optionally ``status``. A year is ``2022`` or ``2022/23``; an amount may carry £ and
thousands separators; a status is indicative (the default), mobilisation or approved.
"""

from __future__ import annotations

import csv
import io
import re
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
        raw = _xlsx_rows(content)
    elif lower.endswith(".csv"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ImportFileError("The CSV file must be saved as UTF-8.") from None
        raw = list(csv.reader(io.StringIO(text)))
    else:
        raise ImportFileError("Upload an XLSX or CSV file.")
    raw = [r for r in raw if any(str(c or "").strip() for c in r)] if raw else []
    if not raw:
        raise ImportFileError("The file is empty.")
    header = [ALIASES.get(str(c or "").strip().lower()) for c in raw[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportFileError("The first row must name the columns; missing: " + ", ".join(missing) + ".")
    if len(raw) - 1 > MAX_ROWS:
        raise ImportFileError(f"A sheet may hold at most {MAX_ROWS} rows.")
    rows = []
    for values in raw[1:]:
        row = {}
        for name, value in zip(header, values, strict=False):
            if name:
                row[name] = value
        rows.append(row)
    return rows


def _xlsx_rows(content: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - any unreadable workbook is one message to the user
        raise ImportFileError("The XLSX workbook cannot be read.") from error
    sheet = workbook.worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    workbook.close()
    return rows


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
