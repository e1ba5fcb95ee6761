"""commissioning.auth_backends.PermissionBackend reads a user's permissions in one query and must
answer exactly what Django's ModelBackend answers."""

from __future__ import annotations

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commissioning import roles
from commissioning.auth_backends import PermissionBackend
from commissioning.models import User
from commissioning.permissions import granted_partnership_ids

pytestmark = pytest.mark.django_db


def both(user) -> tuple[set[str], set[str]]:
    fresh = [User.objects.get(pk=user.pk) for _ in range(2)]  # no cached permissions
    return ModelBackend().get_all_permissions(fresh[0]), PermissionBackend().get_all_permissions(fresh[1])


@pytest.mark.parametrize("role", [roles.COMMISSIONER, roles.FINANCE_OFFICER, roles.BOARD_SECRETARY, None])
def test_the_permissions_are_djangos_own(make_user, partnership, role):
    user = make_user(role, [partnership])
    django_answer, ours = both(user)
    assert ours == django_answer
    assert bool(ours) == (role is not None)


def test_own_and_role_permissions_are_both_read_and_overlaps_count_once(make_user, partnership):
    user = make_user(roles.BROKER, [partnership])
    user.user_permissions.add(
        Permission.objects.get(codename="view_invoice"),  # not a broker's
        *user.groups.get().permissions.all()[:2],  # already the role's
    )
    make_user(roles.FINANCE_OFFICER, [partnership])  # someone else's permissions stay theirs
    django_answer, ours = both(user)
    assert ours == django_answer
    assert "brokerage.view_invoice" in ours


def test_inactive_users_and_superusers_take_djangos_path(make_user, partnership):
    inactive = make_user(roles.COMMISSIONER, [partnership], is_active=False)
    assert both(inactive) == (set(), set())
    admin = make_user(None, [], is_superuser=True)
    django_answer, ours = both(admin)
    assert ours == django_answer and len(ours) == Permission.objects.count()


def test_one_query_for_the_permissions_and_the_roles_then_cached(make_user, partnership):
    made = make_user(roles.COMMISSIONER, [partnership])
    made.groups.add(Group.objects.get(name=roles.BOARD_MEMBER))
    user = User.objects.get(pk=made.pk)
    with CaptureQueriesContext(connection) as queries:
        assert user.has_perm("budgets.view_schedule")
        assert not user.has_perm("brokerage.view_invoice")
        user.get_all_permissions()
        assert user.role_names == sorted([roles.BOARD_MEMBER, roles.COMMISSIONER])
        assert user.has_role(roles.COMMISSIONER) and not user.has_role(roles.FINANCE_OFFICER)
        assert granted_partnership_ids(user) == [partnership.pk]
    assert len(queries) == 1
    alone = User.objects.get(pk=made.pk)  # each read on its own: the same answers
    assert alone.role_names == user.role_names
    assert granted_partnership_ids(alone) == [partnership.pk]


def test_grants_in_several_partnerships_and_none(make_user, partnership, other_partnership):
    both_places = User.objects.get(pk=make_user(roles.BROKER, [partnership, other_partnership]).pk)
    assert both_places.has_perm("brokerage.view_referral")
    assert granted_partnership_ids(both_places) == sorted([partnership.pk, other_partnership.pk])
    nowhere = User.objects.get(pk=make_user(roles.BROKER, []).pk)
    assert nowhere.has_perm("brokerage.view_referral") and granted_partnership_ids(nowhere) == []


def test_a_user_without_roles_has_no_role_names(make_user, partnership):
    user = User.objects.get(pk=make_user(None, [partnership]).pk)
    assert user.get_all_permissions() == set()
    assert user.role_names == []
