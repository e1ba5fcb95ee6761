"""The demo's contents, read from one load shared by the module (``loaded``): the tests only read,
so the load (several seconds) is made once and rolled back when the module ends. Tests that load
the demo themselves, or need an empty database, are in test_demo.py."""

import pytest
from django.contrib.auth.password_validation import validate_password

from commissioning import choices, demo, roles
from commissioning.models import Contract, ContractReview, Organisation, Partnership, Person, Provider, User
from tests.commissioning.test_demo import ALL_THREE, TODAY
from tests.db import module_transaction

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    with module_transaction(django_db_blocker):
        yield demo.load_demo(seed=7, today=TODAY)


def test_the_reference_organisations_and_partnerships_come_from_the_fixture(loaded):
    partners = Organisation.objects.filter(
        kind__in=[choices.OrganisationKind.COUNCIL, choices.OrganisationKind.NHS_COMMISSIONER]
    )

    assert sorted(partners.values_list("code", "kind", "payment_terms_days")) == [
        ("CHCCG", "nhs_commissioner", 30),
        ("COLC", "council", 30),
        ("LBB", "council", 30),
        ("LBBD", "council", 30),
        ("NHSBD", "nhs_commissioner", 30),
        ("SELCCG-BR", "nhs_commissioner", 30),
    ]
    assert all(org.address for org in partners)
    assert sorted(Partnership.objects.values_list("name", "council__code", "nhs_commissioner__code")) == [
        ("Barking & Dagenham", "LBBD", "NHSBD"),
        ("Bromley", "LBB", "SELCCG-BR"),
        ("City of London", "COLC", "CHCCG"),
    ]
    assert Organisation.objects.get(code="SELCCG-BR").name == "NHS South East London CCG (Bromley)"


def test_live_contracts_have_started_and_dates_are_consistent(loaded):
    for contract in Contract.objects.all():
        assert contract.start < contract.end
        if contract.status in (choices.ContractStatus.LIVE, choices.ContractStatus.EXTENDED):
            assert contract.start <= TODAY < contract.end
        elif contract.status == choices.ContractStatus.ENDED:
            assert contract.end < TODAY
        else:
            assert contract.status == choices.ContractStatus.PIPELINE
            assert contract.start > TODAY
        assert contract.lead_commissioner_id in (
            contract.partnership.council_id,
            contract.partnership.nhs_commissioner_id,
        )


def test_contracts_and_reviews_are_written_by_an_acting_user(loaded):
    commissioner = User.objects.get(username="commissioner")
    contract = Contract.objects.filter(partnership__name="Bromley").first()
    event = contract.events.get(pgh_label="insert")

    assert event.pgh_context.metadata["user"] == commissioner.pk
    assert event.pgh_context.metadata["source"] == "load_demo"
    review = ContractReview.objects.exclude(reviewed_by=None).first()
    assert review is not None
    assert review.events.get(pgh_label="insert").pgh_context.metadata["user"] == review.reviewed_by_id
    assert set(ContractReview.objects.values_list("rag_rating", flat=True)) <= {"red", "amber", "green"}
    assert ContractReview.objects.filter(rag_rating__in=["red", "amber"]).exists()


def test_providers_have_cqc_details_and_cover_every_service_type(loaded):
    providers = list(Provider.objects.all())

    assert len(providers) == 15
    offered = {service for provider in providers for service in provider.service_types}
    assert offered == set(choices.ServiceType.values)
    registered = [p for p in providers if p.cqc_location_id]
    assert len(registered) >= 8
    assert all(p.cqc_rating != choices.CQCRating.NOT_RATED and p.cqc_rating_date for p in registered)
    assert Provider.objects.filter(cqc_rating=choices.CQCRating.INADEQUATE).count() <= 1
    for provider in Provider.objects.filter(cqc_rating=choices.CQCRating.INADEQUATE):
        assert provider.approved_list_status == choices.ApprovedListStatus.SUSPENDED


def test_one_demo_user_per_role_with_its_grants(loaded):
    expected = {
        "commissioner": roles.COMMISSIONER,
        "broker": roles.BROKER,
        "brokerage_manager": roles.BROKERAGE_MANAGER,
        "finance_officer": roles.FINANCE_OFFICER,
        "board_secretary": roles.BOARD_SECRETARY,
        "board_member": roles.BOARD_MEMBER,
        "auditor": roles.AUDITOR,
        "admin": roles.ADMINISTRATOR,
    }
    for username, role in expected.items():
        user = User.objects.get(username=username)
        assert user.role_names == [role]
        granted = sorted(user.partnerships.values_list("name", flat=True))
        assert granted == (ALL_THREE if username in ("auditor", "admin") else ["Bromley"])
        assert user.check_password(demo.DEMO_PASSWORD)
        validate_password(demo.DEMO_PASSWORD, user)  # the one password passes the project's own rules
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.filter(is_superuser=True).count() == 1
    assert User.objects.get(username="board_member").person.name == "Lay member (Bromley)"


def test_people_are_named_by_role(loaded):
    names = set(Person.objects.values_list("name", flat=True))

    assert {
        "GP joint chair (Bromley)",
        "Portfolio Holder for Adult Care and Health (Bromley)",
        "Director of Public Health (Barking & Dagenham)",
        "CCG Chair (City of London)",
    } <= names
    assert Person.objects.get(name="Place Based Director (Bromley)").organisation is None
    assert Person.objects.get(name="Head of CCG Finance (Bromley)").organisation.code == "SELCCG-BR"


def test_the_loader_refuses_a_database_that_has_partnerships(loaded):
    with pytest.raises(demo.DemoAlreadyLoaded):
        demo.load_demo(seed=7, today=TODAY)
