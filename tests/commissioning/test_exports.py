"""The CSV/XLSX export helper: columns, typed values and formula-injection neutralising."""

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from commissioning import exports


@dataclass
class Org:
    name: str


@dataclass
class Row:
    reference: str
    value: Decimal | None
    ends: date | None
    org: Org | None
    tags: list

    def label(self):
        return f"{self.reference} ({self.org.name if self.org else 'none'})"


COLUMNS = [
    ("Reference", "reference"),
    ("Value", "value"),
    ("Ends", "ends"),
    ("Organisation", "org.name"),
    ("Label", "label"),
    ("Tags", "tags"),
    ("Doubled", lambda r: (r.value or 0) * 2),
]

ROWS = [
    Row("A-1", Decimal("1234.50"), date(2027, 3, 31), Org("Oak Care"), ["x", "y"]),
    Row("B-2", None, None, None, []),
]


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # a byte-order mark, so Excel reads UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def read_xlsx(data: bytes):
    return load_workbook(io.BytesIO(data)).active


# --- Columns ------------------------------------------------------------------------------------


def test_accessors_follow_dotted_paths_call_methods_and_callables():
    assert list(exports.table(COLUMNS, ROWS)) == [
        ["Reference", "Value", "Ends", "Organisation", "Label", "Tags", "Doubled"],
        [
            "A-1",
            Decimal("1234.50"),
            date(2027, 3, 31),
            "Oak Care",
            "A-1 (Oak Care)",
            "x; y",
            Decimal("2469.00"),
        ],
        ["B-2", None, None, None, "B-2 (none)", "", 0],
    ]


def test_a_dotted_path_reads_dictionaries_too():
    assert exports.resolve({"org": {"name": "Elm"}}, "org.name") == "Elm"


def test_model_like_values_become_their_text():
    assert list(exports.table([("Org", "org")], [ROWS[0]]))[1] == ["Org(name='Oak Care')"]


# --- CSV ----------------------------------------------------------------------------------------


def test_csv_writes_plain_values():
    rows = read_csv(exports.to_csv(COLUMNS, ROWS))

    assert rows == [
        ["Reference", "Value", "Ends", "Organisation", "Label", "Tags", "Doubled"],
        ["A-1", "1234.50", "2027-03-31", "Oak Care", "A-1 (Oak Care)", "x; y", "2469.00"],
        ["B-2", "", "", "", "B-2 (none)", "", "0"],
    ]


def test_csv_keeps_commas_quotes_newlines_and_accents():
    text = 'Café "Élan", Bromley\nsecond line £'

    rows = read_csv(exports.to_csv([("Text", "t")], [{"t": text}]))

    assert rows[1] == [text]


def test_csv_writes_aware_datetimes_in_local_time(settings):
    settings.TIME_ZONE = "Europe/London"
    moment = datetime(2025, 7, 1, 9, 30, tzinfo=ZoneInfo("UTC"))

    rows = read_csv(exports.to_csv([("At", "at")], [{"at": moment}]))

    assert rows[1] == ["2025-07-01 10:30"]


@pytest.mark.parametrize(
    "payload",
    [
        "=1+1",
        '=HYPERLINK("http://evil.example","Click")',
        "+44 20 7946 0000",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
        "  =1+1",
    ],
)
def test_csv_neutralises_text_a_spreadsheet_would_run(payload):
    rows = read_csv(exports.to_csv([("Text", "t")], [{"t": payload}]))

    assert rows[1] == ["'" + payload]


@pytest.mark.parametrize("harmless", ["-12.50", "+3", "42", "Care at home", "a=b", "e-mail"])
def test_csv_leaves_numbers_and_ordinary_text_alone(harmless):
    rows = read_csv(exports.to_csv([("Text", "t")], [{"t": harmless}]))

    assert rows[1] == [harmless]


def test_negative_numbers_stay_numbers_in_csv():
    rows = read_csv(exports.to_csv([("Value", "v")], [{"v": Decimal("-5.25")}]))

    assert rows[1] == ["-5.25"]


# --- XLSX ---------------------------------------------------------------------------------------


def test_xlsx_keeps_numbers_dates_and_text_typed():
    sheet = read_xlsx(exports.to_xlsx(COLUMNS, ROWS, sheet_title="Contracts"))

    assert sheet.title == "Contracts"
    header, first, second = sheet.iter_rows()
    assert [c.value for c in header] == [
        "Reference",
        "Value",
        "Ends",
        "Organisation",
        "Label",
        "Tags",
        "Doubled",
    ]
    assert all(c.font.bold for c in header)
    assert first[1].value == 1234.5
    assert first[1].number_format == "#,##0.00"
    assert first[2].value == datetime(2027, 3, 31)
    assert first[2].is_date
    assert [c.value for c in second] == ["B-2", None, None, None, "B-2 (none)", None, 0]


