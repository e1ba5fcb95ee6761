"""Governance endpoints (api.md): happy paths, 400 naming the field with nothing changed, 401,
403, 404 for hidden objects (exempt content of other boards included), bounded query counts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from commissioning import roles
from governance import services
from governance.models import (
    AgendaItem,
    BoardPack,
    Decision,
    ExemptionRegime,
    Meeting,
    Membership,
    PackStatus,
    Paper,
)
from tests.commissioning.factories import PartnershipFactory, PersonFactory
from tests.governance.factories import BoardFactory, PaperFactory, london, secretary_of

pytestmark = pytest.mark.django_db

LISTS = [
    "boards",
    "memberships",
    "forward-plan",
    "meetings",
    "agenda-items",
    "papers",
    "attendance",
    "declarations",
    "decisions",
    "actions",
    "minutes",
    "packs",
]


@pytest.fixture
def exempt_item(scene):
    paper = PaperFactory(board=scene.board, title="Provider market position", body="Secret bids")
    return services.agenda_item_add(
        meeting=scene.meeting,
        title="Provider market position",
        paper=paper,
        exemption_regime=ExemptionRegime.SCHEDULE_12A,
        exemption_paragraph=3,
        exemption_reason="Financial affairs of providers",
        by=None,
    )


@pytest.fixture
def member_user(make_user, partnership, scene):
    """A board member whose Person sits on the scene's board."""
    user = make_user(roles.BOARD_MEMBER, [partnership])
    scene.council[1].user = user
    scene.council[1].save()
    return user


@pytest.fixture
def outsider_member(make_user, partnership):
    """A board member of the partnership who does not sit on the scene's board."""
    return make_user(roles.BOARD_MEMBER, [partnership])


@pytest.fixture
def elsewhere_secretary(make_user, other_partnership):
    return make_user(roles.BOARD_SECRETARY, [other_partnership])


@pytest.mark.parametrize("resource", LISTS)
def test_every_list_needs_a_login(api_client, resource):
    assert api_client.get(f"/api/v1/{resource}/").status_code == 401


@pytest.mark.parametrize("resource", LISTS)
def test_every_list_runs_a_bounded_number_of_queries(
    api_as, secretary, scene, exempt_item, resource, django_assert_max_num_queries
):
    services.decision_record(agenda_item=scene.item, resolution="Agreed.", outcome="approved", by=None)
    client = api_as(secretary)
    with django_assert_max_num_queries(14):
        response = client.get(f"/api/v1/{resource}/")
    assert response.status_code == 200


def test_the_decision_list_query_count_does_not_grow_with_rows(
    api_as, secretary, scene, django_assert_max_num_queries
):
    for _ in range(6):
        services.decision_record(agenda_item=scene.item, resolution="Noted.", outcome="noted", by=None)
    with django_assert_max_num_queries(14):
        assert len(api_as(secretary).get("/api/v1/decisions/").json()["results"]) == 6


def test_a_user_without_a_governance_role_is_refused(api_as, make_user, partnership, scene):
    user = make_user(None, [partnership])
    assert api_as(user).get("/api/v1/meetings/").status_code == 403


def test_other_roles_see_decisions_of_their_partnership_only(api_as, make_user, partnership, scene):
    services.decision_record(agenda_item=scene.item, resolution="Agreed.", outcome="approved", by=None)
    broker = make_user(roles.BROKER, [partnership])
    assert [d["reference"] for d in api_as(broker).get("/api/v1/decisions/").json()["results"]] == [
        "BBB/2021/001"
    ]
    assert api_as(broker).get("/api/v1/papers/").status_code == 403
    elsewhere = make_user(roles.BROKER, [PartnershipFactory(name="Another place")])
    assert api_as(elsewhere).get("/api/v1/decisions/").json()["results"] == []


# --- Exempt content -------------------------------------------------------------------------------


def test_exempt_items_and_their_papers_are_404_for_members_of_other_boards(
    api_as, outsider_member, exempt_item
):
    client = api_as(outsider_member)
    assert client.get(f"/api/v1/agenda-items/{exempt_item.pk}/").status_code == 404
    assert client.get(f"/api/v1/papers/{exempt_item.paper_id}/").status_code == 404
    listed = [row["id"] for row in client.get("/api/v1/agenda-items/?page_size=100").json()["results"]]
    assert exempt_item.pk not in listed and len(listed) == 5


