"""Offers: recorded against a referral, changed while under consideration, approved above the rate
card by a brokerage manager, declined, or accepted: the package starts with its first cost and
funding split."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from commissioning.models import Organisation, Provider, User
from commissioning.money import format_money

from .. import histories, rates
from ..models import (
    FundingBasis,
    Offer,
    OfferStatus,
    Package,
    PackageCost,
    PanelDecision,
    Referral,
    ReferralActivity,
    ReferralStatus,
)
from ..roles import is_manager
from .base import (
    HUNDRED,
    Share,
    create_split,
    history_context,
    lock_referral,
    record_activity,
    save_referral,
    validate_funder,
    validate_shares,
)
from .prices import opening_price_record

NOT_A_MANAGER = "Only a brokerage manager can approve offers above the rate card."
OWN_OFFER = (
    "You recorded this offer: another brokerage manager must approve or decline it "
    "(nobody decides on a price they recorded)."
)

# --- Offers -------------------------------------------------------------------------------------


def _offer_rate_card(offer: Offer) -> Decimal | None:
    return Offer.objects.with_rate_card().filter(pk=offer.pk).values_list("rate_card_rate", flat=True).get()


@transaction.atomic
def offer_record(
    *,
    referral: Referral,
    provider: Provider,
    unit_rate: Decimal,
    units_per_week: Decimal,
    unit: str,
    earliest_start: date,
    by: User,
    notes: str = "",
) -> Offer:
    locked = lock_referral(referral)
    if not locked.is_open:
        raise ValidationError(
            {
                "referral": [
                    f"This referral is {locked.get_status_display().lower()}: it takes no more offers."
                ]
            }
        )
    offer = Offer(
        referral=locked,
        provider=provider,
        unit_rate=unit_rate,
        units_per_week=units_per_week,
        unit=unit,
        earliest_start=earliest_start,
        notes=notes,
        recorded_by=by,
    )
    offer.full_clean()
    with history_context(by):
        offer.save()
    now = timezone.now()
    if locked.sourcing_at is None:
        locked.sourcing_at = now
    if locked.status != ReferralStatus.OFFERED:
        locked.status = ReferralStatus.OFFERED
        locked.offered_at = now
    if locked.assigned_to_id is None:
        locked.assigned_to = by
    save_referral(locked, by)
    card = _offer_rate_card(offer)
    versus = "no rate card to compare" if card is None else f"rate card {format_money(card)}"
    record_activity(
        locked,
        ReferralActivity.Kind.OFFER,
        by,
        f"{provider}: {format_money(unit_rate)} per {unit} × {Decimal(units_per_week):f} = "
        f"{format_money(offer.weekly_cost)} a week ({versus})",
    )
    return offer


def _lock_offer(offer: Offer) -> Offer:
    return Offer.objects.select_for_update().select_related("referral__client__partnership").get(pk=offer.pk)


@transaction.atomic
def offer_update(*, offer: Offer, by: User, **fields: Any) -> Offer:
    """Change an offer still under consideration; a changed price needs approving again."""
    allowed = {"provider", "unit_rate", "units_per_week", "unit", "earliest_start", "notes"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: ["This cannot be changed here."] for name in sorted(unknown)})
    locked = _lock_offer(offer)
    if locked.status != OfferStatus.RECEIVED:
        raise ValidationError(
            f"This offer is {locked.get_status_display().lower()} and can no longer change."
        )
    price_changed = any(
        name in fields and fields[name] != getattr(locked, name)
        for name in ("unit_rate", "units_per_week", "unit", "earliest_start")
    )
    for name, value in fields.items():
        setattr(locked, name, value)
    if price_changed:
        locked.approved_by = None
        locked.approved_at = None
    locked.full_clean()
    with history_context(by):
        locked.save()
    return locked


def awaits_approval(offer: Offer, rate_card: Decimal | None) -> bool:
    """An offer still under consideration, above the rate card (or with none), not yet approved."""
    return (
        offer.status == OfferStatus.RECEIVED
        and offer.approved_at is None
        and rates.needs_approval(offer.unit_rate, rate_card)
    )


def offer_decision_refusal(*, offer: Offer, by: User, rate_card: Decimal | None) -> PermissionDenied | None:
    """Separation of duties (issue 18): whoever recorded an offer awaiting approval neither approves
    nor declines it; another brokerage manager decides. The refusal, or None when ``by`` may decide."""
    recorder = offer.recorded_by_id
    if recorder is not None and recorder == by.pk and awaits_approval(offer, rate_card):
        return PermissionDenied(OWN_OFFER)
    return None


@transaction.atomic
def offer_approve(*, offer: Offer, by: User) -> Offer:
    """A brokerage manager who did not record it approves an offer above the rate card (who and
    when are kept)."""
    if not is_manager(by):
        raise PermissionDenied(NOT_A_MANAGER)
    locked = _lock_offer(offer)
    refusal = offer_decision_refusal(offer=locked, by=by, rate_card=_offer_rate_card(locked))
    if refusal is not None:
        raise refusal
    if locked.status != OfferStatus.RECEIVED:
        raise ValidationError(
            f"This offer is {locked.get_status_display().lower()}: there is nothing to approve."
        )
    if locked.approved_at is not None:
        raise ValidationError("This offer has already been approved.")
    card = _offer_rate_card(locked)
    if not rates.needs_approval(locked.unit_rate, card):
        raise ValidationError("This offer is within the rate card and needs no approval.")
    locked.approved_by = by
    locked.approved_at = timezone.now()
    with history_context(by):
        locked.save(update_fields=["approved_by", "approved_at"])
    text = f"{locked.provider}: {format_money(locked.unit_rate)} per {locked.unit}"
    if card is None:
        text += " (no rate card)"
    else:
        text += f", {format_money(locked.unit_rate - card)} above the rate card of {format_money(card)}"
    record_activity(locked.referral, ReferralActivity.Kind.APPROVED, by, text)
    return locked


@transaction.atomic
def offer_decline(*, offer: Offer, by: User, reason: str) -> Offer:
    """Decline an offer, saying why (the timeline keeps it). An offer awaiting a manager's approval
    is not declined by whoever recorded it: another person decides."""
    locked = _lock_offer(offer)
    refusal = offer_decision_refusal(offer=locked, by=by, rate_card=_offer_rate_card(locked))
    if refusal is not None:
        raise refusal
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the offer is declined."]})
    if locked.status != OfferStatus.RECEIVED:
        raise ValidationError(f"This offer is already {locked.get_status_display().lower()}.")
    locked.status = OfferStatus.DECLINED
    locked.decline_reason = reason[:300]
    with history_context(by):
        locked.save(update_fields=["status", "decline_reason"])
    record_activity(
        locked.referral,
        ReferralActivity.Kind.DECLINED,
        by,
        f"{locked.provider}. {locked.decline_reason}".strip(),
    )
    return locked


def _opening_funding(referral: Referral, start: date) -> tuple[list[Share], str, str, PanelDecision | None]:
    """The first funding split of a package: the client's latest panel decision not yet applied
    that is in force on the start date, else the referral's proposed funder paying all."""
    decision = (
        PanelDecision.objects.filter(
            client=referral.client, applied_at__isnull=True, effective_from__lte=start
        )
        .exclude(effective_to__lt=start)
        .order_by("-meeting_date", "-pk")
        .prefetch_related("shares__organisation")
        .first()
    )
    if decision is not None:
        shares = [Share(s.organisation, s.percent) for s in decision.shares.all()]
        return shares, decision.basis, decision.reference, decision
    if referral.proposed_funder is None:
        raise ValidationError(
            "The referral has no proposed funder and the client has no panel decision in force: "
            "record one of them before accepting an offer."
        )
    return [Share(referral.proposed_funder, HUNDRED)], FundingBasis.SINGLE_FUNDER, "", None


