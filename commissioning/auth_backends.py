"""The authentication backend: Django's ``ModelBackend`` with a user's permissions (their own and
their roles'), the names of their roles and their partnership grants read in one query instead of
four.

Every signed-in page and API call asks ``has_perm`` (the role check of ``permissions.py``), so the
permission set is read on every request: Django's two ORM queries cost about 2.6 ms on a borough
database, this one about 0.7 ms. The page shell and the exempt-content rule then find
``User.role_names`` already read, and restricted queries ``granted_partnership_ids``. Superusers,
inactive and anonymous users take Django's own path.
"""

from __future__ import annotations

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from commissioning.permissions import GRANTED_PARTNERSHIPS


class PermissionBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None or user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            with connection.cursor() as cursor:
                cursor.execute(_access_sql(), [user_obj.pk] * 4)
                rows = cursor.fetchall()
            user_obj._perm_cache = {text for kind, text, _ in rows if kind == "p"}
            known = user_obj.__dict__
            known.setdefault("_role_names", sorted(text for kind, text, _ in rows if kind == "r"))
            known.setdefault(GRANTED_PARTNERSHIPS, sorted(pk for kind, _, pk in rows if kind == "g"))
        return user_obj._perm_cache


@cache
def _access_sql() -> str:
    """Rows of ('p', "app_label.codename", NULL) for the permissions, ('r', name, NULL) for the
    roles and ('g', NULL, partnership id) for the grants. Table and column names come from the
    models' own metadata; the user is a parameter."""
    from commissioning.models import PartnershipGrant

    user_model = get_user_model()
    own = user_model.user_permissions.through._meta
    memberships = user_model.groups.through._meta
    granted = Group.permissions.through._meta.db_table

    def user_column(meta) -> str:
        return next(f.column for f in meta.get_fields() if getattr(f, "related_model", None) is user_model)

    grants = PartnershipGrant._meta
    return f"""
        SELECT 'p', ct.app_label || '.' || p.codename, NULL::bigint
          FROM {Permission._meta.db_table} p
          JOIN {ContentType._meta.db_table} ct ON ct.id = p.content_type_id
         WHERE p.id IN (
                SELECT permission_id FROM {own.db_table} WHERE {user_column(own)} = %s
                UNION ALL
                SELECT gp.permission_id
                  FROM {granted} gp
                  JOIN {memberships.db_table} m ON m.group_id = gp.group_id
                 WHERE m.{user_column(memberships)} = %s)
        UNION ALL
        SELECT 'r', g.name, NULL
          FROM {Group._meta.db_table} g
          JOIN {memberships.db_table} m ON m.group_id = g.id
         WHERE m.{user_column(memberships)} = %s
        UNION ALL
        SELECT 'g', NULL, {grants.get_field("partnership").column}
          FROM {grants.db_table}
         WHERE {grants.get_field("user").column} = %s
    """  # noqa: S608
