"""The agreement-of-balances statement (months 6, 9 and 12): what each of two organisations has
invoiced the other as at a date, the documents behind it, and the net position; on the page and as
CSV, XLSX and PDF. Money is signed from each document's issuer's side (credit notes negative), so
each direction's column sums to its balance."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.http import HttpResponse
from django.template.loader import render_to_string

from commissioning import pdf
from commissioning.exports import export_response
from commissioning.money import format_money

from ..models import Invoice
from .selectors import ZERO, Balance, _as_at


@dataclass
class Document:
    invoice: Invoice
    amount: Decimal  # signed: a credit note negative
    paid: Decimal
    outstanding: Decimal  # signed

    @property
    def number(self) -> str:
        return self.invoice.number


@dataclass
class Statement:
    first: object
    second: object
    as_at: date
    balances: tuple[Balance, Balance]
    documents: list[Document] = field(default_factory=list)

    @property
    def net(self) -> Decimal:
        """What ``second`` owes ``first``, net of what ``first`` owes ``second``."""
        return self.balances[0].outstanding - self.balances[1].outstanding

    @property
    def net_text(self) -> str:
        if self.net > 0:
            return (
                f"{self.second.name} ({self.second.code}) owes {self.first.code} {format_money(self.net)} net"
            )
        if self.net < 0:
            return (
                f"{self.first.name} ({self.first.code}) owes {self.second.code} {format_money(-self.net)} net"
            )
        return "Neither owes the other anything: the balances agree at £0.00 net"


def balance_statement(user, *, first, second, as_at: date) -> Statement:
    """The statement of two organisations as at a date (issued documents only, payments by then)."""
    balances = []
    documents = []
    for issuer, recipient in ((first, second), (second, first)):
        balance = Balance(issuer, recipient)
        qs = (
            _as_at(Invoice.objects.restrict(user, "view").filter(issuer=issuer, recipient=recipient), as_at)
            .select_related("issuer", "recipient")
            .order_by("issue_date", "number")
        )
        for invoice in qs:
            if invoice.is_credit_note:
                balance.credited += invoice.total
                documents.append(Document(invoice, -invoice.total, ZERO, -invoice.total))
            else:
                balance.invoiced += invoice.total
                balance.paid += invoice.paid_as_at
                documents.append(
                    Document(invoice, invoice.total, invoice.paid_as_at, invoice.total - invoice.paid_as_at)
                )
        balances.append(balance)
    return Statement(first, second, as_at, (balances[0], balances[1]), documents)


COLUMNS = [
    ("Number", lambda d: d.invoice.number),
    ("Kind", lambda d: d.invoice.get_kind_display()),
    ("From", lambda d: d.invoice.issuer.code),
    ("To", lambda d: d.invoice.recipient.code),
    ("Period", lambda d: f"{d.invoice.period:%Y-%m}"),
    ("Issue date", lambda d: d.invoice.issue_date),
    ("Amount", lambda d: d.amount),
    ("Paid by the date", lambda d: d.paid),
    ("Outstanding", lambda d: d.outstanding),
]


@dataclass
class _Row:
    """A summary row of the files (a direction's balance, the net)."""

    label: str
    amount: Decimal | None = None
    paid: Decimal | None = None
    outstanding: Decimal | None = None


SUMMARY_COLUMNS = [
    ("Number", lambda r: r.label),
    ("Kind", lambda r: ""),
    ("From", lambda r: ""),
    ("To", lambda r: ""),
    ("Period", lambda r: ""),
    ("Issue date", lambda r: None),
    ("Amount", lambda r: r.amount),
    ("Paid by the date", lambda r: r.paid),
    ("Outstanding", lambda r: r.outstanding),
]


def _rows(statement: Statement):
    """The documents, then each direction's totals and the net position, for CSV and XLSX."""
    yield from statement.documents
    for balance in statement.balances:
        yield _Row(
            f"Total {balance.issuer.code} to {balance.recipient.code}",
            balance.invoiced - balance.credited,
            balance.paid,
            balance.outstanding,
        )
    yield _Row(f"Net: {statement.net_text}", outstanding=statement.net)


def _cell(row, index):
    columns = SUMMARY_COLUMNS if isinstance(row, _Row) else COLUMNS
    return columns[index][1](row)


def _filename(statement: Statement) -> str:
    return f"balances-{statement.first.code}-{statement.second.code}-{statement.as_at:%Y-%m-%d}"


def statement_file(statement: Statement, fmt: str) -> HttpResponse:
    """The statement as ``csv`` or ``xlsx`` (the product's one writer) or ``pdf``."""
    if fmt == "pdf":
        html = render_to_string("brokerage/pdf/balances.html", {"statement": statement})
        response = HttpResponse(pdf.html(html).write_pdf(), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{_filename(statement)}.pdf"'
        return response
    columns = [(header, (lambda row, i=i: _cell(row, i))) for i, (header, _) in enumerate(COLUMNS)]
    return export_response(
        fmt, columns=columns, rows=_rows(statement), filename=_filename(statement), sheet_title="Balances"
    )
