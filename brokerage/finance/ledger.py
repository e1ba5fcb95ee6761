"""The incremental recharge run (issue 14): rule 1 recomputed only where something changed.

A full run (``services._load_facts`` then ``recharges.true_up``) recomputes every package month
since each package started and compares each with what was billed. This path gives the same
documents, lines and issues from the recharge ledger (``brokerage.models.ledger``):

1. **The packages a full run looks at** (``_packages``): the issuer's packages in the partnership
   started by the period's end, and the issuer's packages elsewhere that this issuer and partnership
   billed or waived (a full run loads those too, with no facts: they owe nothing here).
2. **Refresh** (``_refresh``): each package in scope's stale months, the months after its last
   computed one and the period are computed by ``recharges.segments_by_month`` and written to the
   ledger, replacing the rows from that month on. Nothing else is recomputed. A package that is not
   stale and was steady after its last computed month (one open-ended cost and split, nothing to
   come: ``recharges.steady_from``, kept in ``LedgerPackage``) has its new months computed from
   that state (``recharges.steady_facts``) without reading its facts: most packages, most months.
3. **Compare**. Every package month that is not unsettled (``LedgerUnsettled``, kept by triggers:
   every owed or billed write, and every change of what decides whether the scope counts a
   package) agrees with the ledger as it was: billed plus waived equals owed, funder by funder. So
   the months the refresh computed are compared in Python (``_settled``): one computed for the
   first time was billed nothing, and is billed where a funder owes something; one computed again
   was billed what it owed before (the rows the refresh deleted), and is billed where that
   changed. In SQL (``DIFFERENCES``): the scope's unsettled months and the months of packages
   never computed before, the ledger's owed per (package, funder, month) against the net billed
   plus waived (``LedgerBilled``); only the package months with a difference come back, with
   their billed amounts, including billed months no package in scope reaches any more (to
   reverse). The run's own writes unsettle nothing (``RUNNING``).
4. **Bill** those package months with ``recharges.true_up(months=...)``: the rule itself, on them.
5. **Issues** come from the ledger, for every month up to the period, in a full run's order.
6. **Settle** (``settle``, once the documents are written): unsettle the months the run wrote
   that still differ (a document netting to zero is not written), then delete the scope's
   unsettled months that now agree, each only if no write bumped its ``seq`` since it was read.

Everything runs in the run's transaction under its issuer's advisory lock. The rule's Python and
PostgreSQL's writes overlap where one does not need the other: the owed rows are computed as their
COPY reads them (``_refresh``), and the packages are marked computed in a second thread on the
run's connection while the true-up computes (``bill``). A write committed while
the run computes bumps the package's ``changes`` (triggers), so the run leaves such a package stale
instead of marking it fresh (``_mark_statements``).
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from itertools import chain
from typing import NamedTuple

from django.db import connection

from commissioning.bulk import array_literal, copy_rows, meanwhile

from .. import recharges
from . import ledger_rows
from .ledger_facts import package_facts
from .ledger_sql import (
    AGREEING,
    DIFFERENCES,
    ISSUE_COLUMNS,
    ISSUES,
    OWED_COLUMNS,
    PACKAGES,
    RUNNING,
    SETTLE,
    UNSETTLED_SINCE,
)

ZERO = Decimal("0.00")


class _Package(NamedTuple):
    """A package of the run's scope, one per package (a tuple: a borough's run makes 5,700). The
    header's fields the run reads most are fields of their own, not properties of ``row``: each
    is read several times a package, and a property is a Python call each time."""

    pk: int
    start: date
    end: date | None
    payer: int
    in_scope: bool
    computed_through: date | None
    stale_from: date | None
    changes: int
    steady: recharges.Steady | None  # from the month after computed_through on
    row: tuple  # a services._PackageRow (the run's row_type)


def _package(r: tuple, row_type) -> _Package:
    steady = None
    if r[12] is not None:  # whole numbers in the ledger (LedgerPackage), the facts' places here
        steady = (_scaled(r[12], -4), _shares(tuple(r[13]), tuple(r[14])))
    return _Package(r[0], r[1], r[2], r[3], r[8], r[9], r[10], r[11], steady, row_type(*r[:8]))


@lru_cache(maxsize=4096)
def _scaled(whole: int, places: int) -> Decimal:
    return Decimal(whole).scaleb(places)


@lru_cache(maxsize=4096)
def _shares(funders: tuple, hundredths: tuple) -> tuple:
    """(funder, percent) pairs, as a split's shares: most packages share a few such sets."""
    return tuple((funder, _scaled(p, -2)) for funder, p in zip(funders, hundredths, strict=True))


