"""Brokerage pages, on the generic page layer (``commissioning.generic``): each fetches through the
gate (a role without the permission is 403 before anything is looked up; hidden is 404), validates
with a form, calls one service (run by the layer in one transaction, the scope checked again before
it commits) and responds.

- ``referrals``: the queue and the case page, and a referral's steps;
- ``offers``: offers recorded, approved, declined and accepted;
- ``packages``: packages, their cost and funding history and changes;
- ``prices``: price changes, their approval, and the manager's list of what awaits approval;
- ``panel``: the joint funding panel's decisions;
- ``clients``: finding, reading, adding and changing clients;
- ``rate_cards``: the baseline prices;
- ``market``: the market and timeliness reports;
- ``base``: the section's navigation and what the pages share.

The finance pages are ``brokerage.finance.views``."""

from .clients import ClientCreateView, ClientDetailView, ClientSearchView, ClientUpdateView
from .market import MarketView, TimelinessView
from .offers import (
    OfferAcceptView,
    OfferApproveView,
    OfferCreateView,
    OfferDeclineView,
    OfferRateCardView,
)
from .packages import (
    PackageChangeFundingView,
    PackageDetailView,
    PackageEndView,
    PackageListView,
    PackageStatusView,
    PackageSuspensionView,
)
from .panel import PanelDecisionCreateView, PanelDecisionDetailView, PanelDecisionListView
from .prices import ApprovalsView, PackageChangeCostView, PriceChangeApproveView, PriceChangeDeclineView
from .rate_cards import RateCardCreateView, RateCardListView, RateCardUpdateView
from .referrals import (
    QueueView,
    ReferralAssignView,
    ReferralCancelView,
    ReferralClaimView,
    ReferralCreateView,
    ReferralDetailView,
    ReferralSourcingView,
)

__all__ = [
    "ApprovalsView",
    "ClientCreateView",
    "ClientDetailView",
    "ClientSearchView",
    "ClientUpdateView",
    "MarketView",
    "OfferAcceptView",
    "OfferApproveView",
    "OfferCreateView",
    "OfferDeclineView",
    "OfferRateCardView",
    "PackageChangeCostView",
    "PackageChangeFundingView",
    "PackageDetailView",
    "PackageEndView",
    "PackageSuspensionView",
    "PackageListView",
    "PackageStatusView",
    "PanelDecisionCreateView",
    "PanelDecisionDetailView",
    "PanelDecisionListView",
    "PriceChangeApproveView",
    "PriceChangeDeclineView",
    "QueueView",
    "RateCardCreateView",
    "RateCardListView",
    "RateCardUpdateView",
    "ReferralAssignView",
    "ReferralCancelView",
    "ReferralClaimView",
    "ReferralCreateView",
    "ReferralDetailView",
    "ReferralSourcingView",
    "TimelinessView",
]
