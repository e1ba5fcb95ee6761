"""The agreement's timeline: signature, variations, decisions, reviews, schedules added, lines
approved and its own changes as one story with names (never "Host : #1"), newest first, paginated,
in a number of queries that does not grow with the entries."""

import re
from datetime import date
from decimal import Decimal

import pytest

from budgets import selectors, services
from tests.budgets.factories import FundingStreamFactory
from tests.governance.factories import DecisionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def story(bromley, bromley_users):
    by = bromley_users["commissioner"]
    decision = DecisionFactory(
        agenda_item__meeting__board__partnership=bromley,
        agenda_item__meeting__board__name="Bromley Joint Board",
        reference="BJB/2021/001",
    )
    agreement = services.agreement_create(
        by=by,
        partnership=bromley,
        reference="BR-S75",
        title="Integrated commissioning",
        host=bromley.council,
        start=date(2021, 4, 1),
        end=date(2026, 3, 31),
        status="draft",
    )
    agreement = services.agreement_update(agreement=agreement, by=by, status="signed", decision=decision)
    schedule = services.schedule_create(
        by=by,
        agreement=agreement,
        number=1,
        title="Integrated Placements and Brokerage",
        arrangement="pooled",
    )
    stream = FundingStreamFactory(partnership=bromley, name="CCG", organisation=bromley.nhs_commissioner)
    services.budget_line_create(
        by=by,
        schedule=schedule,
        name="Placements",
        year=2021,
        funding_stream=stream,
        amount=Decimal("110340"),
        status="approved",
        decision=decision,
    )
    services.variation_record(
        agreement=agreement,
        by=by,
        effective_from=date(2022, 4, 1),
        changes="Schedule 2 added",
        decision=decision,
    )
    services.review_create(agreement=agreement, by=by, due=date(2023, 3, 1))
    return agreement, by


def test_the_story_is_told_with_names_newest_first(story):
    agreement, by = story
    entries = selectors.agreement_timeline(agreement, by)
    kinds = {e.kind for e in entries}
    assert {
        "Term",
        "Signature",
        "Change",
        "Variation",
        "Decision",
        "Review",
        "Schedule",
        "Budget line",
    } <= kinds
    titles = [e.title for e in entries]
    assert "BR-S75 signed" in titles
    assert "Variation 1 takes effect" in titles
    assert "Decision BJB/2021/001 of the Bromley Joint Board: approved" in titles
    assert "Budget line “Placements” (CCG, 2021/22) approved" in titles
    assert [e.sort_key for e in entries] == sorted((e.sort_key for e in entries), reverse=True)
    assert next(e for e in entries if e.kind == "Schedule").who == by
    created = next(e for e in entries if e.title == "Agreement BR-S75 added")
    assert {c.label: str(c.after) for c in created.changes}["Host"] == "London Borough of Bromley (LBB)"


def test_the_page_shows_no_bare_ids_and_pages(client, story, bromley_users, settings, monkeypatch):
    agreement, by = story
    client.force_login(by)
    monkeypatch.setattr("budgets.views.agreements.TIMELINE_PAGE_SIZE", 4)
    page = client.get(f"/budgets/agreements/{agreement.pk}/timeline/")
    assert page.status_code == 200
    text = page.content.decode()
    assert not re.search(r":\s*#\d", text)
    assert "Page 1 of" in text and 'rel="next"' in text
    assert client.get(f"/budgets/agreements/{agreement.pk}/timeline/?page=2").status_code == 200
    assert client.get(f"/budgets/agreements/{agreement.pk}/timeline/?page=99").status_code == 404
    assert client.get(f"/budgets/agreements/{agreement.pk}/timeline/?page=x").status_code == 404


def test_the_queries_do_not_grow_with_the_story(client, story, django_assert_max_num_queries):
    agreement, by = story
    client.force_login(by)
    url = f"/budgets/agreements/{agreement.pk}/timeline/"
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get(url)
    decision = agreement.decision
    for n in range(5):
        services.variation_record(
            agreement=agreement,
            by=by,
            effective_from=date(2023, 4, 1),
            changes=f"Change {n}",
            decision=decision,
        )
        services.agreement_update(agreement=agreement, by=by, title=f"Integrated commissioning {n}")
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(url)


def test_another_partnerships_timeline_is_404(client, bromley_users, other_partnership):
    from tests.budgets.factories import AgreementFactory

    theirs = AgreementFactory(partnership=other_partnership)
    client.force_login(bromley_users["commissioner"])
    assert client.get(f"/budgets/agreements/{theirs.pk}/timeline/").status_code == 404