def test_exempt_items_are_visible_to_the_boards_members_and_secretaries(
    api_as, member_user, secretary, exempt_item
):
    secretary_of(secretary, exempt_item.meeting.board)  # exempt content: the board's own secretary
    for user in (member_user, secretary):
        body = api_as(user).get(f"/api/v1/agenda-items/{exempt_item.pk}/").json()
        assert body["title"] == "Provider market position" and body["exempt"] is True


def test_an_auditor_who_is_not_a_member_does_not_see_exempt_content(api_as, auditor, exempt_item):
    assert api_as(auditor).get(f"/api/v1/agenda-items/{exempt_item.pk}/").status_code == 404


def test_members_packs_are_hidden_from_non_members(
    api_as, secretary, outsider_member, scene, settings, tmp_path
):
    settings.PDF_ROOT = tmp_path
    pack = BoardPack.objects.create(
        meeting=scene.meeting, audience="members", version=1, requested_by=secretary
    )
    public = BoardPack.objects.create(
        meeting=scene.meeting, audience="public", version=1, requested_by=secretary
    )
    client = api_as(outsider_member)
    assert client.get(f"/api/v1/packs/{pack.pk}/").status_code == 404
    assert client.get(f"/api/v1/packs/{public.pk}/").status_code == 200
    assert [p["id"] for p in client.get(f"/api/v1/meetings/{scene.meeting.pk}/packs/").json()["results"]] == [
        public.pk
    ]


def test_exempt_appendices_are_left_out_of_a_papers_appendix_list_for_non_members(
    api_as, outsider_member, scene, settings, tmp_path
):
    from tests.governance.factories import pdf_bytes

    settings.MEDIA_ROOT = tmp_path
    paper = PaperFactory(board=scene.board)
    services.appendix_add(paper=paper, title="Public model", filename="a.pdf", data=pdf_bytes(1), by=None)
    services.appendix_add(
        paper=paper,
        title="Bids",
        filename="b.pdf",
        data=pdf_bytes(1),
        exemption_regime="act_1960",
        exemption_reason="Commercial",
        by=None,
    )
    body = api_as(outsider_member).get(f"/api/v1/papers/{paper.pk}/").json()
    assert [a["title"] for a in body["appendices"]] == ["Public model"]


# --- Writes ---------------------------------------------------------------------------------------


