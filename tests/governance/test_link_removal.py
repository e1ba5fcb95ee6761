"""Removing a link recorded in error (issue 16): from the page that lists a decision's links (or a
paper's live tables), a Remove link leads to an "Are you sure?" page naming the link; confirming
removes it, and the change history keeps that it was there. Only a role that may delete links
sees the action or may use it; another partnership's link is not found."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.urls import reverse
from pghistory.models import Events

from commissioning import roles
from governance import services
from governance.models import DecisionLink, PaperLink
from tests.budgets.factories import AgreementFactory, ScheduleFactory
from tests.governance.factories import BoardFactory, DecisionFactory, PaperFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(partnership, other_partnership, make_user):
    board = BoardFactory(partnership=partnership)
    schedule = ScheduleFactory(
        agreement=AgreementFactory(partnership=partnership, reference="BR-S75"),
        number=2,
        title="Integrated Placements",
    )
    commissioner = make_user(roles.COMMISSIONER, [partnership])
    decision = DecisionFactory(agenda_item__meeting__board=board)
    paper = PaperFactory(board=board, title="IPB budget report")
    return {
        "decision": decision,
        "paper": paper,
        "decision_link": services.decision_link_add(
            decision=decision,
            target=schedule,
            by=commissioner,
            description="Schedule 2 funding",
            amount_before=D("100.00"),
            amount_after=D("150.00"),
        ),
        "paper_link": services.paper_link_add(paper=paper, target=schedule, by=commissioner),
        "commissioner": commissioner,
        "member": make_user(roles.BOARD_MEMBER, [partnership]),
        "stranger": make_user(roles.COMMISSIONER, [other_partnership]),
    }


def test_the_decision_page_offers_remove_and_the_link_goes_after_its_confirmation(client, scene):
    link, decision = scene["decision_link"], scene["decision"]
    url = reverse("governance:decision-link-remove", args=[link.pk])
    client.force_login(scene["commissioner"])

    page = client.get(decision.get_absolute_url()).content.decode()
    confirm = client.get(url).content.decode()

    assert f'href="{url}"' in page and "the link to Schedule 2 funding" in page
    assert "Remove the link to Schedule 2 funding?" in confirm
    assert "£100.00" in confirm and "£150.00" in confirm
    assert DecisionLink.objects.filter(pk=link.pk).exists()

    response = client.post(url)

    assert response.status_code == 302 and response.url == decision.get_absolute_url()
    assert not DecisionLink.objects.filter(pk=link.pk).exists()
    after = client.get(response.url).content.decode()
    assert f"Decision {decision.reference} is no longer linked to Schedule 2 funding" in after
    assert "No linked agreements, budget lines or virements." in after
    assert Events.objects.filter(pgh_obj_model="governance.DecisionLink", pgh_label="delete").count() == 1


def test_the_paper_page_offers_remove_and_the_live_table_goes_after_its_confirmation(client, scene):
    link, paper = scene["paper_link"], scene["paper"]
    url = reverse("governance:paper-link-remove", args=[link.pk])
    client.force_login(scene["commissioner"])

    page = client.get(reverse("governance:paper", args=[paper.pk])).content.decode()
    confirm = client.get(url).content.decode()
    response = client.post(url)

    assert f'href="{url}"' in page
    assert "Stop carrying the live table of" in confirm and "Packs already built keep it." in confirm
    assert response.status_code == 302 and response.url == reverse("governance:paper", args=[paper.pk])
    assert not PaperLink.objects.exists()
    after = client.get(response.url).content.decode()
    assert "None: the pack carries no live table for this paper." in after
    removed = Events.objects.filter(pgh_obj_model="governance.PaperLink", pgh_label="delete").get()
    assert removed.pgh_context["user"] == scene["commissioner"].pk  # who removed it is kept


def test_a_board_member_sees_no_remove_action_and_is_refused_it(client, scene):
    link = scene["decision_link"]
    client.force_login(scene["member"])

    page = client.get(scene["decision"].get_absolute_url()).content.decode()
    refused = [
        client.post(reverse("governance:decision-link-remove", args=[link.pk])).status_code,
        client.post(reverse("governance:paper-link-remove", args=[scene["paper_link"].pk])).status_code,
    ]

    assert "governance:decision-link-remove" not in page and "/remove/" not in page
    assert refused == [403, 403]
    assert DecisionLink.objects.count() == 1 and PaperLink.objects.count() == 1


def test_another_partnership_s_links_are_not_found(client, scene):
    client.force_login(scene["stranger"])

    answers = [
        client.get(reverse("governance:decision-link-remove", args=[scene["decision_link"].pk])).status_code,
        client.post(reverse("governance:paper-link-remove", args=[scene["paper_link"].pk])).status_code,
    ]

    assert answers == [404, 404]
    assert DecisionLink.objects.count() == 1 and PaperLink.objects.count() == 1


def _deleted_links(client, user) -> list:
    client.force_login(user)
    response = client.get("/audit/", {"model": "governance.DecisionLink", "action": "delete"})
    assert response.status_code == 200
    return [(row.object_id, row.label_display) for row in response.context["rows"]]


def test_an_auditor_sees_the_removal_of_a_link_where_its_decision_is_seen(
    client, scene, make_user, partnership, other_partnership
):
    """A removed link is gone from the table, so who may see its history is decided by its decision:
    the partnership's auditor sees the removal; another partnership's auditor does not."""
    link = scene["decision_link"]
    pk = str(link.pk)
    services.decision_link_remove(link=link, by=scene["commissioner"])
    auditor = make_user(roles.AUDITOR, [partnership])
    elsewhere = make_user(roles.AUDITOR, [other_partnership])

    assert _deleted_links(client, auditor) == [(pk, "Deleted")]
    assert _deleted_links(client, elsewhere) == []


def test_the_removal_of_an_exempt_decisions_link_stays_hidden_as_the_decision_is(
    client, scene, make_user, partnership
):
    """An exempt item's decision is seen only by its board's members and administrators; the history
    of a link removed from it follows the decision, not the partnership alone."""
    decision = DecisionFactory(
        agenda_item__meeting__board=scene["decision"].agenda_item.meeting.board,
        agenda_item__exemption_regime="schedule_12a",
        agenda_item__exemption_paragraph=3,
        agenda_item__exemption_reason="Prices of providers",
    )
    schedule = ScheduleFactory(agreement__partnership=partnership, number=3, title="Exempt placements")
    link = services.decision_link_add(decision=decision, target=schedule, by=scene["commissioner"])
    pk = str(link.pk)
    services.decision_link_remove(link=link, by=scene["commissioner"])
    auditor = make_user(roles.AUDITOR, [partnership])
    admin = make_user(is_superuser=True)

    assert pk not in {shown for shown, _ in _deleted_links(client, auditor)}
    assert (pk, "Deleted") in _deleted_links(client, admin)
