"""The owed rows a refresh of the recharge ledger computes (``ledger._refresh``), as COPY text made
while the COPY reads it: the steady path (``steady_new``, ``steady_lines``: a package not stale and
steady after its last computed month, its new months computed from that state) and the general one
(``general_lines``: from the package's facts)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from .. import recharges

if TYPE_CHECKING:
    from .ledger import _Package, _Refreshed


@dataclass
class Rows:
    """The ledger rows a refresh writes, as it goes. Owed rows are COPY text straight away: whole
    numbers and a date, nothing to escape (a run writes one row per package month and funder, a
    true-up about 10,000); ``iso``: each month's text once."""

    issue_rows: list = field(default_factory=list)
    iso: dict = field(default_factory=dict)

    def lines(self, pk: int, month: date, owed: dict, result: recharges.MonthResult) -> list[str]:
        """The owed rows' COPY text of one package month (its issues kept for their own COPY)."""
        iso = self.iso
        day = iso.get(month) or iso.setdefault(month, month.isoformat())
        if result.issues:
            self.issue_rows.extend((pk, month, i.start, i.end, i.kind, i.message) for i in result.issues)
        return [f"{pk}\t{day}\t{funder:d}\t{int(value * 100):d}" for funder, value in owed.items()]


@dataclass
class General:
    """The general path's plan (``todo``: package -> (delete from, compute from, to); ``again``:
    package -> the months computed again, to the period; ``new_from``: package -> its first month
    never computed before) and what it found (``after``: (package, month) -> {funder: pence} of
    the months computed again; ``steady_after``: what ``recharges.steady_from`` found after the
    last month computed)."""

    todo: dict
    again: dict = field(default_factory=dict)
    new_from: dict = field(default_factory=dict)
    after: dict = field(default_factory=lambda: defaultdict(dict))
    steady_after: dict = field(default_factory=dict)


def general_lines(loaded: list, load: dict, general: General, out: _Refreshed, rows: Rows):
    """The owed rows' COPY text of the packages whose facts were loaded, computed from them."""
    lines, new_from, again, after = rows.lines, general.new_from, general.again, general.after
    for facts in loaded:
        pk, first, last = facts.package, load[facts.package], general.todo[facts.package][2]
        by_month = recharges.segments_by_month(facts, first, last)
        out.computed[pk] = (first, last, by_month)
        new = new_from.get(pk)
        owing = set()
        for month, result in by_month.items():
            owed = recharges.owed_by_funder(facts, result)
            yield from lines(pk, month, owed, result)
            if new is not None and month >= new:
                if any(owed.values()):
                    owing.add(month)
            elif pk in again:
                after[(pk, month)] = {f: int(v * 100) for f, v in owed.items() if v}
        if owing:
            out.owing[pk] = owing
        general.steady_after[pk] = recharges.steady_from(facts, recharges.next_month(last))


def steady_new(looked: list[_Package], period: date) -> dict:
    """{package: (its row, the month after its last computed one)} of each package computed before
    the period, not stale, steady after its last computed month and live in the month after it:
    the general path would compute from that month to the period from the steady state, delete
    nothing and compare nothing again; ``steady_lines`` gives the same, with less on the way."""
    done: dict[int, tuple[_Package, date]] = {}
    for p in looked:
        through = p.computed_through
        if p.steady is None or through is None or p.stale_from is not None or through >= period:
            continue
        first = recharges.next_month(through)
        if p.end is not None and p.end < first:
            continue
        done[p.pk] = (p, first)
    return done


def steady_lines(steady: dict, period: date, out: _Refreshed, rows: Rows):
    """The owed rows' COPY text of the new months of ``steady_new``'s packages, from their steady
    state. A package steady on a split that has no funder but its payer (``owed_by_nobody``: about a
    third of a borough's) owes nobody in its new months: it has no rows to write and nothing to
    bill, so its months are not computed. If one is billed after all (a line of it written since,
    compared in SQL), ``package_facts`` loads its facts and ``true_up`` computes the month."""
    loaded, computed, owing_by = out.loaded, out.computed, out.owing
    steady_facts, steady_months, owed_by_funder = (
        recharges.steady_facts,
        recharges.steady_months,
        recharges.owed_by_funder,
    )
    lines, owed_by_nobody = rows.lines, recharges.owed_by_nobody
    for pk, (p, first) in steady.items():
        if owed_by_nobody(p.payer, p.steady[1]):
            continue
        facts = steady_facts(pk, p.start, p.end, p.payer, first, p.steady)
        by_month = steady_months(facts, first, period, p.steady)
        loaded[pk] = (first, facts)
        computed[pk] = (first, period, by_month)
        owing = set()
        for month, result in by_month.items():
            owed = owed_by_funder(facts, result)
            yield from lines(pk, month, owed, result)
            if any(owed.values()):
                owing.add(month)
        if owing:
            owing_by[pk] = owing
