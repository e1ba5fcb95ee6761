"""The permission matrix's cases for the shared core: signing in and the user's own pages, the
contract register, the audit trails, and the API's index and core resources.

Each case names a route, a method, the permissions its role needs and the scope of its object; the
answer every profile should get follows from those (``tests/security/matrix.py``).
"""

from __future__ import annotations

from tests.security.matrix import LOGIN, C, Case, api, crud, perm, web


def cases() -> list[Case]:
    v, a, ch = "view", "add", "change"
    return [
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
        # --- the API: index, schema and docs ----------------------------------------------------
        api("api:api-root"),
        Case("api-schema", public=True),
        Case("api-docs", public=True),
        # --- API: core --------------------------------------------------------------------------
        *crud(C, "organisation", "organisation", "organisation", "shared", ns="api:", delete_ok=409),
        *crud(C, "partnership", "partnership", "partnership", "home", ns="api:", delete_ok=409),
        *crud(C, "provider", "provider", "provider", "shared", ns="api:", delete_ok=409),
        *crud(C, "contract", "contract", "contract", "home", ns="api:"),
    ]
