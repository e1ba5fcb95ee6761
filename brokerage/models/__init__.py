"""Placements and brokerage (domain.md), by sub-domain:

- ``choices``: the choices and status groups the models, forms and filters share;
- ``rate_cards``: the council's baseline prices;
- ``clients``: clients, referrals with their timeline, and providers' offers;
- ``packages``: packages with their effective-dated cost and funding histories, and the joint
  funding panel's decisions;
- ``prices``: price changes of packages, proposed, approved or declined against the rate card;
- ``finance``: recharge runs, invoices and credit notes, their lines, payments and disputes;
- ``region``: region runs, a month recharged across many partnerships (a run per partnership and issuer);
- ``ledger``: rule 1's results as last computed, so a run recomputes only what changed.

Every model and public name is re-exported here (``from brokerage.models import Package``); the
history (pghistory) event models are attributes of this package too (``brokerage.models.PackageEvent``).
"""

from .choices import (
    OPEN_STATUSES,
    URGENCY_TAG_CLASSES,
    URGENT,
    Cohort,
    FundingBasis,
    OfferStatus,
    PackageStatus,
    ReferralStatus,
    Unit,
    Urgency,
    percent_field,
)
from .clients import (
    Client,
    ClientQuerySet,
    Offer,
    OfferQuerySet,
    Referral,
    ReferralActivity,
    ReferralQuerySet,
    urgency_rank,
)
from .finance import (
    ACTIVE_RUN_STATUSES,
    INVOICE_FROZEN_CONDITION,
    INVOICE_LINE_FROZEN,
    RECHARGE_KINDS,
    CorrectionKind,
    Dispute,
    DisputeOutcome,
    DisputeReason,
    DisputeStatus,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceLineQuerySet,
    InvoiceQuerySet,
    InvoiceStatus,
    NumberSequence,
    Payment,
    RechargeRun,
    RechargeRunStatus,
    Waiver,
)
from .ledger import (
    InvoiceLineCount,
    LedgerBilled,
    LedgerIssue,
    LedgerOwed,
    LedgerPackage,
    LedgerUnsettled,
)
from .packages import (
    NO_OVERLAP_CHECK,
    SHARES_SUM_CHECK,
    FundingShare,
    FundingSplit,
    Package,
    PackageCost,
    PanelDecision,
    PanelDecisionQuerySet,
    PanelDecisionShare,
    Suspension,
    SuspensionTreatment,
)
from .prices import APPLIED_STATUSES, PriceChange, PriceChangeQuerySet, PriceChangeStatus
from .rate_cards import RateCard, financial_year_expression, rate_card_rate
from .region import RegionRun, RegionRunMember

__all__ = [
    "ACTIVE_RUN_STATUSES",
    "APPLIED_STATUSES",
    "INVOICE_FROZEN_CONDITION",
    "INVOICE_LINE_FROZEN",
    "NO_OVERLAP_CHECK",
    "OPEN_STATUSES",
    "SHARES_SUM_CHECK",
    "URGENCY_TAG_CLASSES",
    "URGENT",
    "Client",
    "ClientQuerySet",
    "Cohort",
    "CorrectionKind",
    "Dispute",
    "DisputeOutcome",
    "DisputeReason",
    "DisputeStatus",
    "FundingBasis",
    "FundingShare",
    "FundingSplit",
    "Invoice",
    "InvoiceKind",
    "RECHARGE_KINDS",
    "InvoiceLine",
    "InvoiceLineQuerySet",
    "InvoiceQuerySet",
    "InvoiceStatus",
    "InvoiceLineCount",
    "LedgerBilled",
    "LedgerIssue",
    "LedgerOwed",
    "LedgerPackage",
    "LedgerUnsettled",
    "NumberSequence",
    "Offer",
    "OfferQuerySet",
    "OfferStatus",
    "Package",
    "PackageCost",
    "PackageStatus",
    "PanelDecision",
    "PanelDecisionQuerySet",
    "PanelDecisionShare",
    "Payment",
    "PriceChange",
    "PriceChangeQuerySet",
    "PriceChangeStatus",
    "RateCard",
    "RechargeRun",
    "RechargeRunStatus",
    "RegionRun",
    "RegionRunMember",
    "Suspension",
    "SuspensionTreatment",
    "Referral",
    "ReferralActivity",
    "ReferralQuerySet",
    "ReferralStatus",
    "Unit",
    "Urgency",
    "Waiver",
    "financial_year_expression",
    "percent_field",
    "rate_card_rate",
    "urgency_rank",
]
