"""Edits are safe against lost updates (api.md, "General"): every change to an object with a
``version`` names the version it was made from, in the body (``"version": 7``) or as
``If-Match: "7"``. Missing: 428 naming ``version``; stale: 409 with the current version.

One implementation for every viewset (``RestrictedViewSetMixin`` calls it): a PATCH/PUT of a
versioned object, or a POST action on one (``packages/{id}/change-cost/``), must carry the version.
The version is checked when the object is fetched (a quick 409) and again under a row lock inside
the write's transaction (``check_locked``), so two concurrent edits from one version cannot both win.
"""

from __future__ import annotations

import re

from django.core.exceptions import FieldDoesNotExist
from rest_framework import exceptions, status

VERSION = "version"
MISSING = (
    "Send the version you loaded, as “version” in the body or as the If-Match header "
    '(If-Match: "7"), so that an edit cannot silently overwrite someone else’s.'
)
INVALID = "The version is a whole number, as in the record you loaded (e.g. 7)."
DISAGREE = "The body’s version and the If-Match header name different versions."
STALE = (
    "Someone else changed this {noun} since you loaded it (you sent version {sent}; it is now "
    "{current}). Reload it and try again."
)
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = {VERSION: [MISSING]}
    default_code = "precondition_required"


class StaleVersion(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, *, sent: int, current: int, noun: str = "record"):
        super().__init__(STALE.format(noun=noun, sent=sent, current=current))
        self.detail = {"detail": self.detail, VERSION: current}  # the version as a number


def is_versioned(model) -> bool:
    """Whether the model keeps an edit version (a ``version`` field the user does not edit)."""
    if model is None:
        return False
    try:
        field = model._meta.get_field(VERSION)
    except FieldDoesNotExist:
        return False
    return not field.editable


def _from_body(request) -> int | None:
    data = request.data
    if not isinstance(data, dict) or data.get(VERSION) in (None, ""):
        return None
    value = data[VERSION]
    if isinstance(value, bool):
        raise exceptions.ValidationError({VERSION: [INVALID]})
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise exceptions.ValidationError({VERSION: [INVALID]})


def _from_header(request) -> int | None:
    header = request.headers.get("If-Match")
    if header is None or not header.strip():
        return None
    match = _ETAG.match(header)
    if match is None:
        raise exceptions.ValidationError({VERSION: [f"If-Match: {INVALID}"]})
    return int(match.group(1))


def required_version(request) -> int:
    """The version an edit was made from: from the body or If-Match; missing: 428."""
    body, header = _from_body(request), _from_header(request)
    if body is not None and header is not None and body != header:
        raise exceptions.ValidationError({VERSION: [DISAGREE]})
    version = body if body is not None else header
    if version is None:
        raise PreconditionRequired()
    return version


def check(obj, version: int) -> None:
    """A stale version answers 409 with the current one."""
    if obj.version != version:
        raise StaleVersion(sent=version, current=obj.version, noun=obj._meta.verbose_name)


def check_locked(obj, version: int) -> None:
    """The same check on the row locked for the rest of the caller's transaction."""
    current = type(obj)._default_manager.select_for_update().filter(pk=obj.pk).values_list(VERSION, flat=True)
    current = current.first()
    if current is not None and current != version:
        raise StaleVersion(sent=version, current=current, noun=obj._meta.verbose_name)
