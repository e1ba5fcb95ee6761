"""The permission matrix's cases for the budgets pages and API.

Each case names a route, a method, the permissions its role needs and the scope of its object; the
answer every profile should get follows from those (``tests/security/matrix.py``).
"""

from __future__ import annotations

from tests.security.matrix import PROFILES, B, C, Case, api, crud, perm, web

# Separation of duties: whoever proposed a virement may not approve it (the world's is the
# administrator's).
NOT_THE_PROPOSER = frozenset(PROFILES) - {"administrator"}


def cases() -> list[Case]:
    v, a, ch = "view", "add", "change"
    return [
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
            "budgets:schedule-years", kwargs={"pk": "schedule"}, needs=[perm(B, v, "schedule")], scope="home"
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
            "budgets:import-template",
            kwargs={"pk": "schedule", "fmt": ("csv",)},
            needs=[perm(B, a, "budgetline")],
            scope="home",
            label="csv",
        ),
        web(
            "budgets:import-template",
            kwargs={"pk": "schedule", "fmt": ("xlsx",)},
            needs=[perm(B, a, "budgetline")],
            scope="home",
            label="xlsx",
        ),
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
        # The world's virement was proposed by the administrator, who may not approve it (403); the
        # commissioner's own virement, by the commissioner (403), and not by the administrator.
        web(
            "budgets:virement-approve",
            kwargs={"pk": "virement"},
            needs=[perm(B, ch, "virement")],
            scope="home",
            only=NOT_THE_PROPOSER,
        ),
        web(
            "budgets:virement-approve",
            "POST",
            kwargs={"pk": "virement"},
            needs=[perm(B, ch, "virement")],
            scope="home",
            only=NOT_THE_PROPOSER,
            data={},
        ),
        web(
            "budgets:virement-approve",
            kwargs={"pk": "commissioners_virement"},
            needs=[perm(B, ch, "virement")],
            scope="home",
            only=frozenset(PROFILES) - {"commissioner"},
            label="proposer",
        ),
        web(
            "budgets:virement-approve",
            "POST",
            kwargs={"pk": "commissioners_virement"},
            needs=[perm(B, ch, "virement")],
            scope="home",
            only=frozenset(PROFILES) - {"commissioner"},
            data={},
            label="proposer",
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
        web(
            "budgets:agreement-timeline",
            kwargs={"pk": "agreement"},
            needs=[perm(B, v, "section75agreement")],
            scope="home",
        ),
        web(
            "budgets:agreement-document",
            kwargs={"pk": "agreement"},
            needs=[perm(B, v, "section75agreement")],
            scope="home",
        ),
        web(
            "budgets:variation-deed",
            kwargs={"pk": "variation"},
            needs=[perm(B, v, "variation")],
            scope="home",
        ),
        # An agreement's variations and reviews: recorded by those who may change the agreement.
        web(
            "budgets:variation-create",
            kwargs={"pk": "agreement"},
            needs=[perm(B, a, "variation"), perm(B, ch, "section75agreement")],
            scope="home",
        ),
        web(
            "budgets:variation-create",
            "POST",
            kwargs={"pk": "agreement"},
            needs=[perm(B, a, "variation"), perm(B, ch, "section75agreement")],
            scope="home",
            data={},
        ),
        web(
            "budgets:review-create",
            kwargs={"pk": "agreement"},
            needs=[perm(B, a, "review"), perm(B, ch, "section75agreement")],
            scope="home",
        ),
        web(
            "budgets:review-create",
            "POST",
            kwargs={"pk": "agreement"},
            needs=[perm(B, a, "review"), perm(B, ch, "section75agreement")],
            scope="home",
            data={},
        ),
        web(
            "budgets:review-edit",
            kwargs={"pk": "review"},
            needs=[perm(B, ch, "review"), perm(B, ch, "section75agreement")],
            scope="home",
        ),
        web(
            "budgets:review-edit",
            "POST",
            kwargs={"pk": "review"},
            needs=[perm(B, ch, "review"), perm(B, ch, "section75agreement")],
            scope="home",
            data={},
        ),
        web(
            "budgets:line-packages",
            kwargs={"pk": "schedule", "line": "budget_line"},
            needs=[perm(B, v, "budgetline"), perm(B, v, "schedule")],
            scope="home",
        ),
        web(
            "budgets:line-feed",
            kwargs={"pk": "schedule", "line": "budget_line"},
            needs=[perm(B, ch, "linefeed"), perm(B, ch, "budgetline"), perm(B, v, "schedule")],
            scope="home",
        ),
        web(
            "budgets:line-feed",
            "POST",
            kwargs={"pk": "schedule", "line": "budget_line"},
            needs=[perm(B, ch, "linefeed"), perm(B, ch, "budgetline"), perm(B, v, "schedule")],
            scope="home",
            data={"packages": "not a reference"},  # refused by the form: 200, no write
        ),
        # The schedule funding a contract: budgets' link, on a contract the user may change.
        web(
            "budgets:contract-schedule",
            kwargs={"pk": "contract"},
            needs=[perm(B, ch, "contractschedule"), perm(C, ch, "contract")],
            scope="home",
        ),
        web(
            "budgets:contract-schedule",
            "POST",
            kwargs={"pk": "contract"},
            needs=[perm(B, ch, "contractschedule"), perm(C, ch, "contract")],
            scope="home",
            data={"schedule": "none of these"},  # refused by the form: 200 with errors, no write
        ),
        # The pool's money (rule 2): contributions raised by those who plan them; the statement read
        # by anyone who sees the agreement, produced and settled by those who may.
        web(
            "budgets:contributions-raise",
            kwargs={"pk": "agreement"},
            needs=[perm(B, a, "contributionplan"), perm(B, v, "section75agreement")],
            scope="home",
        ),
        web(
            "budgets:contributions-raise",
            "POST",
            kwargs={"pk": "agreement"},
            needs=[perm(B, a, "contributionplan"), perm(B, v, "section75agreement")],
            scope="home",
            ok=302,
            data={},
        ),
        # A partner's contribution plan: planned and changed by those who may, on a page.
        web(
            "budgets:contribution-plan-create",
            kwargs={"pk": "schedule"},
            needs=[perm(B, a, "contributionplan"), perm(B, v, "schedule")],
            scope="home",
        ),
        web(
            "budgets:contribution-plan-create",
            "POST",
            kwargs={"pk": "schedule"},
            needs=[perm(B, a, "contributionplan"), perm(B, v, "schedule")],
            scope="home",
            data={"frequency": "yearly"},  # refused by the form: 200 with errors, no write
        ),
        web(
            "budgets:contribution-plan-edit",
            kwargs={"pk": "contribution_plan"},
            needs=[perm(B, ch, "contributionplan"), perm(B, v, "schedule")],
            scope="home",
        ),
        web(
            "budgets:contribution-plan-edit",
            "POST",
            kwargs={"pk": "contribution_plan"},
            needs=[perm(B, ch, "contributionplan"), perm(B, v, "schedule")],
            scope="home",
            data={"frequency": "yearly"},  # refused by the form: 200 with errors, no write
        ),
        web(
            "budgets:statement",
            kwargs={"pk": "agreement"},
            needs=[perm(B, v, "section75agreement")],
            scope="home",
        ),
        web(
            "budgets:statement-csv",
            kwargs={"pk": "agreement"},
            needs=[perm(B, v, "section75agreement")],
            scope="home",
        ),
        web(
            "budgets:statement-produce",
            "POST",
            kwargs={"pk": "agreement"},
            needs=[perm(B, a, "fundstatement"), perm(B, v, "section75agreement")],
            scope="home",
            ok=302,
            data={},
        ),
        web(
            "budgets:statement-pdf",
            kwargs={"pk": "fund_statement"},
            needs=[perm(B, v, "fundstatement")],
            scope="home",
            ok=404,  # queued: not produced yet
        ),
        web(
            "budgets:statement-settle",
            kwargs={"pk": "fund_statement"},
            needs=[perm(B, ch, "fundstatement")],
            scope="home",
        ),
        web(
            "budgets:statement-settle",
            "POST",
            kwargs={"pk": "fund_statement"},
            needs=[perm(B, ch, "fundstatement")],
            scope="home",
            data={},  # no decision chosen: the form says so, nothing is written
        ),
        # --- API: budgets -----------------------------------------------------------------------
        *crud(B, "section75agreement", "agreement", "agreement", "home", delete_ok=409),
        *crud(B, "schedule", "schedule", "schedule", "home", delete_ok=409),
        api("schedule-summary", kwargs={"pk": "schedule"}, needs=[perm(B, v, "schedule")], scope="home"),
        *crud(B, "fundingstream", "funding-stream", "funding_stream", "home", delete_ok=409),
        *crud(B, "budgetline", "budget-line", "budget_line", "home", delete_ok=409),
        *crud(B, "monthlyposition", "monthly-position", "monthly_position", "home"),
        *crud(B, "variation", "variation", "variation", "home", detail_methods=("GET",)),
        *crud(B, "review", "review", "review", "home", detail_methods=("GET", "PATCH")),
        *crud(
            B,
            "contributionplan",
            "contribution-plan",
            "contribution_plan",
            "home",
            detail_methods=("GET", "PATCH"),
        ),
        api(
            "agreement-statement",
            kwargs={"pk": "agreement"},
            needs=[perm(B, v, "section75agreement")],
            scope="home",
        ),
        api(
            "agreement-statement-pdf",
            kwargs={"pk": "agreement"},
            needs=[perm(B, v, "section75agreement")],
            scope="home",
            ok=202,  # the world's statement is queued: being produced
        ),
    ]
