"""The schedule table of the Bromley 2021 paper: budget lines down; financial years across, each
with one column per funding stream and a total; sub-totals per stream, contributions per partner,
totals per year and a grand total. Every figure is a sum of budget lines (rule 2: never typed in).

Pure: built from plain line records, so the page, the pack and the tests all share it. (The
downloads list the lines one a row instead, in the import's layout: ``budgets.imports``.)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from budgets.models import year_label

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Stream:
    pk: int
    name: str
    organisation_pk: int
    organisation_code: str
    organisation_name: str


@dataclass(frozen=True)
class Partner:
    pk: int
    code: str
    name: str


@dataclass(frozen=True)
class LineRecord:
    name: str
    year: int
    stream: Stream
    amount: Decimal


@dataclass
class YearGroup:
    year: int
    label: str
    streams: list[Stream]


@dataclass
class TableRow:
    label: str
    # One list per year: an amount (or None: no line) per stream, then the year's total.
    groups: list[list[Decimal | None]]
    total: Decimal | None
    kind: str = "line"  # line, subtotal, partner, total


@dataclass
class ScheduleTable:
    years: list[YearGroup]
    rows: list[TableRow]
    subtotal: TableRow
    partner_rows: list[TableRow]
    total_row: TableRow
    year_totals: dict[int, Decimal]
    contributions: dict[int, dict[int, Decimal]]  # year -> partner pk -> amount
    by_stream: dict[int, dict[int, Decimal]]  # year -> stream pk -> amount
    grand_total: Decimal
    partners: list[Partner] = field(default_factory=list)

    @property
    def footer(self) -> list[TableRow]:
        return [self.subtotal, *self.partner_rows, self.total_row]

    @property
    def is_empty(self) -> bool:
        return not self.rows


def build_table(
    lines: Iterable[LineRecord],
    *,
    partners: Sequence[Partner],
    years: Sequence[int] | None = None,
    newest_first: bool = False,
) -> ScheduleTable:
    """The table of these lines. ``years`` adds years with no lines (shown empty); the years run
    oldest first (the paper's order) or, for reading, newest first."""
    lines = list(lines)
    all_years = sorted({line.year for line in lines} | set(years or ()), reverse=newest_first)
    streams: dict[int, Stream] = {}
    for line in lines:
        streams.setdefault(line.stream.pk, line.stream)
    # Streams in a stable order: by their partner as the partnership lists them, then by creation.
    partner_order = {p.pk: i for i, p in enumerate(partners)}
    ordered_streams = sorted(streams.values(), key=lambda s: (partner_order.get(s.organisation_pk, 99), s.pk))

    cells: dict[tuple[str, int, int], Decimal] = {}
    row_names: list[str] = []
    for line in lines:
        if line.name not in row_names:
            row_names.append(line.name)
        key = (line.name, line.year, line.stream.pk)
        cells[key] = cells.get(key, ZERO) + Decimal(line.amount)

    groups = [YearGroup(year=y, label=year_label(y), streams=ordered_streams) for y in all_years]

    by_stream: dict[int, dict[int, Decimal]] = {y: {s.pk: ZERO for s in ordered_streams} for y in all_years}
    contributions: dict[int, dict[int, Decimal]] = {y: {p.pk: ZERO for p in partners} for y in all_years}
    rows = []
    for name in row_names:
        row_groups = []
        row_total = ZERO
        for year in all_years:
            group: list[Decimal | None] = []
            year_total = ZERO
            for stream in ordered_streams:
                amount = cells.get((name, year, stream.pk))
                group.append(amount)
                if amount is not None:
                    year_total += amount
                    by_stream[year][stream.pk] += amount
                    contributions[year].setdefault(stream.organisation_pk, ZERO)
                    contributions[year][stream.organisation_pk] += amount
            group.append(year_total)
            row_total += year_total
            row_groups.append(group)
        rows.append(TableRow(label=name, groups=row_groups, total=row_total))

    year_totals = {y: sum(by_stream[y].values(), ZERO) for y in all_years}
    subtotal = TableRow(
        label="Sub-total",
        groups=[[by_stream[y][s.pk] for s in ordered_streams] + [year_totals[y]] for y in all_years],
        total=sum(year_totals.values(), ZERO),
        kind="subtotal",
    )
    partner_rows = []
    for partner in partners:
        partner_rows.append(
            TableRow(
                label=f"Contribution of {partner.name}",
                groups=[
                    [by_stream[y][s.pk] if s.organisation_pk == partner.pk else None for s in ordered_streams]
                    + [contributions[y].get(partner.pk, ZERO)]
                    for y in all_years
                ],
                total=sum((contributions[y].get(partner.pk, ZERO) for y in all_years), ZERO),
                kind="partner",
            )
        )
    grand_total = sum(year_totals.values(), ZERO)
    total_row = TableRow(
        label="Total",
        groups=[[None] * len(ordered_streams) + [year_totals[y]] for y in all_years],
        total=grand_total,
        kind="total",
    )
    return ScheduleTable(
        years=groups,
        rows=rows,
        subtotal=subtotal,
        partner_rows=partner_rows,
        total_row=total_row,
        year_totals=year_totals,
        contributions=contributions,
        by_stream=by_stream,
        grand_total=grand_total,
        partners=list(partners),
    )
