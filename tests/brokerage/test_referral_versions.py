"""The referral page's buttons (claim, start sourcing, assign, cancel) carry the version the page
showed, like every other edit of a versioned record (api.md, "General": the web forms carry it the
same way): a click on a page someone else has changed since, or one without a version, changes
nothing and says why."""

from __future__ import annotations

import pytest
from django.urls import reverse

from brokerage import services
from brokerage.models import Referral

from .factories import ReferralFactory

pytestmark = pytest.mark.django_db

ACTIONS = {
    "brokerage:referral-claim": {},
    "brokerage:referral-sourcing": {},
    "brokerage:referral-cancel": {"reason": "No longer needed"},
}


@pytest.fixture
def referral(client_record):
    return ReferralFactory(client=client_record)


def _state(referral):
    return Referral.objects.filter(pk=referral.pk).values("status", "assigned_to", "version").get()


def test_the_page_puts_the_version_in_each_button(client, broker, referral):
    client.force_login(broker)

    page = client.get(reverse("brokerage:referral", args=[referral.pk])).content.decode()

    assert page.count(f'name="version" value="{referral.version}"') >= 3


@pytest.mark.parametrize("route", list(ACTIONS))
def test_a_click_from_a_stale_page_changes_nothing_and_says_so(client, broker, manager, referral, route):
    shown = referral.version
    services.referral_assign(referral=referral, to=manager, by=manager)  # someone else, meanwhile
    before = _state(referral)
    client.force_login(broker)

    response = client.post(
        reverse(route, args=[referral.pk]), {**ACTIONS[route], "version": shown}, follow=True
    )

    assert _state(referral) == before
    assert "Someone else changed this referral" in response.content.decode()


@pytest.mark.parametrize("route", list(ACTIONS))
def test_a_click_without_a_version_changes_nothing(client, broker, referral, route):
    before = _state(referral)
    client.force_login(broker)

    response = client.post(reverse(route, args=[referral.pk]), ACTIONS[route], follow=True)

    assert _state(referral) == before
    assert "did not say which version of the referral" in response.content.decode()


@pytest.mark.parametrize("route", list(ACTIONS))
def test_a_click_from_the_current_page_acts(client, broker, referral, route):
    client.force_login(broker)

    client.post(reverse(route, args=[referral.pk]), {**ACTIONS[route], "version": referral.version})

    assert _state(referral)["version"] == referral.version + 1
