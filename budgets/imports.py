"""Budget lines of a schedule in and out of a spreadsheet, in one layout (``COLUMNS``): the export
(``export_sheet``, the schedule's "Download" links) writes it, the template is it without rows, and
the import reads it, so a file exported can be edited and imported back. Every row is validated,
every bad row is reported (row number, column, message), and nothing is written unless every row
is good.

Columns (first row, any order, case-insensitive): ``name``, ``year``, ``funding_stream``,
``amount``, and optionally ``status``, ``id`` and ``version``. A year is ``2022`` or ``2022/23``; an
amount may carry £ and thousands separators; a status is indicative (the default), mobilisation or
approved. A row without an ``id`` adds a line; a row with the ``id`` and ``version`` of one of the
schedule's lines (as exported) changes that line where the row differs from it, and leaves it alone
where it does not (so an exported file imports back unchanged). A change to a line someone else has
changed since the export (its version moved on) is refused on its row, never written over theirs.

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
from commissioning import exports
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
    "id": "id",
    "version": "version",
}
REQUIRED = ("name", "year", "funding_stream", "amount")
# The one layout, out and in: the header row of the export and of the template, in this order.
COLUMNS: tuple[exports.Column, ...] = (
    ("name", "name"),
    ("year", "year"),
    ("funding_stream", "funding_stream.name"),
    ("amount", "amount"),
    ("status", "status"),
    ("id", "pk"),
    ("version", "version"),
)
CHANGEABLE = ("name", "year", "funding_stream", "amount", "status")
_YEAR = re.compile(r"^(\d{4})(?:\s*[/-]\s*(\d{2}|\d{4}))?$")


class ImportFileError(ValueError):
    """The file as a whole cannot be read (wrong type, too big, no header)."""


@dataclass
class RowError:
    row: int  # the row number as the spreadsheet shows it (the header is row 1)
    column: str
    message: str


@dataclass
class Change:
    line: BudgetLine
    version: int  # the version the sheet was exported at
    fields: dict[str, Any]  # only what the row changes


@dataclass
class Plan:
    """What a sheet whose every row is good would do."""

    new: list[dict[str, Any]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0


@dataclass
class ImportReport:
    rows: int = 0
    created: list[BudgetLine] = field(default_factory=list)
    changed: list[BudgetLine] = field(default_factory=list)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def summary(self) -> str:
        """What the import did, in words: "2 budget lines added, 1 changed; 5 unchanged"."""
        added, changed, same = len(self.created), len(self.changed), self.unchanged
        if not (added or changed):
            if same == 1:
                return "No budget line changed: the sheet’s line is as it was"
            return f"No budget line changed: the sheet’s {same} lines are as they were"
        parts = []
        if added:
            parts.append(f"{added} budget line{_s(added)} added")
        if changed:
            parts.append(f"{changed} changed" if parts else f"{changed} budget line{_s(changed)} changed")
        return ", ".join(parts) + (f"; {same} unchanged" if same else "")

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


def _name(value: Any) -> str:
    """A name as typed: the apostrophe the CSV export puts before text a spreadsheet would run as a
    formula (``'=Savings``, ``commissioning.exports.neutralise``) is taken off again, so a name
    comes back as it went out."""
    text = _text(value)
    if text.startswith("'") and exports.is_formula_like(text[1:]):
        return text[1:].strip()
    return text


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


def parse_status(value: Any) -> str | None:
    """The status, or None when the cell is empty (a new line is indicative; a line keeps its own)."""
    text = _text(value).lower()
    if not text:
        return None
    for choice, label in LineStatus.choices:
        if text in (choice, label.lower()):
            return choice
    raise ValueError("The status must be indicative, mobilisation or approved.")


def parse_whole(value: Any, column: str) -> int | None:
    """An ``id`` or ``version`` as exported (a whole number), or None when the cell is empty."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = _text(value)
    if not text:
        return None
    if not text.isdigit() or len(text) > 12:
        raise ValueError(f"The {column} must be a whole number, as exported; leave it empty for a new line.")
    return int(text)


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def validate_rows(schedule: Schedule, rows: list[dict[str, Any]]) -> tuple[Plan, list[RowError]]:
    """What the sheet would do, or every row's errors. Reads only; writes nothing."""
    streams = {
        s.name.strip().lower(): s
        for s in FundingStream.objects.filter(partnership=schedule.agreement.partnership).select_related(
            "organisation"
        )
    }
    existing = {line.pk: line for line in schedule.lines.select_related("funding_stream")}
    plan = Plan()
    errors: list[RowError] = []
    seen: dict[tuple, int] = {}
    seen_ids: dict[int, int] = {}
    for index, row in enumerate(rows, start=2):
        row_errors: list[RowError] = []
        fields: dict[str, Any] = {"schedule": schedule}
        name = _name(row.get("name"))
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
        stream_name = _name(row.get("funding_stream"))
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
        line, version = _exported_line(index, row, schedule, existing, seen_ids, row_errors)
        if not row_errors:
            key = (fields["year"], stream.pk, name)
            if key in seen:
                row_errors.append(
                    RowError(index, "name", f"Row {seen[key]} already has this line, stream and year.")
                )
            seen.setdefault(key, index)
        if not row_errors:
            if line is None:
                fields["status"] = fields["status"] or LineStatus.INDICATIVE
                candidate = BudgetLine(**fields)
            else:
                changes = {
                    column: fields[column]
                    for column in CHANGEABLE
                    if fields[column] is not None and fields[column] != getattr(line, column)
                }
                if not changes:
                    plan.unchanged += 1
                    continue
                if version != line.version:
                    row_errors.append(
                        RowError(
                            index,
                            "version",
                            f"This line has changed since the sheet was exported (the sheet has version "
                            f"{version}, the line is now at {line.version}): export the lines again and "
                            "make this row's change there, so no one else's change is written over.",
                        )
                    )
                candidate = BudgetLine(
                    pk=line.pk, **{c: changes.get(c, getattr(line, c)) for c in CHANGEABLE}, schedule=schedule
                )
            if not row_errors:
                for column, messages in services.budget_line_errors(candidate).items():
                    row_errors.extend(RowError(index, column, m) for m in messages)
            if not row_errors:
                if line is None:
                    plan.new.append(fields)
                else:
                    plan.changes.append(Change(line=line, version=version, fields=changes))
        errors.extend(row_errors)
    return plan, errors


def _exported_line(index, row, schedule, existing, seen_ids, row_errors):
    """The schedule's line a row names by ``id`` (with the ``version`` it was exported at), or
    ``(None, None)`` for a new line; a bad id or version goes into ``row_errors``."""
    try:
        line_id = parse_whole(row.get("id"), "id")
    except ValueError as error:
        row_errors.append(RowError(index, "id", str(error)))
        return None, None
    try:
        version = parse_whole(row.get("version"), "version")
    except ValueError as error:
        row_errors.append(RowError(index, "version", str(error)))
        version = None
    if line_id is None:
        return None, None
    line = existing.get(line_id)
    if line is None:
        row_errors.append(
            RowError(
                index,
                "id",
                f"Schedule {schedule.number} has no budget line {line_id}: leave the id and version empty "
                "for a new line.",
            )
        )
        return None, None
    if line_id in seen_ids:
        row_errors.append(RowError(index, "id", f"Row {seen_ids[line_id]} already changes this line."))
        return None, None
    seen_ids[line_id] = index
    if version is None and not any(e.column == "version" for e in row_errors if e.row == index):
        row_errors.append(
            RowError(
                index,
                "version",
                "Keep the version exported with the line (or leave both id and version empty for a new "
                "line).",
            )
        )
    return line, version


def import_lines(*, schedule: Schedule, content: bytes, filename: str, by: User) -> ImportReport:
    """Validate the whole sheet; create every line in one transaction only if no row is bad."""
    report = ImportReport()
    try:
        rows = read_rows(content, filename)
    except ImportFileError as error:
        report.errors.append(RowError(1, "file", str(error)))
        return report
    report.rows = len(rows)
    plan, errors = validate_rows(schedule, rows)
    if errors:
        report.errors = errors
        return report
    report.unchanged = plan.unchanged
    try:
        report.created, report.changed = services.budget_lines_import(
            by=by, new=plan.new, changes=[(c.line, c.version, c.fields) for c in plan.changes]
        )
    except ValidationError as error:  # a concurrent change since validation: nothing was written
        report.errors.append(RowError(1, "file", " ".join(error.messages)))
    return report


def sheet_lines(schedule: Schedule):
    """The schedule's lines as the sheet lists them: by year, then as they were added."""
    return schedule.lines.select_related("funding_stream").order_by("year", "pk")


def export_sheet(schedule: Schedule, fmt: str) -> bytes:
    """The schedule's lines in the import's layout, as CSV or XLSX bytes."""
    if fmt == "csv":
        return exports.to_csv(COLUMNS, sheet_lines(schedule))
    return exports.to_xlsx(COLUMNS, sheet_lines(schedule), sheet_title=f"Schedule {schedule.number}")
