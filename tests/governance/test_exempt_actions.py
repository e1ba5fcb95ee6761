"""Issue 19 point 1: actions follow the exemption rule of minutes and decisions everywhere.

An action on an exempt item, or on a decision taken on one, is for the board's members and the
board secretaries only: not in the public pack's action log, not on meeting pages for non-members,
not in ``actions/`` and not in the audit trail's CSV for an auditor who does not sit on the board."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from commissioning import roles
from governance import packs, selectors, services
from governance.models import Action, ExemptionRegime
from tests.governance.factories import PaperFactory, london

pytestmark = pytest.mark.django_db

ON_ITEM = "Quokka action on the Part 2 item"
ON_DECISION = "Wombat action on the Part 2 decision"
OPEN = "Numbat action on the public item"


@pytest.fixture
def exempt_scene(scene):
    """The scene's meeting with a Part 2 item and its decision, three open actions (one on the
    exempt item, one on the exempt decision only, one public), and a later meeting of the board
    whose action log lists them."""
    exempt_item = services.agenda_item_add(
        meeting=scene.meeting,
        title="Provider market position",
        paper=PaperFactory(board=scene.board, title="Provider market position"),
        exemption_regime=ExemptionRegime.SCHEDULE_12A,
        exemption_paragraph=3,
        exemption_reason="Financial affairs of providers",
        by=None,
    )
    decision = services.decision_record(
        agenda_item=exempt_item, resolution="Noted the bids.", outcome="noted", by=None
    )
    owner = scene.officer
    services.action_add(
        meeting=scene.meeting, agenda_item=exempt_item, description=ON_ITEM, owner=owner, by=None
    )
    services.action_add(
        meeting=scene.meeting, decision=decision, description=ON_DECISION, owner=owner, by=None
    )
    services.action_add(meeting=scene.meeting, agenda_item=scene.item, description=OPEN, owner=owner, by=None)
    later = services.meeting_create(
        board=scene.board, starts_at=london(2021, 10, 7, 14), venue="Civic Centre", by=None
    )
    return scene, later


@pytest.fixture
def outsider(make_user, partnership):
    """A board member of the partnership who does not sit on the scene's board."""
    return make_user(roles.BOARD_MEMBER, [partnership])


@pytest.fixture
def seated(make_user, partnership, scene):
    user = make_user(roles.BOARD_MEMBER, [partnership])
    scene.council[1].user = user
    scene.council[1].save()
    return user


def test_an_action_on_an_exempt_decision_is_exempt(exempt_scene, outsider, seated):
    visible = set(Action.objects.restrict(outsider).values_list("description", flat=True))
    assert visible == {OPEN}
    assert set(Action.objects.restrict(seated).values_list("description", flat=True)) == {
        ON_ITEM,
        ON_DECISION,
        OPEN,
    }
    assert [a.exempt for a in Action.objects.order_by("pk")] == [True, True, False]


def test_the_action_log_is_filtered_for_the_user_and_for_the_public(exempt_scene, outsider, seated):
    _scene, later = exempt_scene
    describe = lambda qs: {a.description for a in qs}  # noqa: E731
    assert describe(selectors.action_log_for(later, outsider)) == {OPEN}
    assert describe(selectors.action_log_for(later, seated)) == {ON_ITEM, ON_DECISION, OPEN}
    assert describe(selectors.action_log_for(later, public=True)) == {OPEN}
    assert describe(selectors.action_log_for(later)) == {ON_ITEM, ON_DECISION, OPEN}


def test_the_public_pack_action_log_leaves_out_exempt_actions(exempt_scene):
    _scene, later = exempt_scene  # its standing item "Minutes of the last meeting and action log"
    public = packs.pack_html(later, "public")
    assert OPEN in public
    assert ON_ITEM not in public and ON_DECISION not in public
    members = packs.pack_html(later, "members")
    assert ON_ITEM in members and ON_DECISION in members


def test_meeting_pages_show_exempt_actions_to_members_only(client, exempt_scene, outsider, seated):
    scene, later = exempt_scene
    client.force_login(outsider)
    for meeting in (scene.meeting, later):  # "actions from this meeting" and the action log
        html = client.get(reverse("governance:meeting", args=[meeting.pk])).content.decode()
        assert OPEN in html
        assert ON_ITEM not in html and ON_DECISION not in html
    client.force_login(seated)
    for meeting in (scene.meeting, later):
        html = client.get(reverse("governance:meeting", args=[meeting.pk])).content.decode()
        assert ON_ITEM in html and ON_DECISION in html


def test_the_actions_endpoint_hides_exempt_actions_from_non_members(api_as, exempt_scene, outsider, seated):
    hidden = Action.objects.get(description=ON_DECISION)
    client = api_as(outsider)
    assert {a["description"] for a in client.get("/api/v1/actions/").json()["results"]} == {OPEN}
    assert client.get(f"/api/v1/actions/{hidden.pk}/").status_code == 404
    assert ON_DECISION not in client.get("/api/v1/actions/?format=csv").content.decode()
    assert api_as(seated).get(f"/api/v1/actions/{hidden.pk}/").status_code == 200


def test_the_audit_csv_hides_exempt_actions_from_an_auditor_who_is_not_a_member(
    client, exempt_scene, make_user, partnership
):
    auditor = make_user(roles.AUDITOR, [partnership])
    client.force_login(auditor)
    response = client.get("/audit/history.csv", {"model": "governance.Action"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    text = "\n".join(",".join(row) for row in rows)
    assert OPEN in text
    assert ON_ITEM not in text and ON_DECISION not in text
    page = client.get("/audit/", {"model": "governance.Action"}).content.decode()
    assert OPEN in page and ON_DECISION not in page
