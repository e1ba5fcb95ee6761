"""Single-line documents raised one at a time rather than by a recharge run: a partner's contribution
instalment to a pooled fund and the year-end settlement of its risk share (rules.md rule 2, invoice
kinds ``contribution`` and ``settlement``). The app that holds the pooled fund (``budgets``) says
what is owed; these go through the same drafts, numbering (each kind its own series), issue, PDF,
payments and disputes as recharges. Re-exported by ``brokerage.finance.services``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from commissioning.models import Organisation, Partnership, User

from ..models import Invoice, InvoiceKind, InvoiceLine

SINGLE_KINDS = (InvoiceKind.CONTRIBUTION, InvoiceKind.SETTLEMENT)


@transaction.atomic
def invoice_draft_single(
    *,
    partnership: Partnership,
    kind: str,
    issuer: Organisation,
    recipient: Organisation,
    amount: Decimal,
    description: str,
    start: date,
    end: date,
    by: User | None,
    is_credit: bool = False,
) -> Invoice:
    """A draft of one line for ``amount`` from ``issuer`` to ``recipient`` for the days ``start`` to
    ``end`` (the period is the month ``start`` falls in). ``is_credit`` (settlements only): the issuer
    owes the recipient, a credit note in the settlement series. Issued like any draft."""
    from .services import _context

    errors: dict[str, list[str]] = {}
    if kind not in SINGLE_KINDS:
        errors["kind"] = ["Only contribution and settlement documents are raised one at a time."]
    if is_credit and kind != InvoiceKind.SETTLEMENT:
        errors["kind"] = ["Only a settlement can be a credit."]
    partners = {partnership.council_id, partnership.nhs_commissioner_id}
    if issuer.pk not in partners or recipient.pk not in partners or issuer.pk == recipient.pk:
        errors["recipient"] = [f"The issuer and recipient must be the two partners of {partnership.name}."]
    amount = Decimal(amount)
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        errors["amount"] = ["The amount must be more than £0.00, in pounds and pence."]
    if end < start:
        errors["end"] = ["The end of the period is before its start."]
    if not description.strip():
        errors["description"] = ["Say what the document is for."]
    if errors:
        raise ValidationError(errors)
    month = start.replace(day=1)
    with _context(by):
        invoice = Invoice.objects.create(
            partnership=partnership,
            kind=kind,
            is_credit=is_credit,
            issuer=issuer,
            recipient=recipient,
            period=month,
            total=amount,
            issuer_address=issuer.address,
            recipient_address=recipient.address,
        )
        InvoiceLine.objects.create(
            invoice=invoice,
            package=None,
            description=description.strip()[:300],
            client_reference="",
            provider="",
            service_type="",
            month=month,
            start=start,
            end=end,
            amount=amount,
            position=0,
        )
    return invoice
