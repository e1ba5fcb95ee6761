"""What each role may do with section 75 budgets (see ``commissioning.roles``)."""

from commissioning import roles

_MODELS = (
    "section75agreement",
    "schedule",
    "schedulefixedshare",
    "fundingstream",
    "budgetline",
    "monthlyposition",
)
_READ = "view"

ROLE_PERMISSIONS = {
    # Keeps the agreements, schedules and lines and enters monitoring; proposes virements.
    roles.COMMISSIONER: {**dict.fromkeys(_MODELS, "view add change"), "virement": "view add"},
    # Reads everything, enters and corrects monthly positions.
    roles.FINANCE_OFFICER: {
        **dict.fromkeys(_MODELS, _READ),
        "monthlyposition": "view add change",
        "virement": _READ,
    },
    roles.BOARD_SECRETARY: {**dict.fromkeys(_MODELS, _READ), "virement": _READ},
    roles.BOARD_MEMBER: {**dict.fromkeys(_MODELS, _READ), "virement": _READ},
    roles.AUDITOR: {**dict.fromkeys(_MODELS, _READ), "virement": _READ},
    # Approves and applies virements, and may delete.
    roles.ADMINISTRATOR: dict.fromkeys((*_MODELS, "virement"), "view add change delete"),
}
