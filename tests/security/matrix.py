"""The permission matrix's engine: who asks (the profiles), what is asked (``Case`` and the helpers
``web``, ``api``, ``crud`` that build cases), and the answer each profile should get, worked out
from the roles tables (``<app>/roles.py``) and the object's scope, never written case by case.

The cases themselves live beside each app's tests, one ``permission_cases.py`` per app
(``tests/<app>/permission_cases.py``); ``tests/security/test_permission_matrix.py`` asks them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from commissioning import roles
from commissioning.roles import ROLE_PERMISSIONS as _CORE_TABLE  # noqa: F401 - imported for its side: tables load

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
    "secretary_of_other_board",
    ANONYMOUS,
)
# Profiles that differ from a board member or secretary only on exempt content (rules.md, rule 3).
OTHER_BOARD_PROFILES = ("member_of_other_board", "secretary_of_other_board")
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
    "secretary_of_other_board": {roles.BOARD_SECRETARY},
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
    if scope == "exempt":  # that board's members and the secretaries with a secretary membership of it
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
    board_specific: bool = False  # the answer depends on holding a membership of the board

    @property
    def id(self) -> str:
        return f"{self.method} {self.route}{'[' + self.label + ']' if self.label else ''}"

    def profiles(self) -> tuple[str, ...]:
        """Everyone; the member of another board differs from a board member only on exempt content.
        A public route answers every role alike: nobody, someone inside and someone outside suffice
        (the schema takes seconds to generate)."""
        if self.public:
            return (ANONYMOUS, "board_member", "other_partnership")
        if self.scope == "exempt" or self.board_specific:
            return PROFILES
        return tuple(p for p in PROFILES if p not in OTHER_BOARD_PROFILES)

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