def test_a_secretary_creates_a_meeting_with_its_standing_items(api_as, secretary, scene):
    response = api_as(secretary).post(
        "/api/v1/meetings/",
        {"board": scene.board.pk, "starts_at": "2021-10-07T14:00:00+01:00", "venue": "Civic Centre"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    meeting = Meeting.objects.get(pk=response.json()["id"])
    assert meeting.agenda_items.count() == 3


def test_a_meeting_for_a_board_out_of_scope_is_refused_naming_the_field(api_as, elsewhere_secretary, scene):
    before = Meeting.objects.count()
    response = api_as(elsewhere_secretary).post(
        "/api/v1/meetings/", {"board": scene.board.pk, "starts_at": "2021-10-07T14:00:00Z"}, format="json"
    )
    assert response.status_code == 400 and "board" in response.json()
    assert Meeting.objects.count() == before


def test_a_board_member_cannot_create_meetings(api_as, member_user, scene):
    response = api_as(member_user).post(
        "/api/v1/meetings/", {"board": scene.board.pk, "starts_at": "2021-10-07T14:00:00Z"}, format="json"
    )
    assert response.status_code == 403
    assert Meeting.objects.count() == 1


def test_an_exempt_item_without_a_reason_is_400_naming_the_field(api_as, secretary, scene):
    before = AgendaItem.objects.count()
    response = api_as(secretary).post(
        "/api/v1/agenda-items/",
        {
            "meeting": scene.meeting.pk,
            "title": "Part 2",
            "exemption_regime": "schedule_12a",
            "exemption_paragraph": 3,
        },
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"exemption_reason"}
    assert AgendaItem.objects.count() == before


def test_recording_a_decision_with_votes(api_as, secretary, scene):
    votes = [{"person": p.pk, "choice": "for"} for p in scene.council] + [
        {"person": p.pk, "choice": "against"} for p in scene.nhs[:1]
    ]
    response = api_as(secretary).post(
        "/api/v1/decisions/",
        {
            "agenda_item": scene.item.pk,
            "resolution": "Agreed.",
            "outcome": "approved",
            "financial_value": "162053.00",
            "votes": votes,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reference"] == "BBB/2021/001" and body["minute_number"] == "4/21"  # agenda order
    assert body["financial_value"] == "162053.00" and body["quorate"] is True
    assert body["vote_note"] == "Carried 3 to 1."
    assert body["decided_by"] == "Borough Based Board" and body["subject_to_call_in"] is False
    assert len(body["recorded_votes"]) == 4


def test_a_decision_that_cannot_be_approved_is_400_on_outcome_and_takes_no_number(api_as, secretary, scene):
    services.attendance_record(meeting=scene.meeting, person=scene.nhs[0], status="apologies", by=None)
    services.attendance_record(meeting=scene.meeting, person=scene.nhs[1], status="apologies", by=None)
    response = api_as(secretary).post(
        "/api/v1/decisions/",
        {"agenda_item": scene.item.pk, "resolution": "Agreed.", "outcome": "approved"},
        format="json",
    )
    assert response.status_code == 400 and "outcome" in response.json()
    assert not Decision.objects.exists()
    ok = api_as(secretary).post(
        "/api/v1/decisions/",
        {"agenda_item": scene.item.pk, "resolution": "Deferred.", "outcome": "deferred"},
        format="json",
    )
    assert ok.json()["reference"] == "BBB/2021/001"


def test_a_decision_is_corrected_before_publication_and_never_edited_after(api_as, secretary, scene):
    scene.board.council_executive = True
    scene.board.save()
    decision = services.decision_record(
        agenda_item=scene.item, resolution="Agreed.", outcome="approved", by=None
    )
    client = api_as(secretary)

    def patch(body):  # each change from the version as it stands (api.md: versions required)
        version = Decision.objects.get(pk=decision.pk).version
        return client.patch(f"/api/v1/decisions/{decision.pk}/", {**body, "version": version}, format="json")

    refused = patch({"outcome": "rejected"})
    assert refused.status_code == 400 and "outcome" in refused.json()
    corrected = patch({"resolution": "Agreed, as corrected."})
    assert corrected.status_code == 200 and corrected.json()["resolution"] == "Agreed, as corrected."
    published = patch({"published_on": "2021-08-26"})
    assert published.status_code == 400 and "published_on" in published.json()
    published = patch({"published_on": "2021-09-03"})
    assert published.status_code == 200
    assert published.json()["call_in_ends"].startswith("2021-09-10T16:00:00")
    refused = patch({"resolution": "Changed"})
    assert refused.status_code == 400 and "correction notice" in str(refused.json()["resolution"])
    assert client.delete(f"/api/v1/decisions/{decision.pk}/").status_code == 403
    assert Decision.objects.get(pk=decision.pk).resolution == "Agreed, as corrected."


def test_a_stale_paper_edit_is_409(api_as, secretary, scene):
    paper = PaperFactory(board=scene.board, title="Original")
    client = api_as(secretary)
    assert (
        client.patch(
            f"/api/v1/papers/{paper.pk}/", {"title": "First", "version": 1}, format="json"
        ).status_code
        == 200
    )
    response = client.patch(f"/api/v1/papers/{paper.pk}/", {"title": "Second", "version": 1}, format="json")
    assert response.status_code == 409
    assert Paper.objects.get(pk=paper.pk).title == "First"


def test_a_commissioner_may_add_papers_but_not_change_meetings(api_as, commissioner, scene):
    client = api_as(commissioner)
    created = client.post(
        "/api/v1/papers/", {"board": scene.board.pk, "title": "Market position statement"}, format="json"
    )
    assert created.status_code == 201
    assert (
        client.patch(
            f"/api/v1/meetings/{scene.meeting.pk}/", {"venue": "Elsewhere"}, format="json"
        ).status_code
        == 403
    )


def test_a_board_member_may_declare_only_their_own_interests(api_as, member_user, scene):
    client = api_as(member_user)
    body = {
        "board": scene.board.pk,
        "agenda_item": scene.item.pk,
        "nature": "financial",
        "description": "Shares",
        "action": "withdrew",
    }
    mine = client.post("/api/v1/declarations/", {**body, "person": scene.council[1].pk}, format="json")
    assert mine.status_code == 201
    theirs = client.post("/api/v1/declarations/", {**body, "person": scene.council[2].pk}, format="json")
    assert theirs.status_code == 400 and "person" in theirs.json()


def test_memberships_represent_a_partner_by_code(api_as, secretary, scene, partnership):
    person = PersonFactory()
    ok = api_as(secretary).post(
        "/api/v1/memberships/",
        {
            "board": scene.board.pk,
            "person": person.pk,
            "role": "member",
            "voting": True,
            "representing": partnership.council.code,
            "start": "2021-01-01",
        },
        format="json",
    )
    assert ok.status_code == 201 and ok.json()["representing"] == partnership.council.code
    from tests.commissioning.factories import OrganisationFactory

    stranger = OrganisationFactory(code="STRANGER")
    bad = api_as(secretary).post(
        "/api/v1/memberships/",
        {
            "board": scene.board.pk,
            "person": person.pk,
            "role": "member",
            "voting": True,
            "representing": stranger.code,
            "start": "2021-01-01",
        },
        format="json",
    )
    assert bad.status_code == 400 and "representing" in bad.json()
    assert Membership.objects.filter(person=person).count() == 1


def test_boards_validate_their_code(api_as, secretary, partnership):
    response = api_as(secretary).post(
        "/api/v1/boards/", {"partnership": partnership.pk, "name": "Board", "code": "bad code"}, format="json"
    )
    assert response.status_code == 400 and "code" in response.json()


# --- Packs ----------------------------------------------------------------------------------------


def test_requesting_a_pack_answers_202_and_queues_the_task_after_commit(
    api_as, secretary, scene, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr("governance.tasks.generate_pack.delay", lambda pk: queued.append(pk))
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(secretary).post(
            f"/api/v1/meetings/{scene.meeting.pk}/packs/", {"audience": "public"}, format="json"
        )
    assert response.status_code == 202
    assert response.json()["status"] == "queued" and response.json()["version"] == 1
    assert queued == [response.json()["id"]]


def test_a_non_member_cannot_request_the_members_pack_and_nothing_is_queued(
    api_as, outsider_member, scene, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_as(outsider_member).post(
            f"/api/v1/meetings/{scene.meeting.pk}/packs/", {"audience": "members"}, format="json"
        )
    assert response.status_code == 403
    assert callbacks == [] and not BoardPack.objects.exists()


def test_a_bad_audience_is_400(api_as, secretary, scene):
    response = api_as(secretary).post(
        f"/api/v1/meetings/{scene.meeting.pk}/packs/", {"audience": "press"}, format="json"
    )
    assert response.status_code == 400 and "audience" in response.json()
    assert not BoardPack.objects.exists()


def test_packs_of_a_hidden_meeting_are_404(api_as, elsewhere_secretary, scene):
    assert api_as(elsewhere_secretary).get(f"/api/v1/meetings/{scene.meeting.pk}/packs/").status_code == 404


def test_downloading_a_members_pack_is_logged(api_as, secretary, scene, settings, tmp_path):
    from commissioning.models import AccessLog

    settings.PDF_ROOT = tmp_path
    secretary_of(secretary, scene.board)
    (tmp_path / "p.pdf").write_bytes(b"%PDF-1.7 test")
    pack = BoardPack.objects.create(
        meeting=scene.meeting,
        audience="members",
        version=1,
        requested_by=secretary,
        status=PackStatus.READY,
        file="p.pdf",
    )
    response = api_as(secretary).get(f"/api/v1/packs/{pack.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == b"%PDF-1.7 test"
    log = AccessLog.objects.get()
    assert (log.user, log.action, log.object_id) == (secretary, "download", str(pack.pk))


def test_a_pack_not_ready_is_409(api_as, secretary, scene):
    pack = BoardPack.objects.create(
        meeting=scene.meeting, audience="public", version=1, requested_by=secretary
    )
    assert api_as(secretary).get(f"/api/v1/packs/{pack.pk}/pdf/").status_code == 409


# --- Public ---------------------------------------------------------------------------------------


def test_the_public_board_record_needs_no_login_and_has_no_exempt_content(api_client, scene, exempt_item):
    public_one = services.decision_record(
        agenda_item=scene.item, resolution="Agreed in public.", outcome="approved", by=None
    )
    services.decision_record(
        agenda_item=scene.item, resolution="Not yet published.", outcome="noted", by=None
    )
    exempt_one = services.decision_record(
        agenda_item=exempt_item, resolution="Secret resolution.", outcome="approved", by=None
    )
    for decision in (public_one, exempt_one):
        services.decision_publish(decision=decision, published_on=date(2021, 9, 3), by=None)
    response = api_client.get("/api/v1/public/boards/bbb/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Secret bids" not in text and "Secret resolution" not in text and "Not yet published" not in text
    agenda = response.json()["meetings"][0]["agenda"]
    exempt = next(row for row in agenda if row["exempt"])
    assert exempt["title"] == "Provider market position"
    assert exempt["exemption"]["reason"] == "Financial affairs of providers"
    assert "paper" not in exempt
    assert [d["resolution"] for d in response.json()["decisions"]] == ["Agreed in public."]


def test_a_board_that_does_not_meet_in_public_has_no_public_record(api_client, partnership):
    BoardFactory(partnership=partnership, code="PRIV", meets_in_public=False)
    assert api_client.get("/api/v1/public/boards/PRIV/").status_code == 404


def test_the_schema_lists_the_governance_endpoints(api_as, secretary):
    response = api_as(secretary).get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    for path in (
        "/api/v1/decisions/",
        "/api/v1/meetings/{meeting_pk}/packs/",
        "/api/v1/public/boards/{code}/",
    ):
        assert path in text


def test_meetings_can_be_filtered_by_board_code(api_as, secretary, scene, partnership):
    other = BoardFactory(partnership=partnership, code="OTHER")
    services.meeting_create(board=other, starts_at=london(2021, 10, 1), by=None)
    rows = api_as(secretary).get("/api/v1/meetings/?board=bbb").json()["results"]
    assert [r["board_code"] for r in rows] == ["BBB"]


def test_the_decision_log_filters_by_value_flags_and_text(api_as, secretary, scene):
    services.decision_record(
        agenda_item=scene.item,
        resolution="Brokerage agreed.",
        outcome="approved",
        financial_value=Decimal("300000"),
        urgent=True,
        urgent_reason="Exit",
        by=None,
    )
    services.decision_record(
        agenda_item=scene.item, resolution="Noted the savings.", outcome="noted", by=None
    )
    client = api_as(secretary)
    assert [r["reference"] for r in client.get("/api/v1/decisions/?key_decision=true").json()["results"]] == [
        "BBB/2021/001"
    ]
    assert [r["reference"] for r in client.get("/api/v1/decisions/?q=savings").json()["results"]] == [
        "BBB/2021/002"
    ]
    csv = client.get("/api/v1/decisions/?format=csv")
    assert csv.status_code == 200 and "BBB/2021/002" in csv.content.decode()
    assert date(2021, 9, 2).isoformat() in csv.content.decode()


def test_votes_links_declarations_and_actions_of_exempt_items_are_hidden_from_non_members(
    api_as, outsider_member, secretary, scene, exempt_item
):
    from governance.models import Action, DecisionLink, InterestDeclaration, Vote
    from tests.commissioning.factories import ContractFactory

    decision = services.decision_record(
        agenda_item=exempt_item, resolution="Secret.", outcome="approved",
        votes=[services.CastVote(person=p, choice="for") for p in scene.everyone], by=None,
    )  # fmt: skip
    services.decision_link_add(
        decision=decision, target=ContractFactory(partnership=scene.board.partnership), by=None
    )
    services.declaration_record(
        person=scene.nhs[0], board=scene.board, agenda_item=exempt_item, nature="financial",
        description="Secret interest", action="remained", by=None,
    )  # fmt: skip
    services.action_add(
        meeting=scene.meeting,
        agenda_item=exempt_item,
        description="Secret action",
        owner=scene.officer,
        by=None,
    )
    for model in (Vote, DecisionLink, InterestDeclaration, Action):
        assert not model.objects.restrict(outsider_member).exists(), model
        assert not model.objects.restrict(secretary).exists(), model  # not this board's secretary
    secretary_of(secretary, scene.board)
    for model in (Vote, DecisionLink, InterestDeclaration, Action):
        assert model.objects.restrict(secretary).exists(), model
    client = api_as(outsider_member)
    assert client.get("/api/v1/declarations/").json()["results"] == []
    assert client.get(f"/api/v1/decisions/{decision.pk}/").status_code == 404
