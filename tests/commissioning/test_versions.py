"""Version counters per scope (commissioning/versions.py): the triggers on every tracked table, one
bump per statement and transaction, nothing for a rolled-back write, no cache inside a transaction
that wrote, and the order that makes a cached block never older than its key.

These tests commit (``transaction=True``): the counters are about what other connections see once a
write commits."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from commissioning import versions

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_cache")]


def _triggers() -> dict[str, dict[str, list[str]]]:
    """The version triggers in the database: table -> trigger name -> the scopes it bumps."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, t.tgname, t.tgargs
              FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
             WHERE t.tgname LIKE 'commissioning_version_bump%%' AND NOT t.tgisinternal
               AND (t.tgtype & 1) = 0  -- FOR EACH STATEMENT, not ROW
            """
        )
        out: dict[str, dict[str, list[str]]] = {}
        for table, name, args in cursor.fetchall():
            out.setdefault(table, {})[name] = [a for a in bytes(args).decode().split("\x00") if a]
    return out


def test_every_tracked_table_has_a_statement_trigger_bumping_its_scopes():
    triggers = _triggers()
    expected = versions.tracked_tables()
    assert sorted(triggers) == sorted(expected)
    for table, scopes in expected.items():
        assert triggers[table]["commissioning_version_bump"] == scopes, table
    assert triggers["commissioning_user"]["commissioning_version_bump_update"] == ["permissions"]


def _versions() -> dict[str, int]:
    return versions.current(versions.SCOPES)


@pytest.mark.parametrize("table", sorted(versions.tracked_tables()))
def test_a_statement_on_a_tracked_table_bumps_its_scopes_and_no_other(table):
    before = _versions()
    column = "first_name" if table == "commissioning_user" else "id"
    with connection.cursor() as cursor:
        # A statement that changes no row still bumps: the trigger is per statement.
        cursor.execute(f"UPDATE {table} SET {column} = {column} WHERE false")  # noqa: S608
    after = _versions()
    scopes = versions.tracked_tables()[table]
    assert {s: after[s] - before[s] for s in versions.SCOPES} == {
        s: (1 if s in scopes else 0) for s in versions.SCOPES
    }


def test_a_sign_in_writing_last_login_bumps_nothing(make_user):
    user = make_user()
    before = _versions()
    user.save(update_fields=["last_login"])
    assert _versions() == before
    user.first_name = "Renamed"
    user.save(update_fields=["first_name"])
    assert _versions()["permissions"] == before["permissions"] + 1


def test_one_bump_per_transaction_however_many_statements_and_rows(partnership):
    from tests.budgets.factories import BudgetLineFactory, ScheduleFactory

    schedule = ScheduleFactory(agreement__partnership=partnership)
    before = _versions()
    with transaction.atomic():
        lines = [BudgetLineFactory(schedule=schedule) for _ in range(5)]
        type(lines[0]).objects.filter(schedule=schedule).update(amount=1)
    assert _versions()["budgets"] == before["budgets"] + 1


def test_a_rolled_back_write_bumps_nothing(partnership):
    from budgets.models import BudgetLine
    from tests.budgets.factories import BudgetLineFactory

    line = BudgetLineFactory(schedule__agreement__partnership=partnership)
    before = _versions()
    with transaction.atomic():
        BudgetLine.objects.filter(pk=line.pk).update(amount=5)
        transaction.set_rollback(True)
    assert _versions() == before


def test_a_transaction_that_wrote_to_a_scope_neither_reads_nor_fills_the_cache(partnership):
    from budgets.models import BudgetLine
    from tests.budgets.factories import BudgetLineFactory

    line = BudgetLineFactory(schedule__agreement__partnership=partnership)
    built = []

    def build():
        built.append(1)
        return BudgetLine.objects.get(pk=line.pk).amount

    assert versions.cached("t", scopes=["budgets"], parts=[line.pk], build=build) == line.amount
    assert versions.cached("t", scopes=["budgets"], parts=[line.pk], build=build) == line.amount
    assert len(built) == 1  # the second came from the cache
    with transaction.atomic():
        BudgetLine.objects.filter(pk=line.pk).update(amount=7)
        assert versions.current(["budgets"]) is None
        assert versions.current(["governance"]) is not None  # only the scopes it wrote
        assert versions.cached("t", scopes=["budgets"], parts=[line.pk], build=build) == 7
        transaction.set_rollback(True)
    # The uncommitted 7 was neither served from nor left in the cache.
    assert versions.cached("t", scopes=["budgets"], parts=[line.pk], build=build) == line.amount
    assert len(built) == 2


def test_a_write_committing_between_the_versions_and_the_data_makes_the_entry_newer_never_older(
    partnership, monkeypatch
):
    """The versions are read before the data. A write that commits in between is in the data but
    not in the key: the entry is newer than its key, and the next request (reading the bumped
    versions) builds again. Read the other way round, the stale amount would be filed under the new
    versions and served: the write here commits after whichever of the two reads comes first."""
    from decimal import Decimal

    from budgets.models import BudgetLine
    from tests.budgets.factories import BudgetLineFactory

    line = BudgetLineFactory(schedule__agreement__partnership=partnership, amount=Decimal("100.00"))
    pending = [True]

    def then_a_write_commits():
        if pending:
            pending.clear()
            BudgetLine.objects.filter(pk=line.pk).update(amount=Decimal("200.00"))  # autocommit

    read = versions._read

    def current(scopes):
        found = read(scopes)
        then_a_write_commits()
        return found

    def build():
        amount = BudgetLine.objects.get(pk=line.pk).amount
        then_a_write_commits()
        return amount

    monkeypatch.setattr(versions, "_read", current)
    first = versions.cached("t", scopes=["budgets"], parts=[line.pk], build=build)
    second = versions.cached("t", scopes=["budgets"], parts=[line.pk], build=build)
    assert not pending
    assert (first, second) == (Decimal("200.00"), Decimal("200.00"))


def test_the_cache_is_the_one_production_uses():
    """The blocks live in Django's default cache as configured (per-process memory unless the
    settings say otherwise), not a dummy that would make every test here pass by building."""
    backend = settings.CACHES["default"]["BACKEND"]
    assert backend != "django.core.cache.backends.dummy.DummyCache"
    cache.set("versions-probe", 1)
    assert cache.get("versions-probe") == 1


def test_requests_arriving_while_a_block_is_built_wait_for_it_rather_than_build_it_again(monkeypatch):
    import threading
    import time

    monkeypatch.setattr(versions, "_read", lambda scopes: (1, {"budgets": 1}))
    builds = []

    def build():
        builds.append(1)
        time.sleep(0.2)
        return "block"

    results = []
    threads = [
        threading.Thread(
            target=lambda: results.append(versions.cached("t", scopes=["budgets"], parts=[1], build=build))
        )
        for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["block"] * 5
    assert len(builds) == 1
    assert versions._building == {}


def test_a_writer_never_waits_for_another_writers_bump(partnership):
    """Two open transactions writing the same scope: the second bumps a stripe the first does not
    hold (it would otherwise wait for the first to commit), and both bumps count."""
    import threading

    from budgets.models import BudgetLine
    from tests.budgets.factories import BudgetLineFactory

    line = BudgetLineFactory(schedule__agreement__partnership=partnership)
    before = _versions()
    holding, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                BudgetLine.objects.filter(pk=line.pk).update(name="Held")
                holding.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(30)
        for _ in range(3):  # whichever stripes exist, none of them makes this one wait
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '3s'")
                BudgetLine.objects.filter(pk=-1).update(amount=2)  # no row of the held one's
    finally:
        release.set()
        thread.join()
    assert _versions()["budgets"] == before["budgets"] + 4
