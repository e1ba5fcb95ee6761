"""What each role may do with section 75 budgets (see ``commissioning.roles``).

Virements (domain.md, rules.md): commissioners keep the schedules, so they propose, approve and
apply virements; ``budgets.services`` lets an approval through only within the approving board's
delegated limit, or otherwise once the board decision that approved it is linked, and never by
whoever proposed the virement (separation of duties: 403). Finance officers
propose virements (they see the monitoring) but do not approve them. Nobody but an administrator
deletes budget records: history and decisions point at them."""

from commissioning import roles

_MODELS = (
    "section75agreement",
    "schedule",
    "schedulefixedshare",
    "fundingstream",
    "budgetline",
    "monthlyposition",
    # An agreement's variations and reviews follow the agreement: commissioners record them.
    "variation",
    "review",
    # Which schedule funds a contract, and which packages feed a line: read with the rest.
    "contractschedule",
    "linefeed",
)
_READ = "view"

ROLE_PERMISSIONS = {
    # Keeps the agreements, schedules and lines, enters monitoring and reports it to the board;
    # proposes, approves and applies virements (within the delegated limit, or with a decision).
    # Says which schedule funds a contract (the contract must be one they may change too).
    roles.COMMISSIONER: {
        **dict.fromkeys(_MODELS, "view add change"),
        "virement": "view add change",
        "contractschedule": "view add change delete",
    },
    # Reads everything, enters, corrects and reports monthly positions; proposes virements.
    roles.FINANCE_OFFICER: {
        **dict.fromkeys(_MODELS, _READ),
        "monthlyposition": "view add change",
        "virement": "view add",
    },
    roles.BOARD_SECRETARY: {**dict.fromkeys(_MODELS, _READ), "virement": _READ},
    roles.BOARD_MEMBER: {**dict.fromkeys(_MODELS, _READ), "virement": _READ},
    roles.AUDITOR: {**dict.fromkeys(_MODELS, _READ), "virement": _READ},
    roles.ADMINISTRATOR: dict.fromkeys((*_MODELS, "virement"), "view add change delete"),
}

# Contribution plans (rules.md rule 2): the pool manager (a commissioner) and finance set them and
# raise the instalments as draft invoices, which finance then issues.
for _role, _perms in (
    (roles.COMMISSIONER, "view add change"),
    (roles.FINANCE_OFFICER, "view add change"),
    (roles.BOARD_SECRETARY, _READ),
    (roles.BOARD_MEMBER, _READ),
    (roles.AUDITOR, _READ),
    (roles.ADMINISTRATOR, "view add change delete"),
):
    ROLE_PERMISSIONS[_role].update(
        {
            "contributionplan": _perms,
            "contributioninstalment": _READ,
            "fundstatement": _perms,
            "statementsettlement": _READ,
        }
    )
