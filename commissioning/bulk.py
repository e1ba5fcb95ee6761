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

import io
from collections.abc import Iterable, Sequence
from contextlib import contextmanager, nullcontext
from datetime import date, datetime
from decimal import Decimal

from django.db import connection


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
    deferred check queued before it in the transaction."""
    lines = list(rows) if as_text else [copy_line(row) for row in rows]
    if not lines:
        return 0
    lines.append("")  # the last line's newline
    buffer = io.StringIO("\n".join(lines))
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    sql = f"COPY {connection.ops.quote_name(table)} ({cols}) FROM STDIN"
    with (
        connection.cursor() as cursor,
        immediate_constraints(cursor) if immediate else nullcontext(),
        connection.wrap_database_errors,
    ):
        cursor.cursor.copy_expert(sql, buffer)  # errors come back as Django's (IntegrityError, ...)
    return len(lines) - 1


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
