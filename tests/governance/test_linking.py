"""Linking pages and API (issue 16): a decision is linked to what it approved or changed (an
agreement, a variation, a schedule, a line, a virement, with the amounts before and after: for a
virement, one pair on the virement itself), and a paper to the live tables its packs carry. Reached
from the decision or paper page and from the linked record's page; records of another partnership
are neither offered nor accepted."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse

from budgets import services as budgets
from budgets.models import BudgetLine, Virement
from commissioning import roles
from governance.models import DecisionLink, PaperLink
from tests.budgets.factories import AgreementFactory, BudgetLineFactory, FundingStreamFactory, ScheduleFactory
from tests.governance.factories import BoardFactory, DecisionFactory, PaperFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(partnership, other_partnership, make_user):
    board = BoardFactory(partnership=partnership)
    agreement = AgreementFactory(
        partnership=partnership, reference="BR-S75", start=date(2021, 4, 1), end=date(2024, 3, 31)
    )
    schedule = ScheduleFactory(agreement=agreement, number=2, title="Integrated Placements", board=board)
    stream = FundingStreamFactory(
        partnership=partnership, name="CCG", organisation=partnership.nhs_commissioner
    )
    placements = BudgetLineFactory(
        schedule=schedule, name="Placements", year=2021, funding_stream=stream, amount=D("5000")
    )
    finance = BudgetLineFactory(
        schedule=schedule, name="Finance costs", year=2021, funding_stream=stream, amount=D("800")
    )
    commissioner = make_user(roles.COMMISSIONER, [partnership])
    virement = budgets.virement_propose(
        schedule=schedule,
        year=2021,
        from_line=placements,
        to_line=finance,
        amount=D("1200.00"),
        reason="Demand",
        by=commissioner,
    )
    away_schedule = ScheduleFactory(
        agreement=AgreementFactory(partnership=other_partnership), title="Away schedule"
    )
    return {
        "board": board,
        "agreement": agreement,
        "schedule": schedule,
        "lines": [placements, finance],
        "virement": virement,
        "decision": DecisionFactory(agenda_item__meeting__board=board),
        "paper": PaperFactory(board=board, title="IPB budget report"),
        "away_schedule": away_schedule,
        "commissioner": commissioner,
        "member": make_user(roles.BOARD_MEMBER, [partnership]),
    }


def add_url(**query) -> str:
    from urllib.parse import urlencode

    return reverse("governance:decision-link-add") + ("?" + urlencode(query) if query else "")


def test_the_decision_page_leads_to_the_linking_page_which_offers_every_kind_of_record(client, scene):
    client.force_login(scene["commissioner"])
    decision = scene["decision"]
    page = client.get(decision.get_absolute_url()).content.decode()
    assert f'href="{add_url(decision=decision.pk)}"' in page

    form = client.get(add_url(decision=decision.pk)).content.decode()
    schedule, virement = scene["schedule"], scene["virement"]
    for key in (
        f"budgets.section75agreement:{scene['agreement'].pk}",
        f"budgets.schedule:{schedule.pk}",
        f"budgets.budgetline:{scene['lines'][0].pk}",
        f"budgets.virement:{virement.pk}",
    ):
        assert f'value="{key}"' in form
    assert "Schedule: BR-S75, Schedule 2: Integrated Placements" in form
    assert f"budgets.schedule:{scene['away_schedule'].pk}" not in form  # another partnership's


def test_a_decision_is_linked_to_a_virement_with_one_before_and_after_pair(client, scene):
    client.force_login(scene["commissioner"])
    decision, virement = scene["decision"], scene["virement"]
    response = client.post(
        add_url(decision=decision.pk),
        {
            "decision": decision.pk,
            "target": f"budgets.virement:{virement.pk}",
            "description": "Virement approved with an amendment",
            "amount_before": "1,200.00",
            "amount_after": "1000",
        },
    )
    assert response.status_code == 302 and response["Location"] == decision.get_absolute_url()
    link = DecisionLink.objects.get()
    assert (link.target, link.amount_before, link.amount_after) == (virement, D("1200.00"), D("1000.00"))
    # One link on the virement, none on its lines.
    assert not DecisionLink.objects.filter(content_type__model="budgetline").exists()
    year = virement.from_line.year  # the schedule page shows one year at a time
    schedule_page = client.get(f"{scene['schedule'].get_absolute_url()}?year={year}").content.decode()
    virements = schedule_page[schedule_page.index('id="virements"') :]
    assert decision.reference in virements and "£1,200.00 before, £1,000.00 after" in virements


def test_from_the_schedule_page_the_schedule_is_preselected_and_the_answer_goes_back_there(client, scene):
    client.force_login(scene["commissioner"])
    schedule, decision = scene["schedule"], scene["decision"]
    target = f"budgets.schedule:{schedule.pk}"
    page = client.get(schedule.get_absolute_url()).content.decode()
    assert f'{reverse("governance:decision-link-add")}?target={target}"' in page
    form = client.get(add_url(target=target)).content.decode()
    assert f'<option value="{target}" selected>' in form
    response = client.post(add_url(target=target), {"decision": decision.pk, "target": target})
    assert response.status_code == 302 and response["Location"] == schedule.get_absolute_url()
    assert DecisionLink.objects.get().target == schedule


def test_a_record_of_another_partnership_is_refused_and_nothing_is_written(client, scene):
    client.force_login(scene["commissioner"])
    response = client.post(
        add_url(decision=scene["decision"].pk),
        {"decision": scene["decision"].pk, "target": f"budgets.schedule:{scene['away_schedule'].pk}"},
    )
    assert response.status_code == 200
    assert "Choose a record of the decision&#x27;s partnership from the list" in response.content.decode()
    assert not DecisionLink.objects.exists()


def test_the_service_refuses_a_record_of_another_partnership(scene):
    from django.core.exceptions import ValidationError

    from governance import services

    with pytest.raises(ValidationError) as error:
        services.decision_link_add(
            decision=scene["decision"], target=scene["away_schedule"], by=scene["commissioner"]
        )
    assert list(error.value.message_dict) == ["target"]
    assert not DecisionLink.objects.exists()


def test_a_board_member_reads_decisions_but_may_not_link_them(client, scene):
    client.force_login(scene["member"])
    page = client.get(scene["decision"].get_absolute_url()).content.decode()
    assert reverse("governance:decision-link-add") not in page
    assert client.get(add_url()).status_code == 403
    assert client.post(add_url(), {}).status_code == 403


def test_a_paper_carries_a_schedules_live_table_in_its_pack(client, scene):
    from governance.packs import _linked_html

    client.force_login(scene["commissioner"])
    paper, schedule = scene["paper"], scene["schedule"]
    url = reverse("governance:paper-link-add")
    page = client.get(reverse("governance:paper", args=[paper.pk])).content.decode()
    assert f'href="{url}?paper={paper.pk}"' in page and "None: the pack carries no live table" in page
    form = client.get(f"{url}?paper={paper.pk}").content.decode()
    assert f'value="budgets.schedule:{schedule.pk}"' in form
    assert "budgets.budgetline" not in form  # only records with a table for the pack
    response = client.post(
        f"{url}?paper={paper.pk}", {"paper": paper.pk, "target": f"budgets.schedule:{schedule.pk}"}
    )
    assert response.status_code == 302
    assert PaperLink.objects.get().target == schedule
    page = client.get(reverse("governance:paper", args=[paper.pk])).content.decode()
    assert f'href="{schedule.get_absolute_url()}">Schedule 2: Integrated Placements</a>' in page
    [table] = _linked_html(paper)
    assert "Placements" in table and "£5,000" in table


# --- API ----------------------------------------------------------------------------------------


def test_the_api_links_a_decision_and_lists_the_link(api_as, scene):
    api = api_as(scene["commissioner"])
    decision, line = scene["decision"], scene["lines"][0]
    response = api.post(
        f"/api/v1/decisions/{decision.pk}/links/",
        {
            "target_type": "budgets.budgetline",
            "object_id": line.pk,
            "amount_before": "5000.00",
            "amount_after": "6000.00",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["links"] == [
        {
            "target_type": "budgets.budgetline",
            "object_id": line.pk,
            "description": str(line),
            "amount_before": "5000.00",
            "amount_after": "6000.00",
        }
    ]


def test_the_api_refuses_an_unknown_or_hidden_record_naming_the_field(api_as, scene):
    api = api_as(scene["commissioner"])
    url = f"/api/v1/decisions/{scene['decision'].pk}/links/"
    for body in (
        {"target_type": "budgets.schedule", "object_id": scene["away_schedule"].pk},
        {"target_type": "commissioning.user", "object_id": scene["commissioner"].pk},
    ):
        response = api.post(url, body, format="json")
        assert response.status_code == 400 and list(response.json()) == ["object_id"]
    assert not DecisionLink.objects.exists()


def test_the_api_answers_403_to_a_role_that_may_not_link_and_writes_nothing(api_as, scene):
    response = api_as(scene["member"]).post(
        f"/api/v1/decisions/{scene['decision'].pk}/links/",
        {"target_type": "budgets.schedule", "object_id": scene["schedule"].pk},
        format="json",
    )
    assert response.status_code == 403
    assert not DecisionLink.objects.exists()


def test_the_api_links_a_paper_to_a_live_table(api_as, scene):
    api = api_as(scene["commissioner"])
    paper, schedule = scene["paper"], scene["schedule"]
    response = api.post(
        f"/api/v1/papers/{paper.pk}/links/",
        {"target_type": "budgets.schedule", "object_id": schedule.pk},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert [(link["target_type"], link["object_id"]) for link in response.json()["links"]] == [
        ("budgets.schedule", schedule.pk)
    ]
    response = api.post(
        f"/api/v1/papers/{paper.pk}/links/",
        {"target_type": "budgets.budgetline", "object_id": scene["lines"][0].pk},
        format="json",
    )
    assert response.status_code == 400  # a line has no table of its own in the pack
    assert PaperLink.objects.count() == 1
    assert BudgetLine.objects.count() == 2 and Virement.objects.count() == 1
