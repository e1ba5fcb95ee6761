"""Issue 6: every pound traces back to who allowed it. The agreement page, the schedule's budget
lines and its virement table show the decisions behind them (links to the decision page with date,
board and outcome) and the amounts before and after their links record, in a constant number of
queries."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal as D

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from budgets import selectors, services
from budgets.models import BudgetLine, Section75Agreement, Virement
from commissioning import roles
from governance.models import AgendaItem, Decision, DecisionLink
from tests.budgets.factories import AgreementFactory, BudgetLineFactory, FundingStreamFactory, ScheduleFactory
from tests.governance.factories import BoardFactory, DecisionFactory, secretary_of

pytestmark = pytest.mark.django_db


def link(decision, target, before=None, after=None, description=""):
    return DecisionLink.objects.create(
        decision=decision,
        content_type=ContentType.objects.get_for_model(target),
        object_id=target.pk,
        description=description,
        amount_before=before,
        amount_after=after,
    )


def exempt_decision_of(board) -> Decision:
    decision = DecisionFactory(agenda_item__meeting__board=board)
    AgendaItem.objects.filter(pk=decision.agenda_item_id).update(
        exemption_regime="schedule_12a", exemption_paragraph=3, exemption_reason="Commercial"
    )
    return decision


@pytest.fixture
def scene(partnership, make_user):
    board = BoardFactory(partnership=partnership, delegated_limit=D("100"))
    agreement = AgreementFactory(partnership=partnership, start=date(2021, 4, 1), end=date(2024, 3, 31))
    schedule = ScheduleFactory(agreement=agreement, board=board)
    stream = FundingStreamFactory(
        partnership=partnership, name="CCG", organisation=partnership.nhs_commissioner
    )
    lines = [
        BudgetLineFactory(
            schedule=schedule, name="Placements", year=2021, funding_stream=stream, amount=D("5000")
        ),
        BudgetLineFactory(
            schedule=schedule, name="Finance costs", year=2021, funding_stream=stream, amount=D("800")
        ),
    ]
    return {
        "board": board,
        "agreement": agreement,
        "schedule": schedule,
        "lines": lines,
        "user": make_user(roles.COMMISSIONER, [partnership]),
        "approver": make_user(roles.COMMISSIONER, [partnership]),
    }


def page(client, user, url) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def agreement_url(scene) -> str:
    return reverse("budgets:agreement-detail", args=[scene["agreement"].pk])


def schedule_url(scene) -> str:
    # The schedule page shows one year: the scene's lines are of 2021/22.
    return reverse("budgets:schedule-detail", args=[scene["schedule"].pk]) + "?year=2021"


def decision_url(decision) -> str:
    return reverse("governance:decision", args=[decision.pk])


def test_the_agreement_page_links_its_decisions_with_date_board_outcome_and_amounts(client, scene):
    board = scene["board"]
    approving = DecisionFactory(agenda_item__meeting__board=board)
    Section75Agreement.objects.filter(pk=scene["agreement"].pk).update(decision=approving)
    varied = DecisionFactory(agenda_item__meeting__board=board)
    link(varied, scene["agreement"], D("100000.00"), D("125000.50"), "Variation 1")

    html = page(client, scene["user"], agreement_url(scene))
    assert f'<a class="govuk-link" href="{decision_url(approving)}">{approving.reference}</a>' in html
    assert f'<a class="govuk-link" href="{decision_url(varied)}">{varied.reference}</a>' in html
    assert f"2 Sep 2021, {board.name}: approved" in html
    assert "£100,000.00 before, £125,000.50 after" in html
    assert html.index(approving.reference) < html.index(varied.reference)  # the approving one first


def test_an_agreement_without_a_decision_says_so(client, scene):
    html = page(client, scene["user"], agreement_url(scene))
    assert "None recorded" in html


def test_the_virement_table_links_the_decision_and_the_lines_before_and_after(client, scene):
    placements, finance = scene["lines"]
    # A virement's decision is taken on or after the day it is proposed (today).
    decision = DecisionFactory(agenda_item__meeting__board=scene["board"], decided_on=timezone.localdate())
    virement = services.virement_propose(
        schedule=scene["schedule"],
        year=2021,
        from_line=placements,
        to_line=finance,
        amount=D("1200.00"),
        reason="Demand",
        by=scene["user"],
    )
    services.virement_approve(virement=virement, by=scene["approver"], decision=decision)
    services.virement_apply(virement=virement, by=scene["user"])

    html = page(client, scene["user"], schedule_url(scene))
    virements = html[html.index('id="virements"') :]
    assert f'<a class="govuk-link" href="{decision_url(decision)}">{decision.reference}</a>' in virements
    assert "Placements: £5,000.00 to £3,800.00" in virements
    assert "Finance costs: £800.00 to £2,000.00" in virements
    # The lines show the same decision with the amounts its links record.
    lines = html[html.index('id="line-decisions"') : html.index('id="monitoring"')]
    assert lines.count(f'href="{decision_url(decision)}"') == 2
    assert "£5,000.00 before, £3,800.00 after" in lines
    assert "£800.00 before, £2,000.00 after" in lines


def test_a_line_shows_its_approving_decision_even_without_a_link(client, scene):
    decision = DecisionFactory(agenda_item__meeting__board=scene["board"])
    BudgetLine.objects.filter(pk=scene["lines"][0].pk).update(decision=decision)
    html = page(client, scene["user"], schedule_url(scene))
    lines = html[html.index('id="line-decisions"') : html.index("Change a budget line")]
    assert f'href="{decision_url(decision)}"' in lines
    assert "Placements, CCG, 2021/22" in lines
    assert "Finance costs" not in lines  # no decision: not listed
    assert " before, " not in lines  # no link: no amounts


def test_no_decisions_on_lines_says_so(client, scene):
    html = page(client, scene["user"], schedule_url(scene))
    assert "No decision is recorded against the budget lines of this schedule." in html


def test_a_decision_the_user_may_not_see_is_not_linked(client, scene, make_user, partnership):
    hidden = exempt_decision_of(scene["board"])
    Section75Agreement.objects.filter(pk=scene["agreement"].pk).update(decision=hidden)
    linked_only = exempt_decision_of(scene["board"])
    link(linked_only, scene["lines"][0], D("1"), D("2"))

    html = page(client, scene["user"], agreement_url(scene))
    assert decision_url(hidden) not in html
    assert f"{hidden.reference} (restricted: you may not see this decision)" in html
    html = page(client, scene["user"], schedule_url(scene))
    assert linked_only.reference not in html and "£1.00 before" not in html

    secretary = make_user(roles.BOARD_SECRETARY, [partnership])
    secretary_of(secretary, scene["board"])  # rule 3: exempt content of the boards one is secretary of
    html = page(client, secretary, agreement_url(scene))
    assert f'href="{decision_url(hidden)}"' in html
    html = page(client, secretary, schedule_url(scene))
    assert f'href="{decision_url(linked_only)}"' in html and "£1.00 before, £2.00 after" in html


def test_another_partnerships_decision_links_are_not_shown(scene, make_user, other_partnership):
    decision = DecisionFactory(agenda_item__meeting__board=scene["board"])
    link(decision, scene["lines"][0], D("1"), D("2"))
    outsider = make_user(roles.BOARD_SECRETARY, [other_partnership])
    assert selectors.decision_refs(outsider, scene["lines"]) == {line.pk: [] for line in scene["lines"]}


def test_a_link_is_hidden_from_a_user_who_may_read_links_but_not_decisions(scene):
    """DecisionLink.restrict asks for the decision's own model permission too: the partnership and
    exemption rules follow the decision, so this is what keeps a link no wider than its decision."""
    from django.contrib.auth.models import Permission

    decision = DecisionFactory(agenda_item__meeting__board=scene["board"])
    link(decision, scene["lines"][0], D("1"), D("2"))
    user = scene["user"]
    assert selectors.decision_refs(user, scene["lines"])[scene["lines"][0].pk]
    assert DecisionLink.objects.restrict(user).count() == 1

    reader = type(user).objects.get(pk=user.pk)
    reader.groups.clear()
    reader.user_permissions.add(Permission.objects.get(codename="view_decisionlink"))
    reader = type(user).objects.get(pk=user.pk)  # no cached permissions
    assert reader.has_perm("governance.view_decisionlink") and not reader.has_perm("governance.view_decision")
    assert not DecisionLink.objects.restrict(reader).exists()


def test_decision_refs_orders_the_approving_decision_first_then_by_date(scene):
    line = scene["lines"][0]
    approving, earlier, later = (
        DecisionFactory(agenda_item__meeting__board=scene["board"]) for _ in range(3)
    )
    Decision.objects.filter(pk=earlier.pk).update(decided_on=date(2020, 1, 1))
    Decision.objects.filter(pk=later.pk).update(decided_on=date(2022, 1, 1))
    BudgetLine.objects.filter(pk=line.pk).update(decision=approving)
    line.refresh_from_db()
    link(later, line, D("10"), D("20"))
    link(approving, line, D("0"), D("10"))
    link(earlier, line, None, D("5"))
    refs = selectors.decision_refs(scene["user"], [line])[line.pk]
    assert [r.reference for r in refs] == [approving.reference, earlier.reference, later.reference]
    assert [(r.amount_before, r.amount_after) for r in refs] == [
        (D("0"), D("10")),
        (None, D("5")),
        (D("10"), D("20")),
    ]
    assert selectors.decision_refs(scene["user"], []) == {}


def _grow(scene, k: int) -> None:
    """k more lines, each with an approving decision and a link, and k more applied virements."""
    schedule, board = scene["schedule"], scene["board"]
    stream = scene["lines"][0].funding_stream
    for n in range(k):
        decision = DecisionFactory(agenda_item__meeting__board=board)
        line = BudgetLineFactory(
            schedule=schedule,
            name=f"Grown {BudgetLine.objects.count()}",
            year=2021,
            funding_stream=stream,
            amount=D("1000"),
            decision=decision,
        )
        link(decision, line, D("0"), D("1000"))
        link(DecisionFactory(agenda_item__meeting__board=board), line, D("1000"), D("1000"))
        virement = services.virement_propose(
            schedule=schedule,
            year=2021,
            from_line=line,
            to_line=scene["lines"][0],
            amount=D("150"),
            reason="More",
            by=scene["user"],
        )
        services.virement_approve(
            virement=virement,
            by=scene["approver"],
            decision=DecisionFactory(agenda_item__meeting__board=board, decided_on=timezone.localdate()),
        )
        services.virement_apply(virement=virement, by=scene["user"])
        link(DecisionFactory(agenda_item__meeting__board=board), scene["agreement"], D(n), D(n + 1))


def _queries(client, url) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    normal = (re.sub(r"'[^']*'|\b\d+\b", "?", q["sql"]) for q in captured.captured_queries)
    return [re.sub(r"\(\?(, \?)*\)", "(...)", sql) for sql in normal]


@pytest.mark.parametrize("url", [agreement_url, schedule_url])
def test_the_decisions_take_a_constant_number_of_queries(client, scene, url):
    client.force_login(scene["user"])
    _grow(scene, 1)
    _queries(client, url(scene))  # warm caches (content types, sessions)
    few = _queries(client, url(scene))
    _grow(scene, 4)
    many = _queries(client, url(scene))
    assert Virement.objects.count() == 5
    extra = [sql[-300:] for sql in set(many) if many.count(sql) > few.count(sql)]
    assert len(many) == len(few), f"{len(few)} queries with 1 of each, {len(many)} with 5: {extra[:3]}"


def test_decision_refs_of_several_groups_reads_them_together_and_keeps_each_groups_own(scene):
    """The schedule page asks for its lines' and virements' decisions in one pass: the same answer
    as asking for each group alone, a link to one model never shown on another's row of the same
    id, and no more queries than one group takes."""
    line, agreement = scene["lines"][0], scene["agreement"]
    on_line, on_agreement = (DecisionFactory(agenda_item__meeting__board=scene["board"]) for _ in range(2))
    link(on_line, line, D("1"), D("2"))
    link(on_agreement, agreement)
    DecisionLink.objects.create(  # an agreement's link of the line's id: not the line's
        decision=on_agreement,
        content_type=ContentType.objects.get_for_model(Section75Agreement),
        object_id=line.pk,
    )
    user = scene["user"]
    ContentType.objects.get_for_models(BudgetLine, Section75Agreement)  # cached, as on a page
    selectors.decision_refs(user, [agreement])  # and the user's permissions read
    with CaptureQueriesContext(connection) as one_group:
        alone = selectors.decision_refs(user, scene["lines"])
    with CaptureQueriesContext(connection) as two_groups:
        lines, agreements = selectors.decision_refs_of(user, scene["lines"], [agreement])
    assert lines == alone
    assert [r.reference for r in lines[line.pk]] == [on_line.reference]
    assert [r.reference for r in agreements[agreement.pk]] == [on_agreement.reference]
    assert len(two_groups) == len(one_group) == 1
    assert selectors.decision_refs_of(user, [], []) == [{}, {}]
