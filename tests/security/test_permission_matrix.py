"""The permission matrix of the whole product (security.md, api.md, each app's roles.py).

Every route the URL resolver knows (web pages, public pages, API endpoints and their custom
actions, file downloads and exports) is asked by every role of the home partnership, by a user of
another partnership holding every role but administrator, by a board member of another board of
the same partnership, and by nobody signed in. The answer each should get is not written out case
by case: it is worked out from

- the roles tables (``<app>/roles.py``): the role lacks the model permission the route needs: 403;
- the object's scope: it belongs to a partnership not granted to the user, or it is exempt
  governance content (Part 2 items, private papers, exempt appendices and decisions, members'
  packs) and the user is neither a member of that board nor a board secretary: 404;
- anonymous: the sign-in page for the web, 401 for the API; public routes answer everyone alike;
- otherwise the route's own success answer.

Unsafe requests (POST, PATCH, DELETE) are sent too. Each request runs in a savepoint that is rolled
back, and a refused request must write nothing: the database's own per-transaction counters
(``pg_stat_xact_user_tables``) must not move. A route the resolver knows and the table below does
not fails ``test_every_route_and_method_has_an_entry``.

The engine (profiles, ``Case``, the expected answers) is ``tests/security/matrix.py``; the cases are
each app's ``tests/<app>/permission_cases.py``.
"""

from __future__ import annotations

import copy
from urllib.parse import urlencode

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from commissioning.api.versions import is_versioned
from tests.brokerage.permission_cases import cases as brokerage_cases
from tests.budgets.permission_cases import cases as budgets_cases
from tests.commissioning.permission_cases import cases as commissioning_cases
from tests.governance.permission_cases import cases as governance_cases
from tests.security.matrix import ANONYMOUS, LOGIN, PROFILES, Case, Pk

pytestmark = pytest.mark.django_db


CASES: list[Case] = [
    *commissioning_cases(),
    *budgets_cases(),
    *brokerage_cases(),
    *governance_cases(),
]

# --- how it is asked -----------------------------------------------------------------------------

# Tables a refused request may still touch: the session, the API key's last use, lockout records.
IGNORED_TABLES = (
    "django_session",
    "commissioning_apitoken",
    "axes_accessattempt",
    "axes_accesslog",
    "axes_accessfailurelog",
)