@pytest.mark.parametrize(
    "payload", ["=1+1", '=HYPERLINK("http://evil.example","Click")', "@SUM(A1:A2)", "-2+3+cmd|' /C calc'!A0"]
)
def test_xlsx_stores_formula_like_text_as_text_never_a_formula(payload):
    data = exports.to_xlsx([("Text", "t")], [{"t": payload}])

    cell = read_xlsx(data)["A2"]
    assert cell.data_type == "s"
    assert cell.value == payload
    assert cell.quotePrefix is True
    assert b"<f>" not in _sheet_xml(data)


def test_xlsx_stores_error_code_lookalikes_as_text():
    cell = read_xlsx(exports.to_xlsx([("Text", "t")], [{"t": "#DIV/0!"}]))["A2"]

    assert (cell.data_type, cell.value) == ("s", "#DIV/0!")


def test_xlsx_sheet_titles_lose_characters_excel_refuses():
    sheet = read_xlsx(
        exports.to_xlsx([("A", "a")], [], sheet_title="Contracts: 2025/26 [draft] and more words")
    )

    assert sheet.title == "Contracts  2025 26  draft  and "


def _sheet_xml(data: bytes) -> bytes:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


# --- Responses ----------------------------------------------------------------------------------


def test_a_csv_response_is_an_attachment_that_is_not_cached():
    response = exports.export_response("csv", columns=COLUMNS, rows=ROWS, filename="Contracts 2025/26")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="contracts-202526.csv"'
    assert response["Cache-Control"] == "no-store"
    assert read_csv(response.content)[1][0] == "A-1"


def test_an_xlsx_response_is_a_workbook():
    response = exports.export_response("xlsx", columns=COLUMNS, rows=ROWS, filename="contracts")

    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="contracts.xlsx"'
    assert read_xlsx(response.content)["A2"].value == "A-1"


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="pdf"):
        exports.export_response("pdf", columns=COLUMNS, rows=ROWS, filename="x")


def test_rows_may_be_a_generator_read_once():
    rows = (Row(f"R-{n}", Decimal(n), None, None, []) for n in range(3))

    data = exports.to_csv([("Reference", "reference")], rows)

    assert [r[0] for r in read_csv(data)] == ["Reference", "R-0", "R-1", "R-2"]


# --- The dialect written by PostgreSQL (long reports) --------------------------------------------

# Text as people and integrations type it, weighted to what the dialect treats specially.
_AWKWARD = st.text(alphabet=st.sampled_from(list(" \t\r\n=+-@,\"'.0123456789aZ£é;")), max_size=8)
_ANY = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
_CELL = st.none() | _AWKWARD | _ANY


def _sql_line(cells: list[str | None]) -> str:
    from django.db import connection
    from django.db.models import TextField
    from django.db.models.expressions import RawSQL
    from django.db.models.sql import Query

    names = [f"c{i}" for i in range(len(cells))]
    line = exports.CsvLineSQL(*(exports.CsvTextSQL(RawSQL(f"t.{n}", [], TextField())) for n in names))
    query = Query(None)
    sql, params = line.resolve_expression(query).as_sql(query.get_compiler(connection=connection), connection)
    assert params == []
    values = ", ".join(["%s::text"] * len(cells))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql} FROM (VALUES ({values})) AS t({', '.join(names)})", cells)  # noqa: S608
        return cursor.fetchone()[0]


@pytest.mark.django_db
@given(st.lists(_CELL, min_size=2, max_size=4))
def test_postgresql_writes_a_text_row_as_csv_row_does(cells):
    """``CsvLineSQL`` of ``CsvTextSQL`` cells (the recharge report's streamed lines) is ``csv_row``
    byte for byte: neutralising, quoting, doubled quotes, blanks and CRLF alike."""
    assert _sql_line(cells) == exports.csv_row(cells)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        " -x",
        "\n@SUM(A1)",
        "\tx",
        "\r",
        " \r=",
        "-250.91",
        "+5",
        "-5\n",
        "a,b",
        'say "hi"',
        "two\nlines",
    ],
)
def test_postgresql_neutralises_and_quotes_the_known_cases(text):
    assert _sql_line([text, None]) == exports.csv_row([text, None])
    assert exports.is_formula_like("-5\n")  # a plain number ends at the end, not before a line break


def test_csv_text_chunks_writes_the_mark_and_header_then_the_lines_as_given():
    chunks = list(
        exports.csv_text_chunks(["a", "=b"], [["1,2\r\n", "3,4\r\n"], [exports.csv_row(["x", None])]])
    )
    assert chunks == ["\ufeffa,'=b\r\n", "1,2\r\n3,4\r\n", "x,\r\n"]
