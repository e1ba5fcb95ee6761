"""Prerequisites a test needs: skipped with a reason on a developer's machine, failed in CI.

quality.md: no test is skipped silently in CI. ``.ci/run`` sets ``CI=true``; there a missing
prerequisite (Chromium for the browser tests, ``redis-server`` for the broker-outage test, Redis for
the shared cache) is a failure, elsewhere a skip with the reason."""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def skip_or_fail_in_ci(message: str, *, in_ci_because: str) -> None:
    """Skip the test with ``message``, or in CI fail it, saying why it must run there."""
    __tracebackhide__ = True  # report the test (or fixture) that asked, not this line
    if in_ci():
        pytest.fail(f"{message}: {in_ci_because}", pytrace=False)
    pytest.skip(message)
