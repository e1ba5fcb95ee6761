"""Schemathesis against the project's own OpenAPI schema (security.md "Bad input", api.md).

The schema is the one drf-spectacular generates (what ``/api/schema/`` serves). Every operation in it
is exercised in-process through the WSGI application, as every role of the data set in
``tests/security/world.py`` (rows of every kind, of our partnership and of another), plus an
outsider granted only the other partnership and an anonymous caller. Path ids are
drawn from the rows that exist (so GETs, PATCHes and actions reach real objects, visible or hidden)
as well as from what schemathesis generates. Each call runs in a savepoint that is rolled back, so
one example cannot change what the next sees.

Checks on every response: no 5xx; the status code is documented for the operation; the content type
and the body match the documented response; and invalid input (schemathesis' negative mode) is
refused with a 4xx. Generation is derandomized, so a run is repeatable; the number of examples is
small and bounded (``EXAMPLES``) to keep the whole module within about two minutes.

A new endpoint is covered as soon as it is in the schema: the operations are read from it.
"""

from __future__ import annotations

import json
import traceback
from contextlib import contextmanager

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections, transaction
from django.urls import Resolver404, resolve
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests import tally
from tests.security.world import IDENTITIES as ROLE_USERS

pytestmark = pytest.mark.django_db


# The users of the world (tests/security/world.py): one per role, the administrator, the outsider
# granted only the other partnership, and anonymous (None).
IDENTITIES = (*ROLE_USERS, "administrator", "other_partnership", None)

# Examples per operation. Positive examples (valid by the schema) go to each identity in turn, so
# every operation is called as every role; negative ones (invalid by the schema) go to the
# administrator, whom no permission check stops before validation.
POSITIVE_EXAMPLES = len(IDENTITIES)
NEGATIVE_EXAMPLES = 4

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def _generated_schema() -> dict:
    """What ``/api/schema/`` serves, as JSON (no request, no database)."""
    generator = SchemaGenerator()
    rendered = OpenApiJsonRenderer().render(generator.get_schema(request=None, public=True))
    return json.loads(rendered)


SCHEMA = schemathesis.openapi.from_dict(_generated_schema())
OPERATIONS = {op.ok().label: op.ok() for op in SCHEMA.get_all_operations()}


# --- which existing rows a path parameter can name --------------------------------------------------


def _model_of(path: str):
    """The model behind ``{id}`` of an operation's path, from the view the URL resolves to."""
    concrete = path
    for name in ("id", "meeting_pk", "pack_pk"):
        concrete = concrete.replace("{" + name + "}", "1")
    concrete = concrete.replace("{code}", "X")
    try:
        match = resolve(concrete)
    except Resolver404:  # pragma: no cover - the schema lists only routed paths
        return None
    view = getattr(match.func, "cls", None) or getattr(match.func, "view_class", None)
    model = getattr(view, "model", None)
    if model is None and getattr(view, "queryset", None) is not None:
        model = view.queryset.model
    return model


def _existing_values(path: str, parameter: str) -> list:
    from governance.models import Board, BoardPack, Meeting

    if parameter == "meeting_pk":
        return list(Meeting.objects.values_list("pk", flat=True))
    if parameter == "pack_pk":
        return list(BoardPack.objects.values_list("pk", flat=True))
    if parameter == "code":
        return list(Board.objects.values_list("code", flat=True))
    model = _model_of(path)
    if model is None:
        return []
    return list(model._default_manager.order_by("pk").values_list("pk", flat=True)[:20])


# --- calling the application --------------------------------------------------------------------------


TALLY = tally.Tally("schemathesis")  # shown in the terminal summary


@contextmanager
def _in_process_requests():
    """Keep the test's transaction across requests: Django closes a connection it finds in a
    transaction at the end of a request, which would break the savepoints of the test."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@contextmanager
def _server_errors():
    """Collect the traceback of any exception a view raises (Django turns it into a 500)."""
    errors: list[str] = []

    def _record(sender, request=None, **kwargs):
        errors.append(traceback.format_exc())

    got_request_exception.connect(_record, dispatch_uid="schemathesis-capture")
    try:
        yield errors
    finally:
        got_request_exception.disconnect(dispatch_uid="schemathesis-capture")


APP = WSGIHandler()


def _call(case, identity: str | None, token: str | None):
    headers = {"Authorization": f"Token {token}"} if token else {}
    with _server_errors() as errors, transaction.atomic():
        try:
            response = case.call(app=APP, headers=headers)
        finally:
            transaction.set_rollback(True)
    TALLY.count("calls")
    TALLY.count("statuses", response.status_code)
    checks = CHECKS
    if case.meta is not None and case.meta.generation.mode.is_negative:
        checks = [c for c in CHECKS if c not in _lenient(case, response)]
    try:
        case.validate_response(response, checks=checks, headers=headers)
    except Exception as exc:
        if errors:
            exc.add_note("Server traceback:\n" + "\n".join(errors))
            print("Server traceback:\n" + "\n".join(errors))  # noqa: T201 - shown with the failure
        raise


def _lenient(case, response) -> set:
    """Known, accepted leniency of negative (schema-invalid) requests, left unchecked:

    - query strings of GET and DELETE: DRF ignores an invalid ``?page_size=`` or empty ``?format=``
      and django-filter an invalid boolean filter, answering as if they were absent;
    - an empty ``?format=`` on a write, and form-encoded bodies whose only fault is keys the
      serializer does not know (DRF ignores unknown keys);
    - a path the URL patterns do not route (``/offers/0.5/``): Django's own 404 page, in HTML.
    """
    lenient = set()
    form_encoded = (case.media_type or "").startswith(("application/x-www-form-urlencoded", "multipart/"))
    only_format = bool(case.query) and set(case.query) <= {"format"}
    if case.method.upper() in ("GET", "DELETE") or form_encoded or only_format:
        lenient.add(negative_data_rejection)
    if response.status_code == 404:
        try:
            resolve(case.formatted_path)
        except Resolver404:
            lenient.add(content_type_conformance)
    return lenient


@pytest.fixture(scope="module")
def tokens(world):
    return {name: world["tokens"][name] if name else None for name in IDENTITIES}


def _fuzz(operation, mode, examples, identity_for, existing, tokens):
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def run(case, data):
        TALLY.count("cases")
        for name, values in existing.items():
            # Half the examples name a row that exists (ours or another partnership's).
            if values and data.draw(st.booleans(), label=f"existing {name}"):
                case.path_parameters[name] = data.draw(st.sampled_from(values), label=name)
        identity = identity_for()
        _call(case, identity, tokens[identity])

    run()


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_operation(label, world, tokens, caplog):
    operation = OPERATIONS[label]
    existing = {p.name: _existing_values(operation.path, p.name) for p in operation.path_parameters}
    turn = iter(range(10**6))

    def next_identity():
        return IDENTITIES[next(turn) % len(IDENTITIES)]

    with _in_process_requests(), caplog.at_level("CRITICAL", logger="django.request"):
        _fuzz(operation, GenerationMode.POSITIVE, POSITIVE_EXAMPLES, next_identity, existing, tokens)
        _fuzz(
            operation, GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES, lambda: "administrator", existing, tokens
        )


def test_every_operation_is_exercised():
    """The parametrisation above is read from the schema: nothing in it can be missed."""
    assert len(OPERATIONS) >= 150
    assert {"GET /api/v1/invoices/{id}/pdf/", "POST /api/v1/recharge-runs/"} <= set(OPERATIONS)
