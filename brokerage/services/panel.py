"""The joint funding panel: decisions recorded with their shares, and applied to a package as a
funding change from their effective date."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from commissioning.models import User

from ..models import Client, FundingBasis, FundingSplit, Package, PanelDecision, PanelDecisionShare
from .base import Share, history_context, mark_applied, validate_shares
from .packages import package_change_funding

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
    shares = validate_shares(shares, client.partnership)
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
    with history_context(by):
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
    effective date (backdated if the panel said so), citing it. The next recharge run trues up."""
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
    # A change on the basis "panel_decision" cites the decision, which marks it applied; a decision
    # on another basis (CHC eligibility, s117) is marked here. Either way: to this package, by whom, when.
    locked.refresh_from_db(fields=["package", "applied_at", "applied_by"])
    mark_applied(locked, package, by)
    return split
