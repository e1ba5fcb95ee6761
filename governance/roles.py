"""What each role may do with the governance models (commissioning/roles.py collects these).

Exempt content is narrowed further by object permission (``ExemptContentMixin`` in models.py):
Part 2 items, private papers, exempt appendices, their decisions and minutes and members' packs are
visible only to that board's members and board secretaries."""

from commissioning import roles

_ALL = "view add change delete"
_READ = "view"

MODELS = (
    "board",
    "membership",
    "meeting",
    "forwardplanentry",
    "paper",
    "paperappendix",
    "paperlink",
    "agendaitem",
    "interestdeclaration",
    "registerentry",
    "registerchange",
    "attendance",
    "decision",
    "vote",
    "decisionlink",
    "action",
    "minutes",
    "minuteentry",
    "boardpack",
)

_MEMBER_READS = (
    "board",
    "membership",
    "meeting",
    "forwardplanentry",
    "agendaitem",
    "paper",
    "paperappendix",
    "paperlink",
    "attendance",
    "decision",
    "vote",
    "decisionlink",
    "action",
    "minutes",
    "minuteentry",
    "boardpack",
)

# Everyone else in a partnership may read its boards and decisions (and what the decisions changed).
_DECISIONS_ONLY = {
    "board": _READ,
    "meeting": _READ,
    "agendaitem": _READ,
    "decision": _READ,
    "decisionlink": _READ,
}

ROLE_PERMISSIONS = {
    roles.BOARD_SECRETARY: dict.fromkeys(MODELS, _ALL),
    roles.BOARD_MEMBER: {
        **dict.fromkeys(_MEMBER_READS, _READ),
        "interestdeclaration": "view add change",
        "registerentry": "view add change",
        "registerchange": "view add",
    },
    # Commissioners keep the budgets: they link decisions to what they changed, and papers to the
    # live tables they carry.
    roles.COMMISSIONER: {
        **dict.fromkeys(MODELS, _READ),
        "paper": "view add",
        "paperappendix": "view add",
        "paperlink": "view add delete",
        "decisionlink": "view add delete",
    },
    roles.AUDITOR: dict.fromkeys(MODELS, _READ),
    roles.ADMINISTRATOR: dict.fromkeys(MODELS, _ALL),
    roles.BROKER: dict(_DECISIONS_ONLY),
    roles.BROKERAGE_MANAGER: dict(_DECISIONS_ONLY),
    roles.FINANCE_OFFICER: dict(_DECISIONS_ONLY),
}
