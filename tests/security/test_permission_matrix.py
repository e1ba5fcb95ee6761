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
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from commissioning import roles
from commissioning.roles import ROLE_PERMISSIONS as _CORE_TABLE  # noqa: F401 - imported for its side: tables load

pytestmark = pytest.mark.django_db

# --- who asks ------------------------------------------------------------------------------------

ANONYMOUS = "anonymous"
PROFILES = (
    "commissioner",
    "broker",
    "brokerage_manager",
    "finance_officer",
    "board_secretary",
    "board_member",
    "auditor",
    "administrator",
    "other_partnership",
    "member_of_other_board",
    ANONYMOUS,
)
PROFILE_ROLES = {
    "commissioner": {roles.COMMISSIONER},
    "broker": {roles.BROKER},
    "brokerage_manager": {roles.BROKERAGE_MANAGER},
    "finance_officer": {roles.FINANCE_OFFICER},
    "board_secretary": {roles.BOARD_SECRETARY},
    "board_member": {roles.BOARD_MEMBER},
    "auditor": {roles.AUDITOR},
    "administrator": {roles.ADMINISTRATOR},
    "other_partnership": set(roles.ROLES) - {roles.ADMINISTRATOR},
    "member_of_other_board": {roles.BOARD_MEMBER},
}


def role_grants() -> dict[str, set[str]]:
    """role -> {"app.action_model"} straight from every app's roles.py table."""
    from commissioning.roles import _app_role_tables

    grants: dict[str, set[str]] = {role: set() for role in roles.ROLES}
    for app_label, table in _app_role_tables():
        for role, models in table.items():
            for model_name, actions in models.items():
                grants[role].update(f"{app_label}.{action}_{model_name}" for action in actions.split())
    return grants


GRANTS = None


def holds(profile: str, perm: str) -> bool:
    global GRANTS  # noqa: PLW0603 - computed once, after Django is set up
    if GRANTS is None:
        GRANTS = role_grants()
    if profile == "administrator":  # a superuser (security.md)
        return True
    return any(perm in GRANTS[role] for role in PROFILE_ROLES[profile])


def sees(profile: str, scope: str) -> bool:
    """May this profile see an object of this scope, its role permitting?"""
    if scope.startswith("own:"):  # e.g. an API key: its owner only (administrators included)
        return profile == scope[4:]
    if profile == "administrator" or scope in ("", "shared"):
        return True
    if scope == "home":
        return profile != "other_partnership"
    if scope == "exempt":  # that board's members and the board secretaries of its partnership
        return profile in ("board_member", "board_secretary")
    raise AssertionError(scope)


# --- what is asked -------------------------------------------------------------------------------

LOGIN = "login"  # a redirect to the sign-in page


@dataclass(frozen=True)
class Case:
    route: str
    method: str = "GET"
    kwargs: dict = field(default_factory=dict)  # url kwargs: world keys, or literals in a tuple ("csv",)
    needs: tuple[str, ...] = ()  # every one of these permissions ("app.action_model")
    scope: str = ""  # "", "shared", "home", "exempt", "own:<profile>"
    ok: object = 200  # a status, LOGIN, or a tuple of statuses any of which is right
    api: bool = False
    public: bool = False  # answers everyone, signed in or not, the same
    data: dict | None = None
    query: dict = field(default_factory=dict)  # query string: world keys, or literals in a tuple
    anon_ok: object = None  # public routes that answer the signed-in differently (the sign-in page)
    only: frozenset[str] | None = None  # further narrowed to these profiles (by the spec), else 403
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.method} {self.route}{'[' + self.label + ']' if self.label else ''}"

    def profiles(self) -> tuple[str, ...]:
        """Everyone; the member of another board differs from a board member only on exempt content.
        A public route answers every role alike: nobody, someone inside and someone outside suffice
        (the schema takes seconds to generate)."""
        if self.public:
            return (ANONYMOUS, "board_member", "other_partnership")
        if self.scope == "exempt":
            return PROFILES
        return tuple(p for p in PROFILES if p != "member_of_other_board")

    def expected(self, profile: str):
        if self.public:
            return self.anon_ok if profile == ANONYMOUS and self.anon_ok is not None else self.ok
        if profile == ANONYMOUS:
            return 401 if self.api else LOGIN
        if not all(holds(profile, perm) for perm in self.needs):
            return 403
        if not sees(profile, self.scope):
            return 404
        if self.only is not None and profile not in self.only:  # visible, but not theirs to do: 403
            return 403
        return self.ok


def web(route, method="GET", needs=(), scope="", ok=None, **kw):
    ok = ok if ok is not None else 200
    return Case(route, method, needs=tuple(needs), scope=scope, ok=ok, **kw)


def api(route, method="GET", needs=(), scope="", ok=None, **kw):
    if ok is None:
        ok = {"GET": 200, "POST": 400, "PATCH": 200, "DELETE": 204}[method]
    return Case(route, method, needs=tuple(needs), scope=scope, ok=ok, api=True, **kw)


def perm(app: str, action: str, model: str) -> str:
    return f"{app}.{action}_{model}"


