"""Error format of api.md: 400 ``{"field": ["message"]}`` or ``{"non_field_errors": [...]}``;
Django ``ValidationError`` from services and database integrity errors become 400, never 500.
A stale edit (``StaleEdit`` from a service) and a delete of a record still in use answer 409."""

from __future__ import annotations

import logging

from django.core.exceptions import SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from commissioning.constraints import integrity_error_as_validation
from commissioning.errors import refused_request_message
from commissioning.services import StaleEdit

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This record was changed by someone else since you loaded it. Reload and try again."
    default_code = "conflict"


IN_USE = "This record cannot be deleted because other records refer to it."


def django_error_to_dict(exc: DjangoValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        out = {}
        for field, errors in exc.message_dict.items():
            key = api_settings.NON_FIELD_ERRORS_KEY if field == "__all__" else field
            out[key] = list(errors)
        return out
    return {api_settings.NON_FIELD_ERRORS_KEY: list(exc.messages)}


def exception_handler(exc, context):
    # StaleEdit is a ValidationError subclass: test it first.
    if isinstance(exc, StaleEdit):
        exc = Conflict(" ".join(exc.messages))
    elif isinstance(exc, DjangoValidationError):
        set_rollback()
        return Response(django_error_to_dict(exc), status=status.HTTP_400_BAD_REQUEST)
    elif isinstance(exc, ProtectedError | RestrictedError):
        # Name no referring objects: they may belong to partnerships the user cannot see.
        exc = Conflict(IN_USE)
    elif isinstance(exc, IntegrityError):
        # A constraint the validation did not foresee (e.g. two concurrent creates of one reference):
        # its message in words, on its field. The service's transaction has already been rolled back.
        logger.warning("API write refused by a database constraint: %s", exc)
        set_rollback()
        return Response(
            django_error_to_dict(integrity_error_as_validation(exc)), status=status.HTTP_400_BAD_REQUEST
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, SuspiciousOperation):
        # Django refused to read the body (over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields): a 400.
        exc = exceptions.ParseError(refused_request_message(exc))
    return drf_exception_handler(exc, context)
