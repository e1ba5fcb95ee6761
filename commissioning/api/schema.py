"""The OpenAPI schema documents the error answers of api.md, not only the happy path.

drf-spectacular documents the one success code of each operation. Clients (and the schemathesis
tests) also meet: 400 for invalid input (``{"field": ["message"]}``, ``{"non_field_errors": [...]}``
or ``{"detail": "..."}`` for a body that is not a JSON object) and for a query parameter the
endpoint does not read, 401 without credentials, 403 when the role may not do it, 404 for what does
not exist or is not visible (also an out-of-range ``?page=`` or an unknown ``?format=``), 409 for a
stale edit or a delete of a record still in use, 415 for a body in a media type the endpoint does
not read, and 428 for a change to a versioned object that does not say which version it was made
from (``commissioning.api.versions``: ``version`` in the body or ``If-Match``, documented as a
header parameter of those operations). ``AutoSchema`` adds each of them where it can happen,
unless a view documents that code itself with ``extend_schema(responses=...)``.
"""

from __future__ import annotations

from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.permissions import AllowAny

from commissioning.api import versions

ERROR_DETAIL = {
    "type": "object",
    "description": "An error with one message.",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}

VALIDATION_ERROR = {
    "type": "object",
    "description": (
        'Messages by field name: {"field": ["message", ...]} (nested for fields holding rows), '
        '{"non_field_errors": ["message", ...]} for the record as a whole, or {"detail": "message"} '
        "when the request body cannot be read."
    ),
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {"oneOf": [{"type": "array", "items": {}}, {"type": "object"}]},
}

STALE_VERSION = {
    "type": "object",
    "description": (
        "The record changed since the version sent: nothing was saved; `version` is the current one."
    ),
    "properties": {"detail": {"type": "string"}, "version": {"type": "integer"}},
    "required": ["detail"],
}

WRITE_METHODS = {"POST", "PUT", "PATCH"}

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        'The version of the record the change was made from, e.g. "7" (or send `version` in the body). '
        "Without either: 428; stale: 409 with the current version."
    ),
)


class AutoSchema(openapi.AutoSchema):
    def _error_ref(self, name: str, schema: dict) -> dict:
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name)
        self.registry.register_on_missing(component)
        return component.ref

    def _is_versioned_edit(self) -> bool:
        if not versions.is_versioned(getattr(self.view, "model", None)):
            return False
        if getattr(self.view, "action", None) in getattr(self.view, "unversioned_actions", ()):
            return False
        return self.method in {"PATCH", "PUT"} or (
            self.method == "POST" and bool(getattr(self.view, "detail", False))
        )

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self._is_versioned_edit():
            parameters.append(IF_MATCH)
        return parameters

    def _is_public(self) -> bool:
        return any(isinstance(p, AllowAny) for p in self.view.get_permissions())

    def _error_codes(self) -> dict[str, tuple[str, dict, str]]:
        detail = ("ErrorDetail", ERROR_DETAIL)
        invalid = ("ValidationError", VALIDATION_ERROR)
        codes: dict[str, tuple[str, dict, str]] = {}
        # Every operation refuses a query parameter it does not read (commissioning/api/strict.py),
        # and writes and deletes go through services that can refuse them.
        codes["400"] = (*invalid, "Invalid input or an unknown query parameter; nothing was changed.")
        if not self._is_public():
            codes["401"] = (*detail, "No valid credentials were given.")
            codes["403"] = (*detail, "The role does not allow this.")
        codes["404"] = (*detail, "Not found, or not visible to this user.")
        if self.method in {"PATCH", "PUT", "DELETE"} or (self.method == "POST" and "{" in self.path):
            codes["409"] = (*detail, "Changed by someone else since it was read, or still in use.")
        if self._is_versioned_edit():
            codes["409"] = ("StaleVersion", STALE_VERSION, "Changed by someone else since the version sent.")
            codes["428"] = (
                *invalid,
                "No version was sent (`version` in the body or If-Match); nothing was changed.",
            )
        if self.method in WRITE_METHODS:
            codes["415"] = (*detail, "The request body is in a media type this endpoint does not read.")
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, (name, schema, description) in self._error_codes().items():
            if code in responses:
                continue
            response = self._get_response_for_code(self._error_ref(name, schema), code, direction=direction)
            response["description"] = description
            responses[code] = response
        return responses
