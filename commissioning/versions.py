"""Version counters per *scope*, and blocks of pages cached under the versions of what they read
(issue 14: "fragment caching keyed on the objects' versions for the heavy blocks").

A scope ("budgets", "governance", "permissions", "packages", "brokerage") names a family of
tables. Every table of a scope carries a statement-level trigger (``FOR EACH STATEMENT``,
migrations ``commissioning.0006_version_counters`` and ``0008_brokerage_version_scope``) that adds
one to the scope's counter in ``commissioning_version``: a bulk write of a thousand rows costs one
bump, and a transaction bumps each scope at most once (a transaction-local setting remembers it).
The counter is transactional: readers see the bump when the writer commits, not before, and a
rolled-back write never bumps.

Writers never queue behind one another: a scope's counter is spread over several rows (stripes), a
transaction bumps one no other writer holds (``FOR UPDATE SKIP LOCKED``, a new one when all are
held), and the version of a scope is the sum of its rows. Every committed write adds one, nothing
ever subtracts, so the sum only grows and two reads of the same sum saw the same committed writes of
that scope.

``cached(name, scopes=..., parts=..., build=...)`` reads the versions of the block's scopes in one
query *before* ``build`` reads any data, and keeps what ``build`` returns in Django's cache under
the block's name, its versions and ``parts`` (the object ids and whatever of the request changes
the block: the user, the query, the day). Reading the versions first is what makes it safe: a
write that commits between the versions and the data can only make the cached value *newer* than
its key (the next request reads the bumped version and builds again), never older. Read the other
way round, a write committing between the data and the versions would file stale data under the
new versions, and it would be served until the next write.

A transaction that has itself written to one of the block's scopes neither reads nor fills the
cache: its own uncommitted writes are in its data but not in any committed version (and may yet
be rolled back).

What to keep: the data or the rendered HTML of the heavy block, never a whole response (messages,
the CSRF token and the signed-in user's name stay live). A block with a form renders
``CSRF_PLACEHOLDER`` as its token and puts the request's own back with ``with_csrf``.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.middleware.csrf import get_token

T = TypeVar("T")

TIMEOUT = 60 * 60  # an entry whose versions moved on is never read again; it ages out

# The tables of each scope: a write to any of them changes the scope's version. A table may be in
# several scopes. Kept in step with the triggers by tests/commissioning/test_versions.py.
SCOPES: dict[str, tuple[str, ...]] = {
    # Agreements, schedules and their lines, positions, virements, feeds, funded contracts, and the
    # organisations and partnerships they name.
    "budgets": (
        "budgets_section75agreement",
        "budgets_schedule",
        "budgets_schedulefixedshare",
        "budgets_fundingstream",
        "budgets_budgetline",
        "budgets_monthlyposition",
        "budgets_virement",
        "budgets_linefeed",
        "budgets_contractschedule",
        "commissioning_contract",
        "commissioning_provider",
        "commissioning_organisation",
        "commissioning_partnership",
    ),
    # Boards, their members, meetings (a held meeting locks the positions it received), items,
    # decisions and what they link to.
    "governance": (
        "governance_board",
        "governance_membership",
        "governance_meeting",
        "governance_agendaitem",
        "governance_decision",
        "governance_decisionlink",
    ),
    # Who may see what: roles (groups and their permissions), direct permissions, partnership
    # grants, django-guardian's object permissions, a user's flags and names, a person's user.
    "permissions": (
        "auth_group_permissions",
        "commissioning_user_groups",
        "commissioning_user_user_permissions",
        "commissioning_partnershipgrant",
        "guardian_userobjectpermission",
        "guardian_groupobjectpermission",
        "commissioning_user",
        "commissioning_person",
    ),
    # What packages cost (budget lines fed by packages read them through brokerage's cost feed).
    "packages": (
        "brokerage_client",
        "brokerage_package",
        "brokerage_packagecost",
        "brokerage_fundingsplit",
        "brokerage_fundingshare",
        "brokerage_suspension",
        "commissioning_provider",
        "commissioning_organisation",
    ),
    # The rest of what the brokerage pages read (the referral queue, a package's page): referrals
    # and their offers, price changes, funding panel decisions, and the partnerships whose
    # councils and NHS commissioners the queue's funder filter offers.
    "brokerage": (
        "brokerage_referral",
        "brokerage_offer",
        "brokerage_pricechange",
        "brokerage_paneldecision",
        "commissioning_partnership",
    ),
}

# Updates of these columns only bump "permissions" on the user table: a sign-in writes
# ``last_login`` and must not empty every cache.
USER_COLUMNS = ("username", "first_name", "last_name", "is_active", "is_superuser", "is_staff")


def tracked_tables() -> dict[str, list[str]]:
    """Each tracked table with the scopes its trigger bumps, in a fixed order."""
    out: dict[str, list[str]] = {}
    for scope, tables in SCOPES.items():
        for table in tables:
            out.setdefault(table, []).append(scope)
    return out


def current(scopes: Iterable[str]) -> dict[str, int] | None:
    """The committed versions of ``scopes``, in one query; None when this transaction has written
    to one of them itself (its data is then not what those versions describe)."""
    read = _read(scopes)
    return None if read is None else read[1]


def _read(scopes: Iterable[str]) -> tuple[int, dict[str, int]] | None:
    """The database's identity (its oid) and the committed versions of ``scopes``, in one query;
    None when this transaction has written to one of them."""
    scopes = sorted(set(scopes))
    unknown = set(scopes) - SCOPES.keys()
    if unknown:
        raise ValueError(f"unknown version scopes: {sorted(unknown)}")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT s.scope,
                   COALESCE((SELECT sum(v.version) FROM commissioning_version v WHERE v.scope = s.scope), 0),
                   COALESCE(current_setting('commissioning.bumped_' || s.scope, true)
                            = txid_current_if_assigned()::text, false),
                   (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
              FROM unnest(%s::text[]) AS s(scope)
            """,
            [scopes],
        )
        rows = cursor.fetchall()
    if any(dirty for _scope, _version, dirty, _oid in rows):
        return None
    return int(rows[0][3]) if rows else 0, {scope: int(version) for scope, version, _dirty, _oid in rows}


