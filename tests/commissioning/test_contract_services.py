"""contract_create, contract_update and contract_review_add: the writes every contract page calls."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from pghistory.models import Events

from commissioning import choices, services
from commissioning.models import Contract, ContractReview
from tests.commissioning.factories import ContractFactory, NHSCommissionerFactory, ProviderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fields(partnership):
    def _fields(**changes):
        values = {
            "partnership": partnership,
            "reference": "LBB-RES-01",
            "service": "Residential care block",
            "service_type": choices.ServiceType.RESIDENTIAL,
            "provider": ProviderFactory(),
            "lead_commissioner": partnership.council,
            "annual_value": Decimal("750000.00"),
            "start": date(2024, 4, 1),
            "end": date(2027, 3, 31),
            "procurement_route": choices.ProcurementRoute.RESTRICTED,
        }
        values.update(changes)
        return values

    return _fields


def test_contract_create_saves_the_contract_and_its_associates(commissioner, partnership, fields):
    contract = services.contract_create(
        by=commissioner, associate_commissioners=[partnership.nhs_commissioner], **fields()
    )

    contract.refresh_from_db()
    assert contract.reference == "LBB-RES-01"
    assert contract.version == 1
    assert list(contract.associate_commissioners.all()) == [partnership.nhs_commissioner]


def test_contract_create_records_who_made_it_in_the_history(commissioner, fields):
    contract = services.contract_create(by=commissioner, **fields())

    event = Events.objects.tracks(contract).get()
    assert event.pgh_label == "insert"
    assert event.pgh_context["user"] == commissioner.pk


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"end": date(2024, 4, 1)}, "end", "The end date must be after the start date."),
        ({"end": date(2024, 3, 1)}, "end", "The end date must be after the start date."),
        ({"annual_value": Decimal("-0.01")}, "annual_value", "The annual value cannot be negative."),
    ],
)
def test_contract_create_refuses_bad_values_naming_the_field(commissioner, fields, changes, field, message):
    with pytest.raises(ValidationError) as caught:
        services.contract_create(by=commissioner, **fields(**changes))

    assert caught.value.message_dict == {field: [message]}
    assert not Contract.objects.exists()


def test_contract_create_refuses_a_lead_commissioner_outside_the_partnership(commissioner, fields):
    with pytest.raises(ValidationError) as caught:
        services.contract_create(by=commissioner, **fields(lead_commissioner=NHSCommissionerFactory()))

    assert caught.value.message_dict == {
        "lead_commissioner": ["The lead commissioner must be one of the partners of Bromley."]
    }
    assert not Contract.objects.exists()


def test_contract_create_refuses_a_reference_already_used_in_the_partnership(
    commissioner, partnership, fields
):
    ContractFactory(partnership=partnership, reference="LBB-RES-01")

    with pytest.raises(ValidationError) as caught:
        services.contract_create(by=commissioner, **fields())

    assert caught.value.message_dict == {
        "reference": [
            "A contract with this reference already exists in this partnership: enter a different reference"
        ]
    }
    assert Contract.objects.count() == 1


def test_the_same_reference_may_be_used_in_another_partnership(commissioner, other_partnership, fields):
    ContractFactory(partnership=other_partnership, reference="LBB-RES-01")

    contract = services.contract_create(by=commissioner, **fields())

    assert Contract.objects.filter(reference="LBB-RES-01").count() == 2
    assert contract.pk


def test_contract_create_refuses_unknown_fields(commissioner, fields):
    with pytest.raises(TypeError, match="version"):
        services.contract_create(by=commissioner, version=9, **fields())


def test_contract_update_changes_the_fields_and_bumps_the_version(commissioner, partnership):
    contract = ContractFactory(partnership=partnership)

    updated = services.contract_update(
        contract=contract, by=commissioner, version=1, annual_value=Decimal("300000.00"), status="extended"
    )

    contract.refresh_from_db()
    assert (contract.annual_value, contract.status, contract.version) == (Decimal("300000.00"), "extended", 2)
    assert updated.version == 2


def test_contract_update_records_before_and_after_with_the_user(commissioner, partnership):
    contract = ContractFactory(partnership=partnership, annual_value=Decimal("100.00"))

    services.contract_update(contract=contract, by=commissioner, version=1, annual_value=Decimal("150.00"))

    update = Events.objects.tracks(contract).get(pgh_label="update")
    assert update.pgh_diff["annual_value"] == [100.0, 150.0]
    assert update.pgh_context["user"] == commissioner.pk


def test_a_stale_update_is_refused_and_changes_nothing(commissioner, partnership):
    contract = ContractFactory(partnership=partnership, notes="")
    services.contract_update(contract=contract, by=commissioner, version=1, notes="First editor")

    with pytest.raises(services.StaleEdit):
        services.contract_update(contract=contract, by=commissioner, version=1, notes="Second editor")

    contract.refresh_from_db()
    assert (contract.notes, contract.version) == ("First editor", 2)


def test_an_invalid_update_is_refused_and_changes_nothing(commissioner, partnership):
    contract = ContractFactory(partnership=partnership, start=date(2024, 4, 1), end=date(2027, 3, 31))

    with pytest.raises(ValidationError) as caught:
        services.contract_update(contract=contract, by=commissioner, version=1, end=date(2024, 1, 1))

    contract.refresh_from_db()
    assert caught.value.message_dict == {"end": ["The end date must be after the start date."]}
    assert (contract.end, contract.version) == (date(2027, 3, 31), 1)


def test_contract_update_replaces_the_associates_only_when_given(commissioner, partnership):
    contract = ContractFactory(partnership=partnership)
    contract.associate_commissioners.add(partnership.nhs_commissioner)

    services.contract_update(contract=contract, by=commissioner, version=1, notes="Kept")
    assert list(contract.associate_commissioners.all()) == [partnership.nhs_commissioner]

    services.contract_update(contract=contract, by=commissioner, version=2, associate_commissioners=[])
    assert list(contract.associate_commissioners.all()) == []


def test_contract_review_add_records_the_reviewer(commissioner, partnership):
    contract = ContractFactory(partnership=partnership)

    review = services.contract_review_add(
        contract=contract,
        by=commissioner,
        review_date=date(2025, 2, 1),
        rag_rating="red",
        notes="Late returns",
    )

    assert ContractReview.objects.get() == review
    assert (review.reviewed_by, review.rag_rating) == (commissioner, "red")


def test_contract_review_add_refuses_an_unknown_rating(commissioner, partnership):
    contract = ContractFactory(partnership=partnership)

    with pytest.raises(ValidationError) as caught:
        services.contract_review_add(
            contract=contract, by=commissioner, review_date=date(2025, 2, 1), rag_rating="blue"
        )

    assert list(caught.value.message_dict) == ["rag_rating"]
    assert not ContractReview.objects.exists()
