"""The pool's money on the agreement's timeline (issue 16): each contribution instalment raised as an
invoice, issued and paid, and each year-end settlement raised, issued and paid, told in words with
the partner, the schedule, the invoice number and who did it; the page's queries do not grow with
them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from brokerage.finance import services as finance
from brokerage.models import Invoice
from budgets import selectors, services
from commissioning import roles
from tests.budgets.test_settlement import approved  # noqa: F401  (a statement ready to settle)
from tests.budgets.test_statement import example  # noqa: F401  (rule 2's worked example)
from tests.commissioning.factories import UserFactory

pytestmark = pytest.mark.django_db

D = Decimal


def test_contribution_invoices_and_the_settlement_are_told_in_words(approved):  # noqa: F811
    agreement, _, manager, row, decision = approved
    ccg = agreement.partnership.nhs_commissioner
    finance_user = UserFactory(role=roles.FINANCE_OFFICER, partnerships=[agreement.partnership])
    (settlement,) = services.fund_statement_settle(statement=row, decision=decision, by=manager)
    finance.invoice_issue(invoice=settlement.invoice, by=finance_user, today=date(2022, 6, 1))

    entries = selectors.agreement_timeline(agreement, manager)
    told = {e.title: e for e in entries if e.kind in ("Contribution", "Settlement")}

    contribution = "2021/22 contribution to schedule 2, Integrated Placements and Brokerage"
    first = f"Instalment 1 of 4 of {ccg.name}'s {contribution}"
    assert told[f"{first}: raised as a draft invoice"].text == "£29,585.00"
    assert told[f"{first}: raised as a draft invoice"].who == manager
    issued = told[f"{first}: invoice LBB-PF-2122-00001 issued to {ccg.name}"]
    assert (issued.day, issued.text) == (date(2021, 4, 1), "£29,585.00, due 1 May 2021")
    assert issued.who == Invoice.objects.get(number="LBB-PF-2122-00001").issued_by != manager
    paid = told[f"{first}: £29,585.00 received on LBB-PF-2122-00001 (paid in full)"]
    assert (paid.day, paid.text) == (date(2021, 4, 20), f"From {ccg.name}")
    fourth = f"Instalment 4 of 4 of {ccg.name}'s {contribution}"
    assert f"{fourth}: raised as a draft invoice" in told
    assert not any(t.startswith(fourth) and "issued" in t for t in told)  # still a draft
    year_end = f"Year-end settlement of 2021/22 with {ccg.name}"
    raised = told[f"{year_end}: raised as a draft invoice"]
    assert raised.text == (
        f"{ccg.name} owes £7,302.55, its share of the overspend; "
        "the statement was approved by decision JCB/2022/007"
    )
    assert told[f"{year_end}: invoice LBB-ST-2223-00001 issued to {ccg.name}"].day == date(2022, 6, 1)
    # Three issued, two paid, four raised: nine contribution entries; the settlement two.
    assert sum(e.kind == "Contribution" for e in entries) == 9
    assert sum(e.kind == "Settlement" for e in entries) == 2
    assert [e.sort_key for e in entries] == sorted((e.sort_key for e in entries), reverse=True)


def test_the_timeline_page_names_the_invoices_and_its_queries_do_not_grow_with_them(approved, client):  # noqa: F811
    agreement, _, manager, row, decision = approved
    finance_user = UserFactory(role=roles.FINANCE_OFFICER, partnerships=[agreement.partnership])
    (settlement,) = services.fund_statement_settle(statement=row, decision=decision, by=manager)
    client.force_login(manager)
    url = f"/budgets/agreements/{agreement.pk}/timeline/"
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        page = client.get(url).content.decode()
    assert "invoice LBB-PF-2122-00001 issued to" in page

    issued = finance.invoice_issue(invoice=settlement.invoice, by=finance_user, today=date(2022, 6, 1))
    finance.invoice_record_payment(
        invoice=issued, amount=D("7302.55"), paid_on=date(2022, 6, 20), by=finance_user
    )
    third = agreement.schedules.get().contribution_plans.get().instalments.get(number=3).invoice
    finance.invoice_record_payment(
        invoice=third, amount=D("20000.00"), paid_on=date(2021, 10, 5), by=finance_user
    )
    with CaptureQueriesContext(connection) as many:
        page = client.get(url).content.decode()

    assert "£7,302.55 received on LBB-ST-2223-00001 (paid in full)" in page
    assert "£20,000.00 received on LBB-PF-2122-00003" in page
    assert "£20,000.00 received on LBB-PF-2122-00003 (paid" not in page  # part paid: not in full
    assert len(many.captured_queries) <= len(few.captured_queries)


def test_a_role_that_may_not_see_contributions_is_told_none_of_them(approved):  # noqa: F811
    agreement, *_ = approved
    broker = UserFactory(role=roles.BROKER, partnerships=[agreement.partnership])

    kinds = {e.kind for e in selectors.agreement_timeline(agreement, broker)}

    assert not kinds & {"Contribution", "Settlement"}