def crud(
    app: str,
    model: str,
    route: str,
    pk: str,
    scope: str,
    *,
    ns: str = "",
    post_ok=400,
    delete_ok=204,
    delete_needs=None,
    delete_only=None,
    patch_ok=200,
    label_pk: str = "",
    list_methods=("GET", "POST"),
    detail_methods=("GET", "PATCH", "DELETE"),
):
    """The standard router routes of one API resource (list + detail)."""
    name = f"{ns}{route}"
    view = perm(app, "view", model)
    cases = []
    if "GET" in list_methods:
        cases.append(api(f"{name}-list", needs=[view]))
    if "POST" in list_methods:
        cases.append(api(f"{name}-list", "POST", needs=[view, perm(app, "add", model)], ok=post_ok, data={}))
    kw = {"pk": pk}
    if "GET" in detail_methods:
        cases.append(api(f"{name}-detail", kwargs=kw, needs=[view], scope=scope, label=label_pk))
    if "PATCH" in detail_methods:
        cases.append(
            api(
                f"{name}-detail",
                "PATCH",
                kwargs=kw,
                needs=[view, perm(app, "change", model)],
                scope=scope,
                ok=patch_ok,
                data={},
                label=label_pk,
            )
        )
    if "DELETE" in detail_methods:
        cases.append(
            api(
                f"{name}-detail",
                "DELETE",
                kwargs=kw,
                needs=delete_needs or [view, perm(app, "delete", model)],
                scope=scope,
                ok=delete_ok,
                only=delete_only,
                label=label_pk,
            )
        )
    return cases


C, B, K, G = "commissioning", "budgets", "brokerage", "governance"
NOBODY: frozenset[str] = frozenset()  # ``only=NOBODY``: refused to every role, administrators too


@dataclass(frozen=True)
class Pk:
    """A form or JSON value: the primary key of a world object."""

    name: str


MANAGERS = frozenset({"brokerage_manager", "administrator", "other_partnership"})


