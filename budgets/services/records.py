"""What happens to an agreement after signature: variations (numbered under a lock on the
agreement, each approved by a decision of a board of its partnership, with the signed deed as a
checked PDF; recording one makes the agreement ``varied``) and reviews (one a financial year, due,
held, with an outcome that went to a decision or a paper)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Max

from budgets.models import (
    AgreementStatus,
    Review,
    ReviewOutcome,
    Schedule,
    Section75Agreement,
    Variation,
    financial_year_of,
)
from budgets.services.agreements import keep_pdf
from budgets.services.base import Errors, check_decision, raise_errors, refuse_stale, save_recorded
from commissioning import uploads
from commissioning.models import User

VARIABLE_STATUSES = (AgreementStatus.SIGNED, AgreementStatus.VARIED)
REVIEW_FIELDS = ("due", "held_on", "outcome", "decision", "paper", "notes")


def _within_term(agreement: Section75Agreement, day: date | None, field: str, what: str, errors: Errors):
    if day and not agreement.start <= day <= agreement.end:
        errors.setdefault(field, []).append(
            f"{what} must fall within the agreement's term "
            f"({agreement.start:%d/%m/%Y} to {agreement.end:%d/%m/%Y})."
        )


@transaction.atomic
def variation_record(
    *,
    agreement: Section75Agreement,
    by: User,
    effective_from: date | None,
    changes: str,
    decision,
    schedules: Iterable[Schedule] = (),
    signed_deed: uploads.CheckedUpload | None = None,
) -> Variation:
    """Record the next variation of a signed (or already varied) agreement and mark it ``varied``.
    The agreement row is locked, so two variations recorded at once get 1 and 2, never 1 twice."""
    locked = (
        Section75Agreement.objects.select_for_update(of=("self",))
        .select_related("partnership")
        .get(pk=agreement.pk)
    )
    errors: Errors = {}
    if locked.status not in VARIABLE_STATUSES:
        errors.setdefault("agreement", []).append(
            f"Only a signed agreement can be varied: {locked.reference} is "
            f"{locked.get_status_display().lower()}."
        )
    if effective_from is None:
        errors.setdefault("effective_from", []).append("Enter the date the variation takes effect.")
    _within_term(locked, effective_from, "effective_from", "The variation's effective date", errors)
    if not (changes or "").strip():
        errors.setdefault("changes", []).append("Say what the variation changes.")
    if decision is None:
        errors.setdefault("decision", []).append("Choose the decision that approved the variation.")
    check_decision(decision, locked.partnership, "decision", errors)
    schedules = list(schedules)
    if any(s.agreement_id != locked.pk for s in schedules):
        errors.setdefault("schedules", []).append(f"Choose schedules of {locked.reference} only.")
    raise_errors(errors)
    last = Variation.objects.filter(agreement=locked).aggregate(n=Max("number"))["n"] or 0
    variation = Variation(
        agreement=locked,
        number=last + 1,
        effective_from=effective_from,
        changes=changes.strip(),
        decision=decision,
    )
    keep_pdf(variation.signed_deed, signed_deed, "signed_deed_name", variation)
    variation.full_clean(exclude=["number", "schedules"])
    save_recorded(variation, by=by)
    if schedules:
        variation.schedules.set(schedules)
    if locked.status != AgreementStatus.VARIED:
        locked.status = AgreementStatus.VARIED
        locked.version += 1
        save_recorded(locked, by=by, update_fields=["status", "version"])
    return variation


def _check_review(review: Review, errors: Errors) -> None:
    agreement = review.agreement
    if review.due is None:
        errors.setdefault("due", []).append("Enter the date the review is due.")
    if review.year is not None and review.year not in agreement.years:
        errors.setdefault("year", []).append("Choose a financial year of the agreement's term.")
    if review.outcome and not review.held_on:
        errors.setdefault("held_on", []).append("Enter the date the review was held to record its outcome.")
    if review.held_on and review.held_on > _today():
        errors.setdefault("held_on", []).append("The date the review was held cannot be in the future.")
    if review.outcome and review.outcome not in ReviewOutcome.values:
        errors.setdefault("outcome", []).append("Choose continue, vary or give notice.")
    check_decision(review.decision, agreement.partnership, "decision", errors)
    if review.paper is not None and review.paper.board.partnership_id != agreement.partnership_id:
        errors.setdefault("paper", []).append(f"Choose a paper of a {agreement.partnership.name} board.")


def _today() -> date:
    from django.utils import timezone

    return timezone.localdate()


def _advance_next_review(agreement: Section75Agreement, review: Review, by: User) -> None:
    """A review held moves the agreement's next review on by its review frequency."""
    if not review.held_on or not agreement.next_review_due or agreement.next_review_due > review.due:
        return
    following = review.due + relativedelta(months=agreement.review_frequency_months)
    agreement.next_review_due = following if following <= agreement.end else None
    agreement.version += 1
    save_recorded(agreement, by=by, update_fields=["next_review_due", "version"])


@transaction.atomic
def review_create(
    *, agreement: Section75Agreement, by: User, year: int | None = None, **fields: Any
) -> Review:
    """Add the review of a financial year (by default the one its due date falls in)."""
    unknown = set(fields) - set(REVIEW_FIELDS)
    if unknown:
        raise TypeError(f"unknown review fields: {sorted(unknown)}")
    locked = (
        Section75Agreement.objects.select_for_update(of=("self",))
        .select_related("partnership")
        .get(pk=agreement.pk)
    )
    due = fields.get("due")
    review = Review(
        agreement=locked, year=year if year is not None else (due and financial_year_of(due)), **fields
    )
    errors: Errors = {}
    _check_review(review, errors)
    if review.year is not None and Review.objects.filter(agreement=locked, year=review.year).exists():
        errors.setdefault("year", []).append("This agreement already has a review for that year.")
    raise_errors(errors)
    review.outcome = review.outcome or ""
    review.full_clean(exclude=["version"])
    save_recorded(review, by=by)
    _advance_next_review(locked, review, by)
    return review


@transaction.atomic
def review_update(*, review: Review, by: User, version: int | None = None, **fields: Any) -> Review:
    """Record that a review was held, its outcome and where it went; or change its due date."""
    unknown = set(fields) - set(REVIEW_FIELDS)
    if unknown:
        raise TypeError(f"unknown review fields: {sorted(unknown)}")
    locked = Review.objects.select_for_update(of=("self",)).get(pk=review.pk)
    refuse_stale(version, locked.version, "review")
    agreement = (
        Section75Agreement.objects.select_for_update(of=("self",))
        .select_related("partnership")
        .get(pk=locked.agreement_id)
    )
    locked.agreement = agreement
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.outcome = locked.outcome or ""
    errors: Errors = {}
    _check_review(locked, errors)
    raise_errors(errors)
    locked.full_clean(exclude=["version"])
    locked.version += 1
    save_recorded(locked, by=by)
    _advance_next_review(agreement, locked, by)
    return locked
