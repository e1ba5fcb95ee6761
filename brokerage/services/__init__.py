"""Writes of the brokerage app. Each service is one transaction with keyword-only arguments, names
the acting user in the change history, and is what the pages, the API, tasks and the demo call.

- ``clients``: clients and rate cards;
- ``referrals``: a referral's steps, each on its timeline;
- ``offers``: offers recorded, approved, declined, and accepted (the package starts);
- ``packages``: packages and their cost and funding histories;
- ``prices``: price changes, approved by a brokerage manager above the rate card;
- ``suspensions``: dated suspensions of packages and what the provider is still paid;
- ``panel``: joint funding panel decisions, recorded and applied;
- ``base``: what they share (``Share``, version checks, locks, the rules on funders and shares).

The finance services (runs, invoices, payments, disputes) are ``brokerage.finance.services``."""

from ..roles import APPROVE_PERMISSION
from .base import HUNDRED, Share
from .clients import CLIENT_FIELDS, client_create, client_update, rate_card_save
from .offers import (
    offer_accept,
    offer_approve,
    offer_decision_refusal,
    offer_decline,
    offer_record,
    offer_update,
)
from .packages import (
    PACKAGE_FIELDS,
    funding_split_add,
    package_change_funding,
    package_cost_add,
    package_create,
    package_end,
    package_set_status,
    package_update,
)
from .panel import panel_decision_apply, panel_decision_record
from .prices import (
    PriceCheck,
    ReplacedPrice,
    package_cost_load,
    price_change_approve,
    price_change_check,
    price_change_decline,
    price_change_propose,
)
from .referrals import (
    REFERRAL_FIELDS,
    referral_assign,
    referral_cancel,
    referral_claim,
    referral_create,
    referral_start_sourcing,
    referral_update,
    referrals_mark_started,
)
from .suspensions import suspension_add, suspension_paid_percent, suspension_update

__all__ = [
    "APPROVE_PERMISSION",
    "CLIENT_FIELDS",
    "HUNDRED",
    "PACKAGE_FIELDS",
    "REFERRAL_FIELDS",
    "PriceCheck",
    "ReplacedPrice",
    "Share",
    "client_create",
    "client_update",
    "funding_split_add",
    "offer_accept",
    "offer_approve",
    "offer_decision_refusal",
    "offer_decline",
    "offer_record",
    "offer_update",
    "package_change_funding",
    "package_cost_add",
    "package_cost_load",
    "package_create",
    "package_end",
    "package_set_status",
    "package_update",
    "panel_decision_apply",
    "panel_decision_record",
    "price_change_approve",
    "price_change_check",
    "price_change_decline",
    "price_change_propose",
    "rate_card_save",
    "referral_assign",
    "referral_cancel",
    "referral_claim",
    "referral_create",
    "referral_start_sourcing",
    "referral_update",
    "referrals_mark_started",
    "suspension_add",
    "suspension_paid_percent",
    "suspension_update",
]
