"""The governance demo data: boards, the PBB membership, the 2 September 2021 BBB meeting."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import transaction

from commissioning.demo import load_demo
from governance import demo
from governance.models import AgendaItem, Board, Decision, Membership

pytestmark = pytest.mark.django_db

TODAY = date(2025, 1, 15)


def load():
    """The core loader runs the governance step too (governance.apps registers it)."""
    return load_demo(seed=2021, today=TODAY)


def test_the_core_loader_runs_the_governance_step():
    from commissioning.demo import DEMO_STEPS
    from governance.apps import load_governance_demo

    assert load_governance_demo in DEMO_STEPS


def snapshot() -> list:
    return [
        sorted(Board.objects.values_list("code", "name", "voting_mode", "delegated_limit")),
        sorted(Membership.objects.values_list("board__code", "person__name", "role", "voting")),
        sorted(
            AgendaItem.objects.values_list(
                "meeting__board__code", "meeting__starts_at", "item_number", "title"
            )
        ),
        sorted(Decision.objects.values_list("reference", "outcome", "financial_value")),
    ]


def test_the_demo_boards_and_the_place_based_board_membership():
    load()
    assert set(Board.objects.values_list("code", flat=True)) == {"PBB", "BBB", "ICB", "CHICB", "JC"}
    pbb = Membership.objects.filter(board__code="PBB")
    assert pbb.count() == 15
    assert pbb.filter(role="joint_chair").count() == 2
    assert set(pbb.filter(voting=False).values_list("person__name", flat=True)) == {
        "Healthwatch representative (Bromley)",
        "Local Medical Committee representative (Bromley)",
    }
    assert Board.objects.get(code="ICB").parent.code == "BBB"
    assert Board.objects.get(code="JC").council_executive


def test_the_ipb_item_and_its_decision():
    load()
    item = AgendaItem.objects.get(
        meeting__board__code="BBB", title=demo.IPB_TITLE, meeting__starts_at__date=date(2021, 9, 2)
    )
    assert (item.item_number, item.enclosure_number, item.purpose) == ("6", "4", "decision")
    assert len(item.paper.recommendations) == 7
    assert item.paper.recommendations[6].startswith("agrees that the Assistant Director of Commissioning")
    decision = item.decisions.get()
    assert decision.reference == "BBB/2021/001"
    assert decision.outcome == "approved" and decision.quorate
    assert decision.decided_on == date(2021, 9, 2) and decision.published_on == date(2021, 9, 3)
    # the lifecycle of rule 3: held before its decision, which is public once published; the
    # minutes are numbered in agenda order and published as a draft until approved
    from governance import public

    assert item.meeting.status == "held" and item.meeting.held_at is not None
    assert decision in public.public_decisions(item.meeting.board)
    assert decision.minute_number == item.minute_number == "6/21"
    minutes, entries = public.public_minutes(item.meeting)
    assert minutes.draft and minutes.draft_published_on is not None and len(entries) == 1


def test_the_demo_is_the_same_every_time():
    with transaction.atomic():
        load()
        first = snapshot()
        transaction.set_rollback(True)
    load()
    assert snapshot() == first
