"""Bulk writes through PostgreSQL ``COPY ... FROM STDIN`` on Django's connection.

``bulk_create`` builds one Python model and one SQL parameter per field per row; for the
thousands of lines of a recharge run that costs several times what PostgreSQL spends storing them.
``COPY`` sends the rows as text in one stream. Triggers, checks and deferred foreign keys apply to
copied rows exactly as to inserted ones, and the foreign keys of the copied rows are checked when
the COPY ends (``immediate_constraints``). The history context (``pghistory.context``) is a
transaction-local setting made by the statements Django runs inside the context, so run at least
one ORM statement inside the same ``pghistory.context`` block before copying.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from contextlib import contextmanager, nullcontext
from datetime import date, datetime
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connection, connections


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


# The common exact types first (a recharge run writes about twenty values per line, thousands of
# lines): one dict lookup instead of a chain of isinstance checks. Anything else (subclasses, lists)
# takes the general path below, which gives the same text.
_BY_TYPE = {
    type(None): lambda value: r"\N",
    bool: lambda value: "t" if value else "f",
    int: str,
    Decimal: str,
    date: date.isoformat,
    datetime: datetime.isoformat,
    str: _escaped,
}


def copy_text(value) -> str:
    """One value in COPY's text format."""
    write = _BY_TYPE.get(type(value))
    if write is not None:
        return write(value)
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):  # a PostgreSQL array of plain words
        return "{" + ",".join(f'"{v}"' for v in value) + "}"
    return _escaped(str(value))


def copy_line(row: Sequence) -> str:
    """One row in COPY's text format, without its newline (``copy_text`` of each value)."""
    by_type = _BY_TYPE.get
    return "\t".join([by_type(type(v), copy_text)(v) for v in row])


def copy_rows(
    table: str, columns: Sequence[str], rows: Iterable, *, as_text: bool = False, immediate: bool = True
) -> int:
    """COPY ``rows`` (tuples in ``columns`` order) into ``table``; returns how many.

    ``as_text``: each row is given already as its line of COPY text (``copy_line`` of its values,
    without the newline), for a caller that makes the text faster knowing its columns' types.
    ``immediate=False``: a table with no foreign keys or other deferred checks (the recharge
    ledger's caches) is copied without ``immediate_constraints``, which would also check every
    deferred check queued before it in the transaction.

    ``rows`` is read as the COPY sends it (``_Stream``): a generator's work overlaps PostgreSQL's,
    so it must not use the database itself."""
    lines = iter(rows) if as_text else map(copy_line, rows)
    first = next(lines, None)
    if first is None:
        return 0
    stream = _Stream(first, lines)
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    sql = f"COPY {connection.ops.quote_name(table)} ({cols}) FROM STDIN"
    with (
        connection.cursor() as cursor,
        immediate_constraints(cursor) if immediate else nullcontext(),
        connection.wrap_database_errors,
    ):
        try:  # PostgreSQL's errors come back as Django's (IntegrityError, ...)
            cursor.cursor.copy_expert(sql, stream, size=_CHUNK)
        except Exception as exc:
            if stream.failed is not None:  # making the rows failed: that error, not the COPY's
                raise stream.failed from exc
            raise
    return stream.count


_CHUNK = 16384


class _Stream:
    """The rows' COPY text as a file that makes each chunk when it is read: PostgreSQL stores one
    chunk while Python makes the next, so making the text (a run's rule, its lines) and storing it
    overlap, on two processes, instead of following one another. ``count``: the lines read;
    ``failed``: what making them raised (psycopg2 ends the COPY with an error of its own)."""

    def __init__(self, first: str, rest) -> None:
        self._first, self._rest, self.count = first, rest, 0
        self.failed: BaseException | None = None

    def read(self, size: int = -1) -> str:
        try:
            return self._read(size)
        except BaseException as exc:
            self.failed = exc
            raise

    def _read(self, size: int) -> str:
        chunk, length = [], 0
        if self._first is not None:
            chunk.append(self._first)
            length, self._first = len(self._first) + 1, None
        if size < 0 or length < size:
            for line in self._rest:
                chunk.append(line)
                length += len(line) + 1
                if 0 <= size <= length:
                    break
        if not chunk:
            return ""
        self.count += len(chunk)
        chunk.append("")  # each line's newline
        return "\n".join(chunk)


@contextmanager
def meanwhile(statements: Sequence[tuple[str, Sequence | dict]]):
    """Send ``statements`` ((SQL, parameters), in order) on this thread's database connection and in
    its transaction, from a second thread, while the block computes in Python; wait for them at the
    block's end and raise what they raised. For statements that are the database's work alone (a
    recharge run's mark of its packages) beside Python work that needs no database (the run's
    rule): PostgreSQL and Python then use two processors, not one after the other. The block must
    not use the database: its statements and these would interleave on the one connection.

    The statements go to psycopg2 as they are: Django's execute wrappers do not see them (the
    history context's, kept in the caller's thread, included), so they must write no table with
    history. Django's query log does (the query counts of tests)."""
    shared = connections[DEFAULT_DB_ALIAS]
    shared.ensure_connection()
    logged = shared.queries_logged
    failed: list[BaseException] = []

    def send() -> None:
        try:
            with shared.wrap_database_errors, shared.connection.cursor() as cursor:
                for sql, params in statements:
                    started = time.monotonic()
                    cursor.execute(sql, params)
                    if logged:
                        sent = cursor.query.decode(errors="replace")
                        shared.queries_log.append({"sql": sent, "time": f"{time.monotonic() - started:.3f}"})
        except BaseException as exc:  # raised in the caller's thread, below
            failed.append(exc)

    thread = threading.Thread(target=send, name="meanwhile")
    thread.start()
    try:
        yield
    finally:
        thread.join()
    if failed:
        raise failed[0]


def array_literal(values: Iterable) -> str:
    """A PostgreSQL array literal (``'{1,2,NULL}'``) of whole numbers, dates or text, for a
    parameter cast in the SQL (``%s::bigint[]``).

    Why: psycopg2 sends a Python list as an ``ARRAY[1, 2, ...]`` expression, which PostgreSQL
    parses as one constant per element: about 4 ms per thousand numbers, against a tenth of that
    for the same numbers as one literal (a recharge run passes its 5,000 packages' ids this way).
    """
    values = list(values)
    if all(type(v) is int for v in values):  # ids: the common case, at C speed
        return "{" + ",".join(map(str, values)) + "}"
    return "{" + ",".join(_array_element(v) for v in values) + "}"


def _array_element(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        raise TypeError("array_literal takes numbers, dates or text, not booleans")
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, date):  # datetime too: its ISO form is a timestamp literal
        return value.isoformat()
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"array_literal takes numbers, dates or text, not {type(value).__name__}")


@contextmanager
def immediate_constraints(cursor):
    """Check the deferred constraints (Django's foreign keys) as each statement ends, then defer again.

    Why: every pgtrigger/pghistory row trigger enters and aborts a subtransaction (its
    ``BEGIN ... EXCEPTION`` around ``current_setting`` of a setting nobody set), and PostgreSQL's
    subtransaction abort walks the transaction's whole queue of deferred trigger events. With the
    foreign-key checks of the statement's own rows queued until commit, writing n rows costs n x n
    (the invoice lines of a borough's history: a minute). Checked at the end of the statement
    instead, the queue stays empty; the checks are the same checks, made earlier, and a bad row
    still fails. Everything queued before is checked on entry, which also leaves no pending events
    behind for ``ALTER TABLE``.
    """
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    yield  # on an error the transaction is aborted: no statement (the one below) may hide it
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
