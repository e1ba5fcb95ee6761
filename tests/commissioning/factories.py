from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth.models import Group

from commissioning import choices
from commissioning.models import (
    Contract,
    ContractReview,
    Organisation,
    Partnership,
    PartnershipGrant,
    Person,
    Provider,
    User,
)

TEST_PASSWORD = "correct-horse-battery-staple"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"ORG{n:03d}")
    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = choices.OrganisationKind.PROVIDER
    address = "1 High Street\nBromley\nBR1 1AA"
    payment_terms_days = 30


class CouncilFactory(OrganisationFactory):
    code = factory.Sequence(lambda n: f"LA{n:03d}")
    name = factory.Sequence(lambda n: f"Borough Council {n}")
    kind = choices.OrganisationKind.COUNCIL


class NHSCommissionerFactory(OrganisationFactory):
    code = factory.Sequence(lambda n: f"ICB{n:03d}")
    name = factory.Sequence(lambda n: f"NHS Commissioner {n}")
    kind = choices.OrganisationKind.NHS_COMMISSIONER


class PartnershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partnership

    name = factory.Sequence(lambda n: f"Place {n}")
    council = factory.SubFactory(CouncilFactory)
    nhs_commissioner = factory.SubFactory(NHSCommissionerFactory)


class UserFactory(factory.django.DjangoModelFactory):
    """``UserFactory(role="Commissioner", partnerships=[p])``."""

    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User {n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            roles = [extracted] if isinstance(extracted, str) else extracted
            self.groups.add(*Group.objects.filter(name__in=roles))
        if create:
            self.save()

    @factory.post_generation
    def partnerships(self, create, extracted, **kwargs):
        if create and extracted:
            for partnership in extracted:
                PartnershipGrant.objects.get_or_create(user=self, partnership=partnership)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    name = factory.Sequence(lambda n: f"Person {n}")
    role_title = "Member"


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider

    organisation = factory.SubFactory(OrganisationFactory, kind=choices.OrganisationKind.PROVIDER)
    cqc_location_id = factory.Sequence(lambda n: f"1-{100000000 + n}")
    cqc_rating = choices.CQCRating.GOOD
    service_types = factory.LazyFunction(lambda: [choices.ServiceType.DOMICILIARY])


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    partnership = factory.SubFactory(PartnershipFactory)
    reference = factory.Sequence(lambda n: f"CON-{n:04d}")
    service = "Home care framework"
    service_type = choices.ServiceType.DOMICILIARY
    provider = factory.SubFactory(ProviderFactory)
    lead_commissioner = factory.LazyAttribute(lambda c: c.partnership.council)
    annual_value = Decimal("250000.00")
    start = date(2023, 4, 1)
    end = date(2027, 3, 31)
    procurement_route = choices.ProcurementRoute.OPEN
    status = choices.ContractStatus.LIVE


class ContractReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContractReview

    contract = factory.SubFactory(ContractFactory)
    review_date = date(2024, 6, 1)
    rag_rating = choices.RAG.GREEN
    notes = "Quarterly review"