@dataclass
class Prepared:
    """What ``services._execute`` needs to bill: the same as a full run's, cut to what differs."""

    packages: dict  # package id -> services._PackageRow, every package named by a line or issue
    facts: list[recharges.PackageFacts]  # the packages with a package month to bill
    billed: dict  # (package, recipient, month) -> net billed + waived, of those months and reversals
    months: dict  # package -> the months to bill
    computed: dict  # package -> (first, last, segments_by_month) computed by the refresh
    issues: list[recharges.Issue]  # every looked-at month's, in a full run's order
    package_count: int
    written: dict  # package -> (first month, last month) the run computed again or may bill
    mark: list | None = None  # _Refreshed's: the statements marking the packages computed

    def true_up(self, period: date) -> recharges.RunResult:
        return recharges.true_up(
            self.facts, period=period, billed=self.billed, months=self.months, computed=self.computed
        )


@dataclass
class _Refreshed:
    """What ``_refresh`` computed, besides the ledger's rows:
    - ``loaded``: package -> (first month, facts from that month on);
    - ``computed``: as ``Prepared``'s;
    - ``written``: package -> the first and last of the months it computed again or deleted;
    - ``unknown``: package -> the same, for a package never computed before: compared in SQL;
    - ``changed``: package -> {month: {funder: pence owed before}}, of the months it computed
      again (to the period) whose owed changed;
    - ``owing``: package -> the months it computed for the first time in which some funder owes
      more than nothing;
    - ``mark``: the statements that mark the packages computed (``_mark_statements``; ``bill``
      sends them), if anything was computed."""

    loaded: dict = field(default_factory=dict)
    computed: dict = field(default_factory=dict)
    written: dict = field(default_factory=dict)
    unknown: dict = field(default_factory=dict)
    changed: dict = field(default_factory=dict)
    owing: dict = field(default_factory=dict)
    mark: list | None = None  # ``_mark_statements``, sent once the rows are written


def prepare(run, row_type) -> Prepared:
    """Refresh the ledger for ``run`` and return what its documents are made of."""
    period = recharges.month_start(run.period)
    period_end = recharges.month_end(period)
    params = {"partnership": run.partnership_id, "issuer": run.issuer_id, "period": period}
    with connection.cursor() as cursor:
        cursor.execute(PACKAGES, params | {"period_end": period_end})
        found = [_package(r, row_type) for r in cursor.fetchall()]
    # A full run's order: the packages in scope, then the others (each in the packages' order).
    found.sort(key=lambda p: not p.in_scope)
    looked = [p for p in found if p.start <= period_end]
    # Packages in scope owe what the ledger says; the others looked at (billed here, their client
    # now in another partnership) owe nothing here, as a full run gives them no facts (_elsewhere).
    counted = [p for p in looked if p.in_scope]
    elsewhere = [p for p in looked if not p.in_scope]
    with connection.cursor() as cursor:
        cursor.execute(RUNNING, [f"{run.issuer_id}:{run.partnership_id}"])
    refreshed = _refresh(counted, period)
    computed, written = refreshed.computed, refreshed.written
    elsewhere_months = {p.pk: (recharges.month_start(p.start), period) for p in elsewhere}
    written.update(elsewhere_months)
    months: dict = defaultdict(set)
    billed: dict = {}
    with connection.cursor() as cursor:
        if refreshed.owing or refreshed.changed:
            _settled(cursor, params, refreshed, months, billed)
        cursor.execute(DIFFERENCES, params | _written(refreshed.unknown | elsewhere_months, period))
        compared = cursor.fetchall()
        cursor.execute(ISSUES, params | {"period_end": period_end})
        issue_rows = cursor.fetchall()
    for package_id, recipient_id, month, amount in compared:
        months[package_id].add(month)
        if amount:
            billed[(package_id, recipient_id, month)] = amount
    by_pk = {p.pk: p for p in counted}
    wanted = {pk: min(ms) for pk, ms in months.items() if pk in by_pk}
    facts = package_facts([by_pk[pk] for pk in wanted], wanted, refreshed.loaded)
    if elsewhere:
        facts += _elsewhere(elsewhere, params, billed, months, computed, issue_rows)
    headers = {p.pk: p.row for p in found}
    missing = {key[0] for key in billed} - headers.keys()
    if missing:  # billed months of another payer's packages, to reverse: their lines need details
        headers.update(_headers(missing, row_type))
    return Prepared(
        packages=headers,
        facts=facts,
        billed=billed,
        months=dict(months),
        computed=computed,
        issues=_issues(issue_rows, [p.pk for p in looked]),
        package_count=len(found),
        written=written,
        mark=refreshed.mark,
    )


