import pytest

from commissioning import roles
from commissioning.models import Contract
from tests.commissioning.factories import ContractFactory

pytestmark = pytest.mark.django_db


def test_a_commissioner_sees_contracts_only_in_granted_partnerships(
    commissioner, partnership, other_partnership
):
    mine = ContractFactory(partnership=partnership)
    ContractFactory(partnership=other_partnership)

    visible = Contract.objects.restrict(commissioner, "view")

    assert list(visible) == [mine]


def test_a_role_without_the_permission_sees_nothing(make_user, partnership):
    ContractFactory(partnership=partnership)
    broker = make_user(roles.BROKER, [partnership])

    assert Contract.objects.restrict(broker, "view").count() == 0


def test_anonymous_sees_nothing(partnership):
    from django.contrib.auth.models import AnonymousUser

    ContractFactory(partnership=partnership)

    assert Contract.objects.restrict(AnonymousUser(), "view").count() == 0


def test_an_auditor_reads_but_cannot_change(make_user, partnership):
    contract = ContractFactory(partnership=partnership)
    auditor = make_user(roles.AUDITOR, [partnership])

    assert list(Contract.objects.restrict(auditor, "view")) == [contract]
    assert Contract.objects.restrict(auditor, "change").count() == 0


def test_a_guardian_grant_shows_one_contract_of_another_partnership(
    make_user, partnership, other_partnership
):
    from guardian.shortcuts import assign_perm

    theirs = ContractFactory(partnership=other_partnership)
    ContractFactory(partnership=other_partnership)
    auditor = make_user(roles.AUDITOR, [partnership])
    assign_perm("commissioning.view_contract", auditor, theirs)

    assert list(Contract.objects.restrict(auditor, "view")) == [theirs]


def test_a_superuser_sees_every_partnership(make_user, partnership, other_partnership):
    ContractFactory(partnership=partnership)
    ContractFactory(partnership=other_partnership)
    admin = make_user(is_superuser=True)

    assert Contract.objects.restrict(admin, "view").count() == 2
