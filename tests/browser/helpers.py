"""Helpers for the browser tests: axe-core checks, console errors, screenshots."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.conf import settings

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SCREENSHOT_DIR = Path(os.environ.get("BROWSER_SCREENSHOTS", "/tmp/browser-screenshots"))

# The site's Content-Security-Policy (script-src 'self', no 'unsafe-inline') refuses the inline
# <script> that ``add_script_tag(path=...)`` would write, so axe-core is added as a script tag
# whose same-origin URL Playwright answers with the file from node_modules. The page's CSP stays
# on: the tests see the site exactly as users do.
AXE_URL_PATH = "/__browser-tests__/axe.min.js"

# Chromium asks every site for /favicon.ico; the 404 it logs is not an error of the page.
IGNORED_CONSOLE_URLS = ("/favicon.ico",)
GOVUK_FRONTEND_ERROR = re.compile(
    r"GOVUKFrontendError|SupportError|ElementError|ConfigError|GOV\.UK Frontend"
)


def axe_script() -> Path:
    return Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"


def record_console_errors(page) -> list[str]:
    """Collect console errors and uncaught exceptions of the page (CSP violations are errors)."""
    errors: list[str] = []

    def on_console(message):
        # GOV.UK Frontend reports a failed start with console.log, not console.error.
        if message.type != "error" and not GOVUK_FRONTEND_ERROR.search(message.text):
            return
        source = (message.location or {}).get("url", "")
        if source.endswith(IGNORED_CONSOLE_URLS):
            return
        errors.append(f"{message.text} [{source or page.url}]")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"Uncaught {error} [{page.url}]"))
    return errors


def assert_no_console_errors(page) -> None:
    errors = page.console_errors
    assert not errors, "Console errors (Content-Security-Policy violations show here):\n" + "\n".join(errors)


def _serve_axe(page) -> None:
    if getattr(page, "_axe_routed", False):
        return
    body = axe_script().read_bytes()
    page.route(
        f"**{AXE_URL_PATH}",
        lambda route: route.fulfill(status=200, body=body, content_type="text/javascript; charset=utf-8"),
    )
    page._axe_routed = True


def axe_violations(page) -> list[dict]:
    _serve_axe(page)
    # A click on a link returns once the navigation has started; the new document may not have a
    # <head> yet to take the script tag. Check the page that has loaded, not the one in between.
    page.wait_for_load_state("load")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE_URL_PATH)
    return page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({
                    target: n.target.join(" "), html: n.html, summary: n.failureSummary,
                })),
            }));
        }""",
        AXE_TAGS,
    )


def format_violations(violations: list[dict], where: str) -> str:
    lines = [f"{len(violations)} accessibility violation(s) on {where}:"]
    for violation in violations:
        lines.append(
            f"- [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})"
        )
        for node in violation["nodes"]:
            lines.append(f"    at {node['target']}: {node['html'][:160]}")
            lines.extend(f"      {line}" for line in (node["summary"] or "").splitlines())
    return "\n".join(lines)


def assert_accessible(page, name: str = "") -> None:
    """Run axe-core on the page as it is now; fail listing every WCAG 2.x A/AA violation."""
    violations = axe_violations(page)
    if violations:
        pytest.fail(
            format_violations(violations, f"{name} ({page.url})" if name else page.url), pytrace=False
        )


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG (for people checking the layout; the tests do not compare images)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
