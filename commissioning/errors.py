"""Clean answers when the database goes away mid-request.

A dropped connection (the server restarted, a failover, the backend terminated) surfaces as Django's
``OperationalError`` or ``InterfaceError``. The services run in transactions, so PostgreSQL has
rolled back whatever the request had written; what is left is to tell the user so: a 503 page in
the service's style (``templates/503.html``), or for the API a JSON error, with ``Retry-After``.
The broken connection is closed so the next request opens a fresh one.

Any other unhandled exception of an API request is answered as JSON 500 (pages keep Django's
``500.html``). With ``DEBUG`` on, other exceptions are left to Django's debug page.

A request Django refuses as malformed (``SuspiciousOperation``: a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE``, too many fields or files) answers 400; on the API as JSON
(``{"detail": ...}``), wherever it is raised (``bad_request`` is the project's ``handler400``).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults

logger = logging.getLogger("django.request")

RETRY_AFTER_SECONDS = 30
UNAVAILABLE = "The database connection was lost. Nothing from this request was saved; try again shortly."
SERVER_ERROR = "Sorry, there is a problem with the service. Try again later."


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def refused_request_message(exception) -> str:
    """What to tell an API client whose request Django refused before reading it."""
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        return f"The request body is too large: this service reads at most {limit} MB."
    return "The request could not be read (too many fields or files, or malformed)."


def bad_request(request, exception, template_name=defaults.ERROR_400_TEMPLATE_NAME):
    """``handler400``: JSON for the API, Django's page otherwise."""
    if _is_api(request):
        return JsonResponse({"detail": refused_request_message(exception), "code": "bad_request"}, status=400)
    return defaults.bad_request(request, exception, template_name)


def not_found(request, exception, template_name=defaults.ERROR_404_TEMPLATE_NAME):
    """``handler404``: a path no route matches (``meetings/-4/packs/``) answers JSON on the API,
    as DRF's own 404s do; Django's page otherwise."""
    if _is_api(request):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception, template_name)


def _close_broken_connections() -> None:
    for conn in connections.all(initialized_only=True):
        try:
            if conn.in_atomic_block:
                conn.needs_rollback = True
            conn.close_if_unusable_or_obsolete()
        except Exception:  # noqa: BLE001 - closing a broken connection must not fail the answer
            logger.debug("closing a broken connection failed", exc_info=True)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError | InterfaceError):
            logger.error("Database unavailable: %s %s", request.method, request.path, exc_info=exception)
            _close_broken_connections()
            if _is_api(request):
                response = JsonResponse({"detail": UNAVAILABLE, "code": "service_unavailable"}, status=503)
            else:
                html = render_to_string("503.html", {"site_name": settings.SITE_NAME})
                response = HttpResponse(html, status=503)
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        if isinstance(exception, SuspiciousOperation) and _is_api(request):
            logger.warning("API request refused: %s %s: %s", request.method, request.path, exception)
            return bad_request(request, exception)
        if _is_api(request) and not settings.DEBUG:
            logger.error("Internal Server Error: %s %s", request.method, request.path, exc_info=exception)
            return JsonResponse({"detail": SERVER_ERROR, "code": "server_error"}, status=500)
        return None
