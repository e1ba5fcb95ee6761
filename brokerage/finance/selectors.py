"""Reads of the finance side: reports, aged debt, agreement of balances and dashboard panels.
Everything goes through the permission gate (``restrict``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    DecimalField,
    F,
    Func,
    OuterRef,
    Q,
    Subquery,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat
from django.urls import reverse
from django.utils import timezone

from commissioning.exports import CsvLineSQL, CsvTextSQL
from commissioning.money import format_money, money_text
from commissioning.permissions import has_model_permission
from commissioning.selectors import Panel

from ..models import (
    RECHARGE_KINDS,
    Dispute,
    DisputeOutcome,
    DisputeStatus,
    FundingSplit,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    PackageCost,
    Payment,
    Suspension,
)
from .corrections import correction_text

ZERO = Decimal("0.00")
BUCKETS = ("0_30", "31_60", "61_90", "over_90")
BUCKET_LABELS = {
    "0_30": "0 to 30 days",
    "31_60": "31 to 60 days",
    "61_90": "61 to 90 days",
    "over_90": "Over 90 days",
}
_MONEY = DecimalField(max_digits=14, decimal_places=2)


def bucket_for(days: int) -> str:
    """Aged debt bucket by days past the issue date (rules.md)."""
    if days <= 30:
        return "0_30"
    if days <= 60:
        return "31_60"
    if days <= 90:
        return "61_90"
    return "over_90"


def _sum_or_zero(qs, field_name: str):
    return Coalesce(
        Subquery(qs.values(field_name)[:1], output_field=_MONEY), Value(ZERO), output_field=_MONEY
    )


def _as_at(qs, as_at: date):
    """Issued invoices and credit notes as at a date, with what was paid and credited by then."""
    paid = (
        Payment.objects.filter(invoice=OuterRef("pk"), paid_on__lte=as_at)
        .order_by()
        .values("invoice")
        .annotate(s=Sum("amount"))
    )
    credited = (
        Invoice.objects.filter(credit_note_for=OuterRef("pk"), issue_date__lte=as_at)
        .order_by()
        .values("credit_note_for")
        .annotate(s=Sum("total"))
    )
    return (
        qs.exclude(status=InvoiceStatus.DRAFT)
        .filter(issue_date__lte=as_at)
        .annotate(paid_as_at=_sum_or_zero(paid, "s"), credited_as_at=_sum_or_zero(credited, "s"))
    )


@dataclass
class DebtRow:
    recipient: object
    buckets: dict = field(default_factory=lambda: dict.fromkeys(BUCKETS, ZERO))
    disputed: dict = field(default_factory=dict)  # reason label -> open disputed amount

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)

    def as_dict(self) -> dict:
        return {
            "recipient": self.recipient.code,
            "recipient_name": self.recipient.name,
            **{k: money_text(v) for k, v in self.buckets.items()},
            "total": money_text(self.total),
            "disputed": {k: money_text(v) for k, v in sorted(self.disputed.items())},
        }


def aged_debt(user, *, as_at: date, issuer=None, partnership=None) -> list[DebtRow]:
    """Outstanding receivables by recipient as at a date, by days past the issue date. Credit
    notes not tied to an invoice (true-up credits) reduce the recipient's debt in their own bucket.
    ``disputed`` breaks the open disputed amounts down by reason."""
    qs = Invoice.objects.restrict(user, "view").in_partnership(partnership).select_related("recipient")
    if issuer is not None:
        qs = qs.filter(issuer=issuer)
    rows: dict[int, DebtRow] = {}
    for invoice in _as_at(qs, as_at).filter(
        ~Q(kind=InvoiceKind.CREDIT_NOTE) | Q(credit_note_for__isnull=True)
    ):
        if not invoice.is_credit_note:
            amount = invoice.total - invoice.paid_as_at - invoice.credited_as_at
        else:
            amount = -invoice.total
        if amount == 0:
            continue
        row = rows.setdefault(invoice.recipient_id, DebtRow(invoice.recipient))
        row.buckets[bucket_for((as_at - invoice.issue_date).days)] += amount
    disputes = (
        Dispute.objects.restrict(user, "view")
        .filter(invoice__in=qs.values("pk"), raised_at__date__lte=as_at)
        .filter(Q(status=DisputeStatus.OPEN) | Q(resolved_at__date__gt=as_at))
        .values("invoice__recipient", "reason")
        .annotate(s=Sum("amount"))
        .order_by()
    )
    for d in disputes:
        if d["invoice__recipient"] in rows:
            disputed = rows[d["invoice__recipient"]].disputed
            disputed[d["reason"]] = disputed.get(d["reason"], ZERO) + d["s"]
    return sorted(rows.values(), key=lambda r: r.recipient.code)


def aged_debt_totals(rows: list[DebtRow]) -> dict:
    totals = dict.fromkeys(BUCKETS, ZERO)
    for row in rows:
        for key in BUCKETS:
            totals[key] += row.buckets[key]
    totals["total"] = sum((totals[k] for k in BUCKETS), ZERO)
    return totals


def recharge_report(
    user,
    *,
    issuer=None,
    recipient=None,
    period=None,
    period_from=None,
    period_to=None,
    service_from=None,
    service_to=None,
    kind=None,
    partnership=None,
):
    """One row per line of issued invoices and credit notes, with the invoice number. ``period``
    (and ``period_from``/``period_to``) filter on the invoice's period; ``service_from`` and
    ``service_to`` on the month the line is for, adjustments included; ``kind`` on the document's
    kind. Credit-note lines are reported as negative amounts."""
    qs = (
        InvoiceLine.objects.restrict(user, "view")
        .filter(invoice__in=Invoice.objects.restrict(user, "view").in_partnership(partnership).issued())
        .filter(invoice__kind__in=RECHARGE_KINDS)  # not a pool's contribution or settlement invoices
        .select_related("invoice__issuer", "invoice__recipient")
        .order_by("invoice__period", "invoice__number", "position", "pk")
    )
    if issuer is not None:
        qs = qs.filter(invoice__issuer=issuer)
    if recipient is not None:
        qs = qs.filter(invoice__recipient=recipient)
    if period_from is not None:
        qs = qs.filter(invoice__period__gte=period_from)
    if period_to is not None:
        qs = qs.filter(invoice__period__lte=period_to)
    if period is not None:
        qs = qs.filter(invoice__period=period)
    if service_from is not None:
        qs = qs.filter(month__gte=service_from)
    if service_to is not None:
        qs = qs.filter(month__lte=service_to)
    if kind:
        qs = qs.filter(invoice__kind=kind)
    return qs.filter(package__isnull=False)  # the recharge report: package lines only


# The columns of a report row the API sends (``api.serializers.report_line_representation``), read
# with ``.values()``: a year of a borough is ~38,000 rows.
REPORT_VALUES = (
    "invoice__number",
    "invoice__kind",
    "invoice__issuer__code",
    "invoice__recipient__code",
    "invoice__period",
    "package_id",
    "client_reference",
    "provider",
    "service_type",
    "month",
    "start",
    "end",
    "days",
    "weekly_cost",
    "percent",
    "paid_percent",
    "amount",
    "adjustment",
    "corrects_month",
)


class ReportRows:
    """The rows of a ``recharge_report`` as dicts of ``REPORT_VALUES``, in its order, for a
    paginator: ``count()`` and a slice (``[bottom:top]``, a list) read one query each; iterating
    reads every row in one query.

    A page reads only the lines of the invoices it spans, not a sort of every line in range (~100
    ms a page at borough size, the sort spilling to disk). Invoice numbers are unique, so each
    invoice's lines are contiguous in the report's order (period, number, position, id): a page is
    a slice of the same query narrowed to its invoices, found from each invoice's line count."""

    def __init__(self, lines):
        self.rows = lines.values(*REPORT_VALUES)

    @cached_property
    def _invoices(self) -> list[tuple[int, int]]:
        """(invoice id, its lines in the report) in the report's order."""
        return list(
            self.rows.values("invoice_id")
            .annotate(lines=Count("pk"))
            .order_by("invoice__period", "invoice__number")
            .values_list("invoice_id", "lines")
        )

    def count(self) -> int:
        return sum(lines for _invoice, lines in self._invoices)

    def __getitem__(self, key):
        if not isinstance(key, slice) or key.step is not None or (key.start or 0) < 0:
            return self.rows[key]
        start = key.start or 0
        stop = self.count() if key.stop is None else key.stop
        spanned, first, seen = [], 0, 0
        for invoice, lines in self._invoices:
            if seen >= stop:
                break
            if seen + lines > start:
                if not spanned:
                    first = seen
                spanned.append(invoice)
            seen += lines
        if not spanned or stop <= start:
            return []
        return list(self.rows.filter(invoice__in=spanned)[start - first : stop - first])

    def __iter__(self):
        return iter(self.rows)


