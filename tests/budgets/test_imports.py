import csv
import io
import os
import time
import zipfile
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


# --- Spreadsheet bombs (issue 19 point 3) ---------------------------------------------------------


def xlsx_bytes(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rezip(content: bytes, replace: dict[str, bytes]) -> bytes:
    """The workbook with some parts replaced or added, deflated as Excel does."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename not in replace:
                target.writestr(info.filename, source.read(info.filename))
        for name, data in replace.items():
            target.writestr(name, data)
    return out.getvalue()


def sheet_xml(rows_xml: str, dimension: str = "A1:D2") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>{rows_xml}</sheetData></worksheet>'
    ).encode()


HEADER_XML = (
    '<row r="1">'
    + "".join(
        f'<c r="{col}1" t="inlineStr"><is><t>{name}</t></is></c>'
        for col, name in zip("ABCD", ("name", "year", "funding_stream", "amount"), strict=True)
    )
    + "</row>"
)


def refuse_openpyxl(monkeypatch):
    import openpyxl

    def boom(*args, **kwargs):
        raise AssertionError("the workbook was opened")

    monkeypatch.setattr(openpyxl, "load_workbook", boom)


def test_a_workbook_that_unpacks_to_far_more_than_its_size_is_refused_before_it_is_read(
    schedule, bromley_users, monkeypatch
):
    row = '<row><c t="inlineStr"><is><t>Placements and Brokerage</t></is></c><c><v>2021</v></c></row>'
    rows = row * 300_000  # rows may leave out their numbers: identical rows deflate a thousandfold
    bomb = rezip(xlsx_bytes([["name"]]), {"xl/worksheets/sheet1.xml": sheet_xml(HEADER_XML + rows)})
    assert len(bomb) < 2 * 1024 * 1024  # within the upload limit
    refuse_openpyxl(monkeypatch)

    report = import_lines(
        schedule=schedule, content=bomb, filename="bomb.xlsx", by=bromley_users["commissioner"]
    )

    assert [(e.row, e.column) for e in report.errors] == [(1, "file")]
    assert "unpacks to" in report.errors[0].message
    assert not BudgetLine.objects.exists()


def test_the_unpacked_total_is_capped_even_when_no_part_inflates_much(schedule, bromley_users, monkeypatch):
    from budgets import imports

    monkeypatch.setattr(imports, "MAX_UNPACKED_BYTES", 64 * 1024)
    noise = os.urandom(80 * 1024)  # incompressible: ratio about 1
    content = rezip(xlsx_bytes([["name", "year", "funding_stream", "amount"]]), {"xl/media/noise.bin": noise})
    refuse_openpyxl(monkeypatch)

    report = import_lines(
        schedule=schedule, content=content, filename="big.xlsx", by=bromley_users["commissioner"]
    )

    assert [(e.column, "may unpack to at most" in e.message) for e in report.errors] == [("file", True)]


def test_a_sheet_claiming_a_million_blank_rows_stops_at_the_limit(schedule, bromley_users):
    far = '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    content = rezip(
        xlsx_bytes([["name"]]), {"xl/worksheets/sheet1.xml": sheet_xml(HEADER_XML + far, "A1:XFD1048576")}
    )
    started = time.monotonic()

    report = import_lines(
        schedule=schedule, content=content, filename="far.xlsx", by=bromley_users["commissioner"]
    )

    assert time.monotonic() - started < 10
    assert [e.column for e in report.errors] == ["file"]
    assert "blank ones included" in report.errors[0].message


def test_reading_stops_at_the_row_limit(schedule, bromley_users, monkeypatch):
    from budgets import imports

    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    read = []

    def endless():
        yield ["name", "year", "funding_stream", "amount"]
        while True:
            read.append(1)
            yield ["Line", 2021, "CCG", 1]

    with pytest.raises(imports.ImportFileError, match="at most 3 rows"):
        imports._rows_as_dicts(endless())
    assert len(read) == 4  # the fourth row is one too many: nothing after it is read
    rows = [["name", "year", "funding_stream", "amount"], *[[f"Line {n}", 2021, "CCG", n] for n in range(4)]]
    report = import_lines(
        schedule=schedule, content=xlsx_bytes(rows), filename="rows.xlsx", by=bromley_users["commissioner"]
    )
    assert [(e.row, e.column, e.message) for e in report.errors] == [
        (1, "file", "A sheet may hold at most 3 rows.")
    ]
