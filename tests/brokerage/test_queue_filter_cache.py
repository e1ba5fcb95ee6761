"""The referral queue's filter choices (its brokers and funders) are kept under the versions of
what they read (commissioning/versions.py): a committed grant, role, name or organisation change
shows on the next request, one user's lists are never shown to another, and a kept list reads no
user or organisation. These tests commit (``transaction=True``), as production does."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commissioning import roles
from commissioning.models import PartnershipGrant
from tests.brokerage.test_queue import queue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_cache")]


def _named(user, first, last):
    user.first_name, user.last_name = first, last
    user.save()
    return user


def test_a_kept_list_reads_no_user_or_organisation(client, broker):
    queue(client, broker)
    with CaptureQueriesContext(connection) as queries:
        _response, page = queue(client, broker)
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert 'FROM "commissioning_organisation"' not in sql
    assert 'INNER JOIN "commissioning_user_groups"' not in sql
    assert len(page.options["funder"]) == 3 and page.options["funder"][0] == ("", "Any")


def test_a_new_broker_a_rename_and_a_lost_grant_show_on_the_next_request(
    client, make_user, partnership, broker
):
    _named(broker, "Bea", "Broker")
    _response, page = queue(client, broker)
    assert [label for _v, label in page.options["assigned_to"][3:]] == ["Bea Broker"]

    newcomer = _named(make_user(roles.BROKER, [partnership]), "Nia", "New")
    _response, page = queue(client, broker)
    assert [label for _v, label in page.options["assigned_to"][3:]] == ["Bea Broker", "Nia New"]

    _named(newcomer, "Nia", "Renamed")
    _response, page = queue(client, broker)
    assert [label for _v, label in page.options["assigned_to"][3:]] == ["Bea Broker", "Nia Renamed"]

    PartnershipGrant.objects.filter(user=newcomer).delete()
    _response, page = queue(client, broker)
    assert [label for _v, label in page.options["assigned_to"][3:]] == ["Bea Broker"]


def test_an_organisation_renamed_shows_on_the_next_request(client, broker, partnership):
    council = partnership.council
    _response, page = queue(client, broker)
    assert (council.code, str(council)) in page.options["funder"]
    council.name = "Renamed Council"
    council.save()
    assert "Renamed Council" in str(council)
    _response, page = queue(client, broker)
    assert (council.code, str(council)) in page.options["funder"]


def test_another_partnerships_broker_never_gets_these_lists(
    client, make_user, partnership, other_partnership, broker
):
    _named(broker, "Bea", "Broker")
    queue(client, broker)
    elsewhere = _named(make_user(roles.BROKER, [other_partnership]), "Oz", "Other")
    _response, page = queue(client, elsewhere)
    assert [label for _v, label in page.options["assigned_to"][3:]] == ["Oz Other"]
    funders = dict(page.options["funder"])
    assert other_partnership.council.code in funders and partnership.council.code not in funders
