"""Two-factor sign-in (TOTP): enrolment, the code step after the password, the REQUIRE_MFA gate for
administrators and finance officers, lockout of wrong codes (django-axes) and device throttling, and
the API with token keys left alone."""

from __future__ import annotations

import base64
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from commissioning import roles
from tests.commissioning.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
VERIFY = "/accounts/two-factor/verify/"
ENROL = "/accounts/two-factor/set-up/"
DASHBOARD = "/"
PROFILE = "/accounts/profile/"


def sign_in(client, user):
    response = client.post(LOGIN, {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302, "the password step should pass"
    return response


def _totp(device):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return totp


def right_code(device) -> str:
    return f"{_totp(device).token():0{device.digits}d}"


def wrong_code(device) -> str:
    totp = _totp(device)
    valid = set()
    for offset in (-2, -1, 0, 1, 2):
        totp.time = time.time() + offset * device.step
        valid.add(f"{totp.token():06d}")
    return next(code for code in ("000000", "111111", "222222") if code not in valid)


def confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


@pytest.fixture
def require_mfa(settings):
    settings.REQUIRE_MFA = True
    return settings


@pytest.fixture
def finance_officer(make_user, partnership):
    return make_user(roles.FINANCE_OFFICER, [partnership])


def _required_users(make_user, partnership):
    return {
        "finance officer": make_user(roles.FINANCE_OFFICER, [partnership]),
        "administrator role": make_user(roles.ADMINISTRATOR, [partnership]),
        "superuser": make_user(None, [], is_superuser=True, is_staff=True),
    }


# --- REQUIRE_MFA off -------------------------------------------------------------------------------


def test_require_mfa_is_off_by_default_and_read_from_the_environment(monkeypatch):
    import importlib

    from commissioning import settings as project_settings

    monkeypatch.delenv("REQUIRE_MFA", raising=False)
    try:
        assert importlib.reload(project_settings).REQUIRE_MFA is False
        monkeypatch.setenv("REQUIRE_MFA", "true")
        assert importlib.reload(project_settings).REQUIRE_MFA is True
        monkeypatch.setenv("REQUIRE_MFA", "perhaps")
        with pytest.raises(RuntimeError, match="REQUIRE_MFA must be true or false"):
            importlib.reload(project_settings)
    finally:
        monkeypatch.undo()
        importlib.reload(project_settings)


def test_without_require_mfa_a_finance_officer_with_no_device_goes_straight_in(client, finance_officer):
    sign_in(client, finance_officer)

    assert client.get(DASHBOARD).status_code == 200
    assert client.get(PROFILE).status_code == 200
    assert "set up an authenticator app" in client.get(PROFILE).content.decode()


# --- Enrolment forced by REQUIRE_MFA ---------------------------------------------------------------


@pytest.mark.parametrize("who", ["finance officer", "administrator role", "superuser"])
def test_with_require_mfa_those_roles_reach_no_page_until_enrolled(
    client, require_mfa, make_user, partnership, who
):
    user = _required_users(make_user, partnership)[who]
    sign_in(client, user)

    for path in (DASHBOARD, PROFILE, "/finance/", "/admin/", "/audit/", "/contracts/"):
        response = client.get(path)
        assert response.status_code == 302, path
        target = urlsplit(response.url)
        assert target.path == ENROL, path
        assert parse_qs(target.query)["next"] == [path]

    # what stays open: the set-up page itself and signing out
    assert client.get(ENROL).status_code == 200
    assert client.get(reverse("accounts:logout-confirm")).status_code == 200
    # a form posted elsewhere does nothing and is sent to set-up (no `next` for a POST)
    response = client.post("/accounts/profile/keys/", {"name": "sneaky"})
    assert response.status_code == 302 and response.url == ENROL
    assert not user.api_tokens.exists()


def test_turning_require_mfa_on_applies_to_sessions_already_signed_in(client, settings, finance_officer):
    settings.REQUIRE_MFA = False
    sign_in(client, finance_officer)
    assert client.get(DASHBOARD).status_code == 200
    assert client.get(DASHBOARD).status_code == 200  # checked once per sign-in, then remembered

    settings.REQUIRE_MFA = True

    assert client.get(DASHBOARD).url.startswith(ENROL)


def test_a_role_that_needs_mfa_applies_from_the_next_sign_in(client, require_mfa, make_user, partnership):
    from django.contrib.auth.models import Group

    user = make_user(roles.COMMISSIONER, [partnership])
    sign_in(client, user)
    assert client.get(DASHBOARD).status_code == 200
    user.groups.add(Group.objects.get(name=roles.FINANCE_OFFICER))
    client.post(reverse("accounts:logout"))

    sign_in(client, user)

    assert client.get(DASHBOARD).url.startswith(ENROL)


def test_other_roles_are_not_forced_to_enrol(client, require_mfa, commissioner):
    sign_in(client, commissioner)

    assert client.get(DASHBOARD).status_code == 200


def test_the_enrol_page_shows_a_qr_code_image_and_the_setup_key_without_inline_code(
    client, require_mfa, finance_officer
):
    sign_in(client, finance_officer)
    response = client.get(ENROL + "?next=/finance/")

    assert response.status_code == 200
    html = response.content.decode()
    device = TOTPDevice.objects.get(user=finance_officer)
    assert device.confirmed is False
    assert '<img class="app-qr-code" src="data:image/svg+xml;base64,' in html
    svg = base64.b64decode(html.split("data:image/svg+xml;base64,")[1].split('"')[0]).decode()
    assert svg.startswith("<?xml") and "<svg" in svg and "<script" not in svg
    assert 'alt="QR code to add' in html
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    assert response.context["manual_key"].replace(" ", "") == secret
    assert "otpauth://" not in html  # the secret is only in the image and the typed key
    assert "<script>" not in html and " style=" not in html
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert 'name="next" value="/finance/"' in html
    assert response.context["nav_items"] == []
    # loading the page again shows the same key (the device being set up is reused)
    client.get(ENROL)
    assert TOTPDevice.objects.filter(user=finance_officer).count() == 1


def test_entering_the_code_confirms_the_device_and_lets_the_user_in(client, require_mfa, finance_officer):
    sign_in(client, finance_officer)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=finance_officer)

    response = client.post(ENROL, {"code": right_code(device), "next": "/finance/"})

    assert response.status_code == 302 and response.url == "/finance/"
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.get(DASHBOARD).status_code == 200
    assert client.get(PROFILE).status_code == 200
    assert "Two-factor sign-in</dt>" in client.get(PROFILE).content.decode()
    # set up already: the set-up page does not offer a second device
    response = client.get(ENROL)
    assert response.status_code == 302 and response.url == PROFILE


def test_a_wrong_code_at_enrolment_names_the_field_and_confirms_nothing(client, require_mfa, finance_officer):
    sign_in(client, finance_officer)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=finance_officer)

    bad_format = client.post(ENROL, {"code": "12ab"})
    wrong = client.post(ENROL, {"code": wrong_code(device)})

    assert bad_format.status_code == 200  # the form again, with the error (as every form here)
    message = "Enter the code as 6 numbers, for example 123456."
    assert f'<a href="#id_code">{message}</a>' in bad_format.content.decode()
    assert wrong.status_code == 200
    assert "The code is not right" in wrong.content.decode()
    device.refresh_from_db()
    assert device.confirmed is False
    assert client.get(DASHBOARD).url.startswith(ENROL)


