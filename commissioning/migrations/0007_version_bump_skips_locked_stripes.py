"""The version bump (commissioning/versions.py) never waits for another writer: it adds one to a
stripe of the scope no other transaction holds (``FOR UPDATE SKIP LOCKED``), and adds a stripe
when every one is held. 0006 chose the stripe from the transaction id, so two writers of a scope
whose ids fell on the same stripe queued behind each other until the first committed."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION commissioning_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    each text;
    xid text := txid_current()::text;
    free smallint;
BEGIN
    FOREACH each IN ARRAY TG_ARGV LOOP
        IF current_setting('commissioning.bumped_' || each, true) IS DISTINCT FROM xid THEN
            SELECT v.stripe INTO free FROM commissioning_version v
             WHERE v.scope = each ORDER BY v.stripe FOR UPDATE SKIP LOCKED LIMIT 1;
            IF FOUND THEN
                UPDATE commissioning_version v SET version = v.version + 1
                 WHERE v.scope = each AND v.stripe = free;
            ELSE
                INSERT INTO commissioning_version AS v (scope, stripe, version)
                     VALUES (each, (txid_current() % 32000)::smallint, 1)
                ON CONFLICT (scope, stripe) DO UPDATE SET version = v.version + 1;
            END IF;
            PERFORM set_config('commissioning.bumped_' || each, xid, true);
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
"""

PREVIOUS = """
CREATE OR REPLACE FUNCTION commissioning_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    each text;
    xid text := txid_current()::text;
BEGIN
    FOREACH each IN ARRAY TG_ARGV LOOP
        IF current_setting('commissioning.bumped_' || each, true) IS DISTINCT FROM xid THEN
            INSERT INTO commissioning_version AS v (scope, stripe, version)
                 VALUES (each, (txid_current() % 16)::smallint, 1)
            ON CONFLICT (scope, stripe) DO UPDATE SET version = v.version + 1;
            PERFORM set_config('commissioning.bumped_' || each, xid, true);
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("commissioning", "0006_version_counters")]

    operations = [migrations.RunSQL(FUNCTION, PREVIOUS)]