def rows_written() -> int:
    """Rows inserted, updated or deleted so far in this transaction, savepoints rolled back included
    (the counters behind ``pg_stat_xact_user_tables``, read directly: the view is slower)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(pg_stat_get_xact_tuples_inserted(c.oid)"
            " + pg_stat_get_xact_tuples_updated(c.oid) + pg_stat_get_xact_tuples_deleted(c.oid)), 0)"
            " FROM pg_class c WHERE c.relkind IN ('r', 'p')"
            " AND c.relnamespace = 'public'::regnamespace AND c.relname <> ALL(%s)",
            [list(IGNORED_TABLES)],
        )
        return int(cursor.fetchone()[0])


@pytest.fixture(scope="module")
def callers(world, django_db_blocker):
    """profile -> (web client signed in, API client with a real key); anonymous: neither signed in."""
    out = {}
    with django_db_blocker.unblock():
        for profile in PROFILES:
            browser, machine = Client(), APIClient()
            if profile != ANONYMOUS:
                browser.force_login(world["users"][profile])
                machine.credentials(HTTP_AUTHORIZATION=f"Token {world['tokens'][profile]}")
            out[profile] = (browser, machine)
    return out


def url_of(case: Case, world) -> str:
    def value(v):
        return v[0] if isinstance(v, tuple) else world[v].pk

    url = reverse(case.route, kwargs={k: value(v) for k, v in case.kwargs.items()})
    if case.query:
        url += "?" + urlencode({k: value(v) for k, v in case.query.items()})
    return url


def if_match(case: Case, world) -> dict:
    """Edits of a versioned object name the version they were made from (api.md): the current one."""
    target = world.get(case.kwargs.get("pk")) if isinstance(case.kwargs.get("pk"), str) else None
    if target is None or not is_versioned(type(target)):
        return {}
    version = type(target)._default_manager.filter(pk=target.pk).values_list("version", flat=True).first()
    return {"HTTP_IF_MATCH": f'"{version}"'} if version is not None else {}


def ask(case: Case, profile: str, world, callers):
    """Send the request in a savepoint that is rolled back; return (outcome, the write counter after).
    (The counter counts rows written in rolled-back savepoints too, and nothing else runs between
    two requests of a test, so each request's "before" is the last one's "after".)"""
    browser, machine = callers[profile]
    client = machine if case.api else browser
    cookies = copy.deepcopy(client.cookies)
    url = url_of(case, world)
    data = {k: (world[v.name].pk if isinstance(v, Pk) else v) for k, v in (case.data or {}).items()}
    with transaction.atomic():
        send = getattr(client, case.method.lower())
        if case.api and case.method != "GET":
            response = send(url, data, format="json", **if_match(case, world))
        elif case.method == "GET":
            response = send(url)
        else:
            response = send(url, data)
        after = rows_written()
        transaction.set_rollback(True)
    client.cookies = cookies
    status = response.status_code
    if status == 302 and response["Location"].startswith(reverse("accounts:login")):
        return LOGIN, after
    return status, after


REFUSED = {LOGIN, 401, 403, 404, 405}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_caller_gets_the_answer_the_roles_and_scope_give(case, world, callers, settings):
    problems = []
    counter = rows_written()
    for profile in case.profiles():
        outcome, after = ask(case, profile, world, callers)
        written, counter = after - counter, after
        expected = case.expected(profile)
        if outcome != expected and not (isinstance(expected, tuple) and outcome in expected):
            problems.append(f"{profile}: expected {expected}, got {outcome}")
        if not isinstance(expected, tuple) and expected in REFUSED and written:
            problems.append(f"{profile}: refused, yet {written} rows were written")
    assert not problems, f"{case.id}: " + "; ".join(problems)


@pytest.mark.parametrize(
    "route,kwargs",
    [
        ("governance:public-board", {"code": "BBB"}),
        ("governance:public-meeting", {"code": "BBB", "pk": "meeting"}),
        ("governance-api:public-board", {"code": "BBB"}),
    ],
)
def test_public_pages_show_no_exempt_content(world, route, kwargs):
    kwargs = {k: (world[v].pk if k == "pk" else v) for k, v in kwargs.items()}
    body = Client().get(reverse(route, kwargs=kwargs)).content.decode()

    assert "Public item" in body or "Public paper" in body or world["decision"].reference in body
    # The exempt item's heading and its exemption are published (as on a council agenda); its paper,
    # its appendices and its decision are not.
    for secret in ("Private paper", "Exempt appendix", world["exempt_decision"].reference):
        assert secret not in body


def test_the_write_counter_sees_a_write_that_was_rolled_back(world):
    """The "refused, yet rows were written" check can fail: a savepoint's write still counts."""
    from commissioning.models import Contract

    before = rows_written()
    with transaction.atomic():
        Contract.objects.filter(pk=world["contract"].pk).update(service="Changed")
        transaction.set_rollback(True)
    assert rows_written() - before >= 1  # the row, and its history row from the trigger


# --- completeness --------------------------------------------------------------------------------


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            if p.namespace == "admin":
                continue
            ns = f"{prefix}{p.namespace}:" if p.namespace else prefix
            yield from _walk(p.url_patterns, ns)
        elif isinstance(p, URLPattern):
            yield f"{prefix}{p.name}", p.callback


def supported_methods(callback) -> set[str]:
    actions = getattr(callback, "actions", None)
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if actions:  # a DRF viewset route: the methods it maps that the viewset allows
        return {m.upper() for m in actions if m in cls.http_method_names and m != "head"}
    from django.views.generic.edit import ProcessFormView

    return {
        m.upper()
        for m in cls.http_method_names
        if m not in ("head", "options", "trace")
        and hasattr(cls, m)
        # Django's form views answer PUT with their POST handler: asking POST asks both.
        and not (m == "put" and getattr(cls, "put", None) is ProcessFormView.put)
    }


def routes() -> dict[tuple[str, str], None]:
    return {
        (name, method): None
        for name, callback in _walk(get_resolver().url_patterns)
        for method in supported_methods(callback)
    }


def test_every_route_and_method_has_an_entry():
    covered = {(c.route, c.method) for c in CASES}
    missing = sorted(set(routes()) - covered)
    assert not missing, f"routes with no entry in the permission matrix: {missing}"
    stale = sorted(covered - set(routes()))
    assert not stale, f"entries for routes that no longer exist: {stale}"