def recharge_report_values(user, **filters) -> ReportRows:
    """``recharge_report`` (same gate, filters and order) as dicts of ``REPORT_VALUES``."""
    return ReportRows(recharge_report(user, **filters))


def _sql_month(field: str) -> Func:
    return Func(F(field), Value("YYYY-MM"), function="to_char", output_field=TextField())


def _sql_day(field: str) -> Func:
    return Func(F(field), Value("YYYY-MM-DD"), function="to_char", output_field=TextField())


def _sql_text(expression) -> Cast:
    return Cast(expression, TextField())


# A line's amount signed from the issuer's side, as ``signed`` (a credit note's zero stays 0.00).
_SIGNED_AMOUNT = Case(
    When(Q(invoice__kind=InvoiceKind.CREDIT_NOTE) & ~Q(amount=0), then=-F("amount")),
    default=F("amount"),
    output_field=_MONEY,
)

# The recharge report's columns, declared once: each row's key (the JSON key of a row of
# ``recharge-report/``, the CSV's header cell, in order) with the SQL that writes its cell in the
# CSV. ``REPORT_KEYS`` (the header, and the order ``reports.report_table`` writes a row's values in)
# and ``CSV_LINE`` (the SELECT's line) are both built from it, so a column is added in one place
# (and given its typed value in ``reports.report_row``, which a test holds to the same keys).
#
# The SQL writes each cell as ``reports.report_table`` and ``csv_lines`` write it: ISO days, YYYY-MM
# months, the package's reference (``P000008``) and id, money signed with its two places, the weekly
# cost rounded to the penny (``round_half_up``; PostgreSQL rounds numeric half away from zero, the
# same for these amounts), text neutralised and quoted (``CsvTextSQL``).
REPORT_COLUMNS = (
    ("invoice_number", CsvTextSQL(F("invoice__number"))),
    ("kind", CsvTextSQL(F("invoice__kind"))),
    ("issuer", CsvTextSQL(F("invoice__issuer__code"))),
    ("recipient", CsvTextSQL(F("invoice__recipient__code"))),
    ("period", _sql_month("invoice__period")),
    (
        "package_reference",
        Concat(
            Value("P"),
            Case(
                When(
                    package_id__lt=1_000_000,
                    then=Func(
                        _sql_text(F("package_id")),
                        Value(6),
                        Value("0"),
                        function="lpad",
                        output_field=TextField(),
                    ),
                ),
                default=_sql_text(F("package_id")),
                output_field=TextField(),
            ),
            output_field=TextField(),
        ),
    ),
    ("package", _sql_text(F("package_id"))),
    ("client_reference", CsvTextSQL(F("client_reference"))),
    ("provider", CsvTextSQL(F("provider"))),
    ("service_type", CsvTextSQL(F("service_type"))),
    ("month", _sql_month("month")),
    ("from", _sql_day("start")),
    ("to", _sql_day("end")),
    ("days", _sql_text(F("days"))),
    ("weekly_cost", _sql_text(Func(F("weekly_cost"), Value(2), function="ROUND", output_field=_MONEY))),
    ("percent", _sql_text(F("percent"))),
    ("paid_percent", _sql_text(F("paid_percent"))),
    ("amount", _sql_text(_SIGNED_AMOUNT)),
    (
        "adjustment",
        Case(When(adjustment=True, then=Value("True")), default=Value("False"), output_field=TextField()),
    ),
    ("corrects_month", _sql_month("corrects_month")),
)
REPORT_KEYS = tuple(key for key, _sql in REPORT_COLUMNS)
# A report row as one line of the CSV, written by PostgreSQL (``CsvLineSQL``): the cells of
# ``REPORT_COLUMNS`` in order.
CSV_LINE = CsvLineSQL(*(sql for _key, sql in REPORT_COLUMNS))
CSV_CHUNK_ROWS = 2000


