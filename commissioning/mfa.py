"""Two-factor sign-in with a time-based one-time password (TOTP, django-otp).

Who is asked for a code:
- anyone who has set up an authenticator app (optional for every user, from the profile page);
- administrators (superusers or the Administrator role) and finance officers when the
  ``REQUIRE_MFA`` setting is on: until they have set one up, every page sends them to set-up.

After the password is accepted the user is signed in but not *verified*: ``MfaRequiredMiddleware``
lets them reach only the set-up and verification pages and sign-out until they enter a code.
Wrong codes count as failed sign-ins for django-axes (the same username-and-address lockout as wrong
passwords) and are also throttled per device by django-otp (each failure doubles the wait).

The API with ``Authorization: Token`` keys is not affected: a key is a long random secret held by a
program that cannot answer a code prompt; it can only be created from the profile page, which
itself needs a verified session when two-factor sign-in applies, and it is stored hashed, expires
and can be revoked. Requests to the API that rely on a browser session are held to the same rule as
pages (403 until verified).
"""

from __future__ import annotations

import base64
import io
from base64 import b32encode

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django_otp.plugins.otp_totp.models import TOTPDevice

from commissioning import roles

DEVICE_NAME = "Authenticator app"

# Session marker: this sign-in needs no second factor (checked once, not on every request). It
# names the REQUIRE_MFA value it was computed under, and is dropped at every sign-in, so turning the
# setting on or signing in again re-checks; a role granted mid-session applies from the next sign-in.
NOT_NEEDED_KEY = "mfa_not_needed"

# Pages an unverified user may still reach (URL names in the ``accounts`` namespace).
OPEN_URL_NAMES = frozenset({"mfa-verify", "mfa-enrol", "logout", "logout-confirm"})


def mfa_required_for_role(user) -> bool:
    """Whether this user's roles make a second factor compulsory when REQUIRE_MFA is on."""
    if not getattr(settings, "REQUIRE_MFA", False):
        return False
    if user.is_superuser:
        return True
    return user.has_role(roles.ADMINISTRATOR) or user.has_role(roles.FINANCE_OFFICER)


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def pending_step(user) -> str | None:
    """'verify', 'enrol' or None: what this signed-in user still has to do before using the site."""
    if not user.is_authenticated or user.is_verified():
        return None
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return "verify"
    if mfa_required_for_role(user):
        return "enrol"
    return None


def unconfirmed_device(user) -> TOTPDevice:
    """The device being set up: reused across page loads so the QR code stays the same."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def confirm_device(device: TOTPDevice) -> None:
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()


def qr_code_data_uri(text: str) -> str:
    """The QR code as an SVG ``data:`` URI for an <img> (the CSP allows data: images, no inline code)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=4)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def manual_key(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app that cannot scan."""
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def safe_next(request, default: str = "") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default or reverse(settings.LOGIN_REDIRECT_URL)


def _not_needed_marker() -> str:
    return f"require_mfa={int(bool(getattr(settings, 'REQUIRE_MFA', False)))}"


@receiver(user_logged_in, dispatch_uid="commissioning.mfa.reset_on_sign_in")
def _reset_on_sign_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session.pop(NOT_NEEDED_KEY, None)


class MfaRequiredMiddleware:
    """Holds a signed-in but unverified user at the set-up or verification page (after OTPMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        # The session marker is checked before ``_exempt``: both let the request through, and the
        # marker is a dict lookup where ``_exempt`` resolves the URL a second time on every request.
        if request.session.get(NOT_NEEDED_KEY) == _not_needed_marker() or self._exempt(request):
            return self.get_response(request)
        step = pending_step(user)
        if step is None:
            if not user.is_verified():
                request.session[NOT_NEEDED_KEY] = _not_needed_marker()
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"detail": "Two-factor verification is required: sign in again in the browser."},
                status=403,
            )
        target = reverse(f"accounts:mfa-{step}")
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        if request.headers.get("HX-Request"):
            response = HttpResponseRedirect(target)
            response["HX-Redirect"] = target
            return response
        return HttpResponseRedirect(target)

    @staticmethod
    def _exempt(request) -> bool:
        auth = request.headers.get("Authorization", "").split()
        if request.path.startswith("/api/") and auth and auth[0].lower() == "token":
            return True  # token clients: DRF checks the key itself (a bad key is a 401), not the session
        if request.path.startswith(settings.STATIC_URL):
            return True
        from django.urls import Resolver404, resolve

        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
        return match.namespace == "accounts" and match.url_name in OPEN_URL_NAMES
