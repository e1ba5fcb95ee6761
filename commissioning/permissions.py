"""The one permission gate (conventions.md, security.md).

``Model.objects.restrict(user, action)`` answers "which of these may this user see (or change)".
Web views, the API and tasks all fetch through it; nothing else builds a permission query.

- Anonymous and inactive users see nothing.
- Superusers (administrators) see everything.
- A user needs the role's model permission for the action (``<app>.<action>_<model>``); without it
  the answer is empty (views answer 403 before asking, so a missing role is not hidden as a 404).
- Records belonging to a partnership are visible only in the partnerships granted to the user.
  A model declares where its partnership is with ``partnership_path`` (``None`` for reference data
  shared by every partnership, such as organisations and providers).
- Models with ``guardian_object_permissions = True`` also show objects granted one by one through
  django-guardian, and may narrow further with ``restrict_objects`` (e.g. exempt board papers).
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.db.models import Q

ACTIONS = ("view", "add", "change", "delete")


def permission_name(model: type[models.Model], action: str) -> str:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def has_model_permission(user, model: type[models.Model], action: str) -> bool:
    if user is None or isinstance(user, AnonymousUser) or not user.is_active:
        return False
    return user.has_perm(permission_name(model, action))


def granted_partnership_ids(user) -> list[int]:
    """The partnerships granted to the user, read once per user object as Django keeps a user's
    permissions (the permission backend reads them with the permissions). Restricted queries
    carry them as a list of ids: PostgreSQL plans ``IN (1, 2)`` in about half the time it takes
    to plan a subquery of the grants, and most pages run several restricted queries."""
    ids = getattr(user, GRANTED_PARTNERSHIPS, None)  # getattr: request.user is a lazy proxy
    if ids is None:
        from commissioning.models import PartnershipGrant

        ids = sorted(PartnershipGrant.objects.filter(user=user).values_list("partnership_id", flat=True))
        setattr(user, GRANTED_PARTNERSHIPS, ids)
    return ids


GRANTED_PARTNERSHIPS = "_granted_partnership_ids"


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view") -> RestrictedQuerySet:
        model = self.model
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        if not has_model_permission(user, model, action):
            return self.none()
        path = getattr(model, "partnership_path", None)
        qs = self
        if path:
            scope = Q(**{f"{path}__in": granted_partnership_ids(user)})
            if getattr(model, "guardian_object_permissions", False):
                from guardian.shortcuts import get_objects_for_user

                granted_objects = get_objects_for_user(
                    user,
                    permission_name(model, action),
                    klass=model.objects.all(),
                    accept_global_perms=False,
                    with_superuser=False,
                )
                scope |= Q(pk__in=granted_objects.values("pk"))
            qs = qs.filter(scope)
        narrow = getattr(model, "restrict_objects", None)
        if narrow is not None:
            qs = narrow(qs, user, action)
        return qs

    def in_partnership(self, partnership) -> RestrictedQuerySet:
        """Narrow to the partnership chosen in the header's switcher (None: all granted)."""
        path = getattr(self.model, "partnership_path", None)
        # ``request.partnership`` is a lazy object that may wrap None: ask it for its pk.
        pk = partnership if isinstance(partnership, int) else getattr(partnership, "pk", None)
        if pk is None or not path:
            return self
        return self.filter(**{path: pk})


RestrictedManager = models.Manager.from_queryset(RestrictedQuerySet)
