"""Writes of the brokerage app. Each service is one transaction with keyword-only arguments, names
the acting user in the change history, and is what the pages, the API, tasks and the demo call.

Packages are locked (``select_for_update``) before their costs or funding change, so two people
changing one package at once never lose an update; an editor who sends the ``version`` they loaded
gets ``StaleEdit`` if someone changed the package since."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pghistory
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from commissioning.models import Organisation, Provider, User
from commissioning.money import format_money
from commissioning.services import StaleEdit

from . import histories, rates
from .models import (
    Client,
    FundingBasis,
    FundingShare,
    FundingSplit,
    Offer,
    OfferStatus,
    Package,
    PackageCost,
    PackageStatus,
    PanelDecision,
    PanelDecisionShare,
    RateCard,
    Referral,
    ReferralActivity,
    ReferralStatus,
)

APPROVE_PERMISSION = "brokerage.approve_offer"
HUNDRED = Decimal("100")


@dataclass(frozen=True)
class Share:
    organisation: Organisation
    percent: Decimal


def _context(by: User):
    return pghistory.context(user=by.pk)


def _event(referral: Referral, kind: str, by: User | None, text: str = "", at=None) -> ReferralActivity:
    return ReferralActivity.objects.create(
        referral=referral, kind=kind, by=by, text=text[:500], at=at or timezone.now()
    )


def _check_version(obj, version: int | None, noun: str) -> None:
    if version is not None and obj.version != version:
        raise StaleEdit(
            f"Someone else changed this {noun} since you opened it. "
            "Your change has not been saved: reload the page to see theirs, then try again."
        )


def _lock_package(package: Package, version: int | None) -> Package:
    locked = Package.objects.select_for_update().select_related("client__partnership").get(pk=package.pk)
    _check_version(locked, version, "package")
    return locked


def _bump(package: Package) -> None:
    package.version += 1
    package.save(update_fields=["version"])


# --- Clients ------------------------------------------------------------------------------------

CLIENT_FIELDS = (
    "partnership",
    "nhs_number",
    "case_reference",
    "given_name",
    "family_name",
    "date_of_birth",
    "cohort",
    "gp_practice",
    "resident_borough",
)


def _clean_client(client: Client) -> None:
    from .nhs_number import normalise

    client.nhs_number = normalise(client.nhs_number)
    if client.date_of_birth and client.date_of_birth > timezone.localdate():
        raise ValidationError({"date_of_birth": ["Date of birth must be in the past"]})
    client.full_clean()


@transaction.atomic
def client_create(*, by: User, **fields: Any) -> Client:
    unknown = set(fields) - set(CLIENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown client fields: {sorted(unknown)}")
    client = Client(**fields)
    _clean_client(client)
    with _context(by):
        client.save()
    return client


@transaction.atomic
def client_update(*, client: Client, by: User, **fields: Any) -> Client:
    unknown = set(fields) - set(CLIENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown client fields: {sorted(unknown)}")
    locked = Client.objects.select_for_update().get(pk=client.pk)
    for name, value in fields.items():
        setattr(locked, name, value)
    _clean_client(locked)
    with _context(by):
        locked.save()
    return locked


# --- Rate cards ---------------------------------------------------------------------------------


@transaction.atomic
def rate_card_save(*, by: User, rate_card: RateCard | None = None, **fields: Any) -> RateCard:
    card = rate_card or RateCard()
    for name, value in fields.items():
        setattr(card, name, value)
    card.full_clean()
    with _context(by):
        card.save()
    return card


# --- Referrals ----------------------------------------------------------------------------------

REFERRAL_FIELDS = (
    "client",
    "service_type",
    "needs_summary",
    "requirement",
    "required_start",
    "urgency",
    "proposed_funder",
    "requested_by",
    "assigned_to",
)


def _validate_funder(client: Client, funder: Organisation | None, field: str) -> None:
    if funder is None:
        return
    partnership = client.partnership
    if funder.pk not in (partnership.council_id, partnership.nhs_commissioner_id):
        raise ValidationError({field: [f"The funder must be one of the partners of {partnership.name}."]})


@transaction.atomic
def referral_create(*, by: User, received_at=None, **fields: Any) -> Referral:
    unknown = set(fields) - set(REFERRAL_FIELDS)
    if unknown:
        raise TypeError(f"unknown referral fields: {sorted(unknown)}")
    referral = Referral(**fields)
    if received_at is not None:
        referral.received_at = received_at
    referral.full_clean()
    _validate_funder(referral.client, referral.proposed_funder, "proposed_funder")
    with _context(by):
        referral.save()
        _event(referral, ReferralActivity.Kind.RECEIVED, by, referral.requested_by, at=referral.received_at)
        if referral.assigned_to_id:
            _event(referral, ReferralActivity.Kind.ASSIGNED, by, f"to {referral.assigned_to}")
    return referral


def _lock_referral(referral: Referral, version: int | None = None) -> Referral:
    locked = Referral.objects.select_for_update().select_related("client__partnership").get(pk=referral.pk)
    _check_version(locked, version, "referral")
    return locked


def _save_referral(referral: Referral, by: User) -> None:
    referral.version += 1
    with _context(by):
        referral.save()


@transaction.atomic
def referral_update(*, referral: Referral, by: User, version: int | None = None, **fields: Any) -> Referral:
    unknown = set(fields) - set(REFERRAL_FIELDS) - {"status"}
    if unknown:
        raise TypeError(f"unknown referral fields: {sorted(unknown)}")
    locked = _lock_referral(referral, version)
    status = fields.pop("status", None)
    assigned = fields.pop("assigned_to", locked.assigned_to)
    if "client" in fields and fields["client"].pk != locked.client_id:
        raise ValidationError({"client": ["A referral cannot be moved to another client."]})
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.full_clean()
    _validate_funder(locked.client, locked.proposed_funder, "proposed_funder")
    _save_referral(locked, by)
    if (assigned.pk if assigned else None) != locked.assigned_to_id:
        referral_assign(referral=locked, to=assigned, by=by)
    if status and status != locked.status:
        if status == ReferralStatus.SOURCING:
            referral_start_sourcing(referral=locked, by=by)
        elif status == ReferralStatus.CANCELLED:
            referral_cancel(referral=locked, by=by, reason="Cancelled through the API")
        else:
            raise ValidationError(
                {
                    "status": [
                        "Only sourcing and cancelled can be set directly; offers move a referral to "
                        "offered, and accepting an offer to accepted or started."
                    ]
                }
            )
    locked.refresh_from_db()
    return locked


@transaction.atomic
def referral_assign(*, referral: Referral, to: User | None, by: User) -> Referral:
    locked = _lock_referral(referral)
    if not locked.is_open:
        raise ValidationError("Only open referrals can be assigned.")
    if to is not None and not to.is_active:
        raise ValidationError({"assigned_to": ["That person can no longer sign in."]})
    if (
        to is not None
        and not to.is_superuser
        and not to.grants.filter(partnership=locked.client.partnership).exists()
    ):
        raise ValidationError(
            {"assigned_to": [f"That person does not work in {locked.client.partnership.name}."]}
        )
    locked.assigned_to = to
    _save_referral(locked, by)
    if to is None:
        _event(locked, ReferralActivity.Kind.ASSIGNED, by, "Unassigned")
    elif to.pk == by.pk:
        _event(locked, ReferralActivity.Kind.ASSIGNED, by, "Claimed")
    else:
        _event(locked, ReferralActivity.Kind.ASSIGNED, by, f"to {to}")
    return locked


def referral_claim(*, referral: Referral, by: User) -> Referral:
    return referral_assign(referral=referral, to=by, by=by)


@transaction.atomic
def referral_start_sourcing(*, referral: Referral, by: User) -> Referral:
    locked = _lock_referral(referral)
    if locked.status != ReferralStatus.RECEIVED:
        raise ValidationError(f"This referral is {locked.get_status_display().lower()}, not received.")
    locked.status = ReferralStatus.SOURCING
    locked.sourcing_at = timezone.now()
    if locked.assigned_to_id is None:
        locked.assigned_to = by
    _save_referral(locked, by)
    _event(locked, ReferralActivity.Kind.SOURCING, by)
    return locked


@transaction.atomic
def referral_cancel(*, referral: Referral, by: User, reason: str) -> Referral:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Enter why the referral is cancelled"]})
    locked = _lock_referral(referral)
    if not locked.is_open:
        raise ValidationError(f"This referral is already {locked.get_status_display().lower()}.")
    locked.status = ReferralStatus.CANCELLED
    locked.cancelled_at = timezone.now()
    locked.cancel_reason = reason[:300]
    _save_referral(locked, by)
    _event(locked, ReferralActivity.Kind.CANCELLED, by, reason)
    return locked


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
    locked = _lock_referral(referral)
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
    with _context(by):
        offer.save()
    now = timezone.now()
    if locked.sourcing_at is None:
        locked.sourcing_at = now
    if locked.status != ReferralStatus.OFFERED:
        locked.status = ReferralStatus.OFFERED
        locked.offered_at = now
    if locked.assigned_to_id is None:
        locked.assigned_to = by
    _save_referral(locked, by)
    card = _offer_rate_card(offer)
    versus = "no rate card to compare" if card is None else f"rate card {format_money(card)}"
    _event(
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
    with _context(by):
        locked.save()
    return locked


@transaction.atomic
def offer_approve(*, offer: Offer, by: User) -> Offer:
    """A brokerage manager approves an offer above the rate card (who and when are kept)."""
    if not (by.is_superuser or by.has_perm(APPROVE_PERMISSION)):
        raise PermissionDenied("Only a brokerage manager can approve offers above the rate card.")
    locked = _lock_offer(offer)
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
    with _context(by):
        locked.save(update_fields=["approved_by", "approved_at"])
    text = f"{locked.provider}: {format_money(locked.unit_rate)} per {locked.unit}"
    if card is None:
        text += " (no rate card)"
    else:
        text += f", {format_money(locked.unit_rate - card)} above the rate card of {format_money(card)}"
    _event(locked.referral, ReferralActivity.Kind.APPROVED, by, text)
    return locked


@transaction.atomic
def offer_decline(*, offer: Offer, by: User, reason: str = "") -> Offer:
    locked = _lock_offer(offer)
    if locked.status != OfferStatus.RECEIVED:
        raise ValidationError(f"This offer is already {locked.get_status_display().lower()}.")
    locked.status = OfferStatus.DECLINED
    locked.decline_reason = (reason or "").strip()[:300]
    with _context(by):
        locked.save(update_fields=["status", "decline_reason"])
    _event(
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
    referral = _lock_referral(locked.referral)
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
    _validate_funder(referral.client, paying, "paying_organisation")
    shares, basis, decision_reference, decision = _opening_funding(referral, start)
    _validate_shares(shares, partnership)

    with _context(by):
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
        PackageCost.objects.create(
            package=package,
            effective_from=start,
            unit_rate=locked.unit_rate,
            units_per_week=locked.units_per_week,
            unit=locked.unit,
        )
        _create_split(package, start, None, shares, basis, decision_reference)
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
    _event(referral, ReferralActivity.Kind.ACCEPTED, by, f"{locked.provider}, package {package.reference}")
    if start <= today:
        referral.status = ReferralStatus.STARTED
        referral.started_at = now
        _event(
            referral,
            ReferralActivity.Kind.STARTED,
            by,
            f"Package {package.reference} from {histories.day_text(start)}",
        )
    _save_referral(referral, by)
    return package


@transaction.atomic
def referrals_mark_started(*, today: date | None = None) -> int:
    """Referrals accepted for a package that has now started move to started (idempotent)."""
    today = today or timezone.localdate()
    count = 0
    due = (
        Referral.objects.select_for_update()
        .filter(status=ReferralStatus.ACCEPTED, package__start__lte=today)
        .select_related("package")
    )
    for referral in due:
        referral.status = ReferralStatus.STARTED
        referral.started_at = timezone.now()
        referral.version += 1
        referral.save(update_fields=["status", "started_at", "version"])
        _event(referral, ReferralActivity.Kind.STARTED, None, f"Package {referral.package.reference} started")
        count += 1
    return count


# --- Packages: create, end, suspend --------------------------------------------------------------

PACKAGE_FIELDS = ("client", "provider", "service_type", "start", "end", "paying_organisation", "status")


@transaction.atomic
def package_create(*, by: User, **fields: Any) -> Package:
    """A package loaded from a case management system (no referral); costs and splits follow."""
    unknown = set(fields) - set(PACKAGE_FIELDS)
    if unknown:
        raise TypeError(f"unknown package fields: {sorted(unknown)}")
    package = Package(**fields)
    package.full_clean()
    _validate_funder(package.client, package.paying_organisation, "paying_organisation")
    with _context(by):
        package.save()
    return package


@transaction.atomic
def package_update(*, package: Package, by: User, version: int | None = None, **fields: Any) -> Package:
    """Change a package's provider, paying organisation or status. Dates change through
    ``package_end``; costs and funding through their own services."""
    allowed = {"provider", "service_type", "paying_organisation", "status", "end"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: ["This cannot be changed here."] for name in sorted(unknown)})
    locked = _lock_package(package, version)
    end = fields.pop("end", locked.end)
    status = fields.pop("status", locked.status)
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.full_clean()
    _validate_funder(locked.client, locked.paying_organisation, "paying_organisation")
    locked.version += 1  # every change moves the version on, so an edit from the old one is stale
    with _context(by):
        locked.save()
    if end != locked.end:
        locked = package_end(package=locked, end=end, by=by) if end else _reopen(locked, by)
    if status != locked.status:
        locked = package_set_status(package=locked, status=status, by=by)
    return locked


def _reopen(package: Package, by: User) -> Package:
    package.end = None
    if package.status == PackageStatus.ENDED:
        package.status = PackageStatus.ACTIVE
    _bump(package)
    with _context(by):
        package.save()
    return package


@transaction.atomic
def package_end(*, package: Package, end: date, by: User, version: int | None = None) -> Package:
    """End a package on a date (inclusive): costs and splits running past it end there too."""
    locked = _lock_package(package, version)
    if end < locked.start:
        raise ValidationError(
            {"end": [f"The end date cannot be before the start ({histories.day_text(locked.start)})."]}
        )
    with _context(by):
        for model in (PackageCost, FundingSplit):
            rows = model.objects.filter(package=locked)
            rows.filter(effective_from__gt=end).delete()
            for row in rows.filter(effective_from__lte=end):
                if row.effective_to is None or row.effective_to > end:
                    row.effective_to = end
                    row.save(update_fields=["effective_to"])
        locked.end = end
        if end < timezone.localdate():
            locked.status = PackageStatus.ENDED
        locked.version += 1
        locked.save()
    return locked


@transaction.atomic
def package_set_status(*, package: Package, status: str, by: User, version: int | None = None) -> Package:
    """Suspend or resume a package (its costs and funding stay as they are)."""
    locked = _lock_package(package, version)
    if status not in PackageStatus.values:
        raise ValidationError({"status": ["Choose active, suspended or ended."]})
    if status == PackageStatus.ENDED and locked.end is None:
        raise ValidationError({"status": ["Give the package an end date to end it."]})
    locked.status = status
    locked.version += 1
    with _context(by):
        locked.save()
    return locked


# --- Packages: cost and funding history ----------------------------------------------------------


def _within_package(package: Package, start: date, end: date | None, field: str) -> None:
    if start < package.start:
        raise ValidationError(
            {
                field: [
                    f"The change cannot start before the package does ({histories.day_text(package.start)})."
                ]
            }
        )
    if package.end is not None and start > package.end:
        raise ValidationError(
            {field: [f"The change cannot start after the package ends ({histories.day_text(package.end)})."]}
        )
    if end is not None and package.end is not None and end > package.end:
        raise ValidationError(
            {
                "effective_to": [
                    f"The change cannot run past the package's end ({histories.day_text(package.end)})."
                ]
            }
        )


def _apply_plan(model, plan: histories.Plan, create) -> list:
    """Write a plan: delete, then shorten or move, then add (so no two rows ever overlap)."""
    if plan.delete:
        model.objects.filter(pk__in=[row.key for row in plan.delete]).delete()
    for row, start, end in plan.update:
        model.objects.filter(pk=row.key).update(effective_from=start, effective_to=end)
    return [create(row) for row in plan.add]


def _cost_rows(package: Package) -> list[histories.Row]:
    return [
        histories.Row(c.effective_from, c.effective_to, c.pk, (c.unit_rate, c.units_per_week, c.unit))
        for c in PackageCost.objects.filter(package=package).order_by("effective_from")
    ]


def _split_rows(package: Package) -> list[histories.Row]:
    splits = (
        FundingSplit.objects.filter(package=package).order_by("effective_from").prefetch_related("shares")
    )
    return [
        histories.Row(
            s.effective_from,
            s.effective_to,
            s.pk,
            (tuple((sh.organisation_id, sh.percent) for sh in s.shares.all()), s.basis, s.decision_reference),
        )
        for s in splits
    ]


def _cap(end: date | None, package: Package) -> date | None:
    """An open-ended row of an ended package ends with it."""
    if end is None and package.end is not None:
        return package.end
    return end


@transaction.atomic
def package_change_cost(
    *,
    package: Package,
    effective_from: date,
    unit_rate: Decimal,
    units_per_week: Decimal,
    unit: str,
    by: User,
    version: int | None = None,
) -> PackageCost:
    """A price change from a date (past dates allowed): ends the cost row covering that date the
    day before, drops the rows that start later, and opens the new one."""
    locked = _lock_package(package, version)
    _within_package(locked, effective_from, None, "effective_from")
    probe = PackageCost(
        package=locked,
        effective_from=effective_from,
        unit_rate=unit_rate,
        units_per_week=units_per_week,
        unit=unit,
    )
    probe.full_clean(exclude=["package"])
    plan = histories.plan_change(
        _cost_rows(locked), start=effective_from, payload=(unit_rate, units_per_week, unit)
    )
    with _context(by):

        def create(row: histories.Row) -> PackageCost:
            rate, units, row_unit = row.payload
            return PackageCost.objects.create(
                package=locked,
                effective_from=row.start,
                effective_to=_cap(row.end, locked),
                unit_rate=rate,
                units_per_week=units,
                unit=row_unit,
            )

        created = _apply_plan(PackageCost, plan, create)
        _bump(locked)
    return created[0]


def _percent_text(value: Decimal) -> str:
    """``90.00`` -> ``90``; ``100.50`` -> ``100.5``."""
    text = f"{Decimal(value).quantize(Decimal('0.01'))}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _validate_shares(shares: Iterable[Share], partnership) -> list[Share]:
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


def _create_split(
    package: Package, start: date, end: date | None, shares, basis: str, decision_reference: str
) -> FundingSplit:
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


@transaction.atomic
def package_change_funding(
    *,
    package: Package,
    effective_from: date,
    shares: list[Share],
    basis: str,
    by: User,
    effective_to: date | None = None,
    decision_reference: str = "",
    version: int | None = None,
) -> FundingSplit:
    """A funding change from a date, past dates allowed, without stopping the package. With
    ``effective_to`` the change lasts to that date and the earlier arrangement then resumes."""
    locked = _lock_package(package, version)
    if basis not in FundingBasis.values:
        raise ValidationError({"basis": ["Choose a funding basis from the list."]})
    if effective_to is not None and effective_to < effective_from:
        raise ValidationError({"effective_to": ["The end of the change cannot be before its start."]})
    _within_package(locked, effective_from, effective_to, "effective_from")
    shares = _validate_shares(shares, locked.client.partnership)
    payload = (
        tuple((s.organisation.pk, Decimal(s.percent)) for s in shares),
        basis,
        decision_reference or "",
    )
    plan = histories.plan_change(_split_rows(locked), start=effective_from, end=effective_to, payload=payload)
    with _context(by):

        def create(row: histories.Row) -> FundingSplit:
            row_shares, row_basis, row_reference = row.payload
            return _create_split(
                locked, row.start, _cap(row.end, locked), row_shares, row_basis, row_reference
            )

        created = _apply_plan(FundingSplit, plan, create)
        _bump(locked)
    return created[0]


# --- Rows loaded one by one (API: package-costs/, funding-splits/) -------------------------------


def _insert_strict(model, package: Package, start: date, end: date | None, noun: str) -> None:
    rows = [
        histories.Row(r.effective_from, r.effective_to, r.pk) for r in model.objects.filter(package=package)
    ]
    new = histories.Row(start, end)
    clashes = [b if a is new else a for a, b in histories.overlaps([*rows, new]) if new in (a, b)]
    if clashes:
        raise ValidationError({"effective_from": [histories.overlap_message(start, end, clashes, noun)]})


@transaction.atomic
def package_cost_add(
    *,
    package: Package,
    effective_from: date,
    unit_rate: Decimal,
    units_per_week: Decimal,
    unit: str,
    by: User,
    effective_to: date | None = None,
) -> PackageCost:
    """Add one cost row as it is (a history loaded from another system): refused if it overlaps
    another row or leaves days of the package without a cost."""
    locked = _lock_package(package, None)
    _within_package(locked, effective_from, effective_to, "effective_from")
    if effective_to is not None and effective_to < effective_from:
        raise ValidationError({"effective_to": ["The end cannot be before the start."]})
    _insert_strict(PackageCost, locked, effective_from, effective_to, "cost")
    rows = [*_cost_rows(locked), histories.Row(effective_from, effective_to)]
    last = max(rows, key=lambda r: r.start)
    found = histories.gaps(rows, start=locked.start, end=last.start)
    if found:
        raise ValidationError({"effective_from": [histories.gap_message(found, "cost")]})
    cost = PackageCost(
        package=locked,
        effective_from=effective_from,
        effective_to=effective_to,
        unit_rate=unit_rate,
        units_per_week=units_per_week,
        unit=unit,
    )
    cost.full_clean()
    with _context(by):
        cost.save()
        _bump(locked)
    return cost


@transaction.atomic
def funding_split_add(
    *,
    package: Package,
    effective_from: date,
    shares: list[Share],
    basis: str,
    by: User,
    effective_to: date | None = None,
    decision_reference: str = "",
) -> FundingSplit:
    """Add one funding split as it is: refused if it overlaps another (days without a split are
    allowed: they are reported as unfunded, never billed)."""
    locked = _lock_package(package, None)
    if basis not in FundingBasis.values:
        raise ValidationError({"basis": ["Choose a funding basis from the list."]})
    if effective_to is not None and effective_to < effective_from:
        raise ValidationError({"effective_to": ["The end cannot be before the start."]})
    _within_package(locked, effective_from, effective_to, "effective_from")
    shares = _validate_shares(shares, locked.client.partnership)
    _insert_strict(FundingSplit, locked, effective_from, effective_to, "funding split")
    with _context(by):
        split = _create_split(locked, effective_from, effective_to, shares, basis, decision_reference)
        _bump(locked)
    return split


# --- Joint funding panel --------------------------------------------------------------------------


@transaction.atomic
def panel_decision_record(
    *,
    client: Client,
    reference: str,
    meeting_date: date,
    effective_from: date,
    shares: list[Share],
    by: User,
    effective_to: date | None = None,
    review_date: date | None = None,
    basis: str = FundingBasis.PANEL_DECISION,
    notes: str = "",
) -> PanelDecision:
    shares = _validate_shares(shares, client.partnership)
    decision = PanelDecision(
        client=client,
        reference=(reference or "").strip(),
        meeting_date=meeting_date,
        effective_from=effective_from,
        effective_to=effective_to,
        review_date=review_date,
        basis=basis,
        notes=notes,
        recorded_by=by,
    )
    decision.full_clean()
    if review_date is not None and review_date < meeting_date:
        raise ValidationError({"review_date": ["The review date cannot be before the panel met."]})
    if PanelDecision.objects.filter(
        client__partnership=client.partnership, reference__iexact=decision.reference
    ).exists():
        raise ValidationError(
            {"reference": ["Another panel decision in this partnership has this reference."]}
        )
    with _context(by):
        decision.save()
        PanelDecisionShare.objects.bulk_create(
            [
                PanelDecisionShare(decision=decision, organisation=s.organisation, percent=s.percent)
                for s in shares
            ]
        )
    return decision


@transaction.atomic
def panel_decision_apply(
    *, decision: PanelDecision, package: Package, by: User, version: int | None = None
) -> FundingSplit:
    """Apply a panel decision to one of the client's packages: a funding change from its
    effective date (backdated if the panel said so). The next recharge run trues up."""
    locked = PanelDecision.objects.select_for_update().get(pk=decision.pk)
    if locked.applied_at is not None:
        raise ValidationError("This panel decision has already been applied.")
    if package.client_id != locked.client_id:
        raise ValidationError({"package": ["Choose a package of the client the panel decided about."]})
    shares = [Share(s.organisation, s.percent) for s in locked.shares.select_related("organisation")]
    start = max(locked.effective_from, package.start)
    split = package_change_funding(
        package=package,
        effective_from=start,
        effective_to=locked.effective_to,
        shares=shares,
        basis=locked.basis,
        decision_reference=locked.reference,
        by=by,
        version=version,
    )
    locked.package = package
    locked.applied_at = timezone.now()
    locked.applied_by = by
    with _context(by):
        locked.save(update_fields=["package", "applied_at", "applied_by"])
    return split