def bill(run, row_type) -> tuple[Prepared, recharges.RunResult]:
    """``prepare`` then its ``true_up``, the packages marked computed (``_mark_statements``)
    meanwhile: the mark is the database's work and the true-up Python's, so one need not wait for
    the other (``meanwhile``). The mark needs nothing the true-up computes, and the true-up no
    table."""
    prepared = prepare(run, row_type)
    with meanwhile(prepared.mark) if prepared.mark else nullcontext():
        result = prepared.true_up(run.period)
    return prepared, result


def _settled(cursor, params: dict, refreshed: _Refreshed, months: dict, billed: dict) -> None:
    """The months the refresh computed that are not unsettled, compared in Python: every such
    package month agrees with the ledger as it was (billed plus waived equals owed, funder by
    funder; ``LedgerUnsettled``), so a month computed for the first time was billed nothing and is
    billed where some funder owes something, and a month computed again was billed what it owed
    before and is billed again where that changed. The unsettled ones are compared in SQL."""
    firsts = [min(ms) for ms in refreshed.owing.values()]
    firsts += [min(ms) for ms in refreshed.changed.values()]
    cursor.execute(UNSETTLED_SINCE, params | {"since": min(firsts)})
    unsettled = set(cursor.fetchall())
    for pk, owing in refreshed.owing.items():
        months[pk].update(m for m in owing if (pk, m) not in unsettled)
    for pk, changed in refreshed.changed.items():
        for month, before in changed.items():
            if (pk, month) not in unsettled:
                months[pk].add(month)
                billed.update(((pk, r, month), _scaled(pence, -2)) for r, pence in before.items())


def _written(written: dict, period: date) -> dict:
    """``written``'s package months up to the period, as the arrays ``_COMPARED`` takes."""
    ids, months = [], []
    for pk, (lo, hi) in written.items():
        for month in recharges.months_between(lo, min(hi, period)):
            ids.append(pk)
            months.append(month)
    return {"written": array_literal(ids), "months": array_literal(months)}


def _elsewhere(packages: list[_Package], params: dict, billed, months, computed, issue_rows) -> list:
    """The issuer's packages billed in this partnership whose client is now in another: a full run
    gives them no costs or splits (it loads those of the partnership's clients), so every month of
    theirs up to the period owes nothing here, reports its days unfunded, and reverses what was
    billed. Rare (a client moved): every month is billed from its facts, without the ledger."""
    period = params["period"]
    out = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT package_id, recipient_id, month, ROUND((billed_pence + waived_pence) / 100.0, 2) "
            "FROM brokerage_ledgerbilled WHERE issuer_id = %(issuer)s AND partnership_id = %(partnership)s "
            "AND package_id = ANY(%(ids)s::bigint[]) AND month <= %(period)s",
            params | {"ids": array_literal(p.pk for p in packages)},
        )
        for package_id, recipient_id, month, amount in cursor.fetchall():
            if amount:
                billed[(package_id, recipient_id, month)] = amount
    for p in packages:
        facts = recharges.PackageFacts(package=p.pk, start=p.start, end=p.end, payer=p.payer)
        first = recharges.month_start(p.start)
        by_month = recharges.segments_by_month(facts, first, period)
        computed[p.pk] = (first, period, by_month)
        months[p.pk] = set(recharges.months_between(first, period))
        issue_rows.extend(
            (p.pk, month, i.start, i.end, i.kind, i.message)
            for month, result in by_month.items()
            for i in result.issues
        )
        out.append(facts)
    return out


