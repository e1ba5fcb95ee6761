"""Disputes of invoice lines (rules.md rule 1): raised on lines of an issued invoice, settled as
``upheld``, ``corrected`` (naming or recording the change to the package data) or ``waived`` (a
credit note at once and the amounts recorded as waived, which every later run counts as settled).
Re-exported by ``brokerage.finance.services``."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from commissioning.models import User

from ..models import (
    Dispute,
    DisputeOutcome,
    DisputeReason,
    DisputeStatus,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    Waiver,
)
from .corrections import correction_apply
from .services import (
    ZERO,
    _context,
    _issue_locked,
    _lock_invoice,
    _open_disputed,
    _payable,
    _queue_pdf,
    _refresh_status,
)


@transaction.atomic
def dispute_raise(*, invoice: Invoice, lines: list[InvoiceLine], reason: str, note: str, by: User) -> Dispute:
    """Dispute some lines of an issued invoice; the rest can still be paid."""
    locked = _lock_invoice(invoice)
    _payable(locked)
    if not lines:
        raise ValidationError({"lines": ["Choose at least one line."]})
    line_ids = {line.pk for line in lines}
    own = set(locked.lines.filter(pk__in=line_ids).values_list("pk", flat=True))
    if own != line_ids:
        raise ValidationError({"lines": ["Choose lines of this invoice."]})
    if Dispute.objects.filter(invoice=locked, status=DisputeStatus.OPEN, lines__in=line_ids).exists():
        raise ValidationError({"lines": ["One of these lines is already in an open dispute."]})
    amount = locked.lines.filter(pk__in=line_ids).aggregate(s=Sum("amount"))["s"] or ZERO
    if amount <= 0:
        raise ValidationError({"lines": ["The lines disputed must come to more than £0.00."]})
    if amount > locked.outstanding - _open_disputed(locked):
        raise ValidationError({"lines": ["These lines come to more than is outstanding on the invoice."]})
    if reason not in {c for c, _ in Dispute._meta.get_field("reason").choices}:
        raise ValidationError({"reason": ["Choose a reason from the list."]})
    if reason == DisputeReason.OTHER and not (note or "").strip():
        raise ValidationError({"note": ["Enter a note saying what is wrong: the reason is Other."]})
    with _context(by):
        dispute = Dispute.objects.create(
            invoice=locked, reason=reason, note=note[:2000], amount=amount, raised_by=by
        )
        dispute.lines.set(line_ids)
        _refresh_status(locked)
        locked.save(update_fields=["status"])
    return dispute


@transaction.atomic
def dispute_resolve(
    *,
    dispute: Dispute,
    outcome: str,
    by: User,
    today: date | None = None,
    change: dict | None = None,
    note: str = "",
) -> Dispute:
    """Settle a dispute (rules.md rule 1), the resolver saying how:

    - ``upheld``: the recipient was wrong; no money changes and the lines return to issued;
    - ``corrected``: the package data was wrong; ``change`` names the correcting cost, funding or
      suspension change already made (``{"kind", "id"}``) or records one (``{"kind", ...fields}``,
      see ``corrections``); the credit comes from the true-up of the next run;
    - ``waived``: the data stands but the amount is not billed: a credit note for exactly the
      disputed lines is issued at once and the amounts are recorded per package month as waived,
      so no later run bills them again.

    Resolving a resolved dispute again the same way changes nothing."""
    if outcome not in DisputeOutcome.values:
        raise ValidationError({"outcome": ["Choose upheld, corrected or waived."]})
    invoice = _lock_invoice(dispute.invoice)
    locked = Dispute.objects.select_for_update().get(pk=dispute.pk)
    if locked.status == DisputeStatus.RESOLVED:
        if locked.outcome != outcome:
            raise ValidationError(
                {"outcome": [f"This dispute was already resolved: {locked.get_outcome_display()}."]}
            )
        return locked
    if outcome != DisputeOutcome.CORRECTED and change:
        raise ValidationError({"change": ["Only a corrected dispute names a change to the package."]})
    today = today or timezone.localdate()
    lines = list(locked.lines.order_by("position", "pk"))
    if outcome == DisputeOutcome.CORRECTED and not invoice.is_recharge:
        raise ValidationError(
            {
                "outcome": [
                    "Only a recharge is corrected through the package data: uphold the dispute, or "
                    "waive it with a credit note."
                ]
            }
        )
    with _context(by):
        if outcome == DisputeOutcome.CORRECTED:
            kind, pk, text = correction_apply(
                change=change, packages={line.package_id for line in lines}, by=by
            )
            locked.correction_kind, locked.correction_id, locked.correction = kind, pk, text[:300]
        if outcome == DisputeOutcome.WAIVED:
            locked.credit_note = _credit_lines(invoice, lines, locked.amount, by, today)
            invoice.amount_credited = invoice.amount_credited + locked.amount
            waived: dict[tuple[int, date], Decimal] = defaultdict(lambda: ZERO)
            for line in lines:
                waived[(line.package_id, line.month)] += line.amount
            Waiver.objects.bulk_create(
                Waiver(
                    partnership=invoice.partnership,
                    issuer=invoice.issuer,
                    recipient=invoice.recipient,
                    package_id=package_id,
                    month=month,
                    amount=value,
                    dispute=locked,
                )
                for (package_id, month), value in waived.items()
                if value and package_id is not None
            )
        locked.status = DisputeStatus.RESOLVED
        locked.outcome = outcome
        locked.resolution_note = (note or "")[:2000]
        locked.resolved_by = by
        locked.resolved_at = timezone.now()
        locked.save()
        _refresh_status(invoice)
        invoice.save(update_fields=["amount_credited", "status"])
    return locked


def _credit_lines(
    invoice: Invoice, lines: list[InvoiceLine], total: Decimal, by: User, today: date
) -> Invoice:
    """A credit note for exactly these lines of ``invoice``, issued at once (its PDF queued)."""
    note = Invoice.objects.create(
        partnership=invoice.partnership,
        kind=InvoiceKind.CREDIT_NOTE,
        issuer=invoice.issuer,
        recipient=invoice.recipient,
        period=invoice.period,
        total=total,
        credit_note_for=invoice,
    )
    copies = []
    for position, line in enumerate(lines):
        copy = InvoiceLine(**{name: getattr(line, name) for name in InvoiceLine.CONTENT_COLUMNS})
        copy.invoice, copy.position = note, position
        copies.append(copy)
    InvoiceLine.objects.bulk_create(copies)
    note.issuer, note.recipient = invoice.issuer, invoice.recipient
    _issue_locked(note, by, today)
    note.save()
    _queue_pdf(note.pk)
    return note
