"""Every PDF the project renders from HTML (board packs with their cover sheets, paper bodies and
linked budget schedule tables; invoices and credit notes) is built with ``html()`` and ``css()``
here, so every WeasyPrint document and stylesheet uses the one URL fetcher below (security.md, PDFs).

User text reaches the HTML only through Django's autoescaping, so ``<img src="file:///etc/passwd">``
in a paper is printed as text, never fetched. Should anything still ask for a URL,
``StaticOnlyFetcher`` serves only the project's own static files, addressed as
``https://pdf.invalid/static/<path>`` (relative ``static/<path>`` in a template resolves to that),
and refuses everything else: ``file://`` (anywhere, the static folders included), ``http(s)://``
to any host (loopback included), ``data:`` and any other scheme, parent or absolute paths, and
static names that do not exist. A refusal raises ``FetchRefused``, which WeasyPrint logs and skips:
the document renders without that resource.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from django.contrib.staticfiles import finders
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

BASE_URL = "https://pdf.invalid/"
STATIC_PREFIX = BASE_URL + "static/"
CONTENT_TYPES = {
    "css": "text/css",
    "png": "image/png",
    "svg": "image/svg+xml",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "woff2": "font/woff2",
    "woff": "font/woff",
    "js": "text/javascript",
}


class FetchRefused(ValueError):
    """A URL a PDF render may not fetch."""


def static_file(url: str) -> Path:
    """The project's static file a render may fetch at ``url``; ``FetchRefused`` for anything else."""
    if not url.startswith(STATIC_PREFIX):
        raise FetchRefused(f"PDF rendering may fetch only the project's static files, not {url[:80]!r}")
    relative = unquote(url[len(STATIC_PREFIX) :].split("?")[0].split("#")[0])
    parts = relative.split("/")
    if (
        not relative
        or "\\" in relative
        or "\x00" in relative
        or any(part in ("", ".", "..") for part in parts)
        or ":" in parts[0]
    ):
        raise FetchRefused(f"not a static file path: {relative[:80]!r}")
    try:
        found = finders.find(relative)
    except Exception as error:  # SuspiciousFileOperation from a finder's safe_join
        raise FetchRefused(f"not a static file path: {relative[:80]!r}") from error
    if not found:
        raise FetchRefused(f"no static file {relative[:80]!r}")
    return Path(found)


class StaticOnlyFetcher(URLFetcher):
    """WeasyPrint's URL fetcher for every render: the project's static files and nothing else."""

    def fetch(self, url, headers=None):
        path = static_file(url)
        suffix = path.name.rsplit(".", 1)[-1].lower()
        return URLFetcherResponse(
            url, path.read_bytes(), {"Content-Type": CONTENT_TYPES.get(suffix, "application/octet-stream")}
        )


def html(string: str) -> HTML:
    """A WeasyPrint document of ``string`` that can fetch only the project's static files."""
    return HTML(string=string, base_url=BASE_URL, url_fetcher=StaticOnlyFetcher())


def css(string: str) -> CSS:
    """A WeasyPrint stylesheet of ``string`` that can fetch only the project's static files."""
    return CSS(string=string, base_url=BASE_URL, url_fetcher=StaticOnlyFetcher())
