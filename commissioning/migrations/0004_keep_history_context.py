"""Rows of the history context table (who and which request, for every history row) can be added,
and pghistory may add keys to a row during a request, but no row can be deleted, even with raw SQL.
TRUNCATE stays possible: the test suite's flush between transactional tests needs it. The history
tables themselves are append-only through PGHISTORY_APPEND_ONLY."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION commissioning_history_context_kept() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'History context rows cannot be deleted (table %)', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER history_context_never_deleted
    BEFORE DELETE ON pghistory_context
    FOR EACH ROW EXECUTE FUNCTION commissioning_history_context_kept();
"""

REVERSE = """
DROP TRIGGER IF EXISTS history_context_never_deleted ON pghistory_context;
DROP FUNCTION IF EXISTS commissioning_history_context_kept();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("commissioning", "0003_digest_delivery"),
        ("pghistory", "0007_auto_20250421_0444"),
    ]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
