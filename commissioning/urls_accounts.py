from django.urls import path

from commissioning.views import accounts, mfa

app_name = "accounts"

urlpatterns = [
    path("login/", accounts.SignInView.as_view(), name="login"),
    path("logout/", accounts.SignOutView.as_view(), name="logout"),
    path("sign-out/", accounts.SignOutConfirmView.as_view(), name="logout-confirm"),
    path("password/", accounts.PasswordChangeView.as_view(), name="password-change"),
    path("password/done/", accounts.PasswordChangeDoneView.as_view(), name="password-change-done"),
    path("two-factor/verify/", mfa.MfaVerifyView.as_view(), name="mfa-verify"),
    path("two-factor/set-up/", mfa.MfaEnrolView.as_view(), name="mfa-enrol"),
    path("profile/", accounts.ProfileView.as_view(), name="profile"),
    path("profile/keys/", accounts.ApiTokenCreateView.as_view(), name="token-create"),
    path("profile/keys/<int:pk>/revoke/", accounts.ApiTokenRevokeView.as_view(), name="token-revoke"),
]
