"""The year-end settlement (rules.md rule 2): the approved statement's settlement becomes a settlement
invoice or credit note between the partners, linked to the decision that approved the statement."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from brokerage.finance import services as finance
from brokerage.models import Invoice
from budgets import services
from budgets.models import FundStatement, MonthlyPosition, StatementSettlement
from budgets.tasks import render_fund_statement
from commissioning import roles
from tests.budgets.test_statement import example  # noqa: F401  (rule 2's worked example)
from tests.commissioning.factories import UserFactory
from tests.governance.factories import DecisionFactory

D = Decimal


@pytest.fixture
def approved(example, settings, tmp_path):  # noqa: F811
    settings.PDF_ROOT = str(tmp_path)
    agreement, schedule, manager = example
    row = FundStatement.objects.create(agreement=agreement, year=2021, requested_by=manager)
    render_fund_statement(row.pk)
    row.refresh_from_db()
    decision = DecisionFactory(
        agenda_item__meeting__board__partnership=agreement.partnership, reference="JCB/2022/007"
    )
    return agreement, schedule, manager, row, decision


def test_the_ccg_is_invoiced_its_7302_55_share_of_the_overspend(approved):
    agreement, _, manager, row, decision = approved

    (settlement,) = services.fund_statement_settle(statement=row, decision=decision, by=manager)

    invoice = settlement.invoice
    assert (invoice.kind, invoice.is_credit, invoice.status) == ("settlement", False, "draft")
    assert (invoice.issuer.code, invoice.recipient.code, invoice.total) == ("LBB", "CCG", D("7302.55"))
    assert "JCB/2022/007" in invoice.lines.get().description
    row.refresh_from_db()
    assert row.decision == decision and row.approved_by == manager
    finance_user = UserFactory(role=roles.FINANCE_OFFICER, partnerships=[agreement.partnership])
    issued = finance.invoice_issue(invoice=invoice, by=finance_user, today=date(2022, 6, 1))
    assert issued.number == "LBB-ST-2223-00001" and issued.signed_total == D("7302.55")


def test_settling_again_raises_nothing_and_another_decision_is_refused(approved):
    agreement, _, manager, row, decision = approved
    services.fund_statement_settle(statement=row, decision=decision, by=manager)

    again = services.fund_statement_settle(statement=row, decision=decision, by=manager)
    other = DecisionFactory(agenda_item__meeting__board__partnership=agreement.partnership)
    with pytest.raises(ValidationError) as error:
        services.fund_statement_settle(statement=row, decision=other, by=manager)

    assert again == []
    assert "decision" in error.value.message_dict
    assert Invoice.objects.filter(kind="settlement").count() == StatementSettlement.objects.count() == 1


def test_an_underspend_owed_to_the_ccg_is_a_settlement_credit_note(example, settings, tmp_path):  # noqa: F811
    settings.PDF_ROOT = str(tmp_path)
    agreement, schedule, manager = example
    # March: the CCG line £10,000 under budget instead of over.
    MonthlyPosition.objects.filter(period=date(2022, 3, 1), forecast_outturn=D("128340.00")).update(
        forecast_outturn=D("108340.00"), actual_to_date=D("108340.00")
    )
    row = FundStatement.objects.create(agreement=agreement, year=2021, requested_by=manager)
    render_fund_statement(row.pk)
    row.refresh_from_db()
    decision = DecisionFactory(agenda_item__meeting__board__partnership=agreement.partnership)

    (settlement,) = services.fund_statement_settle(statement=row, decision=decision, by=manager)

    invoice = settlement.invoice
    assert settlement.amount == D("-7302.55")
    assert (invoice.kind, invoice.is_credit, invoice.total, invoice.signed_total) == (
        "settlement",
        True,
        D("7302.55"),
        D("-7302.55"),
    )
    assert invoice.kind_label == "Settlement credit note"


def test_a_quarter_s_statement_is_not_settled(approved):
    agreement, _, manager, _, decision = approved
    quarter = FundStatement.objects.create(agreement=agreement, year=2021, quarter=2, requested_by=manager)
    render_fund_statement(quarter.pk)

    with pytest.raises(ValidationError) as error:
        services.fund_statement_settle(statement=quarter, decision=decision, by=manager)

    assert "statement" in error.value.message_dict
    assert not Invoice.objects.filter(kind="settlement").exists()


def test_a_decision_of_another_partnership_is_refused(approved):
    _, _, manager, row, _ = approved
    foreign = DecisionFactory()

    with pytest.raises(ValidationError) as error:
        services.fund_statement_settle(statement=row, decision=foreign, by=manager)

    assert "decision" in error.value.message_dict
    row.refresh_from_db()
    assert row.decision is None


def test_the_page_records_the_approval_and_raises_the_settlement(approved, client):
    agreement, _, manager, row, decision = approved
    client.force_login(manager)
    url = reverse("budgets:statement-settle", args=[row.pk])

    page = client.get(url)
    response = client.post(url, {"decision": decision.pk})

    assert page.status_code == 200 and "£7,302.55" in page.content.decode()
    assert response.status_code == 302
    assert Invoice.objects.get(kind="settlement").total == D("7302.55")
    statement_page = client.get(response["Location"]).content.decode()
    assert "approved by decision JCB/2022/007" in statement_page


def test_a_board_member_may_not_settle(approved, client):
    agreement, _, _, row, decision = approved
    member = UserFactory(role=roles.BOARD_MEMBER, partnerships=[agreement.partnership])
    client.force_login(member)

    response = client.post(reverse("budgets:statement-settle", args=[row.pk]), {"decision": decision.pk})

    assert response.status_code == 403
    assert not Invoice.objects.filter(kind="settlement").exists()


def test_another_partnership_s_statement_is_not_found_for_settling(approved, client):
    from tests.commissioning.factories import PartnershipFactory

    _, _, _, row, decision = approved
    stranger = UserFactory(role=roles.COMMISSIONER, partnerships=[PartnershipFactory()])
    client.force_login(stranger)

    assert client.get(reverse("budgets:statement-settle", args=[row.pk])).status_code == 404
    response = client.post(reverse("budgets:statement-settle", args=[row.pk]), {"decision": decision.pk})

    assert response.status_code == 404
    row.refresh_from_db()
    assert row.decision is None
