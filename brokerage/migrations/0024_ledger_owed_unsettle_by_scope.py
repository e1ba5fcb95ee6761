import importlib

from django.db import migrations

# A run's owed rows of its own scope unsettle nothing (0019). The trigger told them apart by joining
# every written row to its package and client; for a run's thousands of rows the planner hashed the
# whole package and client tables, ten times the scope's own in a region (about 30 ms of each
# run's owed COPY). It now leaves out the rows whose package the running scope counts, found from
# the scope's side (the issuer's packages whose client is in the partnership), whatever the size of
# the rest; every other row unsettles as before.
SCOPE = """
    SELECT p.id FROM brokerage_package p JOIN brokerage_client c ON c.id = p.client_id
    WHERE p.paying_organisation_id = split_part(running, ':', 1)::bigint
      AND c.partnership_id = split_part(running, ':', 2)::bigint
"""


def _unsettle(rows: str) -> str:
    return f"""
        PERFORM brokerage_ledger_unsettle_owed(array_agg(r.package_id), array_agg(r.month))
        FROM {rows} r WHERE running IS NULL OR r.package_id NOT IN ({SCOPE});"""


FORWARD = f"""
CREATE OR REPLACE FUNCTION brokerage_ledgerowed_unsettle() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    running text := NULLIF(current_setting('brokerage.ledger_run', true), '');
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN{_unsettle("new_rows")}
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN{_unsettle("old_rows")}
    END IF;
    RETURN NULL;
END $$;
"""

# 0019's functions, as they were (its billed one is unchanged since).
REVERSE = importlib.import_module("brokerage.migrations.0019_ledger_run_writes").FORWARD


class Migration(migrations.Migration):
    dependencies = [
        ("brokerage", "0023_ledger_bill_lines_inserted"),
    ]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
