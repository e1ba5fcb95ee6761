"""Version counters per scope (commissioning/versions.py): the table, the trigger function and a
statement-level trigger on every table a cached block reads.

The table lists are frozen here as they were when this migration was written; a later change to
``commissioning.versions.SCOPES`` needs a migration of its own (tests/commissioning/test_versions.py
compares the triggers in the database with SCOPES)."""

from django.db import migrations

TABLES = {
    "budgets_section75agreement": ["budgets"],
    "budgets_schedule": ["budgets"],
    "budgets_schedulefixedshare": ["budgets"],
    "budgets_fundingstream": ["budgets"],
    "budgets_budgetline": ["budgets"],
    "budgets_monthlyposition": ["budgets"],
    "budgets_virement": ["budgets"],
    "budgets_linefeed": ["budgets"],
    "budgets_contractschedule": ["budgets"],
    "commissioning_contract": ["budgets"],
    "commissioning_provider": ["budgets", "packages"],
    "commissioning_organisation": ["budgets", "packages"],
    "commissioning_partnership": ["budgets"],
    "governance_board": ["governance"],
    "governance_membership": ["governance"],
    "governance_meeting": ["governance"],
    "governance_agendaitem": ["governance"],
    "governance_decision": ["governance"],
    "governance_decisionlink": ["governance"],
    "auth_group_permissions": ["permissions"],
    "commissioning_user_groups": ["permissions"],
    "commissioning_user_user_permissions": ["permissions"],
    "commissioning_partnershipgrant": ["permissions"],
    "guardian_userobjectpermission": ["permissions"],
    "guardian_groupobjectpermission": ["permissions"],
    "commissioning_user": ["permissions"],
    "commissioning_person": ["permissions"],
    "brokerage_client": ["packages"],
    "brokerage_package": ["packages"],
    "brokerage_packagecost": ["packages"],
    "brokerage_fundingsplit": ["packages"],
    "brokerage_fundingshare": ["packages"],
    "brokerage_suspension": ["packages"],
}
# A sign-in writes the user's last_login: only these columns bump "permissions" on an update.
USER_COLUMNS = ["username", "first_name", "last_name", "is_active", "is_superuser", "is_staff"]

FUNCTION = """
CREATE TABLE commissioning_version (
    scope text NOT NULL,
    stripe smallint NOT NULL,
    version bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, stripe)
);

-- One bump per scope and transaction: the transaction-local setting commissioning.bumped_<scope>
-- holds the id of the transaction that last bumped it (rolled back with a savepoint, like the
-- bump). The row is the transaction's own stripe of 16, so concurrent writers rarely wait on each
-- other; a scope's version is the sum of its stripes.
CREATE FUNCTION commissioning_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
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


def _args(scopes):
    return ", ".join(f"'{scope}'" for scope in scopes)


def create_triggers():
    statements = []
    for table, scopes in TABLES.items():
        events = (
            "INSERT OR DELETE OR TRUNCATE"
            if table == "commissioning_user"
            else "INSERT OR UPDATE OR DELETE OR TRUNCATE"
        )
        statements.append(
            f"CREATE TRIGGER commissioning_version_bump AFTER {events} ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION commissioning_bump_version({_args(scopes)});"
        )
    statements.append(
        f"CREATE TRIGGER commissioning_version_bump_update AFTER UPDATE OF {', '.join(USER_COLUMNS)} "
        f"ON commissioning_user FOR EACH STATEMENT EXECUTE FUNCTION commissioning_bump_version('permissions');"
    )
    return "\n".join(statements)


def drop_triggers():
    statements = [f"DROP TRIGGER IF EXISTS commissioning_version_bump ON {table};" for table in TABLES]
    statements.append("DROP TRIGGER IF EXISTS commissioning_version_bump_update ON commissioning_user;")
    return "\n".join(statements)


class Migration(migrations.Migration):
    dependencies = [
        ("commissioning", "0005_contract_negative_value_message"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("guardian", "0003_remove_groupobjectpermission_guardian_gr_content_ae6aec_idx_and_more"),
        ("budgets", "0007_line_feed"),
        ("governance", "0007_paper_link_history"),
        ("brokerage", "0013_recharge_ledger"),
    ]

    operations = [
        migrations.RunSQL(
            FUNCTION,
            "DROP FUNCTION IF EXISTS commissioning_bump_version(); DROP TABLE IF EXISTS commissioning_version;",
        ),
        migrations.RunSQL(create_triggers(), drop_triggers()),
    ]
