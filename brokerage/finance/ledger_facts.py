"""The facts the recharge ledger loads (``brokerage.finance.ledger``): a package's costs, funding
splits and suspensions from a month on, for the packages a run computes from their facts (stale,
never computed or not steady) and those it bills."""

from __future__ import annotations

from collections import defaultdict

from django.db import connection

from commissioning.bulk import array_literal

from .. import recharges


def package_facts(packages: list, firsts: dict, loaded: dict) -> list[recharges.PackageFacts]:
    """``recharges.PackageFacts`` of ``packages`` (each with ``pk``, ``start``, ``end`` and
    ``payer``) with the rows that reach ``firsts[pk]`` or later (earlier rows change no month from
    there on); reuses ``loaded`` (package -> (first month, facts)) where it reaches far enough."""
    out, need = [], {}
    for p in packages:
        have = loaded.get(p.pk)
        if have is not None and have[0] <= firsts[p.pk]:
            out.append(have[1])
        else:
            need[p.pk] = p
    if not need:
        return out
    ids = list(need)
    span = [array_literal(ids), array_literal(firsts[pk] for pk in ids)]
    costs, splits, suspensions = defaultdict(list), defaultdict(list), defaultdict(list)
    shares = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.package_id, c.effective_from, c.effective_to, c.unit_rate, c.units_per_week "
            "FROM unnest(%s::bigint[], %s::date[]) AS f(id, first) CROSS JOIN LATERAL ("
            "    SELECT * FROM brokerage_packagecost c WHERE c.package_id = f.id"
            "    AND (c.effective_to IS NULL OR c.effective_to >= f.first) OFFSET 0"  # by its key, always
            ") c ORDER BY c.package_id, c.effective_from, c.id",
            span,
        )
        for pk, start, end, rate, units in cursor.fetchall():
            costs[pk].append(recharges.CostRow.of(start, end, rate, units))
        cursor.execute(
            "SELECT s.id, s.package_id, s.effective_from, s.effective_to, sh.organisation_id, sh.percent "
            "FROM unnest(%s::bigint[], %s::date[]) AS f(id, first) CROSS JOIN LATERAL ("
            "    SELECT * FROM brokerage_fundingsplit s WHERE s.package_id = f.id"
            "    AND (s.effective_to IS NULL OR s.effective_to >= f.first) OFFSET 0"  # by its key, always
            ") s "
            "LEFT JOIN brokerage_fundingshare sh ON sh.split_id = s.id "
            "LEFT JOIN commissioning_organisation o ON o.id = sh.organisation_id "
            "ORDER BY s.package_id, s.effective_from, s.id, o.code",
            span,
        )
        split_rows = {}
        for split_id, pk, start, end, organisation_id, percent in cursor.fetchall():
            split_rows[split_id] = (pk, start, end)
            if organisation_id is not None:
                shares[split_id].append((organisation_id, percent))
        for split_id, (pk, start, end) in split_rows.items():
            splits[pk].append(recharges.SplitRow(start, end, tuple(shares[split_id]), split_id))
        cursor.execute(
            "SELECT s.package_id, s.effective_from, s.effective_to, s.paid_percent "
            "FROM brokerage_suspension s JOIN unnest(%s::bigint[], %s::date[]) AS f(id, first) "
            "ON f.id = s.package_id WHERE s.effective_to >= f.first "
            "ORDER BY s.package_id, s.effective_from, s.id",
            span,
        )
        for pk, start, end, paid in cursor.fetchall():
            suspensions[pk].append(recharges.SuspensionRow(start, end, paid))
    for pk, p in need.items():
        out.append(
            recharges.PackageFacts(
                package=pk,
                start=p.start,
                end=p.end,
                payer=p.payer,
                costs=tuple(costs[pk]),  # each in its start's order (ORDER BY)
                splits=tuple(splits[pk]),
                suspensions=tuple(suspensions[pk]),
            )
        )
    return out
