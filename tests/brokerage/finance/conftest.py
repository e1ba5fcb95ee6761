from datetime import date
from decimal import Decimal

import pytest

from brokerage import services
from brokerage.finance import services as finance_services
from brokerage.models import RechargeRun
from brokerage.services import Share
from commissioning import roles
from tests.brokerage.factories import ClientFactory, PackageFactory, PanelDecisionFactory

D = Decimal
WEEKLY = Decimal("1234.56")
ONE = Decimal("1")


@pytest.fixture
def finance(make_user, partnership):
    return make_user(roles.FINANCE_OFFICER, [partnership])


@pytest.fixture
def broker(make_user, partnership):
    return make_user(roles.BROKER, [partnership])


@pytest.fixture
def council(partnership):
    council = partnership.council
    council.code, council.name = "LBB", "London Borough of Bromley"
    council.address = "Civic Centre\nStockwell Close\nBromley BR1 3UH"
    council.invoice_email = "recharges@bromley.example"
    council.save()
    return council


@pytest.fixture
def ccg(partnership):
    ccg = partnership.nhs_commissioner
    ccg.code, ccg.name, ccg.payment_terms_days = "SELCCG-BR", "South East London CCG (Bromley)", 30
    ccg.save()
    return ccg


@pytest.fixture
def make_package(partnership, broker, council):
    """make_package(start, weekly=(unit_rate, units), shares=[(org, percent)], end=None)."""

    def _make(start, *, rate=WEEKLY, units=ONE, unit="week", shares, end=None, reference=None):
        client = ClientFactory(
            partnership=partnership, **({"case_reference": reference} if reference else {})
        )
        package = PackageFactory(client=client, start=start, end=end, paying_organisation=council)
        services.package_cost_add(
            package=package, effective_from=start, unit_rate=rate, units_per_week=units, unit=unit, by=broker
        )
        services.funding_split_add(
            package=package,
            effective_from=start,
            shares=[Share(org, D(p)) for org, p in shares],
            basis="panel_decision",
            decision_reference=PanelDecisionFactory(client=client).reference,
            by=broker,
        )
        package.refresh_from_db()
        return package

    return _make


@pytest.fixture
def example_one(make_package, council, ccg):
    """Rule 1, example 1: £1,234.56 a week, live 10 to 31 May 2022, CCG 40%."""
    return make_package(date(2022, 5, 10), shares=[(council, 60), (ccg, 40)], reference="LAS000001")


@pytest.fixture
def example_two(make_package, council, ccg, broker):
    """Rule 1, example 2: £900 a week in June 2022, 50/50 to 14 June, then the CCG pays all."""
    package = make_package(
        date(2022, 6, 1), rate=D("900.00"), shares=[(council, 50), (ccg, 50)], reference="LAS000002"
    )
    services.package_change_funding(
        package=package,
        effective_from=date(2022, 6, 15),
        shares=[Share(council, D(0)), Share(ccg, D(100))],
        basis="chc_eligibility",
        by=broker,
    )
    return package


@pytest.fixture
def run_month(partnership, council, finance, django_capture_on_commit_callbacks):
    """run_month(date(2022, 5, 1)) -> the finished run (its task run on commit, as a worker would)."""

    def _run(period):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            run = finance_services.recharge_run_request(
                partnership=partnership, issuer=council, period=period, by=finance
            )
        assert len(callbacks) == 1
        return finance_services.recharge_run_execute(run_id=run.pk)

    return _run


@pytest.fixture
def issued(run_month, example_one, finance):
    """The May 2022 invoice of example 1, issued on 1 June 2022 (PDF rendering not run)."""
    run = run_month(date(2022, 5, 1))
    invoice = run.invoices.get()
    return finance_services.invoice_issue(invoice=invoice, by=finance, today=date(2022, 6, 1))


def runs():
    return RechargeRun.objects.order_by("pk")
