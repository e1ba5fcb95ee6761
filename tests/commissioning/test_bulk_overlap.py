"""Python and PostgreSQL at work together (commissioning/bulk.py): a COPY reads its rows as they
are made, chunk by chunk, and ``meanwhile`` sends statements from a second thread, in the caller's
transaction, while the caller computes."""

import threading
from datetime import date

import pghistory
import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from commissioning.bulk import copy_rows, meanwhile

OWED = ("package_id", "month", "recipient_id", "owed_pence")


def _owed(package_id: int) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT package_id, month, recipient_id, owed_pence FROM brokerage_ledgerowed "
            "WHERE package_id >= %s ORDER BY package_id",
            [package_id],
        )
        return cursor.fetchall()


@pytest.mark.django_db
def test_a_copy_reads_its_rows_a_chunk_at_a_time_as_they_are_made(monkeypatch):
    from commissioning import bulk

    made, asked = [], []

    def rows():
        for i in range(5000):
            made.append(i)
            yield f"{900000 + i}\t2022-01-01\t{i % 7}\t{i}"

    real_read = bulk._Stream.read

    def read(self, size=-1):
        asked.append(len(made))  # how many lines were made when the COPY asked for more
        return real_read(self, size)

    monkeypatch.setattr(bulk._Stream, "read", read)
    copied = copy_rows("brokerage_ledgerowed", OWED, rows(), as_text=True, immediate=False)

    assert copied == 5000
    assert len(_owed(900000)) == 5000
    assert _owed(904999) == [(904999, date(2022, 1, 1), 4999 % 7, 4999)]
    # Asked for in several chunks, each made only when asked for: not all 5,000 lines first.
    assert len(asked) > 3
    assert asked[1] < 5000
    assert asked == sorted(asked)


@pytest.mark.django_db
def test_a_copy_of_no_rows_sends_nothing_and_says_none():
    # A COPY would be preceded by the deferred checks made immediate (the query log sees that, not
    # the COPY itself): with no rows, not even that is sent.
    with CaptureQueriesContext(connection) as queries:
        assert copy_rows("brokerage_ledgerowed", OWED, iter([]), as_text=True) == 0
        assert copy_rows("brokerage_ledgerowed", OWED, []) == 0
    assert [q["sql"] for q in queries] == []


@pytest.mark.django_db
def test_a_copy_whose_rows_fail_half_way_stores_none_of_them():
    def rows():
        yield (910000, date(2022, 1, 1), 1, 100)
        raise ValueError("no more rows")

    with pytest.raises(ValueError, match="no more rows"), transaction.atomic():
        copy_rows("brokerage_ledgerowed", OWED, rows(), immediate=False)
    assert _owed(910000) == []


@pytest.mark.django_db
def test_a_copy_keeps_text_that_is_not_ascii_and_straddles_chunks():
    from commissioning import bulk

    # A line longer than a chunk, with two-byte characters across the chunk's end.
    words = "Ærøskøbing Føroyar " * 2000
    assert len(words) > bulk._CHUNK
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE copied_words (id int, words text)")
    assert copy_rows("copied_words", ("id", "words"), [(1, words), (2, "é")], immediate=False) == 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT words FROM copied_words ORDER BY id")
        assert [r[0] for r in cursor.fetchall()] == [words, "é"]


@pytest.mark.django_db
def test_meanwhile_sends_its_statements_in_the_callers_transaction_while_the_block_computes():
    statements = [
        ("SELECT pg_sleep(%s)", [0.3]),
        (
            "INSERT INTO brokerage_ledgerowed (package_id, month, recipient_id, owed_pence) "
            "VALUES (%(package)s, '2022-01-01', 1, 5)",
            {"package": 920000},
        ),
    ]
    with CaptureQueriesContext(connection) as queries, meanwhile(statements):
        running = [t.name for t in threading.enumerate()]
    assert "meanwhile" in running  # the block ran while the statements did
    assert "meanwhile" not in [t.name for t in threading.enumerate()]  # and waited for them
    # Written on this test's connection, in its transaction (another connection would not see the
    # test's rows, nor would they be rolled back with it).
    assert _owed(920000) == [(920000, date(2022, 1, 1), 1, 5)]
    # In Django's query log, as sent.
    assert [q["sql"] for q in queries] == [
        "SELECT pg_sleep(0.3)",
        "INSERT INTO brokerage_ledgerowed (package_id, month, recipient_id, owed_pence) "
        "VALUES (920000, '2022-01-01', 1, 5)",
    ]


@pytest.mark.django_db
def test_meanwhile_works_inside_a_history_context():
    """pghistory's context keeps thread-local state that its execute wrapper reads: statements
    sent by the second thread must not go through it (they failed with "'_thread._local' object
    has no attribute 'value'" when they did)."""
    insert = (
        "INSERT INTO brokerage_ledgerowed (package_id, month, recipient_id, owed_pence) "
        "VALUES (921000, '2022-01-01', 1, 5)"
    )
    with pghistory.context(reason="test"), meanwhile([(insert, [])]):
        pass
    assert _owed(921000) == [(921000, date(2022, 1, 1), 1, 5)]


@pytest.mark.django_db
def test_meanwhile_raises_the_statements_error_in_the_caller_as_djangos():
    computed = []
    failing = meanwhile([("SELECT 1 / 0", [])])
    with pytest.raises(DatabaseError, match="division by zero"), transaction.atomic(), failing:
        computed.append(sum(range(1000)))
    assert computed == [499500]  # the block still ran to its end
    assert _owed(0) == []  # the test's own transaction is usable again


@pytest.mark.django_db
def test_meanwhile_waits_for_its_statements_when_the_block_fails():
    with CaptureQueriesContext(connection) as queries:
        with pytest.raises(RuntimeError, match="the block"), meanwhile([("SELECT pg_sleep(0.2)", [])]):
            raise RuntimeError("the block failed")
        assert [q["sql"] for q in queries] == ["SELECT pg_sleep(0.2)"]


@pytest.mark.django_db
def test_meanwhile_refuses_what_the_database_refuses():
    twice = "INSERT INTO brokerage_ledgerpackage (package_id, changes) VALUES (930000, 0), (930000, 0)"
    with pytest.raises(IntegrityError), transaction.atomic(), meanwhile([(twice, [])]):
        pass
