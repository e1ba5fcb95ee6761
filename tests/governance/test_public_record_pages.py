"""The pages, the public site and the API obey rule 3's last block: "Are you sure?" before publishing
a notice or an agenda and before approving minutes; corrections by notice; the public index, the
full forward plan and the Atom feed of published decisions; the membership form."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from governance import services
from governance.models import Decision, Meeting, MeetingStatus, Membership, Minutes
from tests.commissioning.factories import PartnershipFactory, PersonFactory
from tests.governance.factories import BoardFactory, ForwardPlanEntryFactory, london

pytestmark = pytest.mark.django_db


@pytest.fixture
def decision(scene):
    return services.decision_record(
        agenda_item=scene.item, resolution="Agreed £1.2m for the IPB.", outcome="approved", by=None
    )


def test_publishing_a_notice_asks_are_you_sure_first(client, secretary, scene, decision):
    client.force_login(secretary)
    page = client.get(decision.get_absolute_url()).content.decode()
    url = reverse("governance:decision-publish", args=[decision.pk])
    assert f'href="{url}"' in page and "Not published" in page
    confirm = client.get(url)
    html = confirm.content.decode()
    assert confirm.status_code == 200 and f"Publish decision notice {decision.reference}?" in html
    assert "never edited" in html and "Yes, publish the notice" in html
    decision.refresh_from_db()
    assert decision.published_on is None  # asking changes nothing
    assert client.post(url, {}).status_code == 302
    decision.refresh_from_db()
    assert decision.published_on == timezone.localdate()


def test_a_published_decision_is_corrected_by_a_correction_notice_page(client, secretary, scene, decision):
    services.decision_publish(decision=decision, published_on=date(2021, 9, 3), by=None)
    client.force_login(secretary)
    page = client.get(decision.get_absolute_url()).content.decode()
    url = reverse("governance:decision-correct", args=[decision.pk])
    assert "Issue a correction notice" in page and url in page
    response = client.post(
        url, {"resolution": "Agreed £120,000 for the IPB.", "correction_note": "Mistyped."}
    )
    correction = Decision.objects.get(corrects=decision)
    assert response.status_code == 302 and response["Location"] == correction.get_absolute_url()
    public_page = reverse("governance:public-board", args=["BBB"])
    assert "Agreed £120,000" not in client.get(public_page).content.decode()
    client.post(reverse("governance:decision-publish", args=[correction.pk]), {})
    html = client.get(public_page).content.decode()
    assert "Agreed £120,000" in html and f"corrects {decision.reference}" in html
    assert f"Corrected by {correction.reference}" in html and "Agreed £1.2m" in html  # the original stays


def test_publishing_the_agenda_asks_first_then_freezes_the_numbers(client, secretary, scene):
    client.force_login(secretary)
    url = reverse("governance:agenda-publish", args=[scene.meeting.pk])
    assert url in client.get(scene.meeting.get_absolute_url()).content.decode()
    assert "Yes, publish the agenda" in client.get(url).content.decode()
    scene.meeting.refresh_from_db()
    assert scene.meeting.agenda_published_on is None
    client.post(url)
    scene.meeting.refresh_from_db()
    assert scene.meeting.agenda_frozen and scene.meeting.status == MeetingStatus.AGENDA_PUBLISHED
    client.post(
        reverse("governance:item-add", args=[scene.meeting.pk]),
        {"title": "Late", "purpose": "noting", "exemption_regime": "none"},
    )
    late = scene.meeting.agenda_items.get(title="Late")
    assert (late.item_number, late.supplement_number) == ("5", 1)


def test_approving_minutes_asks_first(client, secretary, scene):
    minutes = services.minutes_write(meeting=scene.meeting, entries={scene.item.pk: "Agreed."}, by=None)
    later = services.meeting_create(board=scene.board, starts_at=london(2021, 10, 7), by=None)
    client.force_login(secretary)
    url = reverse("governance:minutes-approve", args=[later.pk])
    assert f"{url}?minutes={minutes.pk}" in client.get(later.get_absolute_url()).content.decode()
    confirm = client.get(url, {"minutes": minutes.pk}).content.decode()
    assert "Approve the minutes of 2 September 2021?" in confirm and "Yes, approve the minutes" in confirm
    assert Minutes.objects.get().approved_on is None
    client.post(url, {"minutes": minutes.pk})
    assert Minutes.objects.get().approved_on == date(2021, 10, 7)


def test_draft_minutes_reach_the_public_page_only_when_published_as_a_draft(client, secretary, scene):
    services.minutes_write(meeting=scene.meeting, entries={scene.item.pk: "Agreed the service."}, by=None)
    public_page = reverse("governance:public-meeting", args=["BBB", scene.meeting.pk])
    assert "Agreed the service." not in client.get(public_page).content.decode()
    client.force_login(secretary)
    client.post(reverse("governance:minutes-publish-draft", args=[scene.meeting.pk]))
    client.logout()
    html = client.get(public_page).content.decode()
    assert "Agreed the service." in html and "Draft, subject to approval" in html


def test_the_meeting_is_marked_held_from_its_page(client, secretary, scene):
    client.force_login(secretary)
    client.post(reverse("governance:meeting-held", args=[scene.meeting.pk]))
    assert Meeting.objects.get(pk=scene.meeting.pk).status == MeetingStatus.HELD


def test_the_public_index_lists_the_boards_that_meet_in_public(
    client, api_client, scene, django_assert_max_num_queries
):
    BoardFactory(
        partnership=scene.board.partnership, code="PRIV", name="Private board", meets_in_public=False
    )
    BoardFactory(partnership=PartnershipFactory(name="Elsewhere"), code="ELSE", name="Elsewhere board")
    with django_assert_max_num_queries(8):
        html = client.get(reverse("governance:public-index")).content.decode()
    assert "Borough Based Board" in html and "Elsewhere board" in html and "Private board" not in html
    assert reverse("governance:public-feed", args=["BBB"]) in html
    with django_assert_max_num_queries(3):
        boards = api_client.get("/api/v1/public/boards/").json()["boards"]
    assert {b["code"] for b in boards} == {"BBB", "ELSE"}
    assert api_client.get("/api/v1/public/boards/?x=1").status_code == 400  # strict query


def test_the_public_forward_plan_is_complete_and_only_what_was_published(client, api_client, scene):
    ForwardPlanEntryFactory(
        board=scene.board,
        title="IPB service",
        expected_meeting=scene.meeting,
        contact="Head of Commissioning, 020 8464 3333",
        consultation="Providers and service users, June 2021",
        first_published_on=date(2021, 7, 1),
    )
    ForwardPlanEntryFactory(board=scene.board, title="Not yet published", first_published_on=None)
    html = client.get(reverse("governance:public-board", args=["BBB"])).content.decode()
    assert "IPB service" in html and "2 September 2021" in html
    assert "Head of Commissioning" in html and "Providers and service users" in html
    assert "Not yet published" not in html
    (row,) = api_client.get("/api/v1/public/boards/BBB/").json()["forward_plan"]
    assert row["contact"].startswith("Head of") and row["consultation"].startswith("Providers")
    assert row["expected_meeting_starts_at"].startswith("2021-09-02")


def test_the_atom_feed_carries_published_decisions_only(
    client, scene, decision, django_assert_max_num_queries
):
    url = reverse("governance:public-feed", args=["bbb"])
    empty = client.get(url)
    assert empty.status_code == 200 and empty["Content-Type"].startswith("application/atom+xml")
    assert decision.reference not in empty.content.decode()
    services.decision_publish(decision=decision, published_on=date(2021, 9, 3), by=None)
    with django_assert_max_num_queries(6):
        feed = client.get(url).content.decode()
    assert f"{decision.reference}: {scene.item.title}" in feed and "Agreed £1.2m" in feed
    assert client.get(reverse("governance:public-feed", args=["NOPE"])).status_code == 404


def test_the_membership_form_offers_the_partnerships_people_without_a_vote_ticked(client, secretary, scene):
    theirs = PersonFactory(name="City of London officer", organisation=PartnershipFactory().council)
    ours = PersonFactory(name="Bromley officer", organisation=scene.board.partnership.council)
    client.force_login(secretary)
    response = client.get(reverse("governance:membership-create", args=[scene.board.pk]))
    people = list(response.context["form"].fields["person"].queryset)
    assert ours in people and theirs not in people
    assert not response.context["form"]["voting"].value()
    client.post(
        reverse("governance:membership-create", args=[scene.board.pk]),
        {"person": ours.pk, "role": "officer", "start_day": "1", "start_month": "1", "start_year": "2021"},
    )
    assert not Membership.objects.get(person=ours).voting


def test_the_public_meeting_page_keeps_the_appendix_numbers_of_the_members_pack(
    client, scene, settings, tmp_path
):
    from governance.models import ExemptionRegime
    from tests.governance.factories import PaperFactory, pdf_bytes

    settings.MEDIA_ROOT = tmp_path
    paper = PaperFactory(board=scene.board, title="Brokerage prices")
    services.agenda_item_update(item=scene.item, paper=paper, by=None)
    services.appendix_add(
        paper=paper,
        title="Tender prices",
        filename="p.pdf",
        data=pdf_bytes(1),
        exemption_regime=ExemptionRegime.SCHEDULE_12A,
        exemption_paragraph=3,
        exemption_reason="Prices",
        by=None,
    )
    services.appendix_add(paper=paper, title="Public model", filename="m.pdf", data=pdf_bytes(1), by=None)
    html = client.get(reverse("governance:public-meeting", args=["BBB", scene.meeting.pk])).content.decode()
    assert "Appendix 1: exempt, not included" in html and "Appendix 2: Public model" in html
    assert "Tender prices" not in html


def test_the_api_publishes_corrects_and_publishes_drafts_through_the_services(
    api_as, secretary, scene, decision
):
    client = api_as(secretary)

    def version() -> dict:  # each change from the decision's version as it stands (api.md)
        return {"version": Decision.objects.get(pk=decision.pk).version}

    url = f"/api/v1/decisions/{decision.pk}/"
    refused = client.post(f"{url}correct/", {"resolution": "X", **version()}, format="json")
    assert refused.status_code == 400  # not published yet: correct it directly
    client.patch(url, {"published_on": "2021-09-03", **version()}, format="json")
    made = client.post(
        f"{url}correct/",
        {"resolution": "Agreed £120,000.", "financial_value": "120000.00", **version()},
        format="json",
    )
    assert made.status_code == 201 and made.json()["corrects"] == decision.pk
    assert made.json()["reference"] == "BBB/2021/002" and made.json()["published_on"] is None
    minutes = services.minutes_write(meeting=scene.meeting, entries={scene.item.pk: "Agreed."}, by=None)
    published = client.post(f"/api/v1/minutes/{minutes.pk}/publish-draft/", format="json")
    assert published.status_code == 200
    entry = ForwardPlanEntryFactory(board=scene.board, first_published_on=None)
    first = client.post(f"/api/v1/forward-plan/{entry.pk}/publish/", format="json")
    assert first.status_code == 200 and first.json()["first_published_on"] == timezone.localdate().isoformat()
    assert client.post(f"/api/v1/forward-plan/{entry.pk}/publish/", format="json").status_code == 400
    held = client.patch(f"/api/v1/meetings/{scene.meeting.pk}/", {"status": "held"}, format="json")
    assert held.status_code == 200 and held.json()["status"] == "held"
