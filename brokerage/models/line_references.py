"""An invoice line's invoice and package, checked once per statement rather than once per line.

A recharge run writes thousands of lines in one COPY (a true-up after a backdated change on 500
packages writes 14,181). PostgreSQL checks a foreign key with one lookup per row, and for a run's
lines most of those lookups lock the same one or two invoice rows again: on a borough's true-up the
two foreign keys of ``InvoiceLine`` cost 140 ms of the insert (``EXPLAIN ANALYZE``: 68 ms the
invoice's, 73 ms the package's).

So the two columns carry no foreign key constraint (``db_constraint=False``) and these triggers
keep the same rule, set-based:

- lines inserted or updated: each invoice and package they name is locked ``FOR KEY SHARE``, as a
  foreign key check locks it, in one statement for all the lines; if fewer rows were locked than
  were named, one that is missing is named in the error;
- an invoice or package deleted, or its id changed, while a line still names it: refused.

The errors are PostgreSQL's own for a foreign key (SQLSTATE 23503 ``foreign_key_violation``, which
Django raises as ``IntegrityError``), worded as PostgreSQL words them.

The checks run when the statement ends, not at commit as Django's deferred foreign keys do, so a
line must be written after its invoice and deleted before it; Django's deletion (``CASCADE``,
``PROTECT``) and every writer here already work in that order.

Concurrency is that of a foreign key under READ COMMITTED, Django's isolation level and the only one
this project uses: a line's writer holds the key-share lock until it commits, so a delete of that
invoice or package waits for it and then, in a fresh snapshot, sees the line and is refused; a
writer whose invoice or package was deleted first finds nothing to lock and is refused. (Under
REPEATABLE READ the deleting transaction's snapshot could miss a line committed after it began,
which PostgreSQL's own checks avoid with a special snapshot; nothing here runs at that level.)
``TRUNCATE`` fires no row triggers: truncate the lines with their invoices, as Django's flush does.
"""

from __future__ import annotations

import pgtrigger

LINES = "brokerage_invoiceline"
# What each checked column names: (column, table, the constraint name the errors give).
REFERENCES = (
    ("invoice_id", "brokerage_invoice", "invoice_line_invoice_exists"),
    ("package_id", "brokerage_package", "invoice_line_package_exists"),
)


def _check_named(column: str, table: str, constraint: str) -> str:
    """Lock what the statement's lines name in ``table``; refuse the statement if any is missing."""
    return f"""
    SELECT count(*) INTO named FROM (SELECT DISTINCT {column} FROM new_lines WHERE {column} IS NOT NULL) AS n;
    SELECT count(*) INTO locked FROM (
        SELECT 1 FROM {table} t WHERE t.id IN (SELECT {column} FROM new_lines) FOR KEY SHARE OF t
    ) AS k;
    IF locked < named THEN
        SELECT l.{column} INTO missing FROM new_lines l
        WHERE l.{column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = l.{column})
        LIMIT 1;
        RAISE EXCEPTION 'insert or update on table "{LINES}" violates foreign key constraint "{constraint}"'
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key ({column})=(%s) is not present in table "{table}".', missing);
    END IF;"""  # noqa: S608 (names from REFERENCES, no input)


LINES_NAME_WHAT_EXISTS = "".join(_check_named(*reference) for reference in REFERENCES) + "\n    RETURN NULL;"


def line_triggers() -> list[pgtrigger.Trigger]:
    """``InvoiceLine``'s side: what its inserted and updated lines name must exist."""
    return [
        pgtrigger.Trigger(
            name=f"invoice_lines_name_what_exists_{op}",
            level=pgtrigger.Statement,
            operation=operation,
            when=pgtrigger.After,
            referencing=pgtrigger.Referencing(new="new_lines"),
            declare=[("named", "bigint"), ("locked", "bigint"), ("missing", "bigint")],
            func=LINES_NAME_WHAT_EXISTS,
        )
        for op, operation in (("insert", pgtrigger.Insert), ("update", pgtrigger.Update))
    ]


def _referenced(table: str, column: str, constraint: str, ids: str) -> str:
    """Refuse the statement if a line still names one of ``ids`` (rows of ``table``)."""
    message = f'update or delete on table "{table}" violates foreign key constraint "{constraint}"'
    message += f' on table "{LINES}"'
    return f"""
    SELECT o.id INTO referenced FROM ({ids}) AS o
    WHERE EXISTS (SELECT 1 FROM {LINES} l WHERE l.{column} = o.id) LIMIT 1;
    IF referenced IS NOT NULL THEN
        RAISE EXCEPTION '{message}'
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (id)=(%s) is still referenced from table "{LINES}".', referenced);
    END IF;
    RETURN NULL;"""  # noqa: S608 (names from REFERENCES, no input)


def named_triggers(table: str) -> list[pgtrigger.Trigger]:
    """The invoice's or package's side: no row a line names is deleted or given another id."""
    column, _table, constraint = next(r for r in REFERENCES if r[1] == table)
    return [
        pgtrigger.Trigger(
            name=f"{table.removeprefix('brokerage_')}_named_by_lines_delete",
            level=pgtrigger.Statement,
            operation=pgtrigger.Delete,
            when=pgtrigger.After,
            referencing=pgtrigger.Referencing(old="old_rows"),
            declare=[("referenced", "bigint")],
            func=_referenced(table, column, constraint, "SELECT id FROM old_rows"),
        ),
        pgtrigger.Trigger(
            name=f"{table.removeprefix('brokerage_')}_named_by_lines_id",
            level=pgtrigger.Row,
            operation=pgtrigger.UpdateOf("id"),
            when=pgtrigger.After,
            condition=pgtrigger.Condition("OLD.id IS DISTINCT FROM NEW.id"),
            declare=[("referenced", "bigint")],
            func=_referenced(table, column, constraint, "SELECT OLD.id AS id"),
        ),
    ]
