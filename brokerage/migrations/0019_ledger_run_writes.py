from django.db import migrations

# A recharge run's own writes to the owed and billed rows of its scope unsettle nothing: the run
# names its scope in ``brokerage.ledger_run`` (transaction-local, brokerage/finance/ledger.py
# RUNNING), compares every month it wrote, and unsettles those still differing itself. Every other
# write (and a run's writes to another scope, which it makes none of) unsettles as in 0018. Before,
# a month's run inserted, bumped and deleted an unsettled row for every package it computed.
FORWARD = """
CREATE OR REPLACE FUNCTION brokerage_ledgerowed_unsettle() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    running text := NULLIF(current_setting('brokerage.ledger_run', true), '');
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM brokerage_ledger_unsettle_owed(array_agg(r.package_id), array_agg(r.month))
        FROM new_rows r JOIN brokerage_package p ON p.id = r.package_id
        JOIN brokerage_client c ON c.id = p.client_id
        WHERE running IS NULL OR p.paying_organisation_id || ':' || c.partnership_id <> running;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM brokerage_ledger_unsettle_owed(array_agg(r.package_id), array_agg(r.month))
        FROM old_rows r JOIN brokerage_package p ON p.id = r.package_id
        JOIN brokerage_client c ON c.id = p.client_id
        WHERE running IS NULL OR p.paying_organisation_id || ':' || c.partnership_id <> running;
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION brokerage_ledgerbilled_unsettle() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    running text := NULLIF(current_setting('brokerage.ledger_run', true), '');
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM brokerage_ledger_unsettle(
            array_agg(issuer_id), array_agg(partnership_id), array_agg(package_id), array_agg(month))
        FROM new_rows WHERE running IS NULL OR issuer_id || ':' || partnership_id <> running;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM brokerage_ledger_unsettle(
            array_agg(issuer_id), array_agg(partnership_id), array_agg(package_id), array_agg(month))
        FROM old_rows WHERE running IS NULL OR issuer_id || ':' || partnership_id <> running;
    END IF;
    RETURN NULL;
END $$;
"""

# 0018's functions, as they were.
REVERSE = """
CREATE OR REPLACE FUNCTION brokerage_ledgerowed_unsettle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM brokerage_ledger_unsettle_owed(array_agg(package_id), array_agg(month)) FROM new_rows;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM brokerage_ledger_unsettle_owed(array_agg(package_id), array_agg(month)) FROM old_rows;
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION brokerage_ledgerbilled_unsettle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM brokerage_ledger_unsettle(
            array_agg(issuer_id), array_agg(partnership_id), array_agg(package_id), array_agg(month))
        FROM new_rows;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM brokerage_ledger_unsettle(
            array_agg(issuer_id), array_agg(partnership_id), array_agg(package_id), array_agg(month))
        FROM old_rows;
    END IF;
    RETURN NULL;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("brokerage", "0018_ledger_unsettled"),
    ]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
