"""PDFs rendered from user text (security.md, PDFs; issue 8): board packs (cover, agenda, cover
sheets, paper bodies, linked budget schedule tables) and invoices. Text such as
``<img src="file:///etc/passwd">``, a loopback URL or a CSS ``url()`` is printed as text and never
fetched; every WeasyPrint render goes through commissioning.pdf's one URL fetcher, which serves only
the project's static files and refuses everything else when asked directly.

A local HTTP listener (on a free port) stands for the loopback target: it must see no request.
Control tests show the listener and the recording fetcher do see hostile URLs that reach WeasyPrint
unescaped, so the "nothing fetched" assertions can fail."""

from __future__ import annotations

import ast
import io
import threading
from datetime import date, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from pypdf import PdfReader

from commissioning import pdf as project_pdf

# The invoice scene of the finance tests (an issued May 2022 recharge invoice).
from tests.brokerage.finance.conftest import (  # noqa: F401
    broker,
    ccg,
    council,
    example_one,
    finance,
    issued,
    make_package,
    run_month,
)

FILE_IMG = '<img src="file:///etc/passwd">'
STATIC = project_pdf.STATIC_PREFIX


def text_of(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def listener():
    """An HTTP server on 127.0.0.1 and a free port that records every request it gets."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", hits=hits)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fetched(monkeypatch):
    """Every URL the project's fetcher is asked for, and whether it was served."""
    asked: list[tuple[str, bool]] = []
    original = project_pdf.StaticOnlyFetcher.fetch

    def recording(self, url, headers=None):
        try:
            response = original(self, url, headers)
        except Exception:
            asked.append((url, False))
            raise
        asked.append((url, True))
        return response

    monkeypatch.setattr(project_pdf.StaticOnlyFetcher, "fetch", recording)
    return asked


def hostile(listener, tag: str) -> str:
    """User text carrying every way HTML or CSS could make WeasyPrint fetch something."""
    return (
        f"{tag} {FILE_IMG} "
        f'<img src="{listener.url}/{tag}.png"> '
        f'<link rel="stylesheet" href="{listener.url}/{tag}.css"> '
        f'<style>@import url("{listener.url}/{tag}-import.css");</style> '
        f'<p style="background: url({listener.url}/{tag}-bg.png)">x</p> '
        f"url(file:///etc/passwd)"
    )


def short(listener, tag: str) -> str:
    """The same, short enough for a 200-character name."""
    return f'{FILE_IMG} <p style="background: url({listener.url}/{tag}.png)"> url(file:///etc/passwd)'


def assert_nothing_hostile_fetched(fetched, listener):
    assert listener.hits == []
    for url, _served in fetched:
        assert url.startswith(STATIC), url


# --- The fetcher asked directly -----------------------------------------------------------------


def _static_css_path() -> Path:
    return Path(finders.find("brokerage/invoice.css"))


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file:///etc/passwd?x#y",
        "FILE:///etc/passwd",
        "http://127.0.0.1:8000/admin/",
        "http://localhost/",
        "https://169.254.169.254/latest/meta-data/",
        "https://example.org/x.css",
        "ftp://example.org/x",
        "data:text/css,body{background:url(file:///etc/passwd)}",
        "javascript:alert(1)",
        STATIC + "../../etc/passwd",
        STATIC + "%2e%2e/%2e%2e/etc/passwd",
        STATIC + "..%2f..%2fcommissioning/settings.py",
        STATIC + "/etc/passwd",
        STATIC + "brokerage/../../../etc/passwd",
        STATIC + "C:\\Windows\\win.ini",
        STATIC + "no/such/file.css",
        STATIC,
        "https://pdf.invalid.example.org/static/brokerage/invoice.css",
    ],
)
def test_the_fetcher_refuses_anything_but_a_static_file(url):
    with pytest.raises(project_pdf.FetchRefused):
        project_pdf.StaticOnlyFetcher().fetch(url)


def test_the_fetcher_refuses_file_urls_even_inside_the_static_folders():
    with pytest.raises(project_pdf.FetchRefused):
        project_pdf.StaticOnlyFetcher().fetch(_static_css_path().as_uri())


def test_the_fetcher_serves_the_projects_static_files():
    response = project_pdf.StaticOnlyFetcher().fetch(STATIC + "brokerage/invoice.css")
    assert response.read() == _static_css_path().read_bytes()
    assert response.content_type == "text/css"


def test_the_packs_and_invoices_use_the_one_fetcher():
    from brokerage import invoice_pdf
    from governance import packs

    assert packs.StaticOnlyFetcher is invoice_pdf.StaticOnlyFetcher is project_pdf.StaticOnlyFetcher
    assert isinstance(project_pdf.html("<p>x</p>").url_fetcher, project_pdf.StaticOnlyFetcher)


