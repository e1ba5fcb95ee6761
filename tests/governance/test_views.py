"""Governance pages: permission matrix, exempt content, forms calling services, public pages."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse

from commissioning import roles
from governance import services
from governance.models import BoardPack, Decision, ExemptionRegime
from tests.governance.factories import PaperFactory, secretary_of

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def exempt_item(scene):
    paper = PaperFactory(
        board=scene.board, title="Provider market position", executive_summary="Secret bids of providers"
    )
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
def decision(scene):
    return services.decision_record(
        agenda_item=scene.item, resolution="Agreed the IPB service.", outcome="approved", by=None
    )


def pages(scene, decision):
    return [
        reverse("governance:index"),
        reverse("governance:board", args=[scene.board.pk]),
        reverse("governance:meeting", args=[scene.meeting.pk]),
        reverse("governance:item", args=[scene.item.pk]),
        reverse("governance:decision", args=[decision.pk]),
        reverse("governance:decisions"),
    ]


def test_pages_need_a_login(client, scene, decision):
    for url in pages(scene, decision):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_a_secretary_sees_every_page_without_inline_script_or_style(
    client, secretary, scene, decision, exempt_item
):
    login(client, secretary)
    for url in pages(scene, decision):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert ' style="' not in html, url


def test_a_user_without_a_governance_role_is_refused(client, make_user, partnership, scene, decision):
    login(client, make_user(None, [partnership]))
    assert client.get(reverse("governance:meeting", args=[scene.meeting.pk])).status_code == 403


def test_another_partnerships_meeting_is_404(client, make_user, other_partnership, scene, decision):
    login(client, make_user(roles.BOARD_SECRETARY, [other_partnership]))
    for url in pages(scene, decision)[1:5]:
        assert client.get(url).status_code == 404, url


def test_an_exempt_item_is_404_for_a_member_of_another_board_and_hidden_from_the_agenda(
    client, make_user, partnership, scene, exempt_item
):
    login(client, make_user(roles.BOARD_MEMBER, [partnership]))
    assert client.get(reverse("governance:item", args=[exempt_item.pk])).status_code == 404
    meeting_page = client.get(reverse("governance:meeting", args=[scene.meeting.pk])).content.decode()
    assert "Provider market position" not in meeting_page
    assert "1 exempt item visible only to the board's members." in meeting_page
    assert client.get(reverse("governance:paper", args=[exempt_item.paper_id])).status_code == 404


def test_the_item_page_says_before_the_vote_whether_it_is_quorate(client, secretary, scene):
    services.attendance_record(meeting=scene.meeting, person=scene.nhs[0], status="apologies", by=None)
    services.attendance_record(meeting=scene.meeting, person=scene.nhs[1], status="apologies", by=None)
    login(client, secretary)
    html = client.get(reverse("governance:item", args=[scene.item.pk])).content.decode()
    assert "Not quorate" in html
    assert "1 voting members for" in html


def test_recording_a_decision_from_the_item_page(client, secretary, scene):
    login(client, secretary)
    data = {"resolution": "Agreed.", "outcome": "approved", "financial_value": "162,053.00"}
    data.update({f"vote_{p.pk}": "for" for p in scene.everyone})
    response = client.post(reverse("governance:decision-record", args=[scene.item.pk]), data)
    decision = Decision.objects.get()
    assert response.status_code == 302 and response["Location"] == decision.get_absolute_url()
    assert decision.votes.count() == 6 and str(decision.financial_value) == "162053.00"
    notice = client.get(decision.get_absolute_url()).content.decode()
    for words in (
        "BBB/2021/001",
        "Agreed.",
        "Carried 6 to 0.",
        "Decided by",
        "Subject to call-in",
        "Effective from",
    ):
        assert words in notice


def test_a_refused_decision_shows_the_reason_on_the_outcome_field(client, secretary, scene):
    login(client, secretary)
    data = {"resolution": "Agreed.", "outcome": "approved"}
    data.update({f"vote_{p.pk}": "for" for p in scene.council})
    data.update({f"vote_{p.pk}": "against" for p in scene.nhs})
    response = client.post(reverse("governance:decision-record", args=[scene.item.pk]), data)
    assert response.status_code == 200  # the form again, with the error
    assert "The vote did not carry" in response.content.decode()
    assert not Decision.objects.exists()


def test_adding_an_exempt_item_without_a_reason_shows_the_error(client, secretary, scene):
    login(client, secretary)
    response = client.post(
        reverse("governance:item-add", args=[scene.meeting.pk]),
        {"title": "Part 2", "purpose": "decision", "exemption_regime": "act_1960"},
    )
    assert response.status_code == 200  # the form again, with the error
    assert "Give the reason the information is exempt." in response.content.decode()
    assert scene.meeting.agenda_items.count() == 4


def test_requesting_packs_from_the_meeting_page(
    client, secretary, scene, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr("governance.tasks.generate_pack.delay", lambda pk: queued.append(pk))
    secretary_of(secretary, scene.board)
    login(client, secretary)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("governance:pack-request", args=[scene.meeting.pk]), {"audience": "members"})
    pack = BoardPack.objects.get()
    assert queued == [pack.pk]
    partial = client.get(reverse("governance:meeting-packs", args=[scene.meeting.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in partial and "Queued" in partial


def test_a_commissioner_cannot_generate_packs(client, commissioner, scene):
    login(client, commissioner)
    assert (
        client.post(
            reverse("governance:pack-request", args=[scene.meeting.pk]), {"audience": "public"}
        ).status_code
        == 403
    )
    assert not BoardPack.objects.exists()


def test_the_decision_log_exports_csv(client, secretary, decision):
    login(client, secretary)
    response = client.get(reverse("governance:decisions-export", args=["csv"]) + "?q=IPB")
    assert response.status_code == 200
    text = response.content.decode()
    assert text.lstrip("\ufeff").splitlines()[0].startswith("Reference,Minute,Board")
    assert "BBB/2021/001" in text


def test_public_pages_need_no_login_and_show_no_exempt_content(client, scene, exempt_item, decision):
    secret = services.decision_record(
        agenda_item=exempt_item, resolution="Secret resolution.", outcome="approved", by=None
    )
    before = client.get(reverse("governance:public-board", args=["bbb"])).content.decode()
    assert "Agreed the IPB service." not in before  # recorded, not yet published
    for published in (decision, secret):
        services.decision_publish(decision=published, published_on=date(2021, 9, 3), by=None)
    board_page = client.get(reverse("governance:public-board", args=["bbb"]))
    assert board_page.status_code == 200
    meeting_page = client.get(reverse("governance:public-meeting", args=["BBB", scene.meeting.pk]))
    html = board_page.content.decode() + meeting_page.content.decode()
    assert "Secret resolution" not in html and "Secret bids" not in html
    assert "Provider market position" in html and "Financial affairs of providers" in html
    assert "Agreed the IPB service." in html


def test_the_register_lists_members_who_have_not_declared(client, secretary, scene, partnership):
    from django.utils import timezone

    today = timezone.localdate()
    year = today.year if today.month >= 4 else today.year - 1
    services.register_entry_record(
        person=scene.council[0], partnership=partnership, year=year, nil_return=True, by=None
    )
    login(client, secretary)
    response = client.get(reverse("governance:register"))
    missing = response.context["missing"][0][1]
    assert scene.council[0] not in missing and scene.council[1] in missing


def test_the_dashboard_shows_upcoming_board_meetings(client, secretary, scene):
    from datetime import timedelta

    from django.utils import timezone

    upcoming = services.meeting_create(
        board=scene.board, starts_at=timezone.now() + timedelta(days=10), by=None
    )
    login(client, secretary)
    response = client.get(reverse("dashboard"))
    html = response.content.decode()
    assert "Board meetings coming up" in html
    assert upcoming.get_absolute_url() in html


def test_the_dashboard_has_no_meetings_panel_without_a_governance_role(client, make_user, partnership, scene):
    login(client, make_user(None, [partnership]))
    assert "Board meetings coming up" not in client.get(reverse("dashboard")).content.decode()


def test_writing_minutes_actions_and_approving_them_at_the_next_meeting(
    client, secretary, scene, exempt_item
):
    from governance.models import Action, Minutes
    from tests.governance.factories import london

    secretary_of(secretary, scene.board)  # the exempt item's minute: the board's own secretary
    login(client, secretary)
    url = reverse("governance:minutes", args=[scene.meeting.pk])
    refused = client.post(url, {f"item_{exempt_item.pk}": "Discussed the bids."})
    assert "Write the Part 2 summary for the public minutes." in refused.content.decode()
    assert not Minutes.objects.exists()
    client.post(
        url,
        {f"item_{scene.item.pk}": "Agreed.", f"item_{exempt_item.pk}": "Bids.", "part2_summary": "Noted."},
    )
    minutes = Minutes.objects.get()
    # every item numbered in agenda order: 4 the public item, 5 the exclusion, 6 the exempt item
    assert sorted(minutes.entries.values_list("minute_number", flat=True)) == ["4/21", "6/21"]

    client.post(
        reverse("governance:action-add", args=[scene.meeting.pk]),
        {
            "description": "Mobilise the service",
            "owner": scene.officer.pk,
            "due_day": "1",
            "due_month": "4",
            "due_year": "2022",
        },
    )
    assert Action.objects.get().due.isoformat() == "2022-04-01"

    later = services.meeting_create(board=scene.board, starts_at=london(2021, 10, 7), by=None)
    page = client.get(reverse("governance:meeting", args=[later.pk])).content.decode()
    assert "Approve the minutes of 2 September 2021" in page and "Mobilise the service" in page
    client.post(reverse("governance:minutes-approve", args=[later.pk]), {"minutes": minutes.pk})
    minutes.refresh_from_db()
    assert minutes.approved_at == later


def test_a_board_member_cannot_write_minutes(client, make_user, partnership, scene):
    login(client, make_user(roles.BOARD_MEMBER, [partnership]))
    response = client.post(
        reverse("governance:minutes", args=[scene.meeting.pk]), {f"item_{scene.item.pk}": "X"}
    )
    assert response.status_code == 403
