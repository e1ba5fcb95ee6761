"""Who may move money between budget lines (domain.md, rules.md): commissioners approve and apply
a virement within the approving board's delegated limit, and above it only with a linked approving
decision; whoever proposed a virement may not approve it (403); finance officers propose but do not
approve; board members only read."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

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
    virement = propose(lines, bromley_users["finance_officer"], "6000")
    client.force_login(bromley_users["commissioner"])

    refused = client.post(f"/budgets/virements/{virement.pk}/approve/", {"decision": ""})

    assert refused.status_code == 200
    assert "Choose the board decision that approved this virement" in refused.content.decode()
    assert Virement.objects.get(pk=virement.pk).status == "proposed"
    decision = DecisionFactory(agenda_item__meeting__board=lines["board"], decided_on=timezone.localdate())
    client.post(f"/budgets/virements/{virement.pk}/approve/", {"decision": decision.pk})
    client.post(f"/budgets/virements/{virement.pk}/apply/")
    assert Virement.objects.get(pk=virement.pk).status == "applied"
    assert amounts(lines) == [D("14000.00"), D("26000.00")]


def test_whoever_proposed_a_virement_may_not_approve_it(client, bromley_users, lines):
    """Separation of duties: the proposer's approval page and approval answer 403, decision or none."""
    proposer = bromley_users["commissioner"]
    virement = propose(lines, proposer, "100")
    decision = DecisionFactory(agenda_item__meeting__board=lines["board"], decided_on=timezone.localdate())
    client.force_login(proposer)

    page = client.get(f"/budgets/virements/{virement.pk}/approve/")
    without = client.post(f"/budgets/virements/{virement.pk}/approve/", {"decision": ""})
    with_decision = client.post(f"/budgets/virements/{virement.pk}/approve/", {"decision": decision.pk})

    assert (page.status_code, without.status_code, with_decision.status_code) == (403, 403, 403)
    assert "another officer must approve it" in page.content.decode()
    stored = Virement.objects.get()
    assert (stored.status, stored.approved_by, stored.decision) == ("proposed", None, None)
    schedule_page = client.get(f"/budgets/schedules/{lines['schedule'].pk}/?year=2022").content.decode()
    assert "You proposed it: another officer approves it" in schedule_page
    assert f"/budgets/virements/{virement.pk}/approve/" not in schedule_page


def test_the_approval_page_offers_only_the_schedules_board_since_the_proposal_with_titles(
    client, bromley, bromley_users, lines
):
    virement = propose(lines, bromley_users["finance_officer"], "6000")
    today = timezone.localdate()
    board = lines["board"]
    offered = DecisionFactory(
        agenda_item__meeting__board=board, agenda_item__title="Placements virement", decided_on=today
    )
    earlier = DecisionFactory(agenda_item__meeting__board=board, decided_on=today - timedelta(days=1))
    other_board = DecisionFactory(agenda_item__meeting__board__partnership=bromley, decided_on=today)
    rejected = DecisionFactory(agenda_item__meeting__board=board, decided_on=today, outcome="rejected")
    client.force_login(bromley_users["commissioner"])

    html = client.get(f"/budgets/virements/{virement.pk}/approve/").content.decode()

    assert f"{offered.reference}: Placements virement" in html
    assert f"Decided on {today:%-d %B %Y} by {board.name}: approved" in html
    for refused in (earlier, other_board, rejected):
        assert f'value="{refused.pk}"' not in html
    # Above the £5,000 limit: no "None" to choose.
    assert "None: within" not in html
    for decision in (earlier, other_board):
        response = client.post(f"/budgets/virements/{virement.pk}/approve/", {"decision": decision.pk})
        assert response.status_code == 200 and Virement.objects.get().status == "proposed"


def test_none_is_offered_only_within_a_delegated_limit(client, bromley_users, lines):
    within = propose(lines, bromley_users["finance_officer"], "5000")
    above = propose(lines, bromley_users["finance_officer"], "5000.01")
    client.force_login(bromley_users["commissioner"])

    assert (
        "None: within the £5,000.00 delegated limit of"
        in client.get(f"/budgets/virements/{within.pk}/approve/").content.decode()
    )
    assert "None: within" not in client.get(f"/budgets/virements/{above.pk}/approve/").content.decode()
    lines["board"].delegated_limit = None
    lines["board"].save()
    html = client.get(f"/budgets/virements/{within.pk}/approve/").content.decode()
    assert "None: within" not in html and "no delegated limit: every virement needs a decision" in html


def test_the_schedule_page_says_who_proposed_approved_and_applied(client, bromley_users, lines):
    virement = propose(lines, bromley_users["finance_officer"], "100")
    commissioner = bromley_users["commissioner"]
    client.force_login(commissioner)
    client.post(f"/budgets/virements/{virement.pk}/approve/", {"decision": ""})
    client.post(f"/budgets/virements/{virement.pk}/apply/")

    stored = Virement.objects.get()
    assert (stored.approved_by, stored.applied_by) == (commissioner, commissioner)
    assert stored.approved_at is not None and stored.applied_at >= stored.approved_at
    html = client.get(f"/budgets/schedules/{lines['schedule'].pk}/?year=2022").content.decode()
    virements = html[html.index('id="virements"') :]
    assert f"Proposed by {bromley_users['finance_officer']}" in virements
    assert f"approved by {commissioner}" in virements and f"applied by {commissioner}" in virements


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
