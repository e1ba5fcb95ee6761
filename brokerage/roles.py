"""What each role may do in the brokerage app (synced into the role groups after migrate).

Recharges: finance officers run them, issue, record payments and resolve disputes; auditors read;
brokerage managers read invoices and disputes on the packages they arrange. Invoice lines and
payments are never edited (issued invoices are frozen in the database; payments append-only)."""

from commissioning import roles

_READ = "view"
_WORK = "view add change"
_ALL = "view add change delete"

ROLE_PERMISSIONS = {
    roles.BROKER: {
        "client": _WORK,
        "referral": _WORK,
        "referralactivity": _READ,
        "offer": _WORK,
        "package": _WORK,
        "packagecost": _WORK,
        "pricechange": _READ,
        "fundingsplit": _WORK,
        "fundingshare": _WORK,
        "ratecard": _READ,
        "paneldecision": _READ,
        "paneldecisionshare": _READ,
    },
    roles.BROKERAGE_MANAGER: {
        "client": _WORK,
        "referral": _WORK,
        "referralactivity": _READ,
        "offer": f"{_WORK} approve",
        "package": _WORK,
        "packagecost": _WORK,
        # Managers decide price changes above the rate card (never their own): "change" is that.
        "pricechange": "view change",
        "fundingsplit": _WORK,
        "fundingshare": _WORK,
        "ratecard": _WORK,
        "paneldecision": _WORK,
        "paneldecisionshare": _WORK,
        "invoice": _READ,
        "invoiceline": _READ,
        "dispute": _READ,
    },
    # Finance reads what it bills: packages, costs, splits and the clients they are for (without
    # dates of birth or needs: the serializers and pages leave them out for this role).
    roles.FINANCE_OFFICER: {
        "client": _READ,
        "package": _READ,
        "packagecost": _READ,
        "pricechange": _READ,
        "fundingsplit": _READ,
        "fundingshare": _READ,
        "paneldecision": _READ,
        "paneldecisionshare": _READ,
        "rechargerun": "view add change",
        "regionrun": "view add",
        "regionrunmember": _READ,
        "invoice": _ALL,
        "invoiceline": _READ,
        "payment": "view add",
        "dispute": _WORK,
    },
    roles.COMMISSIONER: {
        "ratecard": _READ,
        "package": _READ,
        "packagecost": _READ,
        "pricechange": _READ,
    },
    roles.AUDITOR: {
        "client": _READ,
        "referral": _READ,
        "referralactivity": _READ,
        "offer": _READ,
        "ratecard": _READ,
        "package": _READ,
        "packagecost": _READ,
        "pricechange": _READ,
        "fundingsplit": _READ,
        "fundingshare": _READ,
        "paneldecision": _READ,
        "paneldecisionshare": _READ,
        "rechargerun": _READ,
        "regionrun": _READ,
        "regionrunmember": _READ,
        "invoice": _READ,
        "invoiceline": _READ,
        "payment": _READ,
        "dispute": _READ,
    },
    roles.ADMINISTRATOR: {
        "client": _ALL,
        "referral": _ALL,
        "referralactivity": _READ,
        "offer": f"{_ALL} approve",
        "ratecard": _ALL,
        "package": _ALL,
        "packagecost": _ALL,
        "pricechange": "view change",
        "fundingsplit": _ALL,
        "fundingshare": _ALL,
        "paneldecision": _ALL,
        "paneldecisionshare": _ALL,
        "rechargerun": _ALL,
        "regionrun": "view add",
        "regionrunmember": _READ,
        "invoice": _ALL,
        "invoiceline": _READ,
        "payment": "view add",
        "dispute": _WORK,
    },
}

# Brokerage managers approve offers above the rate card, assign referrals to others and apply panel
# decisions: the role holding this permission (administrators are superusers).
APPROVE_PERMISSION = "brokerage.approve_offer"


def is_manager(user) -> bool:
    """A brokerage manager (or an administrator)."""
    return bool(user and (user.is_superuser or user.has_perm(APPROVE_PERMISSION)))


def sees_personal_details(user) -> bool:
    """Dates of birth and needs are for casework roles and auditors, not finance (security.md)."""
    return bool(user and (user.is_superuser or user.has_perm("brokerage.view_referral")))
