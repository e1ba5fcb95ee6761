"""Bulk loading through PostgreSQL ``COPY ... FROM STDIN`` on Django's connection.

Ids are reserved from each table's own sequence first, so rows can point at each other before they
are written and the sequence stays right for the application afterwards. Triggers and constraints
stay on: every generated row is checked by the database exactly as a row written by a service.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from django.db import connection


def reserve_ids(table: str, count: int) -> int:
    """Take ``count`` ids from ``table``'s id sequence; returns the first (they are consecutive)."""
    if count <= 0:
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [sequence])
        cursor.execute("SELECT nextval(%s)", [sequence])
        first = cursor.fetchone()[0]
        cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
    return first


def _text(value) -> str:
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
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """COPY ``rows`` (tuples in ``columns`` order) into ``table``; returns how many."""
    buffer = io.StringIO()
    count = 0
    for row in rows:
        buffer.write("\t".join(_text(v) for v in row))
        buffer.write("\n")
        count += 1
    if not count:
        return 0
    buffer.seek(0)
    cols = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {table} ({cols}) FROM STDIN", buffer)
    return count


# Checks made once for the whole load instead of once per row. The per-row trigger queries of
# brokerage (no overlapping cost or funding rows, shares summing to 100) plan as sequential scans
# on tables that were empty when the session first used them, which makes a COPY of 20,000 rows
# quadratic (minutes). The loader switches those triggers off for its own transaction (ALTER TABLE
# is transactional and locks the table until commit), COPYs, switches them on again and runs the
# same conditions as one set-based query each, failing the load if any row breaks them.
SET_CHECKS = {
    "brokerage_packagecost": (
        "package_costs_never_overlap",
        """SELECT a.package_id FROM brokerage_packagecost a JOIN brokerage_packagecost b
           ON a.package_id = b.package_id AND a.id < b.id
          AND daterange(a.effective_from, a.effective_to, '[]')
              && daterange(b.effective_from, b.effective_to, '[]')
           WHERE a.id >= %(first)s OR b.id >= %(first)s LIMIT 5""",
        "Costs of packages {} overlap",
    ),
    "brokerage_fundingsplit": (
        "funding_splits_never_overlap",
        """SELECT a.package_id FROM brokerage_fundingsplit a JOIN brokerage_fundingsplit b
           ON a.package_id = b.package_id AND a.id < b.id
          AND daterange(a.effective_from, a.effective_to, '[]')
              && daterange(b.effective_from, b.effective_to, '[]')
           WHERE a.id >= %(first)s OR b.id >= %(first)s LIMIT 5""",
        "Funding splits of packages {} overlap",
    ),
    "brokerage_fundingshare": (
        "funding_shares_sum_to_100",
        """SELECT s.id FROM brokerage_fundingsplit s LEFT JOIN brokerage_fundingshare sh ON sh.split_id = s.id
           WHERE s.id >= %(first)s GROUP BY s.id HAVING COALESCE(SUM(sh.percent), 0) <> 100 LIMIT 5""",
        "The shares of funding splits {} do not sum to 100",
    ),
}
SET_CHECKS["brokerage_fundingsplit_shares"] = (
    "funding_split_has_shares_summing_to_100",
    SET_CHECKS["brokerage_fundingshare"][1],
    SET_CHECKS["brokerage_fundingshare"][2],
)


def _triggers(table: str, name: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname LIKE %s",
            [table, f"pgtrigger_{name}_%"],
        )
        return [row[0] for row in cursor.fetchall()]


def copy_checked(table: str, columns: Sequence[str], rows: Iterable[Sequence], *, first_id: int,
                 checks: Sequence[str]) -> int:  # fmt: skip
    """COPY with the named per-row checks (keys of ``SET_CHECKS``) made once, set-based, instead."""
    targets = []
    for key in checks:
        name = SET_CHECKS[key][0]
        relation = "brokerage_fundingsplit" if key == "brokerage_fundingsplit_shares" else key
        targets += [(relation, trigger) for trigger in _triggers(relation, name)]
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for relation, trigger in targets:
            cursor.execute(f'ALTER TABLE {relation} DISABLE TRIGGER "{trigger}"')
        count = copy_rows(table, columns, rows)
        # Django's foreign keys are deferred: check them now so the table can be altered again.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for relation, trigger in targets:
            cursor.execute(f'ALTER TABLE {relation} ENABLE TRIGGER "{trigger}"')
    return count


def verify(key: str, *, first_id: int) -> None:
    """Run one set-based check of ``SET_CHECKS``; raises IntegrityError naming the rows."""
    from django.db import IntegrityError

    _name, sql, message = SET_CHECKS[key]
    with connection.cursor() as cursor:
        cursor.execute(sql, {"first": first_id})
        bad = [row[0] for row in cursor.fetchall()]
    if bad:
        raise IntegrityError(message.format(", ".join(map(str, bad))))
