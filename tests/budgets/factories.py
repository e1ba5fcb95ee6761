from datetime import date
from decimal import Decimal

import factory

from budgets.models import BudgetLine, FundingStream, MonthlyPosition, Schedule, Section75Agreement, Virement
from tests.commissioning.factories import PartnershipFactory


class AgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section75Agreement

    partnership = factory.SubFactory(PartnershipFactory)
    reference = factory.Sequence(lambda n: f"S75-{n:03d}")
    title = "Section 75 agreement"
    host = factory.LazyAttribute(lambda a: a.partnership.council)
    start = date(2021, 4, 1)
    end = date(2028, 3, 31)
    status = "signed"


class ScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Schedule

    agreement = factory.SubFactory(AgreementFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = "Integrated Placements and Brokerage"
    arrangement = "pooled"
    integration_level = 3
    overspend_rule = "proportional"
    underspend_rule = "proportional"


class FundingStreamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FundingStream

    partnership = factory.SubFactory(PartnershipFactory)
    name = factory.Sequence(lambda n: f"Stream {n}")
    organisation = factory.LazyAttribute(lambda s: s.partnership.council)


class BudgetLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BudgetLine

    schedule = factory.SubFactory(ScheduleFactory)
    name = factory.Sequence(lambda n: f"Line {n}")
    year = 2022
    funding_stream = factory.LazyAttribute(
        lambda line: FundingStreamFactory(partnership=line.schedule.agreement.partnership)
    )
    amount = Decimal("1000.00")
    status = "approved"


class MonthlyPositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MonthlyPosition

    budget_line = factory.SubFactory(BudgetLineFactory)
    period = date(2022, 5, 1)
    actual_to_date = Decimal("100.00")
    forecast_outturn = Decimal("1000.00")


class VirementFactory(factory.django.DjangoModelFactory):
    """A proposed virement of £10 between two lines of one schedule and year."""

    class Meta:
        model = Virement

    schedule = factory.SubFactory(ScheduleFactory)
    year = 2022
    from_line = factory.SubFactory(BudgetLineFactory, schedule=factory.SelfAttribute("..schedule"), year=2022)
    to_line = factory.SubFactory(BudgetLineFactory, schedule=factory.SelfAttribute("..schedule"), year=2022)
    amount = Decimal("10.00")
    reason = "Move"
    proposed_by = factory.SubFactory("tests.commissioning.factories.UserFactory")
