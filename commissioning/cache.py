"""Django's cache, shared by every process when Redis is there (issue 14).

With ``REDIS_URL`` set the default cache is Redis (``SharedRedisCache``): a block one gunicorn
process built (``commissioning.versions.cached``) serves the others. Without it (``make run`` on
the embedded defaults) it is each process's own memory, as Django's default.

The same Redis database may hold other things, and be shared by several databases' applications:
Celery's broker and results (``REDIS_URL`` is also the broker), and, under pytest-xdist, the test
databases of every worker. So:

- every key names the database it was made for (``make_key``: the connection's database name, read
  when the key is made, so a test database's keys are not the development database's, nor another
  worker's);
- ``clear()`` deletes that database's keys alone, never the whole Redis database (``FLUSHDB`` would
  empty Celery's queues, and another worker's entries in the middle of its test);
- Redis out of reach is a miss, not an error: a read answers the default and a write is dropped
  (with a warning in the log; a ``delete`` still fails loudly, as a kept value it meant to end
  would otherwise live on), so pages are built as if nothing were kept; a connection and each
  command give up after a second (``OPTIONS`` in the settings).

What makes a kept block valid for *this* database and *this* code (a database rebuilt under the
same name restarts its version counters; a deploy changes the templates) is in the block's key:
see ``commissioning.versions.key``.
"""

from __future__ import annotations

import logging

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from django.db import connections

log = logging.getLogger(__name__)


def database_name() -> str:
    """The name of the database the default connection uses now (a test database under pytest)."""
    return str(connections["default"].settings_dict["NAME"])


def make_key(key: str, key_prefix: str, version: int) -> str:
    """``<prefix>:<database>:<version>:<key>``: each database's keys apart (``KEY_FUNCTION``)."""
    return f"{key_prefix}:{database_name()}:{version}:{key}"


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


class SharedRedisCache(RedisCache):
    """Django's Redis cache, whose ``clear()`` deletes only this database's keys and which treats
    Redis out of reach as an empty cache (see the module's docstring)."""

    def _database_pattern(self) -> str:
        return _glob_escape(f"{self.key_prefix}:{database_name()}:") + "*"

    def clear(self) -> bool:
        client = self._cache.get_client(None, write=True)
        batch: list[bytes] = []
        for found in client.scan_iter(match=self._database_pattern(), count=1000):
            batch.append(found)
            if len(batch) >= 1000:
                client.unlink(*batch)
                batch = []
        if batch:
            client.unlink(*batch)
        return True

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except self._cache._lib.RedisError as error:
            log.warning("cache read failed, treated as a miss: %s", error)
            return default

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except self._cache._lib.RedisError as error:
            log.warning("cache write failed, dropped: %s", error)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except self._cache._lib.RedisError as error:
            log.warning("cache write failed, dropped: %s", error)
            return False
