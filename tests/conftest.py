import os

import pytest
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient

from commissioning import roles
from tests.commissioning.factories import PartnershipFactory, UserFactory

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.register_profile(
    "dev", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    """Users are made by the hundred; the production hasher (PBKDF2, a million rounds) would spend
    minutes of the suite on it. Password checks behave the same with the fast hasher."""
    from django.conf import settings as django_settings

    saved = django_settings.PASSWORD_HASHERS
    django_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    yield
    django_settings.PASSWORD_HASHERS = saved


@pytest.fixture(scope="session", autouse=True)
def _fast_flush():
    """Tests that commit (``transaction=True``, every browser test through ``live_server``) end with
    Django's flush: one ``TRUNCATE`` of all 150-odd tables, which makes new files for every table and
    index and took 2.8 s on this machine even with the tables empty (7 s under load): most of the
    suite's time. ``DELETE`` from each table with triggers off (``session_replication_role =
    replica``: TRUNCATE fires no row triggers either) leaves the same empty tables in 0.2 s; the
    statement triggers TRUNCATE did fire, the version counters', are stood in for by one bump of
    every scope. Setting that role needs a superuser (CI's ``postgres``); other roles keep TRUNCATE."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or not tables or not _superuser(self.connection):
            return truncate(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return [
            "SET LOCAL session_replication_role = replica",
            *(f"DELETE FROM {self.quote_name(table)}" for table in tables),
            "SET LOCAL session_replication_role = origin",
            bump_every_version(),
        ]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = truncate


def bump_every_version() -> str:
    """The version counters (commissioning/versions.py) count every committed write of their tables
    through statement triggers, TRUNCATE included; the DELETEs above fire none. Without a bump, a
    block kept before the flush would still match the versions of the emptied tables."""
    from commissioning.versions import SCOPES

    scopes = ", ".join(f"'{scope}'" for scope in sorted(SCOPES))
    return (
        "INSERT INTO commissioning_version AS v (scope, stripe, version) "
        f"SELECT unnest(ARRAY[{scopes}]), 0, 1 "
        "ON CONFLICT (scope, stripe) DO UPDATE SET version = v.version + 1"
    )


def _superuser(connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('is_superuser') = 'on'")
        return cursor.fetchone()[0]


@pytest.fixture(autouse=True)
def _private_file_roots(request, settings, tmp_path_factory):
    """Uploads and generated PDFs go to folders of this test's own, never to var/.

    Files are named after database ids, so tests in parallel processes (pytest-xdist), each with a
    test database of its own, would otherwise overwrite each other's PDFs and appendices.
    """
    if "world" in request.fixturenames:  # the shared scene (tests/security/world.py) has its own
        world = request.getfixturevalue("world")
        settings.PDF_ROOT, settings.MEDIA_ROOT = world["pdf_root"], world["media_root"]
        return
    root = tmp_path_factory.mktemp("files")
    settings.MEDIA_ROOT = root / "media"
    settings.PDF_ROOT = root / "pdfs"


@pytest.fixture
def empty_cache():
    """Django's cache emptied before and after the test (this test database's keys alone; see
    commissioning/cache.py): for tests of page blocks kept under versions."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def partnership(db):
    return PartnershipFactory(name="Bromley")


@pytest.fixture
def other_partnership(db):
    return PartnershipFactory(name="Elsewhere")


@pytest.fixture
def make_user(db):
    """make_user(role=roles.COMMISSIONER, partnerships=[p]) -> a user holding that role there."""

    def _make(role=None, partnerships=(), **kwargs):
        return UserFactory(role=role, partnerships=list(partnerships), **kwargs)

    return _make


@pytest.fixture
def commissioner(make_user, partnership):
    return make_user(roles.COMMISSIONER, [partnership])


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api_as():
    """api_as(user) -> an APIClient authenticated as that user with a real hashed token."""
    from commissioning.services import api_token_create

    def _as(user):
        client = APIClient()
        _token, key = api_token_create(user=user, name="test")
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return _as


# --- Tallies in the terminal summary (tests/tally.py) -----------------------------------------------

_TALLIES: dict[str, dict] = {}


def pytest_sessionfinish(session):
    from tests import tally

    if hasattr(session.config, "workeroutput"):  # an xdist worker: hand the counts to the controller
        session.config.workeroutput["tallies"] = tally.collected()
    else:
        tally.merge(_TALLIES, tally.collected())


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    from tests import tally

    tally.merge(_TALLIES, getattr(node, "workeroutput", {}).get("tallies", {}))


def pytest_terminal_summary(terminalreporter):
    from tests import tally

    if _TALLIES:
        terminalreporter.section("tallies")
        for line in tally.lines(_TALLIES):
            terminalreporter.write_line(line)