def recharge_report_csv_rows(user, **filters) -> Iterator[list[tuple[str, int]]]:
    """``recharge_report`` (same gate, filters and order) as lines of its CSV (``CSV_LINE``), each
    with its signed amount in pennies (for the totals row), in chunks of ``CSV_CHUNK_ROWS`` rows read
    through a server-side cursor: a year of a borough (~40,000 rows) streams with memory flat in
    the rows. Lazy: the one query runs when the first chunk is asked for."""
    rows = (
        recharge_report(user, **filters)
        .annotate(
            csv_line=CSV_LINE,
            csv_pennies=Cast(_SIGNED_AMOUNT * Value(100), BigIntegerField()),
        )
        .values_list("csv_line", "csv_pennies")
    )
    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:  # the gate lets nothing through
        return
    with connections[rows.db].chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(CSV_CHUNK_ROWS):
            yield chunk


def invoice_line_values(invoice, names: Sequence[str]):
    """The lines of one invoice (already fetched through the gate) as dicts of ``names`` (the API's:
    ``InvoiceLineSerializer.row_values()``), in invoice order, each able to name its
    ``dispute_status`` (``InvoiceLine.objects.with_dispute_status``), in one query. Read with
    ``.values()``: building thousands of model instances costs more than the rest of a request. A
    queryset, so a paginator can slice it."""
    return (
        InvoiceLine.objects.filter(invoice=invoice)
        .order_by("position", "pk")
        .with_dispute_status()
        .values(*names)
    )