def key(name: str, versions: dict[str, int], parts: Iterable[Any], database: int = 0) -> str:
    """The cache key of a block: its name, its scopes' versions, the parts that vary it, and what
    the versions are counted in and drawn by: the database (its oid: one rebuilt under the same name
    counts from nought again, and would meet the old database's entries) and this code (a deploy
    changes the templates; a shared cache outlives the processes that filled it)."""
    digest = hashlib.sha256(
        repr((database, code_fingerprint(), sorted(versions.items()), tuple(parts))).encode()
    ).hexdigest()[:32]
    return f"block:{name}:{digest}"


# What the fingerprint of the code reads: the project's apps and templates (their Python, templates
# and text), and the version of Django (its widgets' templates draw forms).
_CODE_DIRS = ("commissioning", "budgets", "brokerage", "governance", "templates")
_CODE_SUFFIXES = {".py", ".html", ".txt", ".jinja", ".svg"}


@functools.cache
def code_fingerprint() -> str:
    """A digest of the code that draws the blocks, made once per process."""
    import django

    root = Path(settings.BASE_DIR)
    digest = hashlib.blake2b(django.get_version().encode(), digest_size=16)
    for folder in _CODE_DIRS:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in _CODE_SUFFIXES and "__pycache__" not in path.parts and path.is_file():
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


_MISSING = object()


def cached(
    name: str, *, scopes: Iterable[str], parts: Iterable[Any], build: Callable[[], T], timeout: int = TIMEOUT
) -> T:
    """``build()``, kept in the cache under the versions of ``scopes`` (read first, see above) and
    ``parts``. ``parts`` must hold everything besides those tables that changes what ``build``
    returns (the user or their permissions, the query, today's date); their ``repr`` is hashed."""
    read = _read(scopes)
    if read is None:
        return build()
    database, versions = read
    block_key = key(name, versions, parts, database)
    value = cache.get(block_key, _MISSING)
    if value is not _MISSING:
        return value
    # One build per key at a time in this process: requests arriving while it is built wait for it
    # and take it from the cache, rather than each building the same block again.
    with _guard:
        lock = _building.setdefault(block_key, threading.Lock())
    try:
        with lock:
            value = cache.get(block_key, _MISSING)
            if value is _MISSING:
                value = build()
                cache.set(block_key, value, timeout)
    finally:
        with _guard:
            if _building.get(block_key) is lock:
                del _building[block_key]
    return value


_guard = threading.Lock()
_building: dict[str, threading.Lock] = {}


# The CSRF token of a cached block's forms: rendered as this placeholder, replaced by the request's
# own token on the way out (a cached token would be another session's).
CSRF_PLACEHOLDER = "__csrf_token_of_the_request__"


def with_csrf(html: str, request) -> str:
    """A cached block's HTML with the request's CSRF token in its forms."""
    if CSRF_PLACEHOLDER not in html:
        return html
    return html.replace(CSRF_PLACEHOLDER, get_token(request))