# --- The code step after the password ---------------------------------------------------------------


@pytest.mark.parametrize("require", [False, True])
def test_anyone_with_a_device_must_enter_a_code_after_the_password(client, settings, commissioner, require):
    settings.REQUIRE_MFA = require
    device = confirmed_device(commissioner)  # optional for a commissioner, but once set up it is asked for
    sign_in(client, commissioner)

    response = client.get("/contracts/")
    assert response.status_code == 302
    assert response.url == VERIFY + "?next=%2Fcontracts%2F"
    # a password alone cannot attach a different authenticator
    assert client.get(ENROL).url == VERIFY
    assert TOTPDevice.objects.filter(user=commissioner).count() == 1

    page = client.get(response.url)
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.content.decode()

    wrong = client.post(VERIFY, {"code": wrong_code(device), "next": "/contracts/"})
    assert wrong.status_code == 200
    assert "The code is not right" in wrong.content.decode()
    assert client.get(DASHBOARD).status_code == 302

    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # this test is not about the per-device wait
    right = client.post(VERIFY, {"code": right_code(device), "next": "/contracts/"})
    assert right.status_code == 302 and right.url == "/contracts/"
    assert client.get("/contracts/").status_code == 200
    assert client.get(VERIFY).status_code == 302  # verified: nothing more to do


