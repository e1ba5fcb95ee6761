"""The shared cache (commissioning/cache.py, issue 14): Redis when REDIS_URL is set and memory
otherwise; each database's keys apart (test databases of parallel workers share one Redis database,
and so does Celery); clear() empties this database's keys alone; Redis out of reach is a miss; and
a kept block is keyed on the database's identity and the code, so a database rebuilt under the same
name (its versions count from nought again) or a deploy never meets the old entries."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.test import override_settings

from commissioning import cache as shared
from commissioning import versions
from tests.ci import skip_or_fail_in_ci

pytestmark = pytest.mark.django_db


def _settings_with(**env) -> dict:
    """commissioning.settings' CACHES, read in a fresh interpreter with ``env``."""
    environ = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | env
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import json, commissioning.settings as s; print(json.dumps(s.CACHES))"],
        cwd=settings.BASE_DIR,
        env=environ,
        check=True,
        capture_output=True,
        text=True,
    )
    import json

    return json.loads(done.stdout.strip().splitlines()[-1])["default"]


def test_redis_when_redis_url_is_set_and_process_memory_when_not():
    on_redis = _settings_with(REDIS_URL="redis://127.0.0.1:6379/9")
    assert on_redis["BACKEND"] == "commissioning.cache.SharedRedisCache"
    assert on_redis["LOCATION"] == "redis://127.0.0.1:6379/9"
    assert on_redis["KEY_FUNCTION"] == "commissioning.cache.make_key"
    alone = _settings_with()
    assert alone["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert alone["KEY_FUNCTION"] == "commissioning.cache.make_key"


@pytest.fixture
def other_database(monkeypatch):
    """Make keys as another database's application would (another worker's test database)."""

    def switch(name):
        monkeypatch.setitem(connections["default"].settings_dict, "NAME", name)

    own = connections["default"].settings_dict["NAME"]
    yield switch
    monkeypatch.setitem(connections["default"].settings_dict, "NAME", own)


def test_each_database_has_its_own_keys(other_database):
    own = connections["default"].settings_dict["NAME"]
    assert cache.make_key("k") == f"jco:{own}:1:k"
    cache.set("k", "mine")
    other_database(own + "_gw9")
    assert cache.get("k") is None
    cache.set("k", "theirs")
    other_database(own)
    assert cache.get("k") == "mine"
    cache.delete("k")
    other_database(own + "_gw9")
    assert cache.get("k") == "theirs"
    cache.delete("k")


def require_redis() -> None:
    """The Redis cache's own tests need REDIS_URL: skipped without it, failed in CI (which sets it)."""
    if not os.environ.get("REDIS_URL"):
        skip_or_fail_in_ci(
            "REDIS_URL is unset: the shared cache is Redis only with REDIS_URL",
            in_ci_because="CI sets REDIS_URL, so the Redis cache test must run there",
        )


def test_without_redis_url_the_redis_test_is_skipped_but_fails_in_ci(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="REDIS_URL is unset"):
        require_redis()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="must run there"):
        require_redis()
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    require_redis()  # set: the test runs


def test_clear_empties_this_databases_keys_and_nothing_else(other_database):
    from django.core.cache import caches

    require_redis()

    backend = caches["default"]
    assert isinstance(backend, shared.SharedRedisCache)
    redis = backend._cache.get_client(None, write=True)
    own = connections["default"].settings_dict["NAME"]
    redis.set("celery-like-key-of-test-cache", "queued")  # what Celery keeps in the same database
    other_database(own + "_gw9")
    cache.set("k", "theirs")
    other_database(own)
    for n in range(1500):  # more than one batch of the scan
        cache.set(f"k{n}", n)
    try:
        cache.clear()
        assert cache.get("k1") is None and cache.get("k1499") is None
        assert redis.get("celery-like-key-of-test-cache") == b"queued"
        other_database(own + "_gw9")
        assert cache.get("k") == "theirs"
        cache.delete("k")
    finally:
        redis.delete("celery-like-key-of-test-cache")


def test_glob_characters_in_a_database_name_match_only_themselves():
    assert shared._glob_escape("test_a*b?[c]") == "test_a\\*b\\?\\[c\\]"


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends: nothing listens


def test_redis_out_of_reach_is_a_miss_and_the_block_is_built(partnership, caplog):
    from tests.budgets.factories import BudgetLineFactory

    line = BudgetLineFactory(schedule__agreement__partnership=partnership)
    unreachable = {
        "default": {
            "BACKEND": "commissioning.cache.SharedRedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
            "KEY_PREFIX": "jco",
            "KEY_FUNCTION": "commissioning.cache.make_key",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    built = []

    def build():
        built.append(1)
        return line.name

    with override_settings(CACHES=unreachable):
        cache.set("k", 1)
        assert cache.get("k", "default") == "default"
        assert cache.add("k", 1) is False
        # Committed data and a clean transaction (the factory wrote in the test's transaction, so
        # that the block is not bypassed for a dirty scope, read governance alone).
        assert versions.cached("t", scopes=["governance"], parts=[1], build=build) == line.name
        assert versions.cached("t", scopes=["governance"], parts=[1], build=build) == line.name
    assert len(built) == 2
    assert "cache read failed" in caplog.text


def test_a_database_rebuilt_under_the_same_name_never_meets_the_old_entries(monkeypatch):
    """Its versions count from nought again; the old database's entries were filed under the same
    numbers. The database's oid (new for every CREATE DATABASE) is in the key."""
    read = versions._read
    database, found = read(["governance"])
    assert database > 0
    built = []

    def build():
        built.append(1)
        return len(built)

    assert versions.cached("t", scopes=["governance"], parts=[1], build=build) == 1
    assert versions.cached("t", scopes=["governance"], parts=[1], build=build) == 1
    monkeypatch.setattr(versions, "_read", lambda scopes: (database + 1, found))
    assert versions.cached("t", scopes=["governance"], parts=[1], build=build) == 2


def test_the_code_is_in_the_key(tmp_path, monkeypatch):
    """A deploy that changes a template draws its blocks again: the shared cache outlives the
    processes that filled it."""
    (tmp_path / "brokerage" / "templates").mkdir(parents=True)
    template = tmp_path / "brokerage" / "templates" / "page.html"
    template.write_text("<p>{{ a }}</p>")
    monkeypatch.setattr(settings, "BASE_DIR", tmp_path)
    versions.code_fingerprint.cache_clear()
    try:
        before = versions.key("t", {"budgets": 1}, [1])
        assert versions.key("t", {"budgets": 1}, [1]) == before
        template.write_text("<p>{{ b }}</p>")
        versions.code_fingerprint.cache_clear()
        assert versions.key("t", {"budgets": 1}, [1]) != before
    finally:
        versions.code_fingerprint.cache_clear()
