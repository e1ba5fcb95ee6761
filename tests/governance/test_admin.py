"""The Django admin of the governance app writes through the services, as the pages and the API do:
the models' rules show on the fields and nothing changes, the administrator is recorded in the
history, a paper's version goes up (and a stale change is refused), a new meeting gets its standing
items. Decisions and packs are read-only there."""

from __future__ import annotations

import pytest
from django.utils import timezone
from pghistory.models import Events

from governance import services
from governance.models import Board, ForwardPlanEntry, Meeting, Membership
from tests.commissioning.factories import OrganisationFactory, PersonFactory
from tests.governance.factories import BoardFactory, PaperFactory

pytestmark = pytest.mark.django_db

BOARD = {
    "name": "Joint Commissioning Board",
    "code": "JCB",
    "meets_in_public": "on",
    "quorum_min_voting": "4",
    "quorum_min_per_partner": "2",
    "voting_mode": "majority",
    "delegated_limit": "1000000.00",
    "key_decision_threshold": "",
    "parent": "",
    "terms_of_reference": "Oversees the section 75 agreement.",
}


def members(*rows, initial: int = 0) -> dict:
    """The board page's inline of memberships: ``rows`` are (id or "", person, representing)."""
    data = {
        "memberships-TOTAL_FORMS": str(len(rows)),
        "memberships-INITIAL_FORMS": str(initial),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for n, (pk, person, representing) in enumerate(rows):
        data.update(
            {
                f"memberships-{n}-id": str(pk),
                f"memberships-{n}-person": str(person.pk),
                f"memberships-{n}-role": "member",
                f"memberships-{n}-voting": "on",
                f"memberships-{n}-representing": str(representing.pk) if representing else "",
                f"memberships-{n}-start": "2021-04-01",
                f"memberships-{n}-end": "",
            }
        )
    return data


@pytest.fixture
def root(make_user):
    return make_user(is_superuser=True, is_staff=True, username="root")


@pytest.fixture
def admin_client(client, root):
    client.force_login(root)
    return client


def last_event(obj):
    return Events.objects.tracks(obj).order_by("-pgh_created_at", "-pgh_id").first()


@pytest.mark.parametrize("model", ["board", "meeting", "paper", "forwardplanentry", "decision", "boardpack"])
def test_every_governance_model_has_a_list_page(admin_client, model):
    assert admin_client.get(f"/admin/governance/{model}/").status_code == 200


@pytest.mark.parametrize("model", ["decision", "boardpack"])
def test_decisions_and_packs_are_read_only(admin_client, model):
    assert admin_client.get(f"/admin/governance/{model}/add/").status_code == 403


def test_a_board_added_in_the_admin_goes_through_the_service_with_its_members(
    admin_client, root, partnership
):
    person = PersonFactory(name="Cllr Example")

    response = admin_client.post(
        "/admin/governance/board/add/",
        {**BOARD, "partnership": partnership.pk, **members(("", person, partnership.council))},
    )

    assert response.status_code == 302
    board = Board.objects.get(code="JCB")
    assert board.partnership == partnership and board.quorum_min_voting == 4
    membership = Membership.objects.get(board=board)
    assert (membership.person, membership.representing) == (person, partnership.council)
    assert last_event(board).pgh_context["user"] == root.pk
    assert last_event(membership).pgh_context["user"] == root.pk


def test_a_parent_board_of_another_partnership_is_refused_on_its_field(
    admin_client, partnership, other_partnership
):
    board = BoardFactory(partnership=partnership, name="Borough Based Board", code="BBB")
    stranger = BoardFactory(partnership=other_partnership, code="OTH")

    response = admin_client.post(
        f"/admin/governance/board/{board.pk}/change/",
        {**BOARD, "code": "BBB", "partnership": partnership.pk, "parent": stranger.pk, **members()},
    )

    assert response.status_code == 200
    assert "The parent board must belong to the same partnership." in response.content.decode()
    board.refresh_from_db()
    assert (board.name, board.parent) == ("Borough Based Board", None)


def test_a_member_representing_an_outsider_is_refused_and_nothing_changes(admin_client, partnership):
    board = BoardFactory(partnership=partnership, code="BBB")
    outsider = OrganisationFactory(code="OUTSIDER")

    response = admin_client.post(
        f"/admin/governance/board/{board.pk}/change/",
        {
            **BOARD,
            "code": "BBB",
            "partnership": partnership.pk,
            "name": "Renamed",
            **members(("", PersonFactory(), outsider)),
        },
    )

    assert response.status_code == 200
    assert "A member represents one of the partners of" in response.content.decode()
    board.refresh_from_db()
    assert board.name != "Renamed" and not board.memberships.exists()


def test_a_meeting_added_in_the_admin_gets_its_standing_items(admin_client, root, partnership):
    board = BoardFactory(partnership=partnership)

    response = admin_client.post(
        "/admin/governance/meeting/add/",
        {"board": board.pk, "starts_at_0": "2021-09-02", "starts_at_1": "14:00:00", "venue": "Civic Centre"},
    )

    assert response.status_code == 302
    meeting = Meeting.objects.get(board=board)
    assert meeting.agenda_items.count() == len(services.STANDING_ITEMS)
    assert last_event(meeting).pgh_context["user"] == root.pk


def test_a_paper_changed_in_the_admin_goes_up_a_version_with_the_admin_in_its_history(
    admin_client, root, partnership
):
    paper = PaperFactory(board=BoardFactory(partnership=partnership), title="IPB business case")
    form = admin_client.get(f"/admin/governance/paper/{paper.pk}/change/").content.decode()
    assert 'name="loaded_version"' in form

    response = admin_client.post(
        f"/admin/governance/paper/{paper.pk}/change/",
        {
            "title": "IPB business case (revised)",
            "session": "public",
            "authors": "Head of Commissioning",
            "recommendations": "Approve the case",
            "loaded_version": "1",
        },
    )

    assert response.status_code == 302
    paper.refresh_from_db()
    assert (paper.title, paper.version, paper.recommendations) == (
        "IPB business case (revised)",
        2,
        ["Approve the case"],
    )
    assert last_event(paper).pgh_context["user"] == root.pk


def test_a_stale_paper_change_in_the_admin_is_refused(admin_client, partnership):
    paper = PaperFactory(board=BoardFactory(partnership=partnership), title="IPB business case")
    services.paper_update(paper=paper, version=1, title="Someone else's edit", by=None)

    response = admin_client.post(
        f"/admin/governance/paper/{paper.pk}/change/",
        {"title": "My edit", "session": "public", "authors": "Me", "loaded_version": "1"},
    )

    assert response.status_code == 200
    assert "Someone else changed this paper since you opened it." in response.content.decode()
    paper.refresh_from_db()
    assert (paper.title, paper.version) == ("Someone else's edit", 2)


def test_an_exempt_forward_plan_entry_without_a_reason_is_refused_in_the_admin(admin_client, partnership):
    board = BoardFactory(partnership=partnership)

    response = admin_client.post(
        "/admin/governance/forwardplanentry/add/",
        {
            "board": board.pk,
            "title": "Award of the home care contract",
            "key_decision": "on",
            "exempt": "on",
            "exemption_reason": "",
            "first_published_on": "2021-07-01",
        },
    )

    assert response.status_code == 200
    assert "Give the reason the entry is exempt." in response.content.decode()
    assert not ForwardPlanEntry.objects.exists()


def test_a_forward_plan_entry_added_in_the_admin_goes_through_the_service(admin_client, root, partnership):
    board = BoardFactory(partnership=partnership)

    response = admin_client.post(
        "/admin/governance/forwardplanentry/add/",
        {
            "board": board.pk,
            "title": "Award of the home care contract",
            "key_decision": "on",
            "exemption_reason": "Left over from an exempt draft",
            "first_published_on": "2021-07-01",  # not a field: the system sets it on publication
        },
    )

    assert response.status_code == 302
    entry = ForwardPlanEntry.objects.get(board=board)
    assert entry.first_published_on is None
    admin_client.post(
        "/admin/governance/forwardplanentry/",
        {"action": "publish", "_selected_action": [entry.pk]},
    )
    entry.refresh_from_db()
    assert entry.first_published_on == timezone.localdate()
    assert entry.exemption_reason == ""  # the service clears the reason of an entry that is not exempt
    assert last_event(entry).pgh_context["user"] == root.pk