def settle(run, prepared: Prepared, result: recharges.RunResult) -> int:
    """Once ``run``'s documents are written: unsettle the package months the run wrote that still
    differ (billed on a document netting to zero, which is not written; or after the period, not
    compared), then delete its scope's unsettled months that now agree (``AGREEING``), each unless
    written since it was read (``SETTLE``); from then on its own writes unsettle again. Returns how
    many it deleted. A month the run wrote agrees unless it billed it: owed is what the rule
    returned, billed what it was plus the documents' lines (``recharges.billed_after``)."""
    period = recharges.month_start(run.period)
    after = recharges.billed_after(prepared.billed, result)
    differing = {
        (pk, month) for (pk, r, month), owed in result.owed.items() if after.get((pk, r, month), ZERO) != owed
    }
    differing.update((pk, month) for (pk, r, month) in after.keys() - result.owed.keys())
    differing.update(
        (pk, month)
        for pk, (lo, hi) in prepared.written.items()
        if hi > period
        for month in recharges.months_between(max(lo, recharges.next_month(period)), hi)
    )
    with connection.cursor() as cursor:
        if differing:
            cursor.execute(
                "SELECT brokerage_ledger_unsettle(%s::bigint[], %s::bigint[], %s::bigint[], %s::date[])",
                [array_literal([run.issuer_id] * len(differing)),
                 array_literal([run.partnership_id] * len(differing)),
                 array_literal(pk for pk, _ in differing), array_literal(month for _, month in differing)],
            )  # fmt: skip
        cursor.execute(RUNNING, [""])
        params = {"partnership": run.partnership_id, "issuer": run.issuer_id, "period": period}
        cursor.execute(AGREEING, params | _written({}, period))
        rows = cursor.fetchall()
    return _settle(rows)


