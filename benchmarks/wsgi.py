"""The WSGI application ``make bench`` serves (gunicorn, threads): Django's own application, plus

- ``X-Bench-Queries``: the number of SQL queries the request ran, counted with
  ``connection.execute_wrapper`` around the whole response (streamed bodies included);
- ``/__bench/ping``: an answer that never reaches Django, the bare reference of the server and the
  loopback under the same concurrency.

Only ``benchmarks.run`` starts it; the project's own ``commissioning.wsgi`` is unchanged.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commissioning.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection  # noqa: E402

django_application = get_wsgi_application()


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/__bench/ping":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]
    count = 0

    def counter(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    captured: dict = {}
    chunks: list[bytes] = []

    def capture(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, headers
        return chunks.append

    with connection.execute_wrapper(counter):
        result = django_application(environ, capture)
        try:
            for chunk in result:
                chunks.append(chunk)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
    headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
    headers += [("X-Bench-Queries", str(count)), ("Content-Length", str(sum(len(c) for c in chunks)))]
    start_response(captured["status"], headers)
    return chunks
