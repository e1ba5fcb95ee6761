"""``Authorization: Token <key>`` with keys stored hashed (SHA-256); last use is recorded."""

from __future__ import annotations

from datetime import timedelta

import pghistory
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from commissioning.models import ApiToken

LAST_USED_GRANULARITY = timedelta(minutes=1)


class HashedTokenAuthentication(TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key):
        digest = ApiToken.hash_key(key)
        token = ApiToken.objects.active().select_related("user").filter(digest=digest).first()
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_GRANULARITY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        # History rows written during this request name the token's user.
        pghistory.context(user=token.user.pk, token=token.prefix)
        return (token.user, token)


class HashedTokenScheme(OpenApiAuthenticationExtension):
    target_class = "commissioning.api.authentication.HashedTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Token-based authentication: `Authorization: Token <key>`",
        }
