"""A run's invoice lines go to the database as COPY text made by ``_line_text``, which knows each
column's type; it must say exactly what the general ``copy_line`` says of ``_line_rows``' values."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from brokerage.finance.services import _line_rows, _line_text, _PackageRow
from brokerage.recharges import Line
from commissioning.bulk import copy_line

D = Decimal
MAY = date(2022, 5, 1)

texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=260)
decimals = st.decimals(
    allow_nan=False, allow_infinity=False, places=None, min_value=-(10**9), max_value=10**9
)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))


@st.composite
def lines(draw, package):
    adjustment = draw(st.booleans())
    return Line(
        package=package,
        recipient=draw(st.integers(1, 3)),
        month=draw(days).replace(day=1),
        start=draw(days),
        end=draw(days),
        days=draw(st.none() | st.integers(0, 31)),
        weekly_cost=draw(st.none() | decimals),
        percent=draw(st.none() | decimals),
        amount=draw(decimals),
        adjustment=adjustment,
        previously_billed=draw(st.booleans()),
        paid_percent=draw(st.none() | decimals),
    )


@st.composite
def runs(draw):
    packages = {
        pk: _PackageRow(pk, MAY, None, 1, draw(texts), draw(texts), draw(texts), draw(texts))
        for pk in draw(st.sets(st.integers(1, 10**7), min_size=1, max_size=4))
    }
    documents = [
        (
            SimpleNamespace(pk=draw(st.integers(1, 10**9))),
            draw(st.sampled_from([1, -1])),
            draw(st.lists(st.sampled_from(sorted(packages)).flatmap(lines), max_size=6)),
        )
        for _ in range(draw(st.integers(1, 3)))
    ]
    return documents, packages


@given(runs())
def test_the_text_of_each_line_is_copy_line_of_its_row(run):
    documents, packages = run
    assert list(_line_text(documents, packages)) == [
        copy_line(row) for row in _line_rows(documents, packages)
    ]


def test_the_text_of_lines_with_every_kind_of_value():
    package = _PackageRow(
        7, MAY, None, 1, "LAS\t001\\x", "943 476 5919", "Care\nHome " + "x" * 300, "residential"
    )
    documents = [
        (
            SimpleNamespace(pk=41),
            -1,
            [
                Line(
                    7,
                    2,
                    MAY,
                    MAY,
                    date(2022, 5, 9),
                    9,
                    D("1234.560000"),
                    D("40"),
                    D("634.92"),
                    adjustment=True,
                ),
                Line(7, 2, MAY, MAY, date(2022, 5, 31), None, None, None, D("-0.00"), previously_billed=True),
                Line(7, 2, MAY, MAY, MAY, 1, D("1E+2"), D("35.5"), D("5.07"), paid_percent=D("50")),
            ],
        )
    ]
    text = list(_line_text(documents, {7: package}))
    assert text == [copy_line(row) for row in _line_rows(documents, {7: package})]
    head = "41\t7\tLAS\\t001\\\\x\t943 476 5919\tCare\\nHome " + "x" * 190 + "\tresidential"
    assert text == [
        head
        + "\t2022-05-01\t2022-05-01\t2022-05-09\t9\t1234.560000\t40\t\\N\t-634.92\tt\t2022-05-01\tf\t\t0",
        head + "\t2022-05-01\t2022-05-01\t2022-05-31\t\\N\t\\N\t\\N\t\\N\t0.00\tf\t\\N\tt\t\t1",
        head + "\t2022-05-01\t2022-05-01\t2022-05-01\t1\t1E+2\t35.5\t50\t-5.07\tf\t\\N\tf\t\t2",
    ]
