"""Referrals: received, assigned or claimed, sourced, cancelled, and moved to started when their
package starts. Each step writes an entry on the referral's timeline."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from commissioning.models import User

from ..models import Referral, ReferralActivity, ReferralStatus
from .base import history_context, lock_referral, record_activity, save_referral, validate_funder

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


@transaction.atomic
def referral_create(*, by: User, received_at=None, **fields: Any) -> Referral:
    unknown = set(fields) - set(REFERRAL_FIELDS)
    if unknown:
        raise TypeError(f"unknown referral fields: {sorted(unknown)}")
    referral = Referral(**fields)
    if received_at is not None:
        referral.received_at = received_at
    referral.full_clean()
    validate_funder(referral.client, referral.proposed_funder, "proposed_funder")
    with history_context(by):
        referral.save()
        record_activity(
            referral, ReferralActivity.Kind.RECEIVED, by, referral.requested_by, at=referral.received_at
        )
        if referral.assigned_to_id:
            record_activity(referral, ReferralActivity.Kind.ASSIGNED, by, f"to {referral.assigned_to}")
    return referral


@transaction.atomic
def referral_update(*, referral: Referral, by: User, version: int | None = None, **fields: Any) -> Referral:
    unknown = set(fields) - set(REFERRAL_FIELDS) - {"status"}
    if unknown:
        raise TypeError(f"unknown referral fields: {sorted(unknown)}")
    locked = lock_referral(referral, version)
    status = fields.pop("status", None)
    assigned = fields.pop("assigned_to", locked.assigned_to)
    if "client" in fields and fields["client"].pk != locked.client_id:
        raise ValidationError({"client": ["A referral cannot be moved to another client."]})
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.full_clean()
    validate_funder(locked.client, locked.proposed_funder, "proposed_funder")
    save_referral(locked, by)
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
def referral_assign(*, referral: Referral, to: User | None, by: User, version: int | None = None) -> Referral:
    """Assign (or unassign) a referral; ``version``, the one the page showed, refuses a stale click."""
    locked = lock_referral(referral, version)
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
    save_referral(locked, by)
    if to is None:
        record_activity(locked, ReferralActivity.Kind.ASSIGNED, by, "Unassigned")
    elif to.pk == by.pk:
        record_activity(locked, ReferralActivity.Kind.ASSIGNED, by, "Claimed")
    else:
        record_activity(locked, ReferralActivity.Kind.ASSIGNED, by, f"to {to}")
    return locked


def referral_claim(*, referral: Referral, by: User, version: int | None = None) -> Referral:
    return referral_assign(referral=referral, to=by, by=by, version=version)


@transaction.atomic
def referral_start_sourcing(*, referral: Referral, by: User, version: int | None = None) -> Referral:
    locked = lock_referral(referral, version)
    if locked.status != ReferralStatus.RECEIVED:
        raise ValidationError(f"This referral is {locked.get_status_display().lower()}, not received.")
    locked.status = ReferralStatus.SOURCING
    locked.sourcing_at = timezone.now()
    if locked.assigned_to_id is None:
        locked.assigned_to = by
    save_referral(locked, by)
    record_activity(locked, ReferralActivity.Kind.SOURCING, by)
    return locked


@transaction.atomic
def referral_cancel(*, referral: Referral, by: User, reason: str, version: int | None = None) -> Referral:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Enter why the referral is cancelled"]})
    locked = lock_referral(referral, version)
    if not locked.is_open:
        raise ValidationError(f"This referral is already {locked.get_status_display().lower()}.")
    locked.status = ReferralStatus.CANCELLED
    locked.cancelled_at = timezone.now()
    locked.cancel_reason = reason[:300]
    save_referral(locked, by)
    record_activity(locked, ReferralActivity.Kind.CANCELLED, by, reason)
    return locked


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
        record_activity(
            referral, ReferralActivity.Kind.STARTED, None, f"Package {referral.package.reference} started"
        )
        count += 1
    return count
