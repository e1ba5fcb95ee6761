"""Budget lines go out and come back in one layout (issue 18): the schedule's export is the import's
sheet, so an exported file imports back unchanged, an edited one changes what was edited, and the
template to download from the import page is that layout with no rows."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from budgets import imports
from budgets.imports import import_lines
from budgets.models import BudgetLine, FundingStream
from tests.budgets.factories import AgreementFactory, BudgetLineFactory, FundingStreamFactory, ScheduleFactory

pytestmark = pytest.mark.django_db

HEADER = ["name", "year", "funding_stream", "amount", "status", "id", "version"]


@pytest.fixture
def schedule(bromley):
    ccg = FundingStreamFactory(partnership=bromley, name="CCG", organisation=bromley.nhs_commissioner)
    ibcf = FundingStreamFactory(partnership=bromley, name="iBCF", organisation=bromley.council)
    schedule = ScheduleFactory(
        agreement=AgreementFactory(partnership=bromley, start=date(2021, 4, 1), end=date(2024, 3, 31))
    )
    BudgetLineFactory(
        schedule=schedule,
        name="Placements and Brokerage",
        year=2021,
        funding_stream=ccg,
        amount=Decimal("102840.00"),
        status="indicative",
    )
    BudgetLineFactory(
        schedule=schedule,
        name="Support team",
        year=2021,
        funding_stream=ibcf,
        amount=Decimal("29799.50"),
        status="approved",
    )
    return schedule


def snapshot(schedule) -> list[tuple]:
    return sorted(
        BudgetLine.objects.filter(schedule=schedule).values_list(
            "pk", "name", "year", "funding_stream__name", "amount", "status", "version"
        )
    )


def export(client, schedule, fmt: str) -> bytes:
    response = client.get(f"/budgets/schedules/{schedule.pk}/export.{fmt}")
    assert response.status_code == 200
    return response.content


def upload(client, schedule, content: bytes, name: str):
    return client.post(
        f"/budgets/schedules/{schedule.pk}/import/", {"file": SimpleUploadedFile(name, content)}
    )


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def to_csv(rows) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode()


def test_the_export_is_the_import_layout_one_row_per_line(client, schedule, bromley_users):
    client.force_login(bromley_users["commissioner"])
    lines = {line.name: line for line in schedule.lines.all()}

    rows = csv_rows(export(client, schedule, "csv"))

    assert rows == [
        HEADER,
        [
            "Placements and Brokerage",
            "2021",
            "CCG",
            "102840.00",
            "indicative",
            str(lines["Placements and Brokerage"].pk),
            "1",
        ],
        ["Support team", "2021", "iBCF", "29799.50", "approved", str(lines["Support team"].pk), "1"],
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_exported_file_imports_back_unchanged(client, schedule, bromley_users, fmt):
    client.force_login(bromley_users["commissioner"])
    before = snapshot(schedule)

    response = upload(client, schedule, export(client, schedule, fmt), f"lines.{fmt}")

    assert response.status_code == 302
    assert snapshot(schedule) == before  # not even a version moved
    page = client.get(response["Location"]).content.decode()
    assert "No budget line changed: the sheet’s 2 lines are as they were" in page


def test_a_name_the_csv_neutralises_as_a_formula_comes_back_as_it_went_out(client, schedule, bromley_users):
    client.force_login(bromley_users["commissioner"])
    BudgetLine.objects.filter(name="Support team").update(name="-Savings to find")
    before = snapshot(schedule)
    content = export(client, schedule, "csv")
    assert "'-Savings to find" in content.decode("utf-8-sig")  # neutralised (api.md)

    response = upload(client, schedule, content, "lines.csv")

    assert response.status_code == 302
    assert snapshot(schedule) == before


def test_an_edited_csv_export_changes_the_edited_line_and_adds_the_new_row(client, schedule, bromley_users):
    client.force_login(bromley_users["commissioner"])
    rows = csv_rows(export(client, schedule, "csv"))
    rows[1][3] = "110000.00"  # Placements and Brokerage: a new amount
    rows[1][4] = "mobilisation"
    rows.append(["Equipment", "2022", "iBCF", "5000", "", "", ""])  # a new line: no id or version

    response = upload(client, schedule, to_csv(rows), "lines.csv")

    assert response.status_code == 302
    after = {row[1]: row[2:] for row in snapshot(schedule)}
    assert after == {
        "Placements and Brokerage": (2021, "CCG", Decimal("110000.00"), "mobilisation", 2),
        "Support team": (2021, "iBCF", Decimal("29799.50"), "approved", 1),
        "Equipment": (2022, "iBCF", Decimal("5000.00"), "indicative", 1),
    }
    page = client.get(response["Location"]).content.decode()
    assert "1 budget line added, 1 changed; 1 unchanged" in page


def test_an_edited_xlsx_export_imports_back(client, schedule, bromley_users):
    client.force_login(bromley_users["commissioner"])
    workbook = load_workbook(io.BytesIO(export(client, schedule, "xlsx")))
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[1]] == HEADER
    sheet["D3"] = 30000  # Support team
    buffer = io.BytesIO()
    workbook.save(buffer)

    response = upload(client, schedule, buffer.getvalue(), "lines.xlsx")

    assert response.status_code == 302
    assert BudgetLine.objects.get(name="Support team").amount == Decimal("30000.00")


def test_a_line_changed_by_someone_else_since_the_export_is_reported_on_its_row(schedule, bromley_users):
    from budgets import services

    by = bromley_users["commissioner"]
    content = imports.export_sheet(schedule, "csv")
    line = BudgetLine.objects.get(name="Support team")
    services.budget_line_update(line=line, by=by, version=1, amount=Decimal("1.00"))
    rows = csv_rows(content)
    rows[2][3] = "40000"
    before = snapshot(schedule)

    report = import_lines(schedule=schedule, content=to_csv(rows), filename="lines.csv", by=by)

    assert [(e.row, e.column) for e in report.errors] == [(3, "version")]
    assert "changed since the sheet was exported" in report.errors[0].message
    assert snapshot(schedule) == before


def test_an_id_that_is_not_a_line_of_this_schedule_is_refused_naming_the_row(
    schedule, bromley_users, bromley
):
    elsewhere = BudgetLineFactory(
        schedule=ScheduleFactory(agreement=AgreementFactory(partnership=bromley)),
        funding_stream=FundingStream.objects.get(name="CCG"),
    )
    content = to_csv(
        [
            HEADER,
            ["Moved", "2021", "CCG", "1", "", str(elsewhere.pk), "1"],
            ["Again", "2021", "CCG", "1", "", "abc", "1"],
            ["No version", "2021", "CCG", "1", "", str(schedule.lines.first().pk), ""],
        ]
    )

    report = import_lines(
        schedule=schedule, content=content, filename="lines.csv", by=bromley_users["commissioner"]
    )

    assert [(e.row, e.column) for e in report.errors] == [(2, "id"), (3, "id"), (4, "version")]
    assert not BudgetLine.objects.filter(name__in=["Moved", "Again", "No version"]).exists()


def test_the_same_line_twice_in_a_sheet_is_refused(schedule, bromley_users):
    line = schedule.lines.first()
    row = [line.name, str(line.year), line.funding_stream.name, "5", "", str(line.pk), "1"]
    content = to_csv([HEADER, row, row])

    report = import_lines(
        schedule=schedule, content=content, filename="lines.csv", by=bromley_users["commissioner"]
    )

    assert [(e.row, e.column, e.message) for e in report.errors] == [
        (3, "id", "Row 2 already changes this line.")
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_template_is_the_layout_with_no_rows_and_imports_once_filled_in(
    client, schedule, bromley_users, fmt
):
    client.force_login(bromley_users["commissioner"])

    response = client.get(f"/budgets/schedules/{schedule.pk}/import/template.{fmt}")

    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(f'budget-lines-template.{fmt}"')
    if fmt == "csv":
        assert response.content.startswith("\ufeff".encode())
        assert csv_rows(response.content) == [HEADER]
        filled = response.content + b"New service,2023,CCG,1250.50,,,\r\n"
    else:
        sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
        assert [[c.value for c in row] for row in sheet.iter_rows()] == [HEADER]
        sheet.append(["New service", 2023, "CCG", 1250.5])
        buffer = io.BytesIO()
        sheet.parent.save(buffer)
        filled = buffer.getvalue()

    upload(client, schedule, filled, f"template.{fmt}")

    assert BudgetLine.objects.get(name="New service").amount == Decimal("1250.50")


def test_the_import_page_offers_the_template_and_says_which_columns_are_required(
    client, schedule, bromley_users
):
    client.force_login(bromley_users["commissioner"])

    html = client.get(f"/budgets/schedules/{schedule.pk}/import/").content.decode()

    assert f'href="/budgets/schedules/{schedule.pk}/import/template.csv"' in html
    assert f'href="/budgets/schedules/{schedule.pk}/import/template.xlsx"' in html
    for words in (
        "Required",
        "Optional",
        "2021 for 2021/22",
        "CCG, iBCF",
        "102840.00",
        "indicative, mobilisation or approved",
        "Leave empty for a new line",
    ):
        assert words in html, words


def test_a_user_who_may_not_add_lines_gets_no_template(client, schedule, bromley_users):
    client.force_login(bromley_users["finance_officer"])

    assert client.get(f"/budgets/schedules/{schedule.pk}/import/template.csv").status_code == 403