@transaction.atomic
def offer_accept(
    *,
    offer: Offer,
    by: User,
    start: date | None = None,
    paying_organisation: Organisation | None = None,
    today: date | None = None,
) -> Package:
    """Start a package from an offer: the package, its first cost and funding split, the other
    offers declined and the referral closed (accepted, or started if the package has started)."""
    today = today or timezone.localdate()
    locked = _lock_offer(offer)
    referral = lock_referral(locked.referral)
    if locked.status != OfferStatus.RECEIVED:
        raise ValidationError(f"This offer is {locked.get_status_display().lower()} and cannot be accepted.")
    if not referral.is_open:
        raise ValidationError(f"The referral is already {referral.get_status_display().lower()}.")
    card = _offer_rate_card(locked)
    if rates.needs_approval(locked.unit_rate, card) and locked.approved_at is None:
        reason = "There is no rate card to compare it with" if card is None else "It is above the rate card"
        raise ValidationError(f"{reason}: a brokerage manager must approve this offer before it is accepted.")
    start = start or max(locked.earliest_start, referral.required_start or locked.earliest_start)
    if start < locked.earliest_start:
        raise ValidationError(
            {"start": [f"The provider cannot start before {histories.day_text(locked.earliest_start)}."]}
        )
    partnership = referral.client.partnership
    paying = paying_organisation or partnership.council
    validate_funder(referral.client, paying, "paying_organisation")
    shares, basis, decision_reference, decision = _opening_funding(referral, start)
    validate_shares(shares, partnership)

    with history_context(by):
        package = Package(
            client=referral.client,
            provider=locked.provider,
            service_type=referral.service_type,
            start=start,
            paying_organisation=paying,
            referral=referral,
        )
        package.full_clean()
        package.save()
        cost = PackageCost.objects.create(
            package=package,
            effective_from=start,
            unit_rate=locked.unit_rate,
            units_per_week=locked.units_per_week,
            unit=locked.unit,
        )
        opening_price_record(offer=locked, package=package, cost=cost, rate_card=card, by=by)
        create_split(package, start, None, shares, basis, decision_reference)
        if decision is not None:
            decision.package = package
            decision.applied_at = timezone.now()
            decision.applied_by = by
            decision.save(update_fields=["package", "applied_at", "applied_by"])
        locked.status = OfferStatus.ACCEPTED
        locked.save(update_fields=["status"])
        for other in referral.offers.filter(status=OfferStatus.RECEIVED).exclude(pk=locked.pk):
            other.status = OfferStatus.DECLINED
            other.decline_reason = "Another offer was accepted"
            other.save(update_fields=["status", "decline_reason"])
    now = timezone.now()
    referral.status = ReferralStatus.ACCEPTED
    referral.accepted_at = now
    record_activity(
        referral, ReferralActivity.Kind.ACCEPTED, by, f"{locked.provider}, package {package.reference}"
    )
    if start <= today:
        referral.status = ReferralStatus.STARTED
        referral.started_at = now
        record_activity(
            referral,
            ReferralActivity.Kind.STARTED,
            by,
            f"Package {package.reference} from {histories.day_text(start)}",
        )
    save_referral(referral, by)
    return package
