from datetime import date
from decimal import Decimal

import factory

from brokerage import models
from brokerage.nhs_number import numbers_in_test_range
from commissioning.choices import ServiceType
from tests.commissioning.factories import PartnershipFactory, ProviderFactory

_NHS = numbers_in_test_range(5000)


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Client

    partnership = factory.SubFactory(PartnershipFactory)
    nhs_number = factory.Sequence(lambda n: _NHS[n % len(_NHS)])
    case_reference = factory.Sequence(lambda n: f"LAS{n:06d}")
    given_name = "Ada"
    family_name = factory.Sequence(lambda n: f"Client{n}")
    date_of_birth = date(1940, 5, 17)
    cohort = models.Cohort.ADULT_SOCIAL_CARE


class RateCardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.RateCard

    partnership = factory.SubFactory(PartnershipFactory)
    service_type = ServiceType.DOMICILIARY
    year = 2024
    unit_rate = Decimal("24.50")
    unit = models.Unit.HOUR


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Referral

    client = factory.SubFactory(ClientFactory)
    service_type = ServiceType.DOMICILIARY
    needs_summary = "Personal care twice a day"
    requirement = "14 hours a week"
    required_start = date(2024, 6, 3)
    urgency = models.Urgency.ROUTINE
    proposed_funder = factory.LazyAttribute(lambda r: r.client.partnership.council)
    requested_by = "Hospital discharge team"


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Offer

    referral = factory.SubFactory(ReferralFactory)
    provider = factory.SubFactory(ProviderFactory)
    unit_rate = Decimal("23.00")
    units_per_week = Decimal("14.00")
    unit = models.Unit.HOUR
    earliest_start = date(2024, 6, 3)


class PackageFactory(factory.django.DjangoModelFactory):
    """A package with no cost or split rows (add them through the services)."""

    class Meta:
        model = models.Package

    client = factory.SubFactory(ClientFactory)
    provider = factory.SubFactory(ProviderFactory)
    service_type = ServiceType.DOMICILIARY
    start = date(2024, 4, 1)
    paying_organisation = factory.LazyAttribute(lambda p: p.client.partnership.council)


class RechargeRunFactory(factory.django.DjangoModelFactory):
    """A queued run of the partnership's council for May 2022; execute it with the finance service."""

    class Meta:
        model = models.RechargeRun

    partnership = factory.SubFactory(PartnershipFactory)
    issuer = factory.LazyAttribute(lambda r: r.partnership.council)
    period = date(2022, 5, 1)


class InvoiceFactory(factory.django.DjangoModelFactory):
    """A draft invoice with no lines, from the council to the NHS commissioner (the runs make real
    ones; this is for tests of lists, states and permissions that need no lines)."""

    class Meta:
        model = models.Invoice

    partnership = factory.SubFactory(PartnershipFactory)
    issuer = factory.LazyAttribute(lambda i: i.partnership.council)
    recipient = factory.LazyAttribute(lambda i: i.partnership.nhs_commissioner)
    period = date(2022, 5, 1)


def draft_like(invoice: models.Invoice) -> models.Invoice:
    """A draft with no lines, of the same kind, parties, period and total as ``invoice``."""
    return InvoiceFactory(
        partnership=invoice.partnership,
        kind=invoice.kind,
        issuer=invoice.issuer,
        recipient=invoice.recipient,
        period=invoice.period,
        total=invoice.total,
    )


class DisputeFactory(factory.django.DjangoModelFactory):
    """An open dispute of an invoice; ``lines`` (a list) says which of its lines it disputes."""

    class Meta:
        model = models.Dispute
        skip_postgeneration_save = True

    invoice = factory.SubFactory(InvoiceFactory)
    reason = "other"
    note = "Disputed in a test"
    amount = Decimal("1.00")

    @factory.post_generation
    def lines(self, create, extracted, **kwargs):
        if create and extracted:
            self.lines.add(*extracted)


def change_price(*, package, by, reason: str = "Price agreed with the provider", approver=None, **fields):
    """A price change through the price rules (brokerage.services.prices), applied: one above the
    rate card (or with none to compare) is approved by a brokerage manager who did not propose it.
    Returns the cost row it opened."""
    from brokerage import services
    from commissioning import roles
    from tests.commissioning.factories import UserFactory

    change = services.price_change_propose(
        package=package, by=by, reason=reason, replaces_confirmed=True, **fields
    )
    if change.is_pending:
        approver = approver or UserFactory(
            role=roles.BROKERAGE_MANAGER, partnerships=[package.client.partnership]
        )
        change = services.price_change_approve(change=change, by=approver)
    return change.cost


class PanelDecisionFactory(factory.django.DjangoModelFactory):
    """A recorded joint funding panel decision (without shares: add them if the test reads them),
    for a funding split on the basis "panel_decision" to cite by its reference."""

    class Meta:
        model = models.PanelDecision

    client = factory.SubFactory(ClientFactory)
    reference = factory.Sequence(lambda n: f"JFP-T-{n:04d}")
    meeting_date = date(2022, 4, 1)
    effective_from = date(2022, 4, 1)
