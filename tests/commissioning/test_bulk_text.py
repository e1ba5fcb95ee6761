"""COPY's text format for each kind of value a bulk write sends (commissioning/bulk.py): the exact
types take a dict lookup, anything else the general path; both must give the same text. And when
a COPY makes the deferred checks immediate."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.safestring import mark_safe

from commissioning.bulk import array_literal, copy_rows, copy_text
from commissioning.choices import ServiceType


def test_each_kind_of_value_in_copy_text_format():
    assert [copy_text(v) for v in (None, True, False, 0, -5, Decimal("1.10"), Decimal("-0.00"))] == [
        r"\N", "t", "f", "0", "-5", "1.10", "-0.00",
    ]  # fmt: skip
    assert copy_text(date(2022, 5, 1)) == "2022-05-01"
    assert copy_text(datetime(2022, 5, 1, 10, 3, tzinfo=UTC)) == "2022-05-01T10:03:00+00:00"
    assert copy_text("a\tb\nc\\d\re") == "a\\tb\\nc\\\\d\\re"
    assert copy_text(["a", "b"]) == '{"a","b"}'


def test_subclasses_give_the_text_of_their_base_type():
    assert copy_text(mark_safe("x\ty")) == "x\\ty"
    member = list(ServiceType)[0]
    assert copy_text(member) == str(member)
    assert copy_text(Decimal("1E+2")) == "1E+2"


@pytest.mark.django_db
@pytest.mark.parametrize("immediate", [True, False])
def test_a_copy_makes_deferred_checks_immediate_unless_told_the_table_has_none(immediate):
    with CaptureQueriesContext(connection) as queries:
        copied = copy_rows(
            "brokerage_ledgerowed",
            ("package_id", "month", "recipient_id", "owed_pence"),
            [(1, date(2022, 1, 1), 2, 100)],
            immediate=immediate,
        )
    assert copied == 1
    statements = [q["sql"] for q in queries]
    expected = ["SET CONSTRAINTS ALL IMMEDIATE", "SET CONSTRAINTS ALL DEFERRED"] if immediate else []
    assert statements == expected


@pytest.mark.django_db
def test_an_array_literal_reads_back_as_the_values_it_was_made_of():
    ids = [1, -2, 3_000_000_000, None]
    days = [date(2024, 2, 29), None, date(2026, 12, 1)]
    words = ["plain", 'with "quotes"', "back\\slash", "{braces,comma}", "", None, "NULL"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::bigint[], %s::date[], %s::text[], %s::numeric[], %s::bigint[]",
            [array_literal(ids), array_literal(days), array_literal(words),
             array_literal([Decimal("1.10"), Decimal("-0.05")]), array_literal(iter([]))],
        )  # fmt: skip
        assert cursor.fetchone() == (ids, days, words, [Decimal("1.10"), Decimal("-0.05")], [])


def test_an_array_literal_refuses_what_it_cannot_write_exactly():
    with pytest.raises(TypeError, match="booleans"):
        array_literal([1, True])
    with pytest.raises(TypeError, match="float"):
        array_literal([1.5])
