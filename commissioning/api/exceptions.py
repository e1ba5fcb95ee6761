"""Error format of api.md: 400 ``{"field": ["message"]}`` or ``{"non_field_errors": [...]}``;
Django ``ValidationError`` from services and database integrity errors become 400, never 500."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This record was changed by someone else since you loaded it. Reload and try again."
    default_code = "conflict"


def django_error_to_dict(exc: DjangoValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        out = {}
        for field, errors in exc.message_dict.items():
            key = api_settings.NON_FIELD_ERRORS_KEY if field == "__all__" else field
            out[key] = list(errors)
        return out
    return {api_settings.NON_FIELD_ERRORS_KEY: list(exc.messages)}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        return Response(django_error_to_dict(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    return drf_exception_handler(exc, context)
