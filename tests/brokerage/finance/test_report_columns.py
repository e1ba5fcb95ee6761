"""The recharge report's columns are declared once (``selectors.REPORT_COLUMNS``: key and SQL): the
header and JSON keys (``REPORT_KEYS``), the line PostgreSQL writes (``CSV_LINE``) and the typed row
Python builds (``reports.report_row``) all follow it, so the two CSV paths cannot fall out of step.
(``tests/performance/test_report_csv.py`` holds the two files to the same bytes on a borough.)"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from brokerage.finance import reports, selectors
from brokerage.finance import services as finance_services

MAY = date(2022, 5, 1)


def test_the_keys_and_the_sql_line_are_built_from_the_one_declaration():
    keys = [key for key, _sql in selectors.REPORT_COLUMNS]
    assert reports.REPORT_KEYS is selectors.REPORT_KEYS
    assert list(selectors.REPORT_KEYS) == keys and len(set(keys)) == len(keys)
    assert [str(e) for e in selectors.CSV_LINE.get_source_expressions()] == [
        str(sql) for _key, sql in selectors.REPORT_COLUMNS
    ]


def test_the_python_row_has_exactly_the_declared_keys_in_order():
    row = dict.fromkeys(selectors.REPORT_VALUES)
    row |= {"package_id": 8, "invoice__kind": "invoice", "amount": Decimal("1.00")}
    assert list(reports.report_row(row)) == list(selectors.REPORT_KEYS)


@pytest.mark.django_db
def test_the_sql_path_writes_the_header_and_rows_the_python_path_writes(
    make_package, run_month, council, ccg, finance
):
    make_package(
        date(2022, 5, 10),
        rate=Decimal("12.01"),
        units=Decimal("2.5"),
        unit="hour",
        shares=[(council, 60), (ccg, 40)],
    )
    draft = run_month(MAY).invoices.get()
    invoice = finance_services.invoice_issue(invoice=draft, by=finance, today=date(2022, 6, 1))

    streamed = "".join(reports.report_text(finance)).encode("utf-8")
    python = reports.report_csv_bytes(selectors.recharge_report_values(finance))

    sql_rows = list(csv.reader(io.StringIO(streamed.decode("utf-8-sig"), newline="")))
    python_rows = list(csv.reader(io.StringIO(python.decode("utf-8-sig"), newline="")))
    assert sql_rows[0] == python_rows[0] == list(selectors.REPORT_KEYS)
    assert len(sql_rows) == 3  # header, the one line, the totals row
    assert sql_rows[1] == python_rows[1]
    line = dict(zip(selectors.REPORT_KEYS, sql_rows[1], strict=True))
    assert line["invoice_number"] == invoice.number and line["weekly_cost"] == "30.03"  # to the penny
    assert streamed == python