def test_every_weasyprint_render_in_the_project_goes_through_commissioning_pdf():
    """No module but commissioning/pdf.py builds a WeasyPrint HTML or CSS object: a new render
    elsewhere would escape the fetcher, so it fails this test."""
    root = Path(django_settings.BASE_DIR)
    offenders = []
    for app in ("commissioning", "budgets", "brokerage", "governance"):
        for path in (root / app).rglob("*.py"):
            if "migrations" in path.parts or path == root / "commissioning" / "pdf.py":
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            weasy_names = {
                alias.asname or alias.name
                for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("weasyprint")
                for alias in node.names
            }
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                if (isinstance(func, ast.Name) and func.id in weasy_names and func.id in {"HTML", "CSS"}) or (
                    isinstance(func, ast.Attribute)
                    and func.attr in {"HTML", "CSS"}
                    and isinstance(func.value, ast.Name)
                    and func.value.id == "weasyprint"
                ):
                    offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert offenders == []


# --- Controls: the listener and the recorder do see what reaches WeasyPrint raw -----------------


def test_control_raw_html_reaches_the_fetcher_and_is_refused(fetched, listener):
    raw = (
        f'{FILE_IMG}<img src="{listener.url}/raw.png">'
        '<link rel="stylesheet" href="static/brokerage/invoice.css">'
        f'<p style="background: url({listener.url}/raw-bg.png)">x</p>'
    )
    data = project_pdf.html(raw).write_pdf()

    assert data.startswith(b"%PDF-")
    asked = dict(fetched)
    assert asked["file:///etc/passwd"] is False
    assert asked[f"{listener.url}/raw.png"] is False
    assert asked[f"{listener.url}/raw-bg.png"] is False
    assert asked[STATIC + "brokerage/invoice.css"] is True
    assert listener.hits == []


def test_control_the_listener_sees_weasyprints_default_fetcher(listener):
    from weasyprint import HTML

    HTML(string=f'<link rel="stylesheet" href="{listener.url}/default.css"><p>x</p>').write_pdf()
    assert listener.hits == ["/default.css"]


# --- Board packs ---------------------------------------------------------------------------------


@pytest.fixture
def hostile_meeting(db, partnership, listener):
    from governance import services
    from tests.budgets.factories import (
        AgreementFactory,
        BudgetLineFactory,
        FundingStreamFactory,
        ScheduleFactory,
    )
    from tests.governance.factories import BoardFactory

    board = BoardFactory(partnership=partnership, name='Board "); background: url(file:///etc/passwd); ("')
    meeting = services.meeting_create(
        board=board,
        starts_at=datetime(2022, 9, 1, 14, tzinfo=ZoneInfo("Europe/London")),
        venue=short(listener, "venue"),
        by=None,
    )
    paper = services.paper_create(
        by=None,
        board=board,
        title=f"Paper {FILE_IMG}",
        executive_summary=hostile(listener, "summary"),
        recommendations=[hostile(listener, "recommendation")],
        body=hostile(listener, "body") + "\n\n" + hostile(listener, "body2"),
        financial_impact=hostile(listener, "finance"),
        authors=f'<img src="{listener.url}/author.png">',
    )
    services.agenda_item_add(meeting=meeting, title=f"Item {FILE_IMG}", paper=paper, by=None)
    agreement = AgreementFactory(
        partnership=partnership,
        host=partnership.council,
        start=date(2021, 4, 1),
        end=date(2024, 3, 31),
        reference="BR-S75",
    )
    schedule = ScheduleFactory(agreement=agreement, title=f"Schedule {FILE_IMG}")
    stream = FundingStreamFactory(
        partnership=partnership,
        name=f'<img src="{listener.url}/stream.png">',
        organisation=partnership.council,
    )
    BudgetLineFactory(
        schedule=schedule,
        name=short(listener, "line"),
        year=2022,
        funding_stream=stream,
        amount=Decimal("10"),
    )
    services.paper_link_add(paper=paper, target=schedule, by=None)
    return meeting


def test_a_pack_prints_hostile_user_text_and_fetches_nothing(hostile_meeting, fetched, listener):
    from governance import packs

    html = packs.pack_html(hostile_meeting, "members")
    assert FILE_IMG not in html  # escaped in the HTML WeasyPrint gets
    assert "&lt;img src=&quot;file:///etc/passwd&quot;&gt;" in html
    assert "Schedule &lt;img" in html  # the linked schedule table is in the pack

    rendered = packs.render_pack(hostile_meeting, "members")

    assert_nothing_hostile_fetched(fetched, listener)
    text = text_of(rendered.pdf)
    assert f"Paper {FILE_IMG}" in text
    assert f"Schedule {FILE_IMG}" in text
    assert f'<img src="{listener.url}/author.png">' in text
    assert "url(file:///etc/passwd)" in text


# --- Invoices ------------------------------------------------------------------------------------


def test_an_invoice_prints_hostile_user_text_and_fetches_nothing(issued, fetched, listener):  # noqa: F811
    from brokerage import invoice_pdf
    from brokerage.models import Invoice

    issued.recipient.name = f"CCG {FILE_IMG}"
    issued.recipient.save()
    issued.issuer.name = short(listener, "issuer")
    issued.issuer.save()

    data = invoice_pdf.render(Invoice.objects.get(pk=issued.pk))

    assert_nothing_hostile_fetched(fetched, listener)
    assert (STATIC + "brokerage/invoice.css", True) in fetched  # its own stylesheet, from static
    text = text_of(data)
    assert f"CCG {FILE_IMG}" in text
    assert "url(file:///etc/passwd)" in text
