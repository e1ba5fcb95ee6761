"""Who may move money between budget lines (domain.md, rules.md): commissioners approve and apply
a virement within the approving board's delegated limit, and above it only with a linked approving
decision; finance officers propose but do not approve; board members only read."""

from decimal import Decimal

import pytest

from budgets.models import BudgetLine, Virement
from commissioning import roles
from tests.budgets.factories import (
    AgreementFactory,
    BudgetLineFactory,
    FundingStreamFactory,
    ScheduleFactory,
    VirementFactory,
)
from tests.governance.factories import BoardFactory, DecisionFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def lines(bromley):
    board = BoardFactory(partnership=bromley, delegated_limit=D("5000"))
    schedule = ScheduleFactory(agreement=AgreementFactory(partnership=bromley), board=board)
    stream = FundingStreamFactory(partnership=bromley)
    make = lambda name: BudgetLineFactory(  # noqa: E731
        schedule=schedule, name=name, year=2022, funding_stream=stream, amount=D("20000")
    )
    return {"schedule": schedule, "board": board, "from": make("Placements"), "to": make("Support team")}


def propose(lines, by, amount):
    return VirementFactory(
        schedule=lines["schedule"],
        from_line=lines["from"],
        to_line=lines["to"],
        amount=D(amount),
        reason="Demand moved",
        proposed_by=by,
    )


def amounts(lines):
    return [BudgetLine.objects.get(pk=lines[k].pk).amount for k in ("from", "to")]


def test_a_commissioner_approves_and_applies_a_virement_within_the_limit(client, bromley_users, lines):
    virement = propose(lines, bromley_users["finance_officer"], "4000")
    client.force_login(bromley_users["commissioner"])

    approved = client.post(f"/budgets/virements/{virement.pk}/approve/", {"decision": ""})
    applied = client.post(f"/budgets/virements/{virement.pk}/apply/")

    assert approved.status_code == 302 and applied.status_code == 302
    assert Virement.objects.get(pk=virement.pk).status == "applied"
    assert amounts(lines) == [D("16000.00"), D("24000.00")]


def test_above_the_limit_a_commissioner_needs_a_linked_decision(client, bromley_users, lines):
    virement = propose(lines, bromley_users["commissioner"], "6000")
    client.force_login(bromley_users["commissioner"])

    refused = client.post(f"/budgets/virements/{virement.pk}/approve/", {"decision": ""}, follow=True)

    assert "above the £5,000.00 delegated limit" in refused.content.decode()
    assert Virement.objects.get(pk=virement.pk).status == "proposed"
    decision = DecisionFactory(agenda_item__meeting__board=lines["board"])
    client.post(f"/budgets/virements/{virement.pk}/approve/", {"decision": decision.pk})
    client.post(f"/budgets/virements/{virement.pk}/apply/")
    assert Virement.objects.get(pk=virement.pk).status == "applied"
    assert amounts(lines) == [D("14000.00"), D("26000.00")]


def test_a_finance_officer_proposes_but_may_not_approve_or_apply(client, bromley_users, lines):
    client.force_login(bromley_users["finance_officer"])
    schedule = lines["schedule"]
    create = f"/budgets/schedules/{schedule.pk}/virements/new/"

    assert client.get(create).status_code == 200
    proposed = client.post(
        create,
        {
            "year": 2022,
            "from_line": lines["from"].pk,
            "to_line": lines["to"].pk,
            "amount": "1,000.00",
            "reason": "Demand moved",
        },
    )
    virement = Virement.objects.get()
    approve = client.post(f"/budgets/virements/{virement.pk}/approve/", {"decision": ""})

    assert proposed.status_code == 302
    assert (
        approve.status_code == 403
        and client.post(f"/budgets/virements/{virement.pk}/apply/").status_code == 403
    )
    assert Virement.objects.get().status == "proposed" and amounts(lines) == [D("20000.00")] * 2
    page = client.get(f"/budgets/schedules/{schedule.pk}/?year=2022").content.decode()
    assert "Propose a virement" in page and f"/budgets/virements/{virement.pk}/approve/" not in page


def test_a_board_member_may_neither_propose_nor_approve(client, make_user, bromley, bromley_users, lines):
    virement = propose(lines, bromley_users["commissioner"], "100")
    client.force_login(make_user(roles.BOARD_MEMBER, [bromley]))

    assert client.get(f"/budgets/schedules/{lines['schedule'].pk}/virements/new/").status_code == 403
    assert client.post(f"/budgets/virements/{virement.pk}/approve/", {}).status_code == 403
    assert Virement.objects.get().status == "proposed"


def test_a_commissioner_of_another_partnership_gets_404(
    client, make_user, other_partnership, bromley_users, lines
):
    virement = propose(lines, bromley_users["commissioner"], "100")
    client.force_login(make_user(roles.COMMISSIONER, [other_partnership]))

    assert client.post(f"/budgets/virements/{virement.pk}/approve/", {}).status_code == 404
    assert Virement.objects.get().status == "proposed"


def test_the_role_table_gives_these_permissions(bromley_users):
    commissioner, finance = bromley_users["commissioner"], bromley_users["finance_officer"]

    assert commissioner.has_perms(["budgets.add_virement", "budgets.change_virement"])
    assert not commissioner.has_perm("budgets.delete_virement")
    assert finance.has_perm("budgets.add_virement") and not finance.has_perm("budgets.change_virement")
    assert finance.has_perm("budgets.change_monthlyposition")
