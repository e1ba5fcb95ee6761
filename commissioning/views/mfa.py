"""Two-factor sign-in pages: set up an authenticator app, and enter a code after the password.

The rules (who must, what is exempt, why API keys are not affected) are in ``commissioning.mfa``.
A wrong code is reported to django-axes as a failed sign-in for the username, so wrong codes and
wrong passwords share one lockout; when it locks, the half-signed-in session is ended.
"""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views import View
from django_otp import login as otp_login

from commissioning import mfa

INPUT = "govuk-input"


class TokenForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app",
        help_text="The 6 numbers shown in the app, for example 123456.",
        max_length=12,
        error_messages={"required": "Enter the 6-digit code from your authenticator app."},
        widget=forms.TextInput(
            attrs={
                "class": f"{INPUT} govuk-input--width-10",
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "spellcheck": "false",
            }
        ),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if not code.isdigit() or len(code) != 6:
            raise forms.ValidationError("Enter the code as 6 numbers, for example 123456.")
        return code


def _credentials(user) -> dict:
    return {"username": user.get_username()}


def _throttle_message(device) -> str | None:
    allowed, data = device.verify_is_allowed()
    if allowed:
        return None
    until = (data or {}).get("locked_until")
    if until:
        seconds = max(1, int((until - timezone.now()).total_seconds()) + 1)
        return f"Too many wrong codes. Wait {seconds} seconds, then enter the code now shown in your app."
    return "Too many wrong codes. Wait a little, then try again."


class _CodeStepView(LoginRequiredMixin, View):
    template_name = ""
    page_title = ""

    def locked(self, request):
        """Locked out (wrong passwords or codes): end the half-signed-in session, show the lockout page."""
        credentials = _credentials(request.user)
        if AxesProxyHandler.is_locked(request, credentials):
            logout(request)
            return get_lockout_response(request, None, credentials)
        return None

    def check_code(self, request, form, device) -> bool:
        """Verify the code; a wrong one is a failed sign-in for axes and a failure for the device."""
        throttled = _throttle_message(device)
        if throttled is None and device.verify_token(form.cleaned_data["code"]):
            return True
        form.add_error("code", throttled or "The code is not right. Enter the code now shown in your app.")
        user_login_failed.send(sender=type(self), credentials=_credentials(request.user), request=request)
        return False

    def failed(self, request):
        """After a wrong code: the lockout page if that was one too many, else None."""
        if getattr(request, "axes_locked_out", False):
            credentials = _credentials(request.user)
            logout(request)
            return get_lockout_response(request, None, credentials)
        return None

    def render_page(self, request, form, **extra):
        context = {
            "page_title": self.page_title,
            "form": form,
            "next": mfa.safe_next(request),
            "nav_items": [],  # nothing else is reachable until the code is entered
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            **extra,
        }
        return render(request, self.template_name, context)


class MfaVerifyView(_CodeStepView):
    template_name = "registration/mfa_verify.html"
    page_title = "Enter your security code"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            if request.user.is_verified():
                return redirect(mfa.safe_next(request))
            if mfa.confirmed_device(request.user) is None:
                return redirect("accounts:mfa-enrol")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return self.render_page(request, TokenForm())

    def post(self, request):
        if (response := self.locked(request)) is not None:
            return response
        device = mfa.confirmed_device(request.user)
        form = TokenForm(request.POST)
        if form.is_valid() and self.check_code(request, form, device):
            otp_login(request, device)
            return redirect(mfa.safe_next(request))
        return self.failed(request) or self.render_page(request, form)


class MfaEnrolView(_CodeStepView):
    template_name = "registration/mfa_enrol.html"
    page_title = "Set up two-factor sign-in"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and mfa.confirmed_device(request.user) is not None:
            # Replacing a device needs an administrator (Django admin, TOTP devices): a password
            # alone must never be enough to attach a new authenticator to an account.
            if request.user.is_verified():
                messages.info(request, "Two-factor sign-in is already set up for your account.")
                return redirect("accounts:profile")
            return redirect("accounts:mfa-verify")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return self.render_page(request, TokenForm(), **self.device_context(request))

    def post(self, request):
        if (response := self.locked(request)) is not None:
            return response
        device = mfa.unconfirmed_device(request.user)
        form = TokenForm(request.POST)
        if form.is_valid() and self.check_code(request, form, device):
            mfa.confirm_device(device)
            otp_login(request, device)
            messages.success(request, "Two-factor sign-in is set up. You will be asked for a code each time.")
            return redirect(mfa.safe_next(request))
        return self.failed(request) or self.render_page(request, form, **self.device_context(request))

    @staticmethod
    def device_context(request) -> dict:
        device = mfa.unconfirmed_device(request.user)
        return {
            "qr_code": mfa.qr_code_data_uri(device.config_url),
            "manual_key": mfa.manual_key(device),
            "required": mfa.mfa_required_for_role(request.user),
        }
