"""The recharge report's rows and files, one definition for the page and the API (api.md: one CSV
dialect; the web CSV and ``?format=csv`` are the same bytes). A row names its package by reference
(``P000008``) with the id beside it, money is signed from the issuer's side (credit-note lines
negative) and the money report ends with a totals row."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from operator import itemgetter

from django.http import StreamingHttpResponse

from commissioning.exports import CSV_CONTENT_TYPE, csv_lines, csv_row, csv_text_chunks, to_xlsx
from commissioning.money import round_half_up

# REPORT_KEYS: the JSON keys of a row of ``recharge-report/``, which are also the CSV's header, in
# order; built from ``selectors.REPORT_COLUMNS``, which also gives the SQL of each cell.
from .selectors import REPORT_KEYS, recharge_report_csv_rows, signed

ZERO = Decimal("0.00")
FILENAME = "recharge-report"


def _month(value):
    return None if value is None else f"{value.year:04d}-{value.month:02d}"


def report_row(row: dict) -> dict:
    """One report row with typed values (``Decimal`` money, ``date`` days, ``YYYY-MM`` months), from
    a row of ``selectors.REPORT_VALUES``."""
    return {
        "invoice_number": row["invoice__number"],
        "kind": row["invoice__kind"],
        "issuer": row["invoice__issuer__code"],
        "recipient": row["invoice__recipient__code"],
        "period": _month(row["invoice__period"]),
        "package_reference": f"P{row['package_id']:06d}",
        "package": row["package_id"],
        "client_reference": row["client_reference"],
        "provider": row["provider"],
        "service_type": row["service_type"],
        "month": _month(row["month"]),
        "from": row["start"],
        "to": row["end"],
        "days": row["days"],
        "weekly_cost": None if row["weekly_cost"] is None else round_half_up(row["weekly_cost"]),
        "percent": row["percent"],
        "paid_percent": row["paid_percent"],
        "amount": signed(row["invoice__kind"], row["amount"]),
        "adjustment": row["adjustment"],
        "corrects_month": _month(row["corrects_month"]),
    }


def totals_row(count: int, total: Decimal) -> list:
    """The report's last row: how many lines, and their signed amounts summed (what the issuer is
    owed net)."""
    totals = dict.fromkeys(REPORT_KEYS)
    totals["invoice_number"] = f"Total of {count} lines"
    totals["amount"] = total
    return [totals[key] for key in REPORT_KEYS]


def report_table(rows: Iterable[dict]) -> Iterator[list]:
    """The header, a list of values per row (rows of ``REPORT_VALUES``), then ``totals_row``."""
    yield list(REPORT_KEYS)
    total, count = ZERO, 0
    for row in rows:
        values = report_row(row)
        total += values["amount"]
        count += 1
        yield [values[key] for key in REPORT_KEYS]
    yield totals_row(count, total)


def report_csv_bytes(rows: Iterable[dict]) -> bytes:
    """The report as CSV from rows of ``REPORT_VALUES``, cell by cell in Python (``report_table``
    through ``csv_lines``): the file ``report_csv`` streams, built the slow way (tests hold the two
    to the same bytes)."""
    return "".join(csv_lines(report_table(rows))).encode("utf-8")


_LINE, _PENNIES = itemgetter(0), itemgetter(1)


def report_chunks(user, **filters) -> Iterator[Iterable[str]]:
    """The report's lines in chunks, written by the database (``selectors.recharge_report_csv_rows``),
    then the totals row (``csv_row``), its money summed in pennies as the chunks pass."""
    pennies, count = 0, 0
    for chunk in recharge_report_csv_rows(user, **filters):
        count += len(chunk)
        pennies = sum(map(_PENNIES, chunk), pennies)
        yield map(_LINE, chunk)
    yield [csv_row(totals_row(count, Decimal(pennies).scaleb(-2)))]


def report_text(user, **filters) -> Iterator[str]:
    """The report's CSV text, a chunk at a time: the header, the lines, the totals row."""
    return csv_text_chunks(REPORT_KEYS, report_chunks(user, **filters))


def report_csv(user, **filters) -> StreamingHttpResponse:
    """The report as CSV in the one dialect (the page's and the API's download alike), streamed: a
    chunk of lines at a time from a server-side cursor, memory flat in the rows."""
    response = StreamingHttpResponse(
        (text.encode("utf-8") for text in report_text(user, **filters)), content_type=CSV_CONTENT_TYPE
    )
    response["Content-Disposition"] = f'attachment; filename="{FILENAME}.csv"'
    response["Cache-Control"] = "no-store"
    return response


def report_xlsx(rows: Iterable[dict]) -> bytes:
    table = report_table(rows)
    header = next(table)
    columns = [(key, (lambda values, i=i: values[i])) for i, key in enumerate(header)]
    return to_xlsx(columns, table, sheet_title="Recharge report")
