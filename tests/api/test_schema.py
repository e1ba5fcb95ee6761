import io
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


class _Assets(HTMLParser):
    """Collects every URL a page loads and the bodies of inline scripts."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href"):
            if attrs.get(name):
                self.urls.append(attrs[name])
        self._in_script = tag == "script" and not attrs.get("src")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


def docs_assets() -> _Assets:
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    parser = _Assets()
    parser.feed(response.content.decode())
    return parser


def test_the_openapi_schema_is_served():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {
        "/api/v1/organisations/",
        "/api/v1/partnerships/",
        "/api/v1/providers/",
        "/api/v1/contracts/",
        "/api/v1/contracts/{id}/",
    } <= set(schema["paths"])
    contract = schema["components"]["schemas"]["Contract"]["properties"]
    assert contract["annual_value"]["type"] == "string"
    assert contract["start"]["format"] == "date"
    assert "version" not in schema["components"]["schemas"]["ContractRequest"].get("required", [])
    assert "put" not in schema["paths"]["/api/v1/contracts/{id}/"]


def test_the_docs_load_only_local_static_files():
    assets = docs_assets()

    assert assets.urls, "the docs page loads Swagger UI"
    for url in assets.urls:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
    statics = [url for url in assets.urls if url.startswith("/static/")]
    assert any(url.endswith("swagger-ui-bundle.js") for url in statics)
    assert any(url.endswith("swagger-ui.css") for url in statics)
    for url in statics:
        assert APIClient().get(url).status_code == 200, url


def test_the_docs_page_has_no_inline_script_for_the_csp_to_block():
    response = APIClient().get("/api/docs/")
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]

    assert docs_assets().inline_scripts == []


def test_the_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out), stderr=io.StringIO())

    assert "/api/v1/contracts/" in out.read_text()
