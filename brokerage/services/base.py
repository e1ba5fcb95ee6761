"""What the brokerage services share: the funding ``Share``, the history context naming who acted,
referral timeline entries, version checks and row locks, and the rules on funders and shares that
several services apply (a package's opening funding, a change of funding, a panel decision)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pghistory
from django.core.exceptions import ValidationError
from django.utils import timezone

from commissioning.models import Organisation, User
from commissioning.services import StaleEdit

from ..models import (
    Client,
    FundingBasis,
    FundingShare,
    FundingSplit,
    Package,
    PanelDecision,
    Referral,
    ReferralActivity,
)

HUNDRED = Decimal("100")


@dataclass(frozen=True)
class Share:
    organisation: Organisation
    percent: Decimal


def history_context(by: User):
    """The change history of every row written inside names ``by``."""
    return pghistory.context(user=by.pk)


def record_activity(
    referral: Referral, kind: str, by: User | None, text: str = "", at=None
) -> ReferralActivity:
    """One entry on the referral's timeline (append-only)."""
    return ReferralActivity.objects.create(
        referral=referral, kind=kind, by=by, text=text[:500], at=at or timezone.now()
    )


def check_version(obj, version: int | None, noun: str) -> None:
    """``StaleEdit`` if the editor loaded an older ``version`` than the row now has."""
    if version is not None and obj.version != version:
        raise StaleEdit(
            f"Someone else changed this {noun} since you opened it. "
            "Your change has not been saved: reload the page to see theirs, then try again."
        )


def lock_package(package: Package, version: int | None) -> Package:
    """The package re-read and locked for this transaction, its version checked."""
    locked = Package.objects.select_for_update().select_related("client__partnership").get(pk=package.pk)
    check_version(locked, version, "package")
    return locked


def bump_version(package: Package) -> None:
    """Every change moves the version on, so an edit from the old one is stale."""
    package.version += 1
    package.save(update_fields=["version"])


def validate_funder(client: Client, funder: Organisation | None, field: str) -> None:
    """A funder (or paying organisation) must be a partner of the client's partnership."""
    if funder is None:
        return
    partnership = client.partnership
    if funder.pk not in (partnership.council_id, partnership.nhs_commissioner_id):
        raise ValidationError({field: [f"The funder must be one of the partners of {partnership.name}."]})


def lock_referral(referral: Referral, version: int | None = None) -> Referral:
    """The referral re-read and locked for this transaction, its version checked."""
    locked = Referral.objects.select_for_update().select_related("client__partnership").get(pk=referral.pk)
    check_version(locked, version, "referral")
    return locked


def save_referral(referral: Referral, by: User) -> None:
    """Save a changed referral, its version moved on, naming ``by`` in its history."""
    referral.version += 1
    with history_context(by):
        referral.save()


def _percent_text(value: Decimal) -> str:
    """``90.00`` -> ``90``; ``100.50`` -> ``100.5``."""
    text = f"{Decimal(value).quantize(Decimal('0.01'))}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def validate_shares(shares: Iterable[Share], partnership) -> list[Share]:
    """Funders of the partnership, each once, 0 to 100 with two places, adding up to exactly 100."""
    shares = list(shares)
    if not shares:
        raise ValidationError({"shares": ["Give at least one funder and their share."]})
    seen: set[int] = set()
    partners = (partnership.council_id, partnership.nhs_commissioner_id)
    for share in shares:
        if share.organisation.pk in seen:
            raise ValidationError({"shares": [f"{share.organisation.code} is listed twice."]})
        seen.add(share.organisation.pk)
        if share.organisation.pk not in partners:
            raise ValidationError(
                {"shares": [f"{share.organisation.code} is not a partner of {partnership.name}."]}
            )
        percent = Decimal(share.percent)
        if percent < 0 or percent > HUNDRED:
            raise ValidationError(
                {"shares": [f"The share of {share.organisation.code} must be between 0 and 100."]}
            )
        if percent != percent.quantize(Decimal("0.01")):
            raise ValidationError(
                {"shares": [f"The share of {share.organisation.code} can have at most 2 decimal places."]}
            )
    total = sum((Decimal(s.percent) for s in shares), Decimal("0"))
    if total != HUNDRED:
        raise ValidationError(
            {"shares": [f"The shares must add up to exactly 100%; they add up to {_percent_text(total)}%."]}
        )
    return shares


def cited_panel_decision(
    client: Client, basis: str, decision_reference: str, field: str = "decision_reference"
) -> PanelDecision | None:
    """A funding split on the basis of a joint funding panel decision must cite a decision recorded
    for the same client (by its reference, in any case); other bases may name a reference freely
    (a CHC eligibility decision, an s117 plan). Returns the decision cited, if any."""
    reference = (decision_reference or "").strip()
    if basis != FundingBasis.PANEL_DECISION:
        return None
    if not reference:
        raise ValidationError(
            {field: ["Enter the reference of the panel decision recorded for this client."]}
        )
    decision = PanelDecision.objects.filter(client=client, reference__iexact=reference).first()
    if decision is None:
        raise ValidationError(
            {
                field: [
                    f"{reference} is not a panel decision recorded for this client: cite one of "
                    "theirs, or have a brokerage manager record the panel's decision first."
                ]
            }
        )
    return decision


def mark_applied(decision: PanelDecision | None, package: Package, by: User) -> None:
    """A split that cites a panel decision not yet applied applies it to that package."""
    if decision is None or decision.applied_at is not None:
        return
    decision.package = package
    decision.applied_at = timezone.now()
    decision.applied_by = by
    with history_context(by):
        decision.save(update_fields=["package", "applied_at", "applied_by"])


def create_split(
    package: Package, start: date, end: date | None, shares, basis: str, decision_reference: str
) -> FundingSplit:
    """A funding split and its shares (``Share`` or ``(organisation id, percent)`` pairs)."""
    split = FundingSplit.objects.create(
        package=package,
        effective_from=start,
        effective_to=end,
        basis=basis,
        decision_reference=decision_reference,
    )
    FundingShare.objects.bulk_create(
        [
            FundingShare(
                split=split,
                organisation_id=s.organisation.pk if isinstance(s, Share) else s[0],
                percent=s.percent if isinstance(s, Share) else s[1],
            )
            for s in shares
        ]
    )
    return split
