"""The schedule page shows its latest 5 changes and links to the full change history when there are
more; the history page lists them all, newest first, 50 a page, behind the schedule page's gate
(hidden schedule 404, role without schedule view 403) in a number of queries that does not grow
with the history."""

import re
from datetime import date

import pghistory
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from budgets import selectors
from commissioning import roles
from tests.budgets.factories import (
    AgreementFactory,
    BudgetLineFactory,
    MonthlyPositionFactory,
    ScheduleFactory,
)
from tests.commissioning.factories import UserFactory

pytestmark = pytest.mark.django_db

LINK = "View the full change history"


@pytest.fixture
def schedule(bromley):
    return ScheduleFactory(agreement=AgreementFactory(partnership=bromley), title="Title 0")


def _retitle(schedule, n: int, start: int = 1) -> None:
    """``n`` changes of the schedule's title, "Title <start>" to "Title <start + n - 1>", each by a
    different user."""
    for i in range(start, start + n):
        with pghistory.context(user=UserFactory().pk):
            schedule.title = f"Title {i}"
            schedule.save()


def _titles(html: str) -> list[str]:
    """The new titles the history entries show, in page order."""
    return re.findall(
        r"<strong>Title</strong>: .*?<span class=\"govuk-visually-hidden\">to </span>(Title \d+)</li>", html
    )


def _history_url(schedule, page: int | None = None) -> str:
    return f"/budgets/schedules/{schedule.pk}/history/" + (f"?page={page}" if page else "")


def test_the_schedule_page_shows_the_latest_5_changes_and_links_to_the_rest_only_when_more_exist(
    client, bromley_users, schedule
):
    client.force_login(bromley_users["commissioner"])
    _retitle(schedule, 4)  # 5 events with the insert

    html = client.get(f"/budgets/schedules/{schedule.pk}/").content.decode()
    assert _titles(html) == [f"Title {i}" for i in range(4, 0, -1)]
    assert "Schedule added" in html
    assert LINK not in html

    _retitle(schedule, 1, start=5)  # 6 events
    html = client.get(f"/budgets/schedules/{schedule.pk}/").content.decode()
    assert _titles(html) == [f"Title {i}" for i in range(5, 0, -1)]
    assert "Schedule added" not in html
    assert f'href="{_history_url(schedule)}">{LINK}</a>' in html


def test_the_history_page_lists_every_change_newest_first_50_a_page(client, bromley_users, schedule):
    client.force_login(bromley_users["commissioner"])
    _retitle(schedule, 120)  # 121 events: pages of 50, 50 and 21

    first = client.get(_history_url(schedule))
    html = first.content.decode()
    assert first.status_code == 200
    assert _titles(html) == [f"Title {i}" for i in range(120, 70, -1)]
    assert 'rel="next"' in html and 'href="?page=2"' in html and 'rel="prev"' not in html
    assert "Page 1" in html

    html = client.get(_history_url(schedule, 2)).content.decode()
    assert _titles(html) == [f"Title {i}" for i in range(70, 20, -1)]
    assert 'href="?page=1"' in html and 'href="?page=3"' in html

    html = client.get(_history_url(schedule, 3)).content.decode()
    assert _titles(html) == [f"Title {i}" for i in range(20, 0, -1)]
    assert html.count("app-timeline__item") == 21 and "Schedule added" in html
    assert 'href="?page=2"' in html and 'rel="next"' not in html

    assert client.get(_history_url(schedule, 4)).status_code == 404
    assert client.get(_history_url(schedule) + "?page=nonsense").status_code == 200


def test_a_short_history_has_one_page_and_no_pagination(client, bromley_users, schedule):
    client.force_login(bromley_users["commissioner"])
    _retitle(schedule, 3)

    html = client.get(_history_url(schedule)).content.decode()

    assert _titles(html) == ["Title 3", "Title 2", "Title 1"]
    assert "govuk-pagination" not in html


def test_pages_of_a_history_from_several_sources_partition_the_whole_history(bromley_users, schedule):
    """Schedule, line and position events come from two queries merged in Python: consecutive
    pages, read by offset, are the whole history in the same order, with no entry twice."""
    user = bromley_users["commissioner"]
    for n in range(7):
        line = BudgetLineFactory(schedule=schedule, name=f"Line {n}")
        for month in (4, 5, 6):
            MonthlyPositionFactory(budget_line=line, period=date(2022, month, 1))
        _retitle(schedule, 2, start=2 * n + 1)
    whole = selectors.schedule_history_page(schedule, user, limit=1000)
    assert not whole.has_more and len(whole.entries) == 7 * 4 + 14 + 1

    pages, offset = [], 0
    while True:
        page = selectors.schedule_history_page(schedule, user, offset=offset, limit=9)
        pages.append(page)
        offset += 9
        if not page.has_more:
            break

    assert len(pages) == 5
    assert [(e.summary, e.changes) for p in pages for e in p.entries] == [
        (e.summary, e.changes) for e in whole.entries
    ]


def test_the_history_page_is_404_for_a_hidden_schedule_and_403_without_schedule_view(
    client, make_user, bromley, other_partnership, bromley_users
):
    theirs = ScheduleFactory(agreement=AgreementFactory(partnership=other_partnership))
    client.force_login(bromley_users["commissioner"])
    assert client.get(_history_url(theirs)).status_code == 404
    assert client.get("/budgets/schedules/999999/history/").status_code == 404

    ours = ScheduleFactory(agreement=AgreementFactory(partnership=bromley))
    client.force_login(make_user(roles.BROKER, [bromley]))
    assert client.get(_history_url(ours)).status_code == 403
    assert client.get(_history_url(theirs)).status_code == 403

    client.force_login(make_user(roles.BOARD_MEMBER, [bromley]))
    assert client.get(_history_url(ours)).status_code == 200

    client.logout()
    response = client.get(_history_url(ours))
    assert response.status_code == 302 and "/login" in response["Location"]


def _count(client, url: str) -> int:
    client.get(url)  # warm the per-process caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_queries_do_not_grow_with_the_history(client, bromley_users, schedule):
    client.force_login(bromley_users["commissioner"])
    line = BudgetLineFactory(schedule=schedule)

    def add(changes: int, positions: int, start: int) -> None:
        _retitle(schedule, changes, start=start)
        for i in range(start, start + positions):
            MonthlyPositionFactory(budget_line=line, period=date(2022 + i // 12, i % 12 + 1, 1))

    urls = [f"/budgets/schedules/{schedule.pk}/", _history_url(schedule)]
    add(2, 1, start=1)  # 5 events: the schedule's and the line's inserts, 2 changes, a position
    few = [_count(client, url) for url in urls]
    add(28, 27, start=3)  # 60 events
    many = [_count(client, url) for url in urls]
    many.append(_count(client, _history_url(schedule, 2)))

    assert many == [*few, few[1]]
