"""The schedule page's content is cached under the versions of what it reads (commissioning/versions.py,
issue 14): a committed write to any table family it shows changes the next request's page; one user's
cached page is never another's; the CSRF token is the request's own; a cached request runs fewer
queries and draws the same page.

These tests commit (``transaction=True``), as production does between requests: a write inside a
test's own transaction would (rightly) switch the cache off for that transaction."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from budgets.models import BudgetLine, MonthlyPosition, ScheduleFixedShare, Virement
from commissioning import roles
from commissioning.models import PartnershipGrant
from governance.models import DecisionLink, Meeting
from tests.budgets.factories import (
    AgreementFactory,
    BudgetLineFactory,
    FundingStreamFactory,
    ScheduleFactory,
    VirementFactory,
)
from tests.governance.factories import BoardFactory, DecisionFactory, MeetingFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_cache")]
D = Decimal
QUERY = "?year=2022&period=2022-05"


@pytest.fixture
def page(partnership):
    board = BoardFactory(partnership=partnership, delegated_limit=D("5000"))
    schedule = ScheduleFactory(agreement=AgreementFactory(partnership=partnership), board=board)
    stream = FundingStreamFactory(partnership=partnership, name="Council stream")
    lines = [
        BudgetLineFactory(schedule=schedule, name=name, year=2022, funding_stream=stream, amount=D("1000.00"))
        for name in ("Placements", "Support team")
    ]
    return {"schedule": schedule, "board": board, "lines": lines}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _html(client, schedule, query=QUERY) -> str:
    response = client.get(f"/budgets/schedules/{schedule.pk}/{query}")
    assert response.status_code == 200
    return response.content.decode()


def _kept(client, schedule, query=QUERY) -> str:
    """The page, drawn twice: the second time from the cache (it reads no budget line)."""
    _html(client, schedule, query)
    with CaptureQueriesContext(connection) as queries:
        html = _html(client, schedule, query)
    assert not any("budgets_budgetline" in q["sql"] for q in queries.captured_queries)
    return html


def _without_tokens(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", html)


def test_a_cached_request_runs_fewer_queries_and_draws_the_same_page(client, commissioner, page):
    client.force_login(commissioner)
    _html(client, page["schedule"])  # the session's first request writes it
    cache.clear()
    with CaptureQueriesContext(connection) as built:
        first = _html(client, page["schedule"])
    with CaptureQueriesContext(connection) as kept:
        second = _html(client, page["schedule"])
    assert "Placements" in first and "£2,000.00" in first
    assert _without_tokens(second) == _without_tokens(first)
    assert len(kept) < len(built) - 5, (len(built), len(kept))
    assert any("commissioning_version" in q["sql"] for q in kept.captured_queries)


# --- A committed write to each table family changes the next request's page ----------------------


def _lines(page):
    BudgetLine.objects.filter(pk=page["lines"][0].pk).update(amount=D("1234.00"))
    return "£1,234.00"


def _positions(page):
    MonthlyPosition.objects.create(
        budget_line=page["lines"][0],
        period=date(2022, 5, 1),
        actual_to_date=D("10.00"),
        forecast_outturn=D("1777.00"),
    )
    return "£1,777.00"


def _fixed_shares(page):
    ScheduleFixedShare.objects.create(
        schedule=page["schedule"],
        organisation=page["schedule"].agreement.partnership.council,
        percent=D("60"),
    )
    return "Fixed shares"


def _virements(page):
    VirementFactory(
        schedule=page["schedule"], from_line=page["lines"][0], to_line=page["lines"][1], amount=D("321.00")
    )
    return "£321.00"


def _decision_links(page):
    decision = DecisionFactory(
        agenda_item__meeting__board=page["board"], reference="BBB/2022/777", decided_on=date(2022, 6, 1)
    )
    DecisionLink.objects.create(
        decision=decision,
        content_type=ContentType.objects.get_for_model(BudgetLine),
        object_id=page["lines"][0].pk,
        description="Placements",
    )
    return "BBB/2022/777"


def _schedule(page):
    type(page["schedule"]).objects.filter(pk=page["schedule"].pk).update(title="Renamed schedule")
    return "Renamed schedule"


FAMILIES = {
    "budget lines": _lines,
    "monthly positions": _positions,
    "fixed shares": _fixed_shares,
    "virements": _virements,
    "decisions and their links": _decision_links,
    "the schedule": _schedule,
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_write_shows_on_the_next_request(client, commissioner, page, family):
    client.force_login(commissioner)
    before = _kept(client, page["schedule"])
    expected = FAMILIES[family](page)
    assert expected not in before
    assert expected in _html(client, page["schedule"])


def test_a_held_meeting_locks_the_positions_it_received_on_the_next_request(client, commissioner, page):
    meeting = MeetingFactory(board=page["board"], status="scheduled")
    for line in page["lines"]:
        MonthlyPosition.objects.create(
            budget_line=line,
            period=date(2022, 5, 1),
            actual_to_date=D("1.00"),
            forecast_outturn=D("1000.00"),
            reported_at=meeting,
        )
    client.force_login(commissioner)
    before = _kept(client, page["schedule"])
    assert ">Reported</strong>" in before and "Locked</strong>" not in before
    Meeting.objects.filter(pk=meeting.pk).update(status="held")
    after = _html(client, page["schedule"])
    assert "Locked</strong>" in after and "(held)" in after and ">Reported</strong>" not in after


def test_a_decision_changed_after_the_page_was_kept_shows_changed(client, commissioner, page):
    expected = _decision_links(page)
    client.force_login(commissioner)
    assert expected in _kept(client, page["schedule"])
    link = DecisionLink.objects.get(object_id=page["lines"][0].pk)
    type(link.decision).objects.filter(pk=link.decision_id).update(outcome="rejected")
    assert ": rejected" in _html(client, page["schedule"]).split("line-decisions")[1].split("</table>")[0]


# --- Permissions ------------------------------------------------------------------------------------


def test_a_revoked_grant_hides_the_page_kept_for_that_user(client, commissioner, page, partnership):
    client.force_login(commissioner)
    _kept(client, page["schedule"])
    PartnershipGrant.objects.filter(user=commissioner, partnership=partnership).delete()
    assert client.get(f"/budgets/schedules/{page['schedule'].pk}/{QUERY}").status_code == 404


def test_a_user_never_sees_another_users_kept_page(make_user, partnership, page, commissioner):
    """The commissioner may approve a virement someone else proposed; the auditor may only read the
    same schedule, and the page kept for the commissioner must not be the auditor's."""
    proposer = make_user(roles.FINANCE_OFFICER, [partnership])
    virement = VirementFactory(
        schedule=page["schedule"],
        from_line=page["lines"][0],
        to_line=page["lines"][1],
        amount=D("50.00"),
        proposed_by=proposer,
    )
    approve = f"/budgets/virements/{virement.pk}/approve/"
    assert approve in _kept(_client(commissioner), page["schedule"])
    auditor = make_user(roles.AUDITOR, [partnership])
    seen = _html(_client(auditor), page["schedule"])
    assert "£50.00" in seen and approve not in seen
    # The proposer is told another officer approves it; the commissioner is offered the approval.
    assert "You proposed it" not in _html(_client(commissioner), page["schedule"])


def test_the_kept_page_carries_each_requests_own_csrf_token(make_user, partnership, page, commissioner):
    proposer = make_user(roles.FINANCE_OFFICER, [partnership])
    virement = VirementFactory(
        schedule=page["schedule"],
        from_line=page["lines"][0],
        to_line=page["lines"][1],
        amount=D("50.00"),
        proposed_by=proposer,
    )
    Virement.objects.filter(pk=virement.pk).update(status="approved", approved_by=commissioner)
    first = Client(enforce_csrf_checks=True)
    first.force_login(commissioner)
    second = Client(enforce_csrf_checks=True)
    second.force_login(commissioner)
    _kept(first, page["schedule"])
    html = _html(second, page["schedule"])  # from the cache, for another session
    assert "__csrf_token_of_the_request__" not in html
    token = re.search(r'action="/budgets/virements/\d+/apply/">\s*<input[^>]+value="([^"]+)"', html).group(1)
    assert (
        second.post(f"/budgets/virements/{virement.pk}/apply/", {"csrfmiddlewaretoken": token}).status_code
        == 302
    )
    assert Virement.objects.get(pk=virement.pk).status == "applied"