def dispute_label(status: str | None) -> str:
    """What the invoice page says of a line's dispute status: nothing, "In dispute", or the outcome."""
    if status is None:
        return ""
    return "In dispute" if status == DisputeStatus.OPEN else DisputeOutcome(status).label


def invoice_line_groups(invoice: Invoice) -> list[dict]:
    """The lines of one invoice for its page, grouped by package in invoice order, each with its
    ``dispute_label``; each group with its first line and its total."""
    groups: dict[object, dict] = {}
    lines = invoice.lines.select_related("package").with_dispute_status().order_by("position", "pk")
    for line in lines:
        key = line.package_id or f"line-{line.pk}"  # a contribution or settlement line stands alone
        group = groups.setdefault(key, {"package": line.package, "first": line, "lines": [], "total": ZERO})
        line.dispute_label = dispute_label(line.dispute_status)
        group["lines"].append(line)
        group["total"] += line.amount
    return list(groups.values())


def signed(kind: str, amount: Decimal, is_credit: bool = False) -> Decimal:
    """A line's amount as reports show it: negative on a credit note (or a settlement credit); a
    zero stays 0.00, not -0.00."""
    return -amount if (kind == InvoiceKind.CREDIT_NOTE or is_credit) and amount else amount


def signed_amount(line: InvoiceLine) -> Decimal:
    return signed(line.invoice.kind, line.amount, line.invoice.is_credit)