def _settle(rows: list[tuple]) -> int:
    if not rows:
        return 0
    ids, seqs = (list(column) for column in zip(*rows, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(SETTLE, {"ids": array_literal(ids), "seqs": array_literal(seqs)})
        return cursor.rowcount


def _issues(rows, order: list[int]) -> list[recharges.Issue]:
    rank = {pk: i for i, pk in enumerate(order)}
    rows = sorted(rows, key=lambda r: (rank[r[0]], r[1], r[2]))
    return [recharges.Issue(pk, start, end, kind, message) for pk, _month, start, end, kind, message in rows]


def _headers(ids, row_type) -> dict:
    from ..models import Package
    from .services import _PACKAGE_COLUMNS

    rows = Package.objects.filter(pk__in=ids).values_list(*_PACKAGE_COLUMNS)
    return {row[0]: row_type(*row) for row in rows}


# --- Refresh ------------------------------------------------------------------------------------


def _refresh(looked: list[_Package], period: date) -> _Refreshed:
    """Compute the stale and new months of the packages looked at, into the ledger.

    A package computed through month M holds rows for no month after M, so new months are only
    added; stale months are deleted first. A package ended before its next month with nothing stale
    has nothing to compute: it is left as it is (its rows stop at its end). A package that is not
    stale and was steady after M (``recharges.steady_from``) needs no facts loaded for its new
    months: ``recharges.steady_facts`` gives them.

    That last case (most packages, most months) takes a shorter path (``ledger_rows.steady_lines``);
    the rest take the general one (``ledger_rows.general_lines``), with their facts loaded. Both
    compute as the owed rows' COPY reads them, so PostgreSQL stores each chunk of rows while the
    next is computed.
    The packages are marked computed later (``_Refreshed.mark``, ``bill``)."""
    out = _Refreshed()
    rows = ledger_rows.Rows()
    todo: dict[int, tuple[date | None, date, date]] = {}  # package -> (delete from, compute from, to)
    steady_new = ledger_rows.steady_new(looked, period)
    for p in looked:
        if p.pk in steady_new:
            continue
        if p.computed_through is None:  # never computed (so no rows: they come with the mark)
            todo[p.pk] = (None, recharges.month_start(p.start), period)
            continue
        start = recharges.next_month(p.computed_through)
        last = max(period, p.computed_through)
        if p.stale_from is not None and p.stale_from <= last:
            if p.stale_from < start:
                todo[p.pk] = (p.stale_from, p.stale_from, last)
            else:
                todo[p.pk] = (None, start, last)
        elif start <= period and (p.end is None or p.end >= start):
            todo[p.pk] = (None, start, last)
    if not todo and not steady_new:
        return out
    by_pk = {p.pk: p for p in looked}
    general = ledger_rows.General(todo)
    for pk, (delete_from, first, last) in todo.items():
        through = by_pk[pk].computed_through
        if through is None:
            out.written[pk] = out.unknown[pk] = (first, last)
            continue
        if delete_from is not None:  # delete_from <= through: stale months are computed ones
            out.written[pk] = (delete_from, min(through, last))
            if delete_from <= period:
                general.again[pk] = (delete_from, min(through, period))
        if through < last:
            general.new_from[pk] = recharges.next_month(through)
    before = _delete_stale([(pk, span[0]) for pk, span in todo.items() if span[0] is not None])
    # A package ended before the first month to compute is live in none of them: no facts needed.
    # Every other one here is stale, never computed or not steady (the steady ones take the shorter
    # path): its facts are loaded.
    load = {pk: span[1] for pk, span in todo.items() if by_pk[pk].end is None or by_pk[pk].end >= span[1]}
    loaded = package_facts([by_pk[pk] for pk in load], load, {})
    out.loaded.update((f.package, (load[f.package], f)) for f in loaded)
    # Computed as the COPY reads them: nothing between here and the COPY's end may use the database.
    lines = chain(
        ledger_rows.steady_lines(steady_new, period, out, rows),
        ledger_rows.general_lines(loaded, load, general, out, rows),
    )
    # These tables have no foreign keys or deferred checks to make immediate.
    copy_rows("brokerage_ledgerowed", OWED_COLUMNS, lines, as_text=True, immediate=False)
    for pk, (lo, hi) in general.again.items():
        for month in recharges.months_between(lo, hi):
            was = before.get((pk, month), {})
            if general.after.get((pk, month), {}) != was:
                out.changed.setdefault(pk, {})[month] = was
    copy_rows("brokerage_ledgerissue", ISSUE_COLUMNS, rows.issue_rows, immediate=False)
    ids = [*steady_new, *todo]
    out.mark = _mark_statements(ids, period, [by_pk[pk].changes for pk in ids], general.steady_after)
    return out


def _delete_stale(stale: list[tuple[int, date]]) -> dict:
    """Delete the owed and issue rows of each package from its first stale month on; returns
    {(package, month): {funder: pence}} of the owed rows deleted that were not nothing."""
    before: dict = defaultdict(dict)
    if not stale:
        return before
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH f AS (SELECT * FROM unnest(%s::bigint[], %s::date[]) AS f(id, first)),
            issues AS (
                DELETE FROM brokerage_ledgerissue t USING f
                WHERE t.package_id = f.id AND t.month >= f.first
            )
            DELETE FROM brokerage_ledgerowed t USING f
            WHERE t.package_id = f.id AND t.month >= f.first
            RETURNING t.package_id, t.month, t.recipient_id, t.owed_pence
            """,
            [array_literal(pk for pk, _ in stale), array_literal(first for _, first in stale)],
        )
        for pk, month, recipient, pence in cursor.fetchall():
            if pence:
                before[(pk, month)][recipient] = pence
    return before


def _mark_statements(ids: list[int], period: date, seen: list[int], steady: dict) -> list[tuple]:
    """The statements (SQL, parameters) that mark the packages computed through the period or the
    last month computed before if later (as ``_refresh`` computed them), and fresh unless a trigger
    counted a write since the run read the package's ``changes`` (then it stays stale from where
    that write marked it). ``steady``: what ``recharges.steady_from`` found after the last month,
    for the packages whose facts were loaded (the others' is as it was)."""
    out = [
        (
            """
            INSERT INTO brokerage_ledgerpackage AS l (package_id, computed_through, stale_from, changes)
            SELECT id, %s::date, NULL, seen FROM unnest(%s::bigint[], %s::bigint[]) AS f(id, seen)
            ORDER BY id
            ON CONFLICT (package_id) DO UPDATE SET
                computed_through = GREATEST(l.computed_through, EXCLUDED.computed_through),
                stale_from = CASE WHEN l.changes = EXCLUDED.changes THEN NULL ELSE l.stale_from END
            """,
            [period, array_literal(ids), array_literal(seen)],
        )
    ]
    if steady:
        pks = list(steady)
        states = [steady[pk] for pk in pks]
        out.append(
            (
                """
                UPDATE brokerage_ledgerpackage l
                SET steady_weekly_ten_thousandths = f.cost, steady_funders = f.funders::bigint[],
                    steady_percent_hundredths = f.percents::bigint[]
                FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[])
                    AS f(id, cost, funders, percents)
                WHERE l.package_id = f.id
                """,
                [
                    array_literal(pks),
                    array_literal(None if s is None else _whole(s[0], 4) for s in states),
                    array_literal(None if s is None else _array(f for f, _ in s[1]) for s in states),
                    array_literal(
                        None if s is None else _array(_whole(p, 2) for _, p in s[1]) for s in states
                    ),
                ],
            )
        )
    return out


def _whole(value: Decimal, places: int) -> int:
    """``value`` in units of 10 ** -places; a value with more places is refused, not rounded."""
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than {places} decimal places")
    return int(scaled)


def _array(values) -> str:
    """A PostgreSQL array literal of numbers."""
    return "{" + ",".join(str(v) for v in values) + "}"
