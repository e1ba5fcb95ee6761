"""A package's page is cached under the versions of what it reads (commissioning/versions.py,
issue 14): a committed write to any table family it shows changes the next request's page; one
user's kept page is never another's; the access log is written on every view; the CSRF token is
the request's own; a kept page runs fewer queries and draws the same page.

These tests commit (``transaction=True``), as production does between requests."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from brokerage import services
from brokerage.models import Package, PackageStatus
from brokerage.services import Share
from commissioning import roles
from commissioning.models import AccessLog, Organisation, PartnershipGrant, User
from tests.brokerage.factories import PanelDecisionFactory, ReferralFactory, change_price

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_cache")]
D = Decimal


def _client(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def _html(client, package) -> str:
    response = client.get(f"/brokerage/packages/{package.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def _kept(client, package) -> str:
    """The page, drawn twice: the second time from the cache (it reads no cost row)."""
    _html(client, package)
    with CaptureQueriesContext(connection) as queries:
        html = _html(client, package)
    assert not any("brokerage_packagecost" in q["sql"] for q in queries.captured_queries)
    return html


def _without_tokens(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", html)


def test_a_kept_page_runs_fewer_queries_and_draws_the_same_page(broker, package):
    client = _client(broker)
    _html(client, package)  # the session's first request writes it
    cache.clear()
    with CaptureQueriesContext(connection) as built:
        first = _html(client, package)
    with CaptureQueriesContext(connection) as kept:
        second = _html(client, package)
    assert "£200.00" in first and "Lovelace" in first
    assert _without_tokens(second) == _without_tokens(first)
    assert len(kept) < len(built) - 4, (len(built), len(kept))
    assert any("commissioning_version" in q["sql"] for q in kept.captured_queries)


def test_every_view_is_in_the_access_log_kept_or_not(broker, package):
    client = _client(broker)
    before = AccessLog.objects.filter(user=broker).count()
    _kept(client, package)
    assert AccessLog.objects.filter(user=broker).count() == before + 2


# --- A committed write to each table family changes the next request's page ----------------------


def _cost(package, broker, manager):
    change_price(
        package=package,
        effective_from=date(2024, 9, 1),
        unit_rate=D("22.25"),
        units_per_week=D("10"),
        unit="hour",
        by=broker,
        approver=manager,
    )
    return "£22.25 per hour"


def _funding(package, broker, manager):
    partnership = package.client.partnership
    services.package_change_funding(
        package=package,
        effective_from=date(2024, 9, 1),
        shares=[Share(partnership.council, D("35")), Share(partnership.nhs_commissioner, D("65"))],
        basis="panel_decision",
        decision_reference=PanelDecisionFactory(client=package.client).reference,
        by=broker,
    )
    return "65%"


def _suspension(package, broker, manager):
    services.suspension_add(
        package=package,
        effective_from=date(2024, 10, 1),
        effective_to=date(2024, 10, 14),
        treatment="stopped",
        reason="In hospital for a fortnight",
        by=broker,
    )
    return "In hospital for a fortnight"


def _price_change(package, broker, manager):
    services.price_change_propose(
        package=package,
        effective_from=date(2024, 11, 1),
        unit_rate=D("99.00"),
        units_per_week=D("10"),
        unit="hour",
        reason="Complex needs rate",
        by=broker,
    )
    return "Complex needs rate"


def _panel_decision(package, broker, manager):
    decision = PanelDecisionFactory(client=package.client, reference="JFP-NEW-0001")
    return str(decision)


def _package(package, broker, manager):
    Package.objects.filter(pk=package.pk).update(status=PackageStatus.SUSPENDED)
    return "Resume the package"


def _client_renamed(package, broker, manager):
    type(package.client).objects.filter(pk=package.client_id).update(family_name="Byron")
    return "Ada Byron"


def _provider_renamed(package, broker, manager):
    Organisation.objects.filter(pk=package.provider.organisation_id).update(name="Renamed Care Ltd")
    return "Renamed Care Ltd"


def _recorder_renamed(package, broker, manager):
    User.objects.filter(pk=broker.pk).update(first_name="Bea", last_name="Renamed")
    return "Bea Renamed"


def _referral(package, broker, manager):
    referral = ReferralFactory(client=package.client)
    Package.objects.filter(pk=package.pk).update(referral=referral)
    return f"/brokerage/referrals/{referral.pk}/"


FAMILIES = {
    "costs": _cost,
    "funding splits and shares": _funding,
    "suspensions": _suspension,
    "price changes": _price_change,
    "panel decisions": _panel_decision,
    "the package": _package,
    "the client": _client_renamed,
    "the provider's organisation": _provider_renamed,
    "who recorded a change": _recorder_renamed,
    "the referral": _referral,
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_write_shows_on_the_next_request(manager, broker, package, family):
    client = _client(manager)
    before = _kept(client, package)
    expected = FAMILIES[family](package, broker, manager)
    assert expected not in before
    assert expected in _html(client, package)


# --- Who sees what ----------------------------------------------------------------------------------


def test_a_revoked_grant_hides_the_page_kept_for_that_user(broker, package, partnership):
    client = _client(broker)
    _kept(client, package)
    PartnershipGrant.objects.filter(user=broker, partnership=partnership).delete()
    assert client.get(f"/brokerage/packages/{package.pk}/").status_code == 404


def test_a_user_never_sees_another_users_kept_page(make_user, partnership, broker, manager, package):
    """A price change above the card, proposed by the broker: the manager who did not propose it is
    offered the approval, the broker is told another manager approves it, the finance officer
    neither."""
    _price_change(package, broker, manager)
    approve = "/brokerage/price-changes/"
    as_manager = _kept(_client(manager), package)
    assert approve in as_manager and "Lovelace" in as_manager
    as_broker = _html(_client(broker), package)
    assert approve not in as_broker and "You proposed it" in as_broker
    finance = make_user(roles.FINANCE_OFFICER, [partnership])
    as_finance = _html(_client(finance), package)
    assert approve not in as_finance and "You proposed it" not in as_finance


def test_today_is_in_the_key(broker, package, monkeypatch):
    """The cost in force and the unfunded days are today's: a kept page is not shown tomorrow."""
    from django.utils import timezone

    client = _client(broker)
    before = _kept(client, package)
    assert "Not started yet" not in before
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: date(2024, 1, 1))
    assert "Not started yet" in _html(client, package)


def test_the_kept_page_carries_each_requests_own_csrf_token(broker, package):
    first = _client(broker, enforce_csrf_checks=True)
    second = _client(broker, enforce_csrf_checks=True)
    _kept(first, package)
    html = _html(second, package)  # from the cache, for another session
    assert "__csrf_token_of_the_request__" not in html
    token = re.search(
        rf'action="/brokerage/packages/{package.pk}/status/">\s*<input[^>]+value="([^"]+)"', html
    ).group(1)
    response = second.post(
        f"/brokerage/packages/{package.pk}/status/",
        {"csrfmiddlewaretoken": token, "version": package.version, "status": "suspended"},
    )
    assert response.status_code == 302
    package.refresh_from_db()
    assert package.status == PackageStatus.SUSPENDED
    assert "Resume the package" in _html(second, package)
