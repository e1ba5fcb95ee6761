"""The database itself refuses what the models forbid, whatever the Python code path (a bulk
update, raw SQL, a future bug): unique codes and references, end after start, no negative money."""

from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from commissioning import choices
from commissioning.models import Contract, Organisation, Partnership, PartnershipGrant, Provider
from tests.commissioning.factories import (
    ContractFactory,
    CouncilFactory,
    NHSCommissionerFactory,
    OrganisationFactory,
    ProviderFactory,
)

pytestmark = pytest.mark.django_db


@contextmanager
def refused(constraint: str):
    """Expect an IntegrityError naming the constraint, inside a savepoint so the test goes on."""
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        yield


# --- Contracts ----------------------------------------------------------------------------------


def test_a_reference_is_unique_within_a_partnership(partnership):
    ContractFactory(partnership=partnership, reference="LBB-1")

    with refused("contract_reference_unique"):
        ContractFactory(partnership=partnership, reference="LBB-1")

    assert Contract.objects.filter(reference="LBB-1").count() == 1


def test_the_same_reference_is_allowed_in_two_partnerships(partnership, other_partnership):
    ContractFactory(partnership=partnership, reference="SHARED-1")
    ContractFactory(partnership=other_partnership, reference="SHARED-1")

    assert Contract.objects.filter(reference="SHARED-1").count() == 2


@pytest.mark.parametrize("end", [date(2024, 4, 1), date(2024, 3, 31)])
def test_a_contract_cannot_end_on_or_before_its_start(partnership, end):
    with refused("contract_end_after_start"):
        ContractFactory(partnership=partnership, start=date(2024, 4, 1), end=end)

    assert not Contract.objects.exists()


def test_a_bulk_update_cannot_move_the_end_before_the_start(partnership):
    contract = ContractFactory(partnership=partnership, start=date(2024, 4, 1), end=date(2027, 3, 31))

    with refused("contract_end_after_start"):
        Contract.objects.filter(pk=contract.pk).update(end=date(2020, 1, 1))

    contract.refresh_from_db()
    assert contract.end == date(2027, 3, 31)


def test_an_annual_value_cannot_be_negative(partnership):
    with refused("contract_value_non_negative"):
        ContractFactory(partnership=partnership, annual_value=Decimal("-0.01"))

    assert not Contract.objects.exists()


def test_raw_sql_cannot_make_an_annual_value_negative(partnership):
    contract = ContractFactory(partnership=partnership, annual_value=Decimal("10.00"))

    with refused("contract_value_non_negative"), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Contract._meta.db_table} SET annual_value = -1 WHERE id = %s",  # noqa: S608
            [contract.pk],
        )

    contract.refresh_from_db()
    assert contract.annual_value == Decimal("10.00")


def test_a_zero_annual_value_is_allowed(partnership):
    contract = ContractFactory(partnership=partnership, annual_value=Decimal("0.00"))

    assert contract.pk


# --- Organisations, partnerships, providers -----------------------------------------------------


def test_an_organisation_code_is_unique():
    OrganisationFactory(code="LBB")

    with refused("code"):
        Organisation.objects.create(code="LBB", name="Another", kind=choices.OrganisationKind.COUNCIL)

    assert Organisation.objects.filter(code="LBB").count() == 1


@pytest.mark.parametrize("code", ["lbb", "-LBB", "LB B", "LBB_1", ""])
def test_an_organisation_code_must_be_capitals_digits_and_hyphens(code):
    with refused("organisation_code_format"):
        Organisation.objects.create(code=code, name="Badly coded", kind=choices.OrganisationKind.PROVIDER)


def test_payment_terms_cannot_exceed_a_year():
    with refused("organisation_payment_terms_range"):
        Organisation.objects.create(
            code="SLOW", name="Slow payer", kind=choices.OrganisationKind.PROVIDER, payment_terms_days=366
        )


def test_a_partnership_name_is_unique(partnership):
    with refused("name"):
        Partnership.objects.create(
            name="Bromley", council=CouncilFactory(), nhs_commissioner=NHSCommissionerFactory()
        )


def test_a_partnership_needs_two_different_partners():
    council = CouncilFactory()

    with refused("partnership_two_different_partners"):
        Partnership.objects.create(name="Alone", council=council, nhs_commissioner=council)


def test_a_cqc_location_id_is_unique_when_given():
    ProviderFactory(cqc_location_id="1-123456789")

    with refused("provider_cqc_id_unique"):
        ProviderFactory(cqc_location_id="1-123456789")

    assert Provider.objects.filter(cqc_location_id="1-123456789").count() == 1


def test_many_providers_may_have_no_cqc_location_id():
    ProviderFactory(cqc_location_id="")
    ProviderFactory(cqc_location_id="")

    assert Provider.objects.filter(cqc_location_id="").count() == 2


def test_a_partnership_is_granted_to_a_user_once(commissioner, partnership):
    with refused("grant_once_per_partnership"):
        PartnershipGrant.objects.create(user=commissioner, partnership=partnership)

    assert PartnershipGrant.objects.filter(user=commissioner).count() == 1
