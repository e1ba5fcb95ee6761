"""One rule for a current board membership: started by the day (the start day counts), not ended
before it (the end day counts), open-ended when it has no end. ``Membership.is_current`` and
``Membership.objects.current`` answer it alike; the board page, the quorum's members on a meeting
day, exempt-content access and the register's non-declarers all use it."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from commissioning import roles
from governance import selectors
from governance.models import Membership, sees_exempt_content_of
from tests.commissioning.factories import PersonFactory
from tests.governance.factories import BoardFactory, MembershipFactory

pytestmark = pytest.mark.django_db

DAY = date(2024, 6, 15)
ONE = timedelta(days=1)

# (start, end, current on DAY?)
CASES = [
    pytest.param(DAY, None, True, id="starts-that-day-open-ended"),
    pytest.param(DAY - ONE, None, True, id="started-before-open-ended"),
    pytest.param(DAY + ONE, None, False, id="starts-the-day-after"),
    pytest.param(DAY + ONE, DAY + 10 * ONE, False, id="future-start-with-end"),
    pytest.param(DAY - 10 * ONE, DAY, True, id="ends-that-day"),
    pytest.param(DAY - 10 * ONE, DAY - ONE, False, id="ended-the-day-before"),
    pytest.param(DAY, DAY, True, id="one-day-membership-that-day"),
    pytest.param(DAY - 10 * ONE, DAY + 10 * ONE, True, id="inside-a-closed-term"),
]


@pytest.mark.parametrize(("start", "end", "expected"), CASES)
def test_is_current_counts_the_start_and_end_days_and_an_open_end(start, end, expected):
    assert Membership(start=start, end=end).is_current(DAY) is expected


@pytest.mark.parametrize(("start", "end", "expected"), CASES)
def test_the_queryset_applies_the_same_rule_as_the_model_method(start, end, expected):
    membership = MembershipFactory(start=start, end=end)
    assert list(Membership.objects.current(DAY)) == ([membership] if expected else [])
    assert membership.is_current(DAY) is expected


def test_members_on_a_day_are_the_current_memberships_of_that_board():
    board = BoardFactory()
    current = MembershipFactory(board=board, start=DAY, end=DAY)
    MembershipFactory(board=board, start=DAY + ONE)
    MembershipFactory(board=board, start=DAY - 10 * ONE, end=DAY - ONE)
    MembershipFactory(start=DAY)  # another board's
    assert list(selectors.members_on(board, DAY)) == [current]


def test_the_board_page_lists_current_members_first_and_tags_the_others(client, make_user, partnership):
    today = timezone.localdate()
    board = BoardFactory(partnership=partnership)
    for name, start, end in [
        ("Alice Ended", today - 30 * ONE, today - ONE),
        ("Bella Future", today + ONE, None),
        ("Cara Ends Today", today - 30 * ONE, today),
        ("Dora Starts Today", today, None),
    ]:
        MembershipFactory(board=board, person=PersonFactory(name=name), start=start, end=end)
    client.force_login(make_user(roles.BOARD_SECRETARY, [partnership]))

    page = client.get(reverse("governance:board", args=[board.pk])).content.decode()

    names = re.findall(r"(Alice Ended|Bella Future|Cara Ends Today|Dora Starts Today)</a>", page)
    assert names == ["Cara Ends Today", "Dora Starts Today", "Alice Ended", "Bella Future"]
    assert re.search(r"Alice Ended</a> <strong class=\"govuk-tag govuk-tag--grey\">Ended</strong>", page)
    assert re.search(r"Bella Future</a> <strong class=\"govuk-tag govuk-tag--grey\">Not yet started", page)
    assert "Cara Ends Today</a></td>" in page and "Dora Starts Today</a></td>" in page


def test_exempt_content_is_open_to_a_member_whose_membership_ends_today_not_yesterday(make_user, partnership):
    today = timezone.localdate()
    board = BoardFactory(partnership=partnership)
    member = make_user(roles.BOARD_MEMBER, [partnership])
    person = PersonFactory(user=member)
    membership = MembershipFactory(board=board, person=person, start=today - 30 * ONE, end=today)
    assert sees_exempt_content_of(member, board)
    Membership.objects.filter(pk=membership.pk).update(end=today - ONE)
    assert not sees_exempt_content_of(member, board)


def test_non_declarers_are_current_members_of_this_partnerships_boards_only(partnership, other_partnership):
    """A person whose membership here has ended is not listed because they hold a current seat on
    another partnership's board: the dates and the partnership apply to the same membership."""
    today = timezone.localdate()
    year = selectors.register_year(today)
    here, elsewhere = BoardFactory(partnership=partnership), BoardFactory(partnership=other_partnership)
    left = PersonFactory(name="Left this board")
    MembershipFactory(board=here, person=left, start=today - 30 * ONE, end=today - ONE)
    MembershipFactory(board=elsewhere, person=left, start=today - 30 * ONE)
    staying = PersonFactory(name="Ends today")
    MembershipFactory(board=here, person=staying, start=today - 30 * ONE, end=today)
    MembershipFactory(board=here, person=PersonFactory(name="Starts tomorrow"), start=today + ONE)

    assert list(selectors.members_not_declared(partnership, year)) == [staying]
