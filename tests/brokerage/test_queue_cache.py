"""The referral queue's filters, rows and pagination are cached under the versions of what they
read (commissioning/versions.py, issue 14): a committed write to any table family they show changes
the next request's page; one user's kept queue is never another's, nor another partnership's or
another query's; the claim buttons carry the request's own CSRF token; a kept queue reads no
referral. These tests commit (``transaction=True``), as production does between requests."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from brokerage.models import Client as ClientRecord
from brokerage.models import Referral
from commissioning import roles
from commissioning.middleware import SESSION_KEY as PARTNERSHIP_SESSION_KEY
from commissioning.models import Organisation, Partnership, PartnershipGrant, User
from tests.brokerage.factories import ClientFactory, ReferralFactory
from tests.brokerage.test_queue import Page, rows
from tests.commissioning.factories import OrganisationFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_cache")]


@pytest.fixture
def referral(client_record):
    return ReferralFactory(client=client_record, required_start=date(2024, 6, 3))


def _client(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def _html(client, query="") -> str:
    response = client.get(f"/brokerage/{query}")
    assert response.status_code == 200
    return response.content.decode()


def _kept(client, query="") -> str:
    """The queue, drawn twice: the second time from the cache (it reads no referral)."""
    _html(client, query)
    with CaptureQueriesContext(connection) as queries:
        html = _html(client, query)
    assert not any('FROM "brokerage_referral"' in q["sql"] for q in queries.captured_queries)
    return html


def _without_tokens(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", html)


def test_a_kept_queue_runs_fewer_queries_and_draws_the_same_page(broker, referral):
    client = _client(broker)
    _html(client)  # the session's first request writes it
    cache.clear()
    with CaptureQueriesContext(connection) as built:
        first = _html(client)
    with CaptureQueriesContext(connection) as kept:
        second = _html(client)
    assert referral.reference in first and "Lovelace" in first
    assert _without_tokens(second) == _without_tokens(first)
    assert len(kept) < len(built) - 2, (len(built), len(kept))
    assert any("commissioning_version" in q["sql"] for q in kept.captured_queries)


# --- A committed write to each table family changes the next request's page ----------------------


def _new_referral(referral, broker):
    return ReferralFactory(client=referral.client).reference


def _claimed(referral, broker):
    User.objects.filter(pk=broker.pk).update(first_name="Bea", last_name="Claimer")
    Referral.objects.filter(pk=referral.pk).update(assigned_to=broker)
    return "Bea Claimer"


def _urgency(referral, broker):
    Referral.objects.filter(pk=referral.pk).update(urgency="hospital_discharge")
    return '<strong class="govuk-tag govuk-tag--red">Hospital discharge</strong>'


def _client_renamed(referral, broker):
    ClientRecord.objects.filter(pk=referral.client_id).update(given_name="Augusta")
    return "Augusta"


def _funder_renamed(referral, broker):
    Organisation.objects.filter(pk=referral.proposed_funder_id).update(name="Renamed Borough Council")
    return "Renamed Borough Council"


def _partnership_funder(referral, broker):
    """The funder filter offers the councils and NHS commissioners of the user's partnerships."""
    council = OrganisationFactory(name="Newly Merged Council", code="NMC01", kind="council")
    Partnership.objects.filter(pk=referral.client.partnership_id).update(council=council)
    return "Newly Merged Council"


FAMILIES = {
    "a new referral": _new_referral,
    "a referral claimed": _claimed,
    "a referral made urgent": _urgency,
    "the client": _client_renamed,
    "the proposed funder": _funder_renamed,
    "the partnership's funders": _partnership_funder,
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_write_shows_on_the_next_request(broker, referral, family):
    client = _client(broker)
    before = _kept(client)
    expected = FAMILIES[family](referral, broker)
    assert expected not in before
    assert expected in _html(client)


def test_a_brokers_rename_shows_on_the_next_request(manager, broker, referral):
    Referral.objects.filter(pk=referral.pk).update(assigned_to=broker)
    client = _client(manager)
    assert "Renamed Broker" not in _kept(client)
    User.objects.filter(pk=broker.pk).update(first_name="Renamed", last_name="Broker")
    assert rows(Page(_html(client)))[referral.reference]["Broker"] == "Renamed Broker"


# --- Who sees what, and what else varies the queue ----------------------------------------------


def test_a_revoked_grant_empties_the_queue_kept_for_that_user(broker, referral, partnership):
    client = _client(broker)
    assert referral.reference in _kept(client)
    PartnershipGrant.objects.filter(user=broker, partnership=partnership).delete()
    assert referral.reference not in _html(client)


def test_another_partnerships_broker_never_gets_this_queue(outsider, broker, referral):
    assert referral.reference in _kept(_client(broker))
    assert referral.reference not in _html(_client(outsider))


def test_the_partnership_chosen_in_the_header_and_the_query_are_in_the_key(
    make_user, partnership, other_partnership, referral
):
    both = make_user(roles.BROKER, [partnership, other_partnership])
    theirs = ReferralFactory(client=ClientFactory(partnership=other_partnership))
    client = _client(both)
    everything = _kept(client)
    assert referral.reference in everything and theirs.reference in everything
    session = client.session
    session[PARTNERSHIP_SESSION_KEY] = other_partnership.pk
    session.save()
    narrowed = _html(client)
    assert referral.reference not in narrowed and theirs.reference in narrowed
    assert referral.reference not in _html(client, "?urgency=urgent")


def test_today_is_in_the_key(broker, referral, monkeypatch):
    """How long each referral has waited, and which are overdue, are today's."""
    client = _client(broker)
    waited = rows(Page(_kept(client)))[referral.reference]["Waiting"]
    tomorrow = timezone.localdate() + timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: tomorrow)
    assert rows(Page(_html(client)))[referral.reference]["Waiting"] != waited


def test_the_kept_queue_carries_each_requests_own_csrf_token(broker, referral):
    first = _client(broker, enforce_csrf_checks=True)
    second = _client(broker, enforce_csrf_checks=True)
    _kept(first)
    html = _html(second)  # from the cache, for another session
    assert "__csrf_token_of_the_request__" not in html
    # The claim button's form, posted as the page has it (its token and the referral's version).
    form = re.search(
        rf'<form method="post" action="/brokerage/referrals/{referral.pk}/claim/">(.*?)</form>', html
    )
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]+)">', form.group(1)))
    assert set(fields) == {"csrfmiddlewaretoken", "version"}
    response = second.post(f"/brokerage/referrals/{referral.pk}/claim/", fields)
    assert response.status_code == 302
    assert Referral.objects.get(pk=referral.pk).assigned_to_id == broker.pk
