"""The security tests' shared scene (``world``) comes from ``tests/security/world.py``."""

import pytest

from tests.security.world import world_fixture

world = world_fixture("world")


@pytest.fixture(autouse=True)
def _world_files(request, settings):
    """A test using the world reads its kept files (invoice PDFs, packs, appendices) where the world
    wrote them, not in the per-test folders of tests/conftest.py."""
    if "world" in request.fixturenames:
        w = request.getfixturevalue("world")
        settings.PDF_ROOT, settings.MEDIA_ROOT = w["pdf_root"], w["media_root"]
