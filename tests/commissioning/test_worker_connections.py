"""A Celery pool child keeps its database connection from task to task (``WORKER_DB_CONN_MAX_AGE``,
commissioning/celery.py), checked between tasks as Django checks one between requests: a broken one
is replaced before the next task, and an eager task leaves its caller's connection alone."""

from __future__ import annotations

from types import SimpleNamespace

import psycopg2
import pytest
from django.db import OperationalError, connection, transaction

from commissioning.celery import _close_old_connections, _keep_database_connections

QUEUED = SimpleNamespace(request=SimpleNamespace(is_eager=False))
EAGER = SimpleNamespace(request=SimpleNamespace(is_eager=True))


@pytest.fixture
def pool_child(settings):
    """This process as a pool child just started (``worker_process_init``), its settings restored
    afterwards: ``settings_dict`` is the dict of ``settings.DATABASES``."""
    age = connection.settings_dict["CONN_MAX_AGE"]
    connection.close()

    def start(max_age: int) -> None:
        settings.WORKER_DB_CONN_MAX_AGE = max_age
        _keep_database_connections()

    yield start
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = age


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _terminate(pid: int) -> None:
    params = connection.get_connection_params()
    other = psycopg2.connect(**params)
    try:
        other.autocommit = True
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
def test_a_pool_child_keeps_its_connection_from_one_task_to_the_next(pool_child):
    pool_child(300)
    first = _backend_pid()
    _close_old_connections(task=QUEUED)  # the end of one task
    _close_old_connections(task=QUEUED)  # the start of the next

    assert _backend_pid() == first


@pytest.mark.django_db(transaction=True)
def test_with_no_age_every_task_has_a_new_connection(pool_child):
    pool_child(0)
    first = _backend_pid()
    _close_old_connections(task=QUEUED)

    assert _backend_pid() != first


@pytest.mark.django_db(transaction=True)
def test_a_connection_broken_in_a_task_is_replaced_before_the_next(pool_child):
    pool_child(300)
    first = _backend_pid()
    _terminate(first)  # the database restarted, or an administrator ended the session
    with pytest.raises(OperationalError):
        _backend_pid()  # the task that meets it fails; Django notes the error

    _close_old_connections(task=QUEUED)

    assert _backend_pid() not in (None, first)


@pytest.mark.django_db(transaction=True)
def test_an_eager_task_leaves_its_callers_connection_and_transaction_alone(pool_child):
    pool_child(0)  # a connection past its age: a queued task's check would close it
    with transaction.atomic():
        first = _backend_pid()
        _close_old_connections(task=EAGER)

        assert _backend_pid() == first
        assert not connection.needs_rollback


def test_celerys_own_close_around_each_task_is_off_while_workers_keep_their_connections():
    """The fixup would otherwise close the kept connection before every task."""
    from commissioning import settings as project_settings

    assert project_settings.WORKER_DB_CONN_MAX_AGE > 0
    assert project_settings.CELERY_DB_REUSE_MAX == project_settings.CELERY_WORKER_MAX_TASKS_PER_CHILD
