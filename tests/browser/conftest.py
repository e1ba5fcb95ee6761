"""Browser tests: Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

Without /usr/bin/chromium the tests are skipped with a reason, except in CI (``CI`` set), where
they fail: a browser test must never be skipped silently there (quality.md).

The ``page`` fixture records console errors and uncaught exceptions (a Content-Security-Policy
violation is reported as a console error); ``tests/browser/helpers.py`` checks them and runs axe.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import axe_script, record_console_errors
from tests.ci import skip_or_fail_in_ci

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the test
# itself (factories, assertions) are synchronous and safe here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

# Assertions wait as long as actions do (the context's 15 s below). At Playwright's default of 5 s,
# a click's next page, rendered by the live server on a loaded two-CPU machine, was once still
# loading when the heading was checked (test_agreement_journey, in a clean-clone run).
expect.set_options(timeout=15_000)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    if not CHROMIUM.exists():
        skip_or_fail_in_ci(
            f"{CHROMIUM} is missing: install Debian's chromium package to run the browser tests",
            in_ci_because="browser tests must run in CI",
        )
    if not axe_script().exists():
        pytest.fail(f"{axe_script()} is missing: run `npm ci` to install axe-core", pytrace=False)
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def browser(chromium_executable):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.console_errors = record_console_errors(page)
    yield page
    context.close()