@dataclass
class Balance:
    issuer: object
    recipient: object
    invoiced: Decimal = ZERO
    credited: Decimal = ZERO
    paid: Decimal = ZERO

    @property
    def outstanding(self) -> Decimal:
        return self.invoiced - self.credited - self.paid


def agreement_of_balances(user, *, first, second, as_at: date) -> tuple[Balance, Balance]:
    """What each of two organisations has invoiced the other as at a date: invoiced, credited,
    paid and outstanding, so both finance teams can agree balances (months 6, 9 and 12)."""
    out = []
    for issuer, recipient in ((first, second), (second, first)):
        balance = Balance(issuer, recipient)
        qs = _as_at(Invoice.objects.restrict(user, "view").filter(issuer=issuer, recipient=recipient), as_at)
        for invoice in qs:
            if not invoice.is_credit_note:
                balance.invoiced += invoice.total
                balance.paid += invoice.paid_as_at
            else:
                balance.credited += invoice.total
        out.append(balance)
    return out[0], out[1]


# --- Dashboard panels ---------------------------------------------------------------------------


def drafts_panel(user, partnership) -> Panel | None:
    if not has_model_permission(user, Invoice, "change"):
        return None
    qs = (
        Invoice.objects.restrict(user, "view")
        .in_partnership(partnership)
        .drafts()
        .select_related("recipient")
    )
    count = qs.count()
    return Panel(
        title="Drafts waiting to be issued",
        count=count,
        link=reverse("finance:index"),
        link_text=f"Review {count} draft invoices and credit notes",
        rows=[f"{i} — {format_money(i.total)}" for i in qs[:5]],
        attention=count > 0,
    )


def disputes_panel(user, partnership) -> Panel | None:
    if not has_model_permission(user, Dispute, "view"):
        return None
    invoices = Invoice.objects.restrict(user, "view").in_partnership(partnership)
    qs = (
        Dispute.objects.restrict(user, "view")
        .filter(status=DisputeStatus.OPEN, invoice__in=invoices)
        .select_related("invoice")
    )
    count = qs.count()
    return Panel(
        title="Disputes open",
        count=count,
        link=reverse("finance:disputes"),
        link_text=f"View {count} open disputes",
        rows=[f"{d.invoice.number}: {d.get_reason_display()} — {format_money(d.amount)}" for d in qs[:5]],
        attention=count > 0,
    )


def old_debt_panel(user, partnership) -> Panel | None:
    if not has_model_permission(user, Invoice, "view") or not has_model_permission(user, Dispute, "view"):
        return None
    today = timezone.localdate()
    rows = aged_debt(user, as_at=today, partnership=partnership)
    over = [r for r in rows if r.buckets["over_90"] > 0]
    total = sum((r.buckets["over_90"] for r in over), ZERO)
    return Panel(
        title="Debt over 90 days",
        count=len(over),
        link=reverse("finance:aged-debt"),
        link_text=f"{format_money(total)} owed for more than 90 days",
        rows=[f"{r.recipient.code}: {format_money(r.buckets['over_90'])}" for r in over[:5]],
        attention=total > 0,
    )


PANELS = [drafts_panel, disputes_panel, old_debt_panel]


def correcting_changes(dispute: Dispute) -> list[tuple[str, str]]:
    """The changes to the disputed lines' packages a resolver may name as correcting them
    (``kind:id``, words), newest first: price and funding changes and suspensions."""
    packages = set(dispute.lines.values_list("package_id", flat=True))
    rows = [
        *(("cost", c) for c in PackageCost.objects.filter(package_id__in=packages)),
        *(
            ("funding", f)
            for f in FundingSplit.objects.filter(package_id__in=packages).prefetch_related(
                "shares__organisation"
            )
        ),
        *(("suspension", s) for s in Suspension.objects.filter(package_id__in=packages)),
    ]
    rows.sort(key=lambda item: (item[1].effective_from, item[1].pk), reverse=True)
    return [(f"{kind}:{row.pk}", correction_text(kind, row)) for kind, row in rows]
