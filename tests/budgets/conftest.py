from datetime import date

import pytest

from budgets import demo
from commissioning import roles
from tests.commissioning.factories import PartnershipFactory, UserFactory

# A fixed "today" inside 2022/23, so the demo's current year has the IPB table's 2022/23 lines.
DEMO_TODAY = date(2022, 11, 23)


@pytest.fixture
def bromley(db):
    return PartnershipFactory(
        name="Bromley",
        council__code="LBB",
        council__name="London Borough of Bromley",
        nhs_commissioner__code="SELCCG-BR",
        nhs_commissioner__name="NHS South East London CCG (Bromley)",
    )


@pytest.fixture
def bromley_users(bromley):
    return {
        "commissioner": UserFactory(username="commissioner", role=roles.COMMISSIONER, partnerships=[bromley]),
        "finance_officer": UserFactory(
            username="finance_officer", role=roles.FINANCE_OFFICER, partnerships=[bromley]
        ),
    }


@pytest.fixture
def bromley_demo(bromley, bromley_users):
    demo.load(partnerships={"Bromley": bromley}, users=bromley_users, seed=2021, today=DEMO_TODAY)
    return bromley
