import hashlib
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from commissioning import roles
from commissioning.middleware import IDLE_TOUCHED_KEY
from commissioning.models import ApiToken
from commissioning.services import api_token_create
from tests.commissioning.factories import TEST_PASSWORD, OrganisationFactory, PartnershipFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
PROFILE = "/accounts/profile/"


def sign_in(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


# --- Sign in -------------------------------------------------------------------------------------


def test_the_sign_in_page_has_labelled_fields_and_a_sign_in_button(client):
    response = client.get(reverse("accounts:login"))

    assert response.status_code == 200
    assert reverse("accounts:login") == LOGIN
    html = response.content.decode()
    assert '<label class="govuk-label govuk-label--s" for="id_username">' in html
    assert '<label class="govuk-label govuk-label--s" for="id_password">' in html
    assert 'id="id_username"' in html and 'id="id_password"' in html
    assert 'autocomplete="current-password"' in html
    assert '<button type="submit" class="govuk-button" data-module="govuk-button">Sign in</button>' in html
    assert response.context["page_title"] == "Sign in"
    assert f"<title>Sign in – {settings.SITE_NAME}</title>" in html


def test_signing_in_with_the_right_password_starts_a_session(client, commissioner):
    response = sign_in(client, commissioner.username, TEST_PASSWORD)

    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    assert client.session["_auth_user_id"] == str(commissioner.pk)


def test_signing_in_returns_to_the_page_asked_for(client, commissioner):
    response = client.post(
        f"{LOGIN}?next=/accounts/profile/",
        {"username": commissioner.username, "password": TEST_PASSWORD, "next": "/accounts/profile/"},
    )

    assert response.status_code == 302
    assert response.url == PROFILE


def test_signing_in_never_redirects_to_another_site(client, commissioner):
    response = client.post(
        LOGIN, {"username": commissioner.username, "password": TEST_PASSWORD, "next": "https://evil.example/"}
    )

    assert response.status_code == 302
    assert response.url == reverse("dashboard")


def test_a_wrong_password_shows_an_error_summary_and_starts_no_session(client, commissioner):
    response = sign_in(client, commissioner.username, "not-the-password")

    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert "Enter a correct username and password. Both are case-sensitive." in html
    assert '<a href="#id_username">Enter a correct username' in html
    assert "_auth_user_id" not in client.session


def test_empty_fields_are_named_in_the_error_summary(client):
    response = client.post(LOGIN, {"username": "", "password": ""})

    html = response.content.decode()
    assert '<a href="#id_username">Enter your username.</a>' in html
    assert '<a href="#id_password">Enter your password.</a>' in html


def test_five_failures_lock_the_account_even_against_the_right_password(client, commissioner):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert sign_in(client, commissioner.username, "wrong-password").status_code == 200

    fifth = sign_in(client, commissioner.username, "wrong-password")

    assert fifth.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in fifth.templates]
    html = fifth.content.decode()
    assert "Your account is locked" in html
    assert "There have been 5 failed attempts to sign in as" in html
    assert "blocked for 30 minutes" in html
    assert AccessAttempt.objects.get(username=commissioner.username).failures_since_start == 5

    right = sign_in(client, commissioner.username, TEST_PASSWORD)

    assert right.status_code == 429
    assert "Your account is locked" in right.content.decode()
    assert "_auth_user_id" not in client.session