def test_verification_does_not_follow_a_next_to_another_site(client, finance_officer):
    device = confirmed_device(finance_officer)
    sign_in(client, finance_officer)

    response = client.post(VERIFY, {"code": right_code(device), "next": "https://evil.example/"})

    assert response.status_code == 302 and response.url == DASHBOARD


def test_verification_ends_with_the_session(client, finance_officer):
    device = confirmed_device(finance_officer)
    sign_in(client, finance_officer)
    client.post(VERIFY, {"code": right_code(device)})
    assert client.get(DASHBOARD).status_code == 200

    client.post(reverse("accounts:logout"))
    sign_in(client, finance_officer)

    assert client.get(DASHBOARD).url.startswith(VERIFY)


def test_an_htmx_request_is_told_where_to_go(client, finance_officer):
    confirmed_device(finance_officer)
    sign_in(client, finance_officer)

    response = client.get("/contracts/", headers={"HX-Request": "true"})

    assert response.status_code == 302
    assert response["HX-Redirect"].startswith(VERIFY)


# --- Lockout and throttling -----------------------------------------------------------------------------


def test_wrong_codes_count_towards_the_axes_lockout_and_end_the_session(client, settings, finance_officer):
    settings.AXES_FAILURE_LIMIT = 3
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # isolate axes from the device's own wait
    device = confirmed_device(finance_officer)
    sign_in(client, finance_officer)

    for _ in range(2):
        assert "The code is not right" in client.post(VERIFY, {"code": wrong_code(device)}).content.decode()
    third = client.post(VERIFY, {"code": wrong_code(device)})

    assert third.status_code == 429
    assert "Your account is locked" in third.content.decode()
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.get(username=finance_officer.username).failures_since_start == 3

    # the right password is now refused too, and so is the right code from another live session
    refused = client.post(LOGIN, {"username": finance_officer.username, "password": TEST_PASSWORD})
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_locked_account_cannot_finish_verification_from_an_open_session(client, settings, finance_officer):
    settings.AXES_FAILURE_LIMIT = 3
    device = confirmed_device(finance_officer)
    sign_in(client, finance_officer)  # password accepted; the code step is pending
    AccessAttempt.objects.create(
        username=finance_officer.username,
        ip_address="127.0.0.1",
        user_agent="",
        failures_since_start=3,
        get_data="",
        post_data="",
        http_accept="",
        path_info=VERIFY,
    )

    response = client.post(VERIFY, {"code": right_code(device)})

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    device.refresh_from_db()
    assert device.last_used_at is None


def test_each_wrong_code_makes_the_device_wait_longer(client, settings, finance_officer):
    settings.OTP_TOTP_THROTTLE_FACTOR = 10
    device = confirmed_device(finance_officer)
    sign_in(client, finance_officer)

    first = client.post(VERIFY, {"code": wrong_code(device)})
    second = client.post(VERIFY, {"code": right_code(device)})  # even the right code, while waiting

    assert "The code is not right" in first.content.decode()
    assert second.status_code == 200
    assert "Too many wrong codes. Wait" in second.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    assert client.get(DASHBOARD).url.startswith(VERIFY)


# --- The API ------------------------------------------------------------------------------------------


def test_api_keys_work_without_a_code_and_a_half_signed_in_session_gets_nothing(
    client, require_mfa, finance_officer, api_as
):
    url = "/api/v1/partnerships/"
    assert api_as(finance_officer).get(url).status_code == 200  # a key is not a browser sign-in

    bad_key = client.get(url, headers={"Authorization": "Token not-a-real-key"})
    assert bad_key.status_code == 401

    sign_in(client, finance_officer)
    session_only = client.get(url)
    assert session_only.status_code == 403
    assert "Two-factor verification is required" in session_only.json()["detail"]
    basic = client.get(url, headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert basic.status_code == 403
