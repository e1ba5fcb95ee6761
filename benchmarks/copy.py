"""Bulk loading through PostgreSQL ``COPY ... FROM STDIN`` on Django's connection.

Ids are reserved from each table's own sequence first, so rows can point at each other before they
are written and the sequence stays right for the application afterwards. Triggers and constraints
stay on: every generated row is checked by the database exactly as a row written by a service.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection

from commissioning.bulk import copy_rows, immediate_constraints

__all__ = ["copy_checked", "copy_rows", "immediate_constraints", "reserve_ids", "verify"]


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


# Checks made once for the whole load instead of once per row, for a condition that cannot hold
# row by row while a COPY runs (a split's shares summing to 100: its deferred trigger would fire
# before the shares are in, as copy_rows checks constraints when each COPY ends). The loader switches
# those triggers off for its own transaction (ALTER TABLE is transactional and locks the table until
# commit), COPYs, switches them on again and runs the same condition as one set-based query, failing
# the load if any row breaks it. The no-overlap checks are here too but the generator leaves their
# triggers on: with nothing deferred pending (immediate_constraints) they cost what a COPY costs.
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
        # No pending trigger events (ALTER TABLE refuses a table with some): check them now.
        with immediate_constraints(cursor):
            for relation, trigger in targets:
                cursor.execute(f'ALTER TABLE {relation} DISABLE TRIGGER "{trigger}"')
        # copy_rows checks the foreign keys as the COPY ends, so none are pending here either.
        count = copy_rows(table, columns, rows)
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
