"""The decision log's filters, rows and pagination are cached under the versions of what they read
(commissioning/versions.py, issue 14): a committed write to decisions, items, meetings, boards or
memberships changes the next request's log; an exempt decision kept for a member of its board is
never shown to anyone else; a kept log runs fewer queries.

These tests commit (``transaction=True``), as production does between requests."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commissioning import roles
from governance import services
from governance.models import AgendaItem, Board, Decision, ExemptionRegime, Meeting, Membership
from tests.governance.factories import DecisionFactory, secretary_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_cache")]

LOG = reverse("governance:decisions")


@pytest.fixture
def decision(scene):
    return DecisionFactory(agenda_item=scene.item, reference="BBB/2021/001", decided_on=date(2021, 9, 2))


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _log(client, query: str = "") -> str:
    response = client.get(LOG + query)
    assert response.status_code == 200
    return response.content.decode()


def _kept(client, query: str = "") -> str:
    """The log, drawn twice: the second time from the cache (it reads no decision)."""
    _log(client, query)
    with CaptureQueriesContext(connection) as queries:
        html = _log(client, query)
    assert not any('FROM "governance_decision"' in q["sql"] for q in queries.captured_queries)
    return html


def test_a_kept_log_runs_fewer_queries_and_draws_the_same_rows(secretary, decision):
    client = _client(secretary)
    _log(client)  # the session's first request writes it
    cache.clear()
    with CaptureQueriesContext(connection) as built:
        first = _log(client)
    with CaptureQueriesContext(connection) as kept:
        second = _log(client)
    assert "BBB/2021/001" in first
    assert second.split("<main")[1] == first.split("<main")[1]
    assert len(kept) < len(built), (len(built), len(kept))


def _new_decision(scene):
    DecisionFactory(agenda_item=scene.item, reference="BBB/2022/002", decided_on=date(2022, 1, 5))
    return "BBB/2022/002"


def _decision_changed(scene):
    Decision.objects.filter(reference="BBB/2021/001").update(outcome="deferred")
    return '<td class="govuk-table__cell">Deferred</td>'


def _item_renamed(scene):
    AgendaItem.objects.filter(pk=scene.item.pk).update(title="A renamed item")
    return "A renamed item"


def _board_recoded(scene):
    Board.objects.filter(pk=scene.board.pk).update(code="NEW")
    return ">NEW<"


def _meeting_moved(scene):
    # The meeting moves to another board: its decisions are that board's.
    other = Board.objects.create(
        partnership=scene.board.partnership,
        name="Other board",
        code="OTH",
        quorum_min_voting=1,
        quorum_min_per_partner=0,
    )
    Meeting.objects.filter(pk=scene.meeting.pk).update(board=other)
    return ">OTH<"


FAMILIES = {
    "a new decision": _new_decision,
    "a changed decision": _decision_changed,
    "items": _item_renamed,
    "boards": _board_recoded,
    "meetings": _meeting_moved,
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_write_shows_on_the_next_request(secretary, scene, decision, family):
    client = _client(secretary)
    before = _kept(client)
    expected = FAMILIES[family](scene)
    assert expected not in before
    assert expected in _log(client)


def test_the_page_asked_for_is_part_of_the_key(secretary, scene, decision):
    for n in range(30):
        DecisionFactory(agenda_item=scene.item, reference=f"BBB/2020/{n:03d}", decided_on=date(2020, 1, 1))
    client = _client(secretary)
    first = _kept(client)
    second = _kept(client, "?page=2")
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert "BBB/2020/000" in second and "BBB/2020/000" not in first


def test_an_exempt_decision_kept_for_a_member_is_never_shown_to_another_user(
    make_user, partnership, scene, secretary
):
    exempt_item = services.agenda_item_add(
        meeting=scene.meeting,
        title="Provider market position",
        exemption_regime=ExemptionRegime.SCHEDULE_12A,
        exemption_paragraph=3,
        exemption_reason="Financial affairs of providers",
        by=None,
    )
    DecisionFactory(agenda_item=exempt_item, reference="BBB/2021/099", decided_on=date(2021, 9, 2))
    secretary_of(secretary, scene.board)
    assert "BBB/2021/099" in _kept(_client(secretary))
    other = make_user(roles.BOARD_SECRETARY, [partnership])  # of no board: sees public content only
    assert "BBB/2021/099" not in _log(_client(other))


def test_a_membership_ending_hides_the_exempt_decision_from_the_next_request(partnership, scene, secretary):
    exempt_item = services.agenda_item_add(
        meeting=scene.meeting,
        title="Provider market position",
        exemption_regime=ExemptionRegime.SCHEDULE_12A,
        exemption_paragraph=3,
        exemption_reason="Financial affairs of providers",
        by=None,
    )
    DecisionFactory(agenda_item=exempt_item, reference="BBB/2021/099", decided_on=date(2021, 9, 2))
    membership = secretary_of(secretary, scene.board)
    client = _client(secretary)
    assert "BBB/2021/099" in _kept(client)
    Membership.objects.filter(pk=membership.pk).update(end=date(2021, 1, 1))
    assert "BBB/2021/099" not in _log(client)


def test_a_revoked_role_is_refused_on_the_next_request(secretary, decision):
    client = _client(secretary)
    _kept(client)
    secretary.groups.clear()
    assert client.get(LOG).status_code == 403
