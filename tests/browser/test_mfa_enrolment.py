"""Two-factor set-up in a real browser: accessible, no inline code, a wrong then a right code.

(In tests/browser so it shares the one Playwright instance of tests/browser/conftest.py: two sync
Playwright instances in one process, as pytest-xdist can arrange, refuse to run.)"""

import base64
import time

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from commissioning import roles
from tests.commissioning.factories import TEST_PASSWORD
from tests.security.test_mfa import right_code, wrong_code


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_enrolment_in_a_browser_is_accessible_and_needs_no_inline_code(
    page, settings, make_user, partnership
):
    from tests.browser.helpers import assert_accessible, assert_no_console_errors, screenshot

    settings.REQUIRE_MFA = True
    user = make_user(roles.FINANCE_OFFICER, [partnership])

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url("**/accounts/two-factor/set-up/**")
    assert page.get_by_role("heading", level=1).inner_text() == "Set up two-factor sign-in"
    qr = page.get_by_role("img", name="QR code to add")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")  # the data: image rendered
    page.get_by_text("I cannot scan the QR code").click()
    key = page.locator("#mfa-setup-key").inner_text().replace(" ", "")
    assert_accessible(page, "two-factor set-up")
    screenshot(page, "mfa-enrol")

    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert base64.b32encode(device.bin_key).decode().rstrip("=") == key
    page.get_by_label("Code from your authenticator app").fill(wrong_code(device))
    page.get_by_role("button", name="Confirm and continue").click()
    # The form posts back to the same address: wait for the answer's error summary, not the URL.
    expect(page.get_by_text("There is a problem")).to_be_visible()
    assert_accessible(page, "two-factor set-up with an error")

    # django-otp throttles a device for a second after a wrong code (then 2 s, 4 s...): a person
    # re-typing takes longer than that; a test must wait it out, or the right code is refused too.
    time.sleep(1.2)
    page.get_by_label("Code from your authenticator app").fill(right_code(device))
    page.get_by_role("button", name="Confirm and continue").click()
    page.wait_for_url(lambda url: "/two-factor/" not in url)
    expect(page.get_by_role("link", name=user.get_full_name())).to_be_visible()
    assert_no_console_errors(page)
