"""The role groups are brought in line with the apps' permission tables once per ``migrate``: after
the last app's ``post_migrate``, when every app's permissions exist. Tests that commit run this
after every test (Django's flush emits ``post_migrate``), so once rather than once per app matters."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management.sql import emit_post_migrate_signal

from commissioning import roles

pytestmark = pytest.mark.django_db


def test_post_migrate_syncs_the_role_groups_once_after_the_last_app(monkeypatch):
    broker = Group.objects.get(name=roles.BROKER)
    expected = set(broker.permissions.values_list("pk", flat=True))
    assert expected
    broker.permissions.clear()
    syncs = []
    tables = roles._app_role_tables
    monkeypatch.setattr(roles, "_app_role_tables", lambda: syncs.append(1) or tables())

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    assert len(syncs) == 1
    assert set(broker.permissions.values_list("pk", flat=True)) == expected


def test_called_without_an_app_it_syncs(monkeypatch):
    broker = Group.objects.get(name=roles.BROKER)
    expected = set(broker.permissions.values_list("pk", flat=True))
    broker.permissions.clear()
    roles.sync_role_permissions()
    assert set(broker.permissions.values_list("pk", flat=True)) == expected
