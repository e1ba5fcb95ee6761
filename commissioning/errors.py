"""Clean answers when the database goes away mid-request.

A dropped connection (the server restarted, a failover, the backend terminated) surfaces as Django's
``OperationalError`` or ``InterfaceError``. The services run in transactions, so PostgreSQL has
rolled back whatever the request had written; what is left is to tell the user so: a 503 page in
the service's style (``templates/503.html``), or for the API a JSON error, with ``Retry-After``.
The broken connection is closed so the next request opens a fresh one.

Any other unhandled exception of an API request is answered as JSON 500 (pages keep Django's
``500.html``). With ``DEBUG`` on, other exceptions are left to Django's debug page.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger("django.request")

RETRY_AFTER_SECONDS = 30
UNAVAILABLE = "The database connection was lost. Nothing from this request was saved; try again shortly."
SERVER_ERROR = "Sorry, there is a problem with the service. Try again later."


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


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
        if _is_api(request) and not settings.DEBUG:
            logger.error("Internal Server Error: %s %s", request.method, request.path, exc_info=exception)
            return JsonResponse({"detail": SERVER_ERROR, "code": "server_error"}, status=500)
        return None
