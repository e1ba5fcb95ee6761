"""Roles are Django groups. Each app lists what its roles may do in ``<app>/roles.py`` as
``ROLE_PERMISSIONS = {role: {model_name: "view add change delete"}}``; the groups are created by a
migration and their permissions are brought in line after every ``migrate`` (post_migrate), so a
new app only declares its own table here."""

from __future__ import annotations

import importlib

from django.apps import apps as global_apps

COMMISSIONER = "Commissioner"
BROKER = "Broker"
BROKERAGE_MANAGER = "Brokerage manager"
FINANCE_OFFICER = "Finance officer"
BOARD_SECRETARY = "Board secretary"
BOARD_MEMBER = "Board member"
AUDITOR = "Auditor"
ADMINISTRATOR = "Administrator"

ROLES = (
    COMMISSIONER,
    BROKER,
    BROKERAGE_MANAGER,
    FINANCE_OFFICER,
    BOARD_SECRETARY,
    BOARD_MEMBER,
    AUDITOR,
    ADMINISTRATOR,
)

_READ = "view"
_ALL = "view add change delete"

# The shared core's share of each role.
ROLE_PERMISSIONS = {
    COMMISSIONER: {
        "organisation": _READ,
        "partnership": _READ,
        "person": "view add change",
        "provider": "view add change",
        "contract": _ALL,
        "contractreview": _ALL,
    },
    BROKER: {"organisation": _READ, "partnership": _READ, "provider": _READ, "person": _READ},
    BROKERAGE_MANAGER: {
        "organisation": _READ,
        "partnership": _READ,
        "provider": "view add change",
        "person": _READ,
        "contract": _READ,
        "contractreview": _READ,
    },
    FINANCE_OFFICER: {
        "organisation": "view change",
        "partnership": _READ,
        "provider": _READ,
        "person": _READ,
        "contract": _READ,
        "contractreview": _READ,
    },
    BOARD_SECRETARY: {
        "organisation": _READ,
        "partnership": _READ,
        "provider": _READ,
        "person": "view add change",
        "contract": _READ,
        "contractreview": _READ,
    },
    BOARD_MEMBER: {"organisation": _READ, "partnership": _READ, "person": _READ},
    AUDITOR: {
        "organisation": _READ,
        "partnership": _READ,
        "provider": _READ,
        "person": _READ,
        "contract": _READ,
        "contractreview": _READ,
        "accesslog": _READ,
        "audittrail": _READ,
        "user": _READ,
    },
    ADMINISTRATOR: {
        "organisation": _ALL,
        "partnership": _ALL,
        "provider": _ALL,
        "person": _ALL,
        "contract": _ALL,
        "contractreview": _ALL,
        "accesslog": _READ,
        "audittrail": _READ,
        "user": _ALL,
    },
}


def _app_role_tables():
    for config in global_apps.get_app_configs():
        try:
            module = importlib.import_module(f"{config.name}.roles")
        except ModuleNotFoundError:
            continue
        table = getattr(module, "ROLE_PERMISSIONS", None)
        if table:
            yield config.label, table


def sync_role_permissions(app_config=None, **_kwargs) -> None:
    """Create the role groups and give each exactly the permissions the apps' tables list.

    ``post_migrate`` comes once per app with models, in the apps' order, each after that app's
    permissions are made; the groups need every app's, so they are synced once, after the last app
    (a test that commits runs this after every test, through Django's flush)."""
    from django.contrib.auth.models import Group, Permission

    if app_config is not None:
        with_models = [c for c in global_apps.get_app_configs() if c.models_module is not None]
        if with_models and app_config is not with_models[-1]:
            return

    wanted: dict[str, set[tuple[str, str]]] = {role: set() for role in ROLES}
    for app_label, table in _app_role_tables():
        for role, models in table.items():
            for model_name, actions in models.items():
                for action in actions.split():
                    wanted[role].add((app_label, f"{action}_{model_name}"))
    perms = {
        (p.content_type.app_label, p.codename): p
        for p in Permission.objects.select_related("content_type").all()
    }
    for role, codes in wanted.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([perms[c] for c in codes if c in perms])
