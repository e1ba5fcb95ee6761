"""The recharge report's rows and files, one definition for the page and the API (api.md: one CSV
dialect; the web CSV and ``?format=csv`` are the same bytes). A row names its package by reference
(``P000008``) with the id beside it, money is signed from the issuer's side (credit-note lines
negative) and the money report ends with a totals row."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.http import HttpResponse

from commissioning.exports import CSV_CONTENT_TYPE, csv_lines, to_xlsx
from commissioning.money import round_half_up

from .selectors import signed

ZERO = Decimal("0.00")
FILENAME = "recharge-report"

# (key, header): the JSON keys of a row of ``recharge-report/``, which are also the CSV's header.
REPORT_KEYS = (
    "invoice_number",
    "kind",
    "issuer",
    "recipient",
    "period",
    "package_reference",
    "package",
    "client_reference",
    "provider",
    "service_type",
    "month",
    "from",
    "to",
    "days",
    "weekly_cost",
    "percent",
    "paid_percent",
    "amount",
    "adjustment",
    "corrects_month",
)


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


def report_table(rows: Iterable[dict]) -> Iterator[list]:
    """The header, a list of values per row (rows of ``REPORT_VALUES``), then the totals row (the
    signed amounts summed: what the issuer is owed net)."""
    yield list(REPORT_KEYS)
    total, count = ZERO, 0
    for row in rows:
        values = report_row(row)
        total += values["amount"]
        count += 1
        yield [values[key] for key in REPORT_KEYS]
    totals = dict.fromkeys(REPORT_KEYS)
    totals["invoice_number"] = f"Total of {count} lines"
    totals["amount"] = total
    yield [totals[key] for key in REPORT_KEYS]


def report_csv(rows: Iterable[dict]) -> HttpResponse:
    """The report as CSV in the one dialect (the page's and the API's download alike)."""
    response = HttpResponse(
        "".join(csv_lines(report_table(rows))).encode("utf-8"), content_type=CSV_CONTENT_TYPE
    )
    response["Content-Disposition"] = f'attachment; filename="{FILENAME}.csv"'
    response["Cache-Control"] = "no-store"
    return response


def report_xlsx(rows: Iterable[dict]) -> bytes:
    table = report_table(rows)
    header = next(table)
    columns = [(key, (lambda values, i=i: values[i])) for i, key in enumerate(header)]
    return to_xlsx(columns, table, sheet_title="Recharge report")
