"""Signing in and out, changing a password, and the profile page with the user's API keys.

Sign-in is Django's ``LoginView``: it passes the request to ``authenticate()``, which django-axes
needs to count failures and lock out (settings: ``AXES_*``). The idle timeout is
``SESSION_COOKIE_AGE`` kept moving by ``commissioning.middleware.IdleTimeoutMiddleware``.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from commissioning import mfa
from commissioning.forms import GovukDateField
from commissioning.generic import ServiceActionView
from commissioning.models import ApiToken
from commissioning.services import api_token_create, api_token_revoke

INPUT = "govuk-input"

# --- Forms ----------------------------------------------------------------------------------------


class SignInForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "Enter a correct username and password. Both are case-sensitive.",
        "inactive": "This account has been switched off. Ask an administrator if you need it.",
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        username, password = self.fields["username"], self.fields["password"]
        username.widget.attrs.update(
            {"class": f"{INPUT} govuk-input--width-20", "autocomplete": "username", "spellcheck": "false"}
        )
        username.error_messages["required"] = "Enter your username."
        password.widget.attrs.update(
            {"class": f"{INPUT} govuk-input--width-20", "autocomplete": "current-password"}
        )
        password.error_messages["required"] = "Enter your password."


class GovukPasswordChangeForm(PasswordChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].widget.attrs.update({"class": f"{INPUT} govuk-input--width-20"})
        self.fields["old_password"].error_messages["required"] = "Enter your current password."
        for name in ("new_password1", "new_password2"):
            self.fields[name].widget.attrs.update({"class": f"{INPUT} govuk-input--width-20"})
        self.fields["new_password1"].error_messages["required"] = "Enter a new password."
        self.fields["new_password2"].error_messages["required"] = "Enter the new password again."


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What the key is for, e.g. Ledger import",
        error_messages={"required": "Enter what the key is for."},
        widget=forms.TextInput(attrs={"class": f"{INPUT} govuk-input--width-20", "autocomplete": "off"}),
    )
    expires_on = GovukDateField(
        label="Expires on",
        required=False,
        help_text=(
            "The key stops working at the end of this day. Leave empty for a key that lasts until "
            "revoked. For example, 31 3 2027"
        ),
    )

    def clean_expires_on(self):
        value = self.cleaned_data.get("expires_on")
        if value and value < timezone.localdate():
            raise ValidationError("The expiry date must be today or in the future.")
        return value

    def expires_at(self):
        value = self.cleaned_data.get("expires_on")
        if not value:
            return None
        return timezone.make_aware(datetime.combine(value + timedelta(days=1), time.min))


# --- Sign in, sign out, password ------------------------------------------------------------------


class SignInView(auth_views.LoginView):
    template_name = "registration/login.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["page_title"] = "Sign in"
        context["site_name"] = settings.SITE_NAME  # LoginView would put the host name here
        context["failure_limit"] = settings.AXES_FAILURE_LIMIT
        context["lockout_minutes"] = _lockout_minutes()
        return context


def _lockout_minutes() -> int | None:
    cooloff = getattr(settings, "AXES_COOLOFF_TIME", None)
    if isinstance(cooloff, timedelta):
        return round(cooloff.total_seconds() / 60)
    if isinstance(cooloff, (int, float)):
        return round(cooloff * 60)  # django-axes reads a number as hours
    return None


class SignOutConfirmView(LoginRequiredMixin, TemplateView):
    """Signing out is a POST (Django's LogoutView refuses GET); this page carries the button."""

    template_name = "registration/logout_confirm.html"
    extra_context = {"page_title": "Sign out"}


class SignOutView(auth_views.LogoutView):
    next_page = reverse_lazy("accounts:login")

    def post(self, request, *args, **kwargs):
        was_signed_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if was_signed_in:
            messages.success(request, "You have signed out.")
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    form_class = GovukPasswordChangeForm
    success_url = reverse_lazy("accounts:password-change-done")
    extra_context = {"page_title": "Change your password"}


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "registration/password_change_done.html"
    extra_context = {"page_title": "Password changed"}


# --- Profile and API keys -------------------------------------------------------------------------


def _profile_context(request, *, token_form: ApiTokenForm | None = None, new_key: str = "", new_token=None):
    user = request.user
    return {
        "page_title": "Your profile",
        "profile_user": user,
        "roles": user.role_names,
        "grants": user.grants.select_related("partnership").order_by("partnership__name"),
        "tokens": user.api_tokens.all(),
        "token_form": token_form or ApiTokenForm(),
        "new_key": new_key,
        "new_token": new_token,
        "now": timezone.now(),
        "mfa_enrolled": mfa.confirmed_device(user) is not None,
        "mfa_required": mfa.mfa_required_for_role(user),
    }


class ProfileView(LoginRequiredMixin, View):
    template_name = "commissioning/accounts/profile.html"

    def get(self, request):
        return render(request, self.template_name, _profile_context(request))


class ApiTokenCreateView(LoginRequiredMixin, View):
    """Create a key and show it in this response only: it is never stored, not even in the session."""

    def post(self, request):
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            try:
                token, key = api_token_create(
                    user=request.user, name=form.cleaned_data["name"], expires_at=form.expires_at()
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                response = render(
                    request,
                    ProfileView.template_name,
                    _profile_context(request, new_key=key, new_token=token),
                    status=201,
                )
                response["Cache-Control"] = "no-store"
                return response
        return render(
            request, ProfileView.template_name, _profile_context(request, token_form=form), status=400
        )


class ApiTokenRevokeView(ServiceActionView):
    """Revoke one of the user's own keys (anyone else's: 404)."""

    def get_target(self):
        # A key is its owner's alone: no role is needed, and nobody else's key exists here.
        return get_object_or_404(ApiToken.objects.filter(user=self.request.user), pk=self.kwargs["pk"])

    def act(self, token) -> str:
        api_token_revoke(token=token, by=self.request.user)
        return f"The key ‘{token.name}’ ({token.prefix}…) has been revoked."

    def back(self, token) -> str:
        return reverse("accounts:profile")