def test_four_failures_do_not_lock_the_account(client, commissioner):
    for _ in range(4):
        sign_in(client, commissioner.username, "wrong-password")

    response = sign_in(client, commissioner.username, TEST_PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(commissioner.pk)


def test_a_lockout_does_not_block_other_users_at_the_same_address(client, commissioner, make_user):
    colleague = make_user(roles.COMMISSIONER)
    for _ in range(5):
        sign_in(client, commissioner.username, "wrong-password")

    response = sign_in(client, colleague.username, TEST_PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(colleague.pk)


def test_pages_send_anonymous_visitors_to_sign_in(client):
    response = client.get(PROFILE)

    assert response.status_code == 302
    assert response.url == f"{LOGIN}?next={PROFILE}"


# --- Sign out ------------------------------------------------------------------------------------


def test_the_sign_out_page_has_a_button_that_posts_to_logout(client, commissioner):
    client.force_login(commissioner)

    response = client.get(reverse("accounts:logout-confirm"))

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<form method="post" action="{reverse("accounts:logout")}">' in html
    assert ">Sign out</button>" in html
    assert response.context["page_title"] == "Sign out"


def test_signing_out_by_post_ends_the_session(client, commissioner):
    client.force_login(commissioner)

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert response.url == LOGIN
    assert "_auth_user_id" not in client.session
    assert client.get(PROFILE).status_code == 302
    assert "You have signed out." in client.get(LOGIN).content.decode()


def test_signing_out_by_get_is_refused_and_keeps_the_session(client, commissioner):
    client.force_login(commissioner)

    response = client.get(reverse("accounts:logout"))

    assert response.status_code == 405
    assert client.session["_auth_user_id"] == str(commissioner.pk)


# --- Password change -----------------------------------------------------------------------------


def test_a_password_shorter_than_12_characters_is_refused(client, commissioner):
    client.force_login(commissioner)

    response = client.post(
        reverse("accounts:password-change"),
        {"old_password": TEST_PASSWORD, "new_password1": "Xq7-pw-Lk2", "new_password2": "Xq7-pw-Lk2"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert "This password is too short. It must contain at least 12 characters." in html
    commissioner.refresh_from_db()
    assert commissioner.check_password(TEST_PASSWORD)


def test_the_current_password_must_be_right(client, commissioner):
    client.force_login(commissioner)
    new = "a-long-enough-passphrase-73"

    response = client.post(
        reverse("accounts:password-change"),
        {"old_password": "not-my-password", "new_password1": new, "new_password2": new},
    )

    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()
    commissioner.refresh_from_db()
    assert commissioner.check_password(TEST_PASSWORD)


def test_a_good_new_password_is_saved_and_keeps_the_user_signed_in(client, commissioner):
    client.force_login(commissioner)
    new = "a-long-enough-passphrase-73"

    response = client.post(
        reverse("accounts:password-change"),
        {"old_password": TEST_PASSWORD, "new_password1": new, "new_password2": new},
    )

    assert response.status_code == 302
    assert response.url == reverse("accounts:password-change-done")
    commissioner.refresh_from_db()
    assert commissioner.check_password(new)
    done = client.get(response.url)
    assert done.status_code == 200
    assert "Password changed" in done.content.decode()


# --- Idle timeout --------------------------------------------------------------------------------


def _session_row(client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def test_a_session_lasts_30_minutes_from_the_last_request(client, commissioner):
    client.force_login(commissioner)

    response = client.get(PROFILE)

    assert response.status_code == 200
    assert client.session.get_expiry_age() == 1800
    remaining = (_session_row(client).expire_date - timezone.now()).total_seconds()
    assert 1800 - 30 < remaining <= 1800


def _idle_for(client, minutes: int) -> None:
    """As if the session was last written ``minutes`` ago: its deadline and its own stamp."""
    session = client.session
    session[IDLE_TOUCHED_KEY] = int(time.time()) - minutes * 60
    session.save()
    Session.objects.filter(session_key=session.session_key).update(
        expire_date=timezone.now() + timedelta(minutes=30 - minutes)
    )


def test_each_request_pushes_the_idle_deadline_back(client, commissioner):
    client.force_login(commissioner)
    client.get(PROFILE)
    _idle_for(client, 29)  # one minute left

    response = client.get(PROFILE)

    assert response.status_code == 200
    remaining = (_session_row(client).expire_date - timezone.now()).total_seconds()
    assert 1800 - 30 < remaining <= 1800
    # The session cookie is sent again when the session is written; it is a browser-session
    # cookie (no max-age), so the server-side expiry above is the idle limit.
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie.value == client.session.session_key
    assert cookie["max-age"] == ""
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_requests_within_a_minute_of_the_last_write_write_nothing(client, commissioner):
    """The deadline moves at most once a minute: a page view is read-only, and the idle limit is
    29 to 30 minutes, never more."""
    client.force_login(commissioner)
    client.get(PROFILE)
    _idle_for(client, 0)
    deadline = _session_row(client).expire_date

    with CaptureQueriesContext(connection) as queries:
        response = client.get(PROFILE)

    assert response.status_code == 200
    assert not [q for q in queries if "django_session" in q["sql"] and not q["sql"].startswith("SELECT")]
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert _session_row(client).expire_date == deadline

    _idle_for(client, 1)
    client.get(PROFILE)
    assert (_session_row(client).expire_date - timezone.now()).total_seconds() > 1800 - 30


def test_a_stale_cookie_does_not_start_a_session(client):
    client.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32
    before = Session.objects.count()

    response = client.get(LOGIN)

    assert response.status_code == 200
    assert Session.objects.count() == before


def test_an_idle_session_expires_and_asks_for_sign_in_again(client, commissioner):
    client.force_login(commissioner)
    client.get(PROFILE)
    # 30 minutes and a second without a request.
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    response = client.get(PROFILE)

    assert response.status_code == 302
    assert response.url == f"{LOGIN}?next={PROFILE}"


# --- Profile -------------------------------------------------------------------------------------


def test_the_profile_shows_name_organisation_roles_and_partnerships(client, make_user):
    organisation = OrganisationFactory(name="Bromley Council", code="LBB")
    bromley = PartnershipFactory(name="Bromley")
    PartnershipFactory(name="Not mine")
    user = make_user(
        [roles.COMMISSIONER, roles.BOARD_MEMBER],
        [bromley],
        first_name="Asha",
        last_name="Patel",
        organisation=organisation,
        job_title="Senior commissioner",
    )
    client.force_login(user)

    response = client.get(PROFILE)

    assert response.status_code == 200
    assert response.context["page_title"] == "Your profile"
    html = response.content.decode()
    assert "Asha Patel" in html
    assert "Bromley Council" in html
    assert "Senior commissioner" in html
    assert "<li>Board member</li>" in html and "<li>Commissioner</li>" in html
    assert [g.partnership.name for g in response.context["grants"]] == ["Bromley"]
    assert "Not mine" not in html


def test_the_profile_lists_keys_with_prefix_dates_and_status(client, commissioner):
    active, _ = api_token_create(user=commissioner, name="Ledger import")
    revoked, _ = api_token_create(user=commissioner, name="Old script")
    ApiToken.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    ApiToken.objects.filter(pk=active.pk).update(last_used_at=timezone.now())
    client.force_login(commissioner)

    response = client.get(PROFILE)

    html = response.content.decode()
    assert "<caption" in html and "Your API keys" in html
    assert "Ledger import" in html and f"<code>{active.prefix}…</code>" in html
    assert "Old script" in html and ">Revoked</strong>" in html and ">Active</strong>" in html
    assert html.count("Revoke<span") == 1  # only the active key can be revoked
    assert html.count('<td class="govuk-table__cell">Never</td>') == 1  # the revoked key was never used


def test_creating_a_key_shows_it_once_and_stores_only_its_digest(client, commissioner):
    client.force_login(commissioner)

    response = client.post(reverse("accounts:token-create"), {"name": "Ledger import"})

    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    key = response.context["new_key"]
    html = response.content.decode()
    assert key in html
    assert "It will not be shown again" in html
    token = ApiToken.objects.get(user=commissioner)
    assert token.name == "Ledger import"
    assert token.digest == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[:8]
    stored = [str(getattr(token, f.attname)) for f in ApiToken._meta.concrete_fields]
    assert not any(key in value for value in stored)
    session = _session_row(client)
    assert key not in session.session_data and key not in str(session.get_decoded())
    again = client.get(PROFILE).content.decode()
    assert key not in again
    assert f"<code>{token.prefix}…</code>" in again


def test_a_key_with_an_expiry_date_expires_at_the_end_of_that_day(client, commissioner):
    client.force_login(commissioner)
    day = timezone.localdate() + timedelta(days=30)

    response = client.post(
        reverse("accounts:token-create"),
        {
            "name": "Pilot",
            "expires_on_day": day.day,
            "expires_on_month": day.month,
            "expires_on_year": day.year,
        },
    )

    assert response.status_code == 201
    token = ApiToken.objects.get(user=commissioner)
    assert timezone.localtime(token.expires_at).date() == day + timedelta(days=1)
    assert timezone.localtime(token.expires_at).hour == 0


def test_a_key_without_a_name_is_refused(client, commissioner):
    client.force_login(commissioner)

    response = client.post(reverse("accounts:token-create"), {"name": "  "})

    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html
    assert "Enter what the key is for." in html
    assert not ApiToken.objects.exists()


def test_an_impossible_expiry_date_is_refused_naming_the_field(client, commissioner):
    client.force_login(commissioner)

    response = client.post(
        reverse("accounts:token-create"),
        {"name": "Pilot", "expires_on_day": "31", "expires_on_month": "2", "expires_on_year": "2030"},
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "Expires on must be a real date" in html and 'name="expires_on_day"' in html
    assert not ApiToken.objects.exists()


def test_a_key_cannot_expire_in_the_past(client, commissioner):
    client.force_login(commissioner)
    yesterday = timezone.localdate() - timedelta(days=1)

    response = client.post(
        reverse("accounts:token-create"),
        {
            "name": "Pilot",
            "expires_on_day": yesterday.day,
            "expires_on_month": yesterday.month,
            "expires_on_year": yesterday.year,
        },
    )

    assert response.status_code == 400
    assert "The expiry date must be today or in the future." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoking_my_own_key(client, commissioner):
    token, _ = api_token_create(user=commissioner, name="Ledger import")
    client.force_login(commissioner)

    response = client.post(reverse("accounts:token-revoke", args=[token.pk]))

    assert response.status_code == 302
    assert response.url == PROFILE
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert not ApiToken.objects.active().filter(pk=token.pk).exists()
    page = client.get(PROFILE).content.decode()
    assert "has been revoked" in page


def test_revoking_someone_elses_key_is_not_found_and_changes_nothing(client, commissioner, make_user):
    other = make_user(roles.COMMISSIONER)
    theirs, _ = api_token_create(user=other, name="Their script")
    client.force_login(commissioner)

    response = client.post(reverse("accounts:token-revoke", args=[theirs.pk]))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_revoking_needs_a_post(client, commissioner):
    token, _ = api_token_create(user=commissioner, name="Ledger import")
    client.force_login(commissioner)

    response = client.get(reverse("accounts:token-revoke", args=[token.pk]))

    assert response.status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


def test_key_pages_need_sign_in(client, commissioner):
    token, _ = api_token_create(user=commissioner, name="Ledger import")

    create = client.post(reverse("accounts:token-create"), {"name": "Sneaky"})
    revoke = client.post(reverse("accounts:token-revoke", args=[token.pk]))

    assert create.status_code == 302 and create.url.startswith(LOGIN)
    assert revoke.status_code == 302 and revoke.url.startswith(LOGIN)
    assert ApiToken.objects.count() == 1
    token.refresh_from_db()
    assert token.revoked_at is None
