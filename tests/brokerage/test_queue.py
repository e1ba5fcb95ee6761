"""The referral queue as a broker and a manager read it: when each start is needed by, the ones
already overdue marked so, and the assigned-broker filter offering the partnership's brokers."""

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from commissioning import roles
from tests.brokerage.factories import ReferralFactory

pytestmark = pytest.mark.django_db


class Page(HTMLParser):
    """The queue's table (rows of cell texts, the first row its headers), the red tags in its cells,
    and the options of each select."""

    def __init__(self, html: str):
        super().__init__()
        self.table: list[list[str]] = []
        self.red_tags: list[str] = []
        self.options: dict[str, list[tuple[str, str]]] = {}
        self._cell: list[str] | None = None
        self._tag: list[str] | None = None
        self._select: str | None = None
        self._option: tuple[str, list[str]] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr":
            self.table.append([])
        elif tag in ("th", "td") and self.table:
            self._cell = []
        elif tag == "strong" and "govuk-tag--red" in (attrs.get("class") or "") and self._cell is not None:
            self._tag = []
        elif tag == "select":
            self._select = attrs.get("name")
            self.options[self._select] = []
        elif tag == "option" and self._select:
            self._option = (attrs.get("value", ""), [])

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None:
            self.table[-1].append(" ".join(" ".join(self._cell).split()))
            self._cell = None
        elif tag == "strong" and self._tag is not None:
            self.red_tags.append("".join(self._tag).strip())
            self._tag = None
        elif tag == "option" and self._option is not None:
            value, text = self._option
            self.options[self._select].append((value, "".join(text).strip()))
            self._option = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        for part in (self._cell, self._tag, self._option[1] if self._option else None):
            if part is not None:
                part.append(data)


def queue(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("brokerage:index"), params)
    assert response.status_code == 200
    return response, Page(response.content.decode())


def rows(page: Page) -> dict[str, dict[str, str]]:
    """Each referral's row, by reference: header text -> cell text."""
    headers, *body = [row for row in page.table if row]
    found = {}
    for cells in body:
        row = dict(zip(headers, cells, strict=True))
        found[row["Referral"]] = row
    return found


def test_the_queue_shows_when_each_start_is_needed_by_and_marks_the_overdue(client, broker, client_record):
    today = timezone.localdate()
    late = ReferralFactory(client=client_record, required_start=today - timedelta(days=3))
    due_today = ReferralFactory(client=client_record, required_start=today)
    later = ReferralFactory(client=client_record, required_start=today + timedelta(days=10))
    open_ended = ReferralFactory(client=client_record, required_start=None)

    _response, page = queue(client, broker)
    found = rows(page)

    assert found[late.reference]["Start needed by"] == f"{late.required_start:%-d %b %Y} Overdue"
    assert found[due_today.reference]["Start needed by"] == f"{today:%-d %b %Y}"
    assert found[later.reference]["Start needed by"] == f"{later.required_start:%-d %b %Y}"
    assert found[open_ended.reference]["Start needed by"] == "Not given"
    assert page.red_tags.count("Overdue") == 1


def test_a_started_or_cancelled_referral_is_not_overdue(client, broker, client_record):
    past = timezone.localdate() - timedelta(days=30)
    started = ReferralFactory(client=client_record, required_start=past, status="started")

    _response, page = queue(client, broker, status=["started"])

    assert rows(page)[started.reference]["Start needed by"] == f"{past:%-d %b %Y}"


def test_the_assigned_broker_filter_offers_the_partnerships_brokers_and_managers(
    client, make_user, partnership, other_partnership, broker, manager
):
    broker.first_name, broker.last_name = "Bea", "Broker"
    broker.save()
    manager.first_name, manager.last_name = "Mo", "Manager"
    manager.save()
    elsewhere = make_user(roles.BROKER, [other_partnership])
    elsewhere.first_name, elsewhere.last_name = "Other", "Place"
    elsewhere.save()
    make_user(roles.FINANCE_OFFICER, [partnership])

    _response, page = queue(client, manager)

    assert page.options["assigned_to"] == [
        ("", "Any"),
        ("me", "Assigned to me"),
        ("none", "Not assigned"),
        (str(broker.pk), "Bea Broker"),
        (str(manager.pk), "Mo Manager"),
    ]


def test_choosing_a_broker_shows_only_their_referrals(client, broker, manager, client_record):
    from brokerage import services

    theirs = ReferralFactory(client=client_record)
    services.referral_claim(referral=theirs, by=broker)
    ReferralFactory(client=client_record)

    response, _page = queue(client, manager, assigned_to=str(broker.pk))

    assert not response.context["filter_form"].errors
    assert [r.pk for r in response.context["referrals"]] == [theirs.pk]


def test_the_queue_runs_a_bounded_number_of_queries(
    client, broker, client_record, django_assert_max_num_queries
):
    for days in range(30):
        ReferralFactory(client=client_record, required_start=timezone.localdate() - timedelta(days=days))
    client.force_login(broker)

    with django_assert_max_num_queries(20):
        client.get(reverse("brokerage:index"))


def test_the_funder_filter_offers_the_partnerships_funders_in_one_plain_query(
    client, broker, partnership, other_partnership, monkeypatch
):
    """The funder select lists the councils and NHS commissioners of the user's partnerships, read
    without ``QuerySet.iterator()`` (a server-side cursor on PostgreSQL: three round trips for a
    few options; ``commissioning.filtersets.OneQueryChoiceIterator``)."""
    from django.db.models.query import QuerySet

    def no_cursor(self, *args, **kwargs):
        raise AssertionError("the choices were read through a server-side cursor")

    monkeypatch.setattr(QuerySet, "iterator", no_cursor)
    _response, page = queue(client, broker)

    funders = [partnership.council, partnership.nhs_commissioner]
    assert page.options["funder"][0][0] == ""
    assert sorted(page.options["funder"][1:]) == sorted((o.code, str(o)) for o in funders)
    assert other_partnership.council.code not in dict(page.options["funder"])
