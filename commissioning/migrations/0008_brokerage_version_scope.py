"""The "brokerage" version scope (commissioning/versions.py): what the referral queue and a
package's page read besides the "packages" and "permissions" scopes. A statement-level trigger on
referrals, offers, price changes and funding panel decisions, and the partnerships' trigger bumps
"brokerage" as well as "budgets" (the queue's funder filter offers their councils and NHS
commissioners). Frozen as written, like 0006."""

from django.db import migrations

TABLES = {
    "brokerage_referral": ["brokerage"],
    "brokerage_offer": ["brokerage"],
    "brokerage_pricechange": ["brokerage"],
    "brokerage_paneldecision": ["brokerage"],
}
EVENTS = "INSERT OR UPDATE OR DELETE OR TRUNCATE"


def _trigger(table, scopes):
    args = ", ".join(f"'{scope}'" for scope in scopes)
    return (
        f"CREATE TRIGGER commissioning_version_bump AFTER {EVENTS} ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION commissioning_bump_version({args});"
    )


def _drop(table):
    return f"DROP TRIGGER IF EXISTS commissioning_version_bump ON {table};"


FORWARD = "\n".join(
    [
        *(_trigger(table, scopes) for table, scopes in TABLES.items()),
        _drop("commissioning_partnership"),
        _trigger("commissioning_partnership", ["budgets", "brokerage"]),
    ]
)
BACKWARD = "\n".join(
    [
        *(_drop(table) for table in TABLES),
        _drop("commissioning_partnership"),
        _trigger("commissioning_partnership", ["budgets"]),
    ]
)


class Migration(migrations.Migration):
    dependencies = [
        ("commissioning", "0007_version_bump_skips_locked_stripes"),
        ("brokerage", "0011_price_changes"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
