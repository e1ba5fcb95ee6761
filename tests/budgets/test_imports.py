import csv
import io
from datetime import date

import pytest
from openpyxl import Workbook

from budgets.imports import import_lines
from budgets.models import BudgetLine
from tests.budgets.factories import AgreementFactory, FundingStreamFactory, ScheduleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def schedule(bromley):
    FundingStreamFactory(partnership=bromley, name="CCG", organisation=bromley.nhs_commissioner)
    FundingStreamFactory(partnership=bromley, name="iBCF", organisation=bromley.council)
    return ScheduleFactory(
        agreement=AgreementFactory(partnership=bromley, start=date(2021, 4, 1), end=date(2023, 3, 31))
    )


def as_csv(rows):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def test_a_sheet_with_bad_rows_imports_nothing_and_reports_every_bad_row(schedule, bromley_users):
    content = as_csv(
        [
            ["name", "year", "funding_stream", "amount", "status"],
            ["Placements and Brokerage", "2021/22", "CCG", "£102,840", "mobilisation"],
            ["Support team", "2021", "iBCF", "-5", ""],
            ["Later", "2030", "CCG", "10", ""],
            ["Unknown", "2022", "Lottery", "10", ""],
            ["Placements and Brokerage", "2021", "CCG", "1", ""],
        ]
    )

    report = import_lines(
        schedule=schedule, content=content, filename="lines.csv", by=bromley_users["commissioner"]
    )

    assert not report.ok
    assert [(e.row, e.column) for e in report.errors] == [
        (3, "amount"),
        (4, "year"),
        (5, "funding_stream"),
        (6, "name"),
    ]
    assert not BudgetLine.objects.exists()


def test_a_good_xlsx_sheet_imports_every_line(schedule, bromley_users):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Budget line", "Financial year", "Funding stream", "Amount"])
    sheet.append(["Placements and Brokerage", 2021, "CCG", 102840])
    sheet.append(["Support team", "2022/23", "ibcf", 29799.5])
    buffer = io.BytesIO()
    workbook.save(buffer)

    report = import_lines(
        schedule=schedule, content=buffer.getvalue(), filename="lines.xlsx", by=bromley_users["commissioner"]
    )

    assert report.ok, report.errors
    assert sorted((l.name, l.year, str(l.amount)) for l in BudgetLine.objects.all()) == [  # noqa: E741
        ("Placements and Brokerage", 2021, "102840.00"),
        ("Support team", 2022, "29799.50"),
    ]


def test_a_file_that_is_not_a_sheet_is_refused(schedule, bromley_users):
    report = import_lines(
        schedule=schedule, content=b"%PDF-1.4", filename="lines.pdf", by=bromley_users["commissioner"]
    )

    assert [(e.row, e.column) for e in report.errors] == [(1, "file")]