def build_cases() -> list[Case]:  # noqa: PLR0915 - the table
    v, a, ch, d = "view", "add", "change", "delete"
    cases: list[Case] = [
        # --- signing in and the user's own pages -------------------------------------------------
        web("dashboard"),
        web("switch-partnership", "POST", ok=302, data={}),
        # Signed in, the sign-in page sends you on; signing out lands on the sign-in page.
        web("accounts:login", public=True, ok=302, anon_ok=200),
        web(
            "accounts:login",
            "POST",
            public=True,
            ok=302,
            anon_ok=200,
            data={"username": "nobody", "password": "wrong"},
        ),
        web("accounts:logout", "POST", public=True, ok=LOGIN),
        web("accounts:logout-confirm"),
        web("accounts:password-change"),
        web("accounts:password-change", "POST", data={}),
        web("accounts:password-change-done"),
        web("accounts:profile"),
        # Two-factor steps: a user who need not (and has not) set it up is sent on (commissioning/mfa.py).
        web("accounts:mfa-verify", ok=302),
        web("accounts:mfa-verify", "POST", ok=302, data={}),
        web("accounts:mfa-enrol"),
        web("accounts:mfa-enrol", "POST", ok=(200, 400), data={}),  # the form again, with its error
        web("accounts:token-create", "POST", ok=400, data={}),
        web("accounts:token-revoke", "POST", kwargs={"pk": "own_token"}, scope="own:commissioner", ok=302),
        # --- contract register ------------------------------------------------------------------
        web("contracts:list", needs=[perm(C, v, "contract")]),
        web("contracts:export", kwargs={"fmt": ("csv",)}, needs=[perm(C, v, "contract")], label="csv"),
        web("contracts:export", kwargs={"fmt": ("xlsx",)}, needs=[perm(C, v, "contract")], label="xlsx"),
        web("contracts:create", needs=[perm(C, a, "contract")]),
        web("contracts:create", "POST", needs=[perm(C, a, "contract")], data={}),
        web("contracts:detail", kwargs={"pk": "contract"}, needs=[perm(C, v, "contract")], scope="home"),
        web("contracts:edit", kwargs={"pk": "contract"}, needs=[perm(C, ch, "contract")], scope="home"),
        web(
            "contracts:edit",
            "POST",
            kwargs={"pk": "contract"},
            needs=[perm(C, ch, "contract")],
            scope="home",
            data={},
        ),
        web(
            "contracts:review-add",
            "POST",
            kwargs={"pk": "contract"},
            needs=[perm(C, v, "contract"), perm(C, a, "contractreview")],
            scope="home",
            data={},
        ),
        # --- audit trails (auditors and administrators) ------------------------------------------
        web("audit:index", needs=[perm(C, v, "audittrail")]),
        web("audit:history-export", needs=[perm(C, v, "audittrail")]),
        web("audit:access-log", needs=[perm(C, v, "audittrail"), perm(C, v, "accesslog")]),
        web("audit:access-log-export", needs=[perm(C, v, "audittrail"), perm(C, v, "accesslog")]),
        # --- budgets ----------------------------------------------------------------------------
        web("budgets:index", needs=[perm(B, v, "section75agreement")]),
        web("budgets:agreement-create", needs=[perm(B, a, "section75agreement")]),
        web("budgets:agreement-create", "POST", needs=[perm(B, a, "section75agreement")], data={}),
        web(
            "budgets:agreement-detail",
            kwargs={"pk": "agreement"},
            needs=[perm(B, v, "section75agreement")],
            scope="home",
        ),
        web(
            "budgets:agreement-edit",
            kwargs={"pk": "agreement"},
            needs=[perm(B, ch, "section75agreement")],
            scope="home",
        ),
        web(
            "budgets:agreement-edit",
            "POST",
            kwargs={"pk": "agreement"},
            needs=[perm(B, ch, "section75agreement")],
            scope="home",
            data={},
        ),
        web(
            "budgets:schedule-create",
            kwargs={"pk": "agreement"},
            needs=[perm(B, a, "schedule")],
            scope="home",
        ),
        web(
            "budgets:schedule-create",
            "POST",
            kwargs={"pk": "agreement"},
            needs=[perm(B, a, "schedule")],
            scope="home",
            data={},
        ),
        web(
            "budgets:stream-create",
            kwargs={"pk": "agreement"},
            needs=[perm(B, a, "fundingstream")],
            scope="home",
        ),
        web(
            "budgets:stream-create",
            "POST",
            kwargs={"pk": "agreement"},
            needs=[perm(B, a, "fundingstream")],
            scope="home",
            data={},
        ),
        web(
            "budgets:stream-edit",
            kwargs={"pk": "funding_stream"},
            needs=[perm(B, ch, "fundingstream")],
            scope="home",
        ),
        web(
            "budgets:stream-edit",
            "POST",
            kwargs={"pk": "funding_stream"},
            needs=[perm(B, ch, "fundingstream")],
            scope="home",
            data={},
        ),
        web(
            "budgets:schedule-detail", kwargs={"pk": "schedule"}, needs=[perm(B, v, "schedule")], scope="home"
        ),
        web(
            "budgets:schedule-history",
            kwargs={"pk": "schedule"},
            needs=[perm(B, v, "schedule")],
            scope="home",
        ),
        web(
            "budgets:schedule-edit", kwargs={"pk": "schedule"}, needs=[perm(B, ch, "schedule")], scope="home"
        ),
        web(
            "budgets:schedule-edit",
            "POST",
            kwargs={"pk": "schedule"},
            needs=[perm(B, ch, "schedule")],
            scope="home",
            data={},
        ),
        web(
            "budgets:schedule-export",
            kwargs={"pk": "schedule", "fmt": ("csv",)},
            needs=[perm(B, v, "schedule")],
            scope="home",
            label="csv",
        ),
        web(
            "budgets:schedule-export",
            kwargs={"pk": "schedule", "fmt": ("xlsx",)},
            needs=[perm(B, v, "schedule")],
            scope="home",
            label="xlsx",
        ),
        web("budgets:line-create", kwargs={"pk": "schedule"}, needs=[perm(B, a, "budgetline")], scope="home"),
        web(
            "budgets:line-create",
            "POST",
            kwargs={"pk": "schedule"},
            needs=[perm(B, a, "budgetline")],
            scope="home",
            data={},
        ),
        web(
            "budgets:line-edit",
            kwargs={"pk": "schedule", "line": "budget_line"},
            needs=[perm(B, ch, "budgetline")],
            scope="home",
        ),
        web(
            "budgets:line-edit",
            "POST",
            kwargs={"pk": "schedule", "line": "budget_line"},
            needs=[perm(B, ch, "budgetline")],
            scope="home",
            data={},
        ),
        web("budgets:import", kwargs={"pk": "schedule"}, needs=[perm(B, a, "budgetline")], scope="home"),
        web(
            "budgets:import",
            "POST",
            kwargs={"pk": "schedule"},
            needs=[perm(B, a, "budgetline")],
            scope="home",
            data={},
        ),
        web(
            "budgets:positions",
            kwargs={"pk": "schedule"},
            needs=[perm(B, a, "monthlyposition"), perm(B, ch, "monthlyposition")],
            scope="home",
        ),
        web(
            "budgets:positions",
            "POST",
            kwargs={"pk": "schedule"},
            needs=[perm(B, a, "monthlyposition"), perm(B, ch, "monthlyposition")],
            scope="home",
            data={},
        ),
        web(
            "budgets:positions-report",
            kwargs={"pk": "schedule"},
            needs=[perm(B, v, "schedule"), perm(B, ch, "monthlyposition")],
            scope="home",
        ),
        web(
            "budgets:positions-report",
            "POST",
            kwargs={"pk": "schedule"},
            needs=[perm(B, v, "schedule"), perm(B, ch, "monthlyposition")],
            scope="home",
            data={},
        ),
        web(
            "budgets:virement-create", kwargs={"pk": "schedule"}, needs=[perm(B, a, "virement")], scope="home"
        ),
        web(
            "budgets:virement-create",
            "POST",
            kwargs={"pk": "schedule"},
            needs=[perm(B, a, "virement")],
            scope="home",
            data={},
        ),
        web(
            "budgets:virement-approve",
            "POST",
            kwargs={"pk": "virement"},
            needs=[perm(B, ch, "virement")],
            scope="home",
            ok=302,
            data={},
        ),
        web(
            "budgets:virement-apply",
            "POST",
            kwargs={"pk": "virement"},
            needs=[perm(B, ch, "virement")],
            scope="home",
            ok=302,
            data={},
        ),
        web("budgets:summary", kwargs={"pk": "partnership"}, needs=[perm(B, v, "schedule")], scope="home"),
        # --- brokerage --------------------------------------------------------------------------
        web("brokerage:index", needs=[perm(K, v, "referral")]),
        web(
            "brokerage:referral-create",
            needs=[perm(K, a, "referral")],
            query={"client": "client"},
            scope="home",
        ),
        web(
            "brokerage:referral-create",
            "POST",
            needs=[perm(K, a, "referral")],
            query={"client": "client"},
            scope="home",
            data={},
        ),
        web("brokerage:referral", kwargs={"pk": "referral"}, needs=[perm(K, v, "referral")], scope="home"),
        web(
            "brokerage:referral-claim",
            "POST",
            kwargs={"pk": "referral"},
            needs=[perm(K, ch, "referral")],
            scope="home",
            ok=302,
        ),
        web(
            "brokerage:referral-assign",
            "POST",
            kwargs={"pk": "referral"},
            needs=[perm(K, ch, "referral")],
            scope="home",
            ok=302,
            only=MANAGERS,
        ),
        web(
            "brokerage:referral-sourcing",
            "POST",
            kwargs={"pk": "referral"},
            needs=[perm(K, ch, "referral")],
            scope="home",
            ok=302,
        ),
        web(
            "brokerage:referral-cancel",
            "POST",
            kwargs={"pk": "referral"},
            needs=[perm(K, ch, "referral")],
            scope="home",
            ok=302,
        ),
        web("brokerage:offer-create", kwargs={"pk": "referral"}, needs=[perm(K, a, "offer")], scope="home"),
        web(
            "brokerage:offer-create",
            "POST",
            kwargs={"pk": "referral"},
            needs=[perm(K, a, "offer")],
            scope="home",
            data={},
        ),
        web(
            "brokerage:offer-approve",
            "POST",
            kwargs={"pk": "offer"},
            needs=[perm(K, "approve", "offer")],
            scope="home",
            ok=302,
        ),
        web(
            "brokerage:offer-decline",
            "POST",
            kwargs={"pk": "offer"},
            needs=[perm(K, ch, "offer")],
            scope="home",
            ok=302,
        ),
        web(
            "brokerage:offer-accept",
            kwargs={"pk": "offer"},
            needs=[perm(K, ch, "offer"), perm(K, a, "package")],
            scope="home",
        ),
        web(
            "brokerage:offer-accept",
            "POST",
            kwargs={"pk": "offer"},
            needs=[perm(K, ch, "offer"), perm(K, a, "package")],
            scope="home",
            data={},
        ),
        web("brokerage:packages", needs=[perm(K, v, "package")]),
        web("brokerage:package", kwargs={"pk": "package"}, needs=[perm(K, v, "package")], scope="home"),
        *[
            c
            for route in ("package-change-cost", "package-change-funding", "package-end")
            for c in (
                web(
                    f"brokerage:{route}",
                    kwargs={"pk": "package"},
                    needs=[perm(K, ch, "package")],
                    scope="home",
                ),
                web(
                    f"brokerage:{route}",
                    "POST",
                    kwargs={"pk": "package"},
                    needs=[perm(K, ch, "package")],
                    scope="home",
                    data={},
                ),
            )
        ],
        web(
            "brokerage:package-status",
            "POST",
            kwargs={"pk": "package"},
            needs=[perm(K, ch, "package")],
            scope="home",
            ok=302,
            data={},
        ),
        web("brokerage:panel-decisions", needs=[perm(K, v, "paneldecision")]),
        web(
            "brokerage:panel-decision-create",
            needs=[perm(K, a, "paneldecision")],
            query={"client": "client"},
            scope="home",
        ),
        web(
            "brokerage:panel-decision-create",
            "POST",
            needs=[perm(K, a, "paneldecision")],
            query={"client": "client"},
            scope="home",
            data={},
        ),
        web(
            "brokerage:panel-decision",
            kwargs={"pk": "panel_decision"},
            needs=[perm(K, v, "paneldecision")],
            scope="home",
        ),
        web(
            "brokerage:panel-decision",
            "POST",
            kwargs={"pk": "panel_decision"},
            needs=[perm(K, ch, "paneldecision")],
            scope="home",
            data={},
            only=MANAGERS,
        ),
        web("brokerage:clients", needs=[perm(K, v, "client")]),
        web("brokerage:client-create", needs=[perm(K, a, "client")]),
        web("brokerage:client-create", "POST", needs=[perm(K, a, "client")], data={}),
        web("brokerage:client", kwargs={"pk": "client"}, needs=[perm(K, v, "client")], scope="home"),
        web("brokerage:client-edit", kwargs={"pk": "client"}, needs=[perm(K, ch, "client")], scope="home"),
        web(
            "brokerage:client-edit",
            "POST",
            kwargs={"pk": "client"},
            needs=[perm(K, ch, "client")],
            scope="home",
            data={},
        ),
        web("brokerage:rate-cards", needs=[perm(K, v, "ratecard")]),
        web("brokerage:rate-card-create", needs=[perm(K, a, "ratecard")]),
        web("brokerage:rate-card-create", "POST", needs=[perm(K, a, "ratecard")], data={}),
        web(
            "brokerage:rate-card-edit",
            kwargs={"pk": "rate_card"},
            needs=[perm(K, ch, "ratecard")],
            scope="home",
        ),
        web(
            "brokerage:rate-card-edit",
            "POST",
            kwargs={"pk": "rate_card"},
            needs=[perm(K, ch, "ratecard")],
            scope="home",
            data={},
        ),
        web("brokerage:market", needs=[perm(K, v, "ratecard"), perm(K, v, "package")]),
        web("brokerage:timeliness", needs=[perm(K, v, "referral")]),
        # --- finance ----------------------------------------------------------------------------
        web("finance:index", needs=[perm(K, v, "invoice")]),
        web("finance:run-create", needs=[perm(K, a, "rechargerun")]),
        web("finance:run-create", "POST", needs=[perm(K, a, "rechargerun")], data={}),
        web("finance:run", kwargs={"pk": "recharge_run"}, needs=[perm(K, v, "rechargerun")], scope="home"),
        web("finance:invoices", needs=[perm(K, v, "invoice")]),
        web("finance:invoice", kwargs={"pk": "invoice"}, needs=[perm(K, v, "invoice")], scope="home"),
        web(
            "finance:invoice-issue",
            "POST",
            kwargs={"pk": "draft_invoice"},
            needs=[perm(K, ch, "invoice")],
            scope="home",
            ok=302,
        ),
        web(
            "finance:invoice-delete",
            "POST",
            kwargs={"pk": "draft_invoice"},
            needs=[perm(K, d, "invoice")],
            scope="home",
            ok=302,
        ),
        web(
            "finance:invoice-pdf",
            kwargs={"pk": "invoice"},
            needs=[perm(K, v, "invoice")],
            scope="home",
            label="invoice",
        ),
        web(
            "finance:invoice-pdf",
            kwargs={"pk": "credit_note"},
            needs=[perm(K, v, "invoice")],
            scope="home",
            label="credit note",
        ),
        web("finance:payment-create", kwargs={"pk": "invoice"}, needs=[perm(K, a, "payment")], scope="home"),
        web(
            "finance:payment-create",
            "POST",
            kwargs={"pk": "invoice"},
            needs=[perm(K, a, "payment")],
            scope="home",
            data={},
        ),
        web("finance:dispute-create", kwargs={"pk": "invoice"}, needs=[perm(K, a, "dispute")], scope="home"),
        web(
            "finance:dispute-create",
            "POST",
            kwargs={"pk": "invoice"},
            needs=[perm(K, a, "dispute")],
            scope="home",
            data={},
        ),
        web("finance:disputes", needs=[perm(K, v, "dispute")]),
        web(
            "finance:dispute-resolve",
            "POST",
            kwargs={"pk": "dispute"},
            needs=[perm(K, ch, "dispute")],
            scope="home",
            ok=302,
            data={},
        ),
        web("finance:report", needs=[perm(K, v, "invoice")]),
        web("finance:aged-debt", needs=[perm(K, v, "invoice")]),
        web("finance:balances", needs=[perm(K, v, "invoice")]),
        # --- governance -------------------------------------------------------------------------
        web("governance:index", needs=[perm(G, v, "board")]),
        web("governance:board", kwargs={"pk": "board"}, needs=[perm(G, v, "board")], scope="home"),
        web(
            "governance:meeting-create",
            "POST",
            kwargs={"pk": "board"},
            needs=[perm(G, a, "meeting")],
            scope="home",
            data={},
        ),
        web("governance:paper-create", kwargs={"pk": "board"}, needs=[perm(G, a, "paper")], scope="home"),
        web(
            "governance:paper-create",
            "POST",
            kwargs={"pk": "board"},
            needs=[perm(G, a, "paper")],
            scope="home",
            data={},
        ),
        web("governance:meeting", kwargs={"pk": "meeting"}, needs=[perm(G, v, "meeting")], scope="home"),
        web(
            "governance:meeting-packs", kwargs={"pk": "meeting"}, needs=[perm(G, v, "meeting")], scope="home"
        ),
        web(
            "governance:pack-request",
            "POST",
            kwargs={"pk": "meeting"},
            needs=[perm(G, a, "boardpack")],
            scope="home",
            ok=302,
            data={"audience": "public"},
            label="public",
        ),
        web(
            "governance:pack-request",
            "POST",
            kwargs={"pk": "meeting"},
            needs=[perm(G, a, "boardpack")],
            scope="exempt",
            ok=302,
            data={"audience": "members"},
            label="members",
        ),
        web(
            "governance:item-add",
            "POST",
            kwargs={"pk": "meeting"},
            needs=[perm(G, a, "agendaitem")],
            scope="home",
            data={},
        ),
        web(
            "governance:minutes",
            "POST",
            kwargs={"pk": "meeting"},
            needs=[perm(G, a, "minutes")],
            scope="home",
            ok=302,
            data={},
        ),
        web(
            "governance:minutes-approve",
            "POST",
            kwargs={"pk": "later_meeting"},
            needs=[perm(G, ch, "minutes")],
            scope="home",
            ok=302,
            data={"minutes": Pk("minutes")},
        ),
        web(
            "governance:action-add",
            "POST",
            kwargs={"pk": "meeting"},
            needs=[perm(G, a, "action")],
            scope="home",
            data={},
        ),
        web(
            "governance:attendance",
            "POST",
            kwargs={"pk": "meeting"},
            needs=[perm(G, a, "attendance")],
            scope="home",
            data={},
        ),
        web(
            "governance:item",
            kwargs={"pk": "item"},
            needs=[perm(G, v, "agendaitem")],
            scope="home",
            label="public",
        ),
        web(
            "governance:item",
            kwargs={"pk": "exempt_item"},
            needs=[perm(G, v, "agendaitem")],
            scope="exempt",
            label="exempt",
        ),
        web(
            "governance:item-move",
            "POST",
            kwargs={"pk": "item"},
            needs=[perm(G, ch, "agendaitem")],
            scope="home",
            ok=302,
            data={"direction": "down"},
            label="public",
        ),
        web(
            "governance:item-move",
            "POST",
            kwargs={"pk": "exempt_item"},
            needs=[perm(G, ch, "agendaitem")],
            scope="exempt",
            ok=302,
            data={"direction": "up"},
            label="exempt",
        ),
        web(
            "governance:decision-record",
            "POST",
            kwargs={"pk": "item"},
            needs=[perm(G, a, "decision")],
            scope="home",
            data={},
            label="public",
        ),
        web(
            "governance:decision-record",
            "POST",
            kwargs={"pk": "exempt_item"},
            needs=[perm(G, a, "decision")],
            scope="exempt",
            data={},
            label="exempt",
        ),
        web(
            "governance:declaration-record",
            "POST",
            kwargs={"pk": "item"},
            needs=[perm(G, v, "agendaitem"), perm(G, a, "interestdeclaration")],
            scope="home",
            data={},
            label="public",
        ),
        web(
            "governance:declaration-record",
            "POST",
            kwargs={"pk": "exempt_item"},
            needs=[perm(G, v, "agendaitem"), perm(G, a, "interestdeclaration")],
            scope="exempt",
            data={},
            label="exempt",
        ),
        web(
            "governance:paper",
            kwargs={"pk": "paper"},
            needs=[perm(G, v, "paper")],
            scope="home",
            label="public",
        ),
        web(
            "governance:paper",
            kwargs={"pk": "private_paper"},
            needs=[perm(G, v, "paper")],
            scope="exempt",
            label="private",
        ),
        web(
            "governance:paper",
            "POST",
            kwargs={"pk": "paper"},
            needs=[perm(G, ch, "paper")],
            scope="home",
            data={},
            label="public",
        ),
        web(
            "governance:paper",
            "POST",
            kwargs={"pk": "private_paper"},
            needs=[perm(G, ch, "paper")],
            scope="exempt",
            data={},
            label="private",
        ),
        web(
            "governance:appendix-upload",
            "POST",
            kwargs={"pk": "paper"},
            needs=[perm(G, a, "paperappendix")],
            scope="home",
            data={},
            label="public paper",
        ),
        web(
            "governance:appendix-upload",
            "POST",
            kwargs={"pk": "private_paper"},
            needs=[perm(G, a, "paperappendix")],
            scope="exempt",
            data={},
            label="private paper",
        ),
        web("governance:decisions", needs=[perm(G, v, "decision")]),
        web(
            "governance:decisions-export",
            kwargs={"fmt": ("csv",)},
            needs=[perm(G, v, "decision")],
            label="csv",
        ),
        web(
            "governance:decisions-export",
            kwargs={"fmt": ("xlsx",)},
            needs=[perm(G, v, "decision")],
            label="xlsx",
        ),
        web(
            "governance:decision",
            kwargs={"pk": "decision"},
            needs=[perm(G, v, "decision")],
            scope="home",
            label="public",
        ),
        web(
            "governance:decision",
            kwargs={"pk": "exempt_decision"},
            needs=[perm(G, v, "decision")],
            scope="exempt",
            label="exempt",
        ),
        web(
            "governance:decision-publish",
            "POST",
            kwargs={"pk": "unpublished_decision"},
            needs=[perm(G, ch, "decision")],
            scope="home",
            data={},
        ),
        web(
            "governance:pack-pdf",
            kwargs={"pk": "public_pack"},
            needs=[perm(G, v, "boardpack")],
            scope="home",
            label="public",
        ),
        web(
            "governance:pack-pdf",
            kwargs={"pk": "members_pack"},
            needs=[perm(G, v, "boardpack")],
            scope="exempt",
            label="members",
        ),
        web(
            "governance:appendix-download",
            kwargs={"pk": "appendix"},
            needs=[perm(G, v, "paperappendix"), perm(G, v, "paper")],
            scope="home",
            label="public",
        ),
        web(
            "governance:appendix-download",
            kwargs={"pk": "exempt_appendix"},
            needs=[perm(G, v, "paperappendix"), perm(G, v, "paper")],
            scope="exempt",
            label="exempt",
        ),
        web("governance:register", needs=[perm(G, v, "registerentry")]),
        web("governance:board-create", needs=[perm(G, a, "board")]),
        web("governance:board-create", "POST", needs=[perm(G, a, "board")], data={}),
        web("governance:board-edit", kwargs={"pk": "board"}, needs=[perm(G, ch, "board")], scope="home"),
        web(
            "governance:board-edit",
            "POST",
            kwargs={"pk": "board"},
            needs=[perm(G, ch, "board")],
            scope="home",
            data={},
        ),
        web(
            "governance:membership-create",
            kwargs={"pk": "board"},
            needs=[perm(G, v, "board"), perm(G, a, "membership")],
            scope="home",
        ),
        web(
            "governance:membership-create",
            "POST",
            kwargs={"pk": "board"},
            needs=[perm(G, v, "board"), perm(G, a, "membership")],
            scope="home",
            data={},
        ),
        web(
            "governance:membership-edit",
            kwargs={"pk": "membership"},
            needs=[perm(G, ch, "membership")],
            scope="home",
        ),
        web(
            "governance:membership-edit",
            "POST",
            kwargs={"pk": "membership"},
            needs=[perm(G, ch, "membership")],
            scope="home",
            data={},
        ),
        web(
            "governance:forward-plan-create",
            kwargs={"board_pk": "board"},
            needs=[perm(G, v, "board"), perm(G, a, "forwardplanentry")],
            scope="home",
        ),
        web(
            "governance:forward-plan-create",
            "POST",
            kwargs={"board_pk": "board"},
            needs=[perm(G, v, "board"), perm(G, a, "forwardplanentry")],
            scope="home",
            data={},
        ),
        web(
            "governance:forward-plan-edit",
            kwargs={"pk": "forward_plan"},
            needs=[perm(G, ch, "forwardplanentry")],
            scope="home",
        ),
        web(
            "governance:forward-plan-edit",
            "POST",
            kwargs={"pk": "forward_plan"},
            needs=[perm(G, ch, "forwardplanentry")],
            scope="home",
            data={},
        ),
        web(
            "governance:action-status",
            "POST",
            kwargs={"pk": "action"},
            needs=[perm(G, ch, "action")],
            scope="home",
            ok=302,
            data={},
        ),
        web("governance:register-declare", needs=[perm(G, a, "registerentry")]),
        web("governance:register-declare", "POST", needs=[perm(G, a, "registerentry")], data={}),
        web("governance:register-change", needs=[perm(G, a, "registerchange")]),
        web("governance:register-change", "POST", needs=[perm(G, a, "registerchange")], data={}),
        web(
            "governance:register-person",
            kwargs={"pk": "member_person"},
            needs=[perm(G, v, "registerentry")],
            scope="home",
        ),
        web("governance:public-board", kwargs={"code": ("BBB",)}, public=True),
        web("governance:public-meeting", kwargs={"code": ("BBB",), "pk": "meeting"}, public=True),
        web(
            "governance:public-pack",
            kwargs={"code": ("BBB",), "pk": "public_pack"},
            public=True,
            label="public",
        ),
        web(
            "governance:public-pack",
            kwargs={"code": ("BBB",), "pk": "members_pack"},
            public=True,
            ok=404,
            label="members",
        ),
        # --- the API: index, schema and docs ----------------------------------------------------
        api("api:api-root"),
        Case("api-schema", public=True),
        Case("api-docs", public=True),
        # --- API: core --------------------------------------------------------------------------
        *crud(C, "organisation", "organisation", "organisation", "shared", ns="api:", delete_ok=409),
        *crud(C, "partnership", "partnership", "partnership", "home", ns="api:", delete_ok=409),
        *crud(C, "provider", "provider", "provider", "shared", ns="api:", delete_ok=409),
        *crud(C, "contract", "contract", "contract", "home", ns="api:"),
        # --- API: budgets -----------------------------------------------------------------------
        *crud(B, "section75agreement", "agreement", "agreement", "home", delete_ok=409),
        *crud(B, "schedule", "schedule", "schedule", "home", delete_ok=409),
        api("schedule-summary", kwargs={"pk": "schedule"}, needs=[perm(B, v, "schedule")], scope="home"),
        *crud(B, "fundingstream", "funding-stream", "funding_stream", "home", delete_ok=409),
        *crud(B, "budgetline", "budget-line", "budget_line", "home", delete_ok=409),
        *crud(B, "monthlyposition", "monthly-position", "monthly_position", "home"),
        # --- API: brokerage ---------------------------------------------------------------------
        *crud(K, "client", "client", "client", "home", delete_ok=409),
        *crud(K, "referral", "referral", "referral", "home", delete_ok=409),
        *crud(K, "offer", "offer", "offer", "home"),
        api(
            "offer-accept",
            "POST",
            kwargs={"pk": "offer"},
            needs=[perm(K, v, "offer"), perm(K, ch, "offer"), perm(K, a, "package")],
            scope="home",
            data={},
        ),
        api(
            "offer-approve",
            "POST",
            kwargs={"pk": "offer"},
            needs=[perm(K, v, "offer"), perm(K, "approve", "offer")],
            scope="home",
            data={},
            ok=200,
        ),
        api(
            "offer-decline",
            "POST",
            kwargs={"pk": "offer"},
            needs=[perm(K, v, "offer"), perm(K, ch, "offer")],
            scope="home",
            data={},
            ok=200,
        ),
        *crud(K, "ratecard", "rate-card", "rate_card", "home"),
        *crud(K, "package", "package", "package", "home", delete_ok=409),
        api(
            "package-change-cost",
            "POST",
            kwargs={"pk": "package"},
            needs=[perm(K, v, "package"), perm(K, ch, "package")],
            scope="home",
            data={},
        ),
        api(
            "package-change-funding",
            "POST",
            kwargs={"pk": "package"},
            needs=[perm(K, v, "package"), perm(K, ch, "package")],
            scope="home",
            data={},
        ),
        *crud(K, "packagecost", "package-cost", "package_cost", "home", detail_methods=("GET",)),
        *crud(K, "fundingsplit", "funding-split", "funding_split", "home", detail_methods=("GET",)),
        *crud(K, "rechargerun", "recharge-run", "recharge_run", "home", detail_methods=("GET",)),
        *crud(K, "invoice", "invoice", "invoice", "home", list_methods=("GET",), detail_methods=("GET",)),
        api(
            "invoice-detail",
            "DELETE",
            kwargs={"pk": "draft_invoice"},
            needs=[perm(K, v, "invoice"), perm(K, d, "invoice")],
            scope="home",
            label="draft",
        ),
        api(
            "invoice-issue",
            "POST",
            kwargs={"pk": "draft_invoice"},
            needs=[perm(K, v, "invoice"), perm(K, ch, "invoice")],
            scope="home",
            ok=200,
            data={},
        ),
        api(
            "invoice-payments",
            "POST",
            kwargs={"pk": "invoice"},
            needs=[perm(K, v, "invoice"), perm(K, a, "payment")],
            scope="home",
            data={},
        ),
        api(
            "invoice-disputes",
            "POST",
            kwargs={"pk": "invoice"},
            needs=[perm(K, v, "invoice"), perm(K, a, "dispute")],
            scope="home",
            data={},
        ),
        api("invoice-lines", kwargs={"pk": "invoice"}, needs=[perm(K, v, "invoice")], scope="home"),
        api(
            "invoice-lines",
            kwargs={"pk": "invoice"},
            needs=[perm(K, v, "invoice")],
            scope="home",
            query={"format": ("csv",)},
            label="csv",
        ),
        api(
            "invoice-pdf",
            kwargs={"pk": "invoice"},
            needs=[perm(K, v, "invoice")],
            scope="home",
            label="invoice",
        ),
        api(
            "invoice-pdf",
            kwargs={"pk": "credit_note"},
            needs=[perm(K, v, "invoice")],
            scope="home",
            label="credit note",
        ),
        api("dispute-list", needs=[perm(K, v, "dispute")]),
        api("dispute-detail", kwargs={"pk": "dispute"}, needs=[perm(K, v, "dispute")], scope="home"),
        api(
            "dispute-resolve",
            "POST",
            kwargs={"pk": "dispute"},
            needs=[perm(K, v, "dispute"), perm(K, ch, "dispute")],
            scope="home",
            data={},
        ),
        api("recharge-report", needs=[perm(K, v, "invoice")]),
        # ``?format=csv`` on a list: the same gate as the JSON (api.md)
        api("client-list", needs=[perm(K, v, "client")], query={"format": ("csv",)}, label="csv"),
        api("invoice-list", needs=[perm(K, v, "invoice")], query={"format": ("csv",)}, label="csv"),
        api("recharge-report", needs=[perm(K, v, "invoice")], query={"format": ("csv",)}, label="csv"),
        api("aged-debt", needs=[perm(K, v, "invoice")], query={"as_at": ("2022-07-01",)}),
        # --- API: governance --------------------------------------------------------------------
        *crud(G, "board", "board", "board", "home", ns="governance-api:", delete_ok=409),
        *crud(G, "membership", "membership", "membership", "home", ns="governance-api:"),
        *crud(G, "forwardplanentry", "forward-plan", "forward_plan", "home", ns="governance-api:"),
        *crud(G, "meeting", "meeting", "meeting", "home", ns="governance-api:", delete_ok=409),
        *crud(
            G,
            "agendaitem",
            "agenda-item",
            "item",
            "home",
            ns="governance-api:",
            delete_ok=409,
            label_pk="public",
        ),
        *crud(
            G,
            "agendaitem",
            "agenda-item",
            "exempt_item",
            "exempt",
            ns="governance-api:",
            delete_ok=409,
            label_pk="exempt",
            list_methods=(),
        ),
        api(
            "governance-api:agenda-item-move",
            "POST",
            kwargs={"pk": "item"},
            needs=[perm(G, v, "agendaitem"), perm(G, ch, "agendaitem")],
            scope="home",
            data={},
            label="public",
        ),
        api(
            "governance-api:agenda-item-move",
            "POST",
            kwargs={"pk": "exempt_item"},
            needs=[perm(G, v, "agendaitem"), perm(G, ch, "agendaitem")],
            scope="exempt",
            data={},
            label="exempt",
        ),
        *crud(G, "paper", "paper", "paper", "home", ns="governance-api:", label_pk="public"),
        *crud(
            G,
            "paper",
            "paper",
            "private_paper",
            "exempt",
            ns="governance-api:",
            label_pk="private",
            list_methods=(),
        ),
        *crud(G, "attendance", "attendance", "attendance", "home", ns="governance-api:"),
        *crud(G, "interestdeclaration", "declaration", "declaration", "home", ns="governance-api:"),
        # A decision is the record: no one deletes it, and a change must name the version it saw.
        *crud(
            G,
            "decision",
            "decision",
            "decision",
            "home",
            ns="governance-api:",
            patch_ok=400,
            delete_only=NOBODY,
            label_pk="public",
        ),
        *crud(
            G,
            "decision",
            "decision",
            "exempt_decision",
            "exempt",
            ns="governance-api:",
            patch_ok=400,
            delete_only=NOBODY,
            label_pk="exempt",
            list_methods=(),
        ),
        *crud(G, "action", "action", "action", "home", ns="governance-api:"),
        *crud(G, "minutes", "minutes", "minutes", "home", ns="governance-api:"),
        api(
            "governance-api:minutes-approve",
            "POST",
            kwargs={"pk": "minutes"},
            needs=[perm(G, v, "minutes"), perm(G, ch, "minutes")],
            scope="home",
            data={},
        ),
        api("governance-api:pack-list", needs=[perm(G, v, "boardpack")]),
        api(
            "governance-api:decision-list",
            needs=[perm(G, v, "decision")],
            query={"format": ("csv",)},
            label="csv",
        ),
        api(
            "governance-api:pack-detail",
            kwargs={"pk": "public_pack"},
            needs=[perm(G, v, "boardpack")],
            scope="home",
            label="public",
        ),
        api(
            "governance-api:pack-detail",
            kwargs={"pk": "members_pack"},
            needs=[perm(G, v, "boardpack")],
            scope="exempt",
            label="members",
        ),
        api(
            "governance-api:pack-pdf",
            kwargs={"pk": "public_pack"},
            needs=[perm(G, v, "boardpack")],
            scope="home",
            label="public",
        ),
        api(
            "governance-api:pack-pdf",
            kwargs={"pk": "members_pack"},
            needs=[perm(G, v, "boardpack")],
            scope="exempt",
            label="members",
        ),
        api(
            "governance-api:meeting-packs",
            kwargs={"meeting_pk": "meeting"},
            needs=[perm(G, v, "boardpack")],
            scope="home",
        ),
        api(
            "governance-api:meeting-packs",
            "POST",
            kwargs={"meeting_pk": "meeting"},
            needs=[perm(G, v, "boardpack"), perm(G, a, "boardpack")],
            scope="home",
            ok=202,
            data={"audience": "public"},
            label="public",
        ),
        api(
            "governance-api:meeting-packs",
            "POST",
            kwargs={"meeting_pk": "meeting"},
            needs=[perm(G, v, "boardpack"), perm(G, a, "boardpack")],
            scope="exempt",
            ok=202,
            data={"audience": "members"},
            label="members",
        ),
        api("governance-api:public-board", kwargs={"code": ("BBB",)}, public=True),
        api(
            "governance-api:public-pack-pdf",
            kwargs={"code": ("BBB",), "pack_pk": "public_pack"},
            public=True,
            label="public",
        ),
        api(
            "governance-api:public-pack-pdf",
            kwargs={"code": ("BBB",), "pack_pk": "members_pack"},
            public=True,
            ok=404,
            label="members",
        ),
    ]
    return cases


CASES = build_cases()

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
            response = send(url, data, format="json")
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
    settings.PDF_ROOT, settings.MEDIA_ROOT = world["pdf_root"], world["media_root"]  # where the files are
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
