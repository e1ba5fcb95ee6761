"""The bare reference of rule 1: what each funder owes, in one SQL query (quality.md).

A segment is the intersection of one month, the package's live days, one cost row and one funding
split; each share of a funder other than the paying organisation owes
``round(weekly_cost * days * percent / 700, 2)`` (PostgreSQL rounds numeric half away from zero,
which for these non-negative amounts is rule 1's half up). ``brokerage.recharges`` computes the
same lines in Python; the two agree to the penny on any data the database accepts whose adjacent
cost rows differ in weekly cost and adjacent splits in shares (the Python rule merges identical
neighbours before rounding; the generators never write such neighbours).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import connection

from brokerage.recharges import month_end, month_start

SEGMENTS = """
WITH pk AS (
    SELECT p.id, p.start, p."end", p.paying_organisation_id AS payer, c.partnership_id
    FROM brokerage_package p
    JOIN brokerage_client c ON c.id = p.client_id
    WHERE c.partnership_id = ANY(%(partnerships)s)
      AND (%(issuer)s::bigint IS NULL OR p.paying_organisation_id = %(issuer)s)
      AND p.start <= %(period_end)s
),
piece AS (  -- the days one cost row and one split both cover, to the end of the period at most
    SELECT pk.id AS package_id, pk.payer, pk.partnership_id, s.id AS split_id,
           c.unit_rate * c.units_per_week AS weekly_cost,
           GREATEST(pk.start, c.effective_from, s.effective_from) AS a,
           LEAST(COALESCE(pk."end", %(period_end)s), COALESCE(c.effective_to, %(period_end)s),
                 COALESCE(s.effective_to, %(period_end)s), %(period_end)s::date) AS b
    FROM pk
    JOIN brokerage_packagecost c ON c.package_id = pk.id AND c.effective_from <= %(period_end)s
    JOIN brokerage_fundingsplit s ON s.package_id = pk.id AND s.effective_from <= %(period_end)s
),
seg AS (  -- cut at the end of each month
    SELECT piece.package_id, piece.payer, piece.partnership_id, piece.split_id, piece.weekly_cost,
           m::date AS month, GREATEST(piece.a, m::date) AS lo,
           LEAST(piece.b, (m + interval '1 month' - interval '1 day')::date) AS hi
    FROM piece, generate_series(date_trunc('month', piece.a), piece.b, interval '1 month') AS m
    WHERE piece.a <= piece.b
),
line AS (
    SELECT seg.package_id, seg.partnership_id, seg.payer, sh.organisation_id AS recipient, seg.month,
           seg.lo, seg.hi, (seg.hi - seg.lo + 1) AS days, seg.weekly_cost, sh.percent,
           ROUND(seg.weekly_cost * (seg.hi - seg.lo + 1) * sh.percent / 700, 2) AS amount
    FROM seg
    JOIN brokerage_fundingshare sh ON sh.split_id = seg.split_id
    WHERE sh.organisation_id <> seg.payer AND sh.percent <> 0
)
"""

OWED = (
    SEGMENTS
    + """
SELECT package_id, recipient, month, SUM(amount) AS owed
FROM line GROUP BY package_id, recipient, month
"""
)

TOTALS = (
    SEGMENTS
    + """
SELECT recipient, COUNT(*) AS lines, COALESCE(SUM(amount), 0) AS owed FROM line GROUP BY recipient
"""
)


def params(*, partnerships: list[int], issuer: int | None, period: date) -> dict:
    period = month_start(period)
    return {
        "partnerships": list(partnerships),
        "issuer": issuer,
        "period": period,
        "period_end": month_end(period),
    }


def owed(*, partnership: int, issuer: int, period: date) -> dict[tuple[int, int, date], Decimal]:
    """(package, recipient, month) -> owed, for every package month up to ``period`` (non-zero)."""
    with connection.cursor() as cursor:
        cursor.execute(OWED, params(partnerships=[partnership], issuer=issuer, period=period))
        return {(p, r, m): v for p, r, m, v in cursor.fetchall() if v != 0}


def owed_totals(*, partnership: int, issuer: int, period: date) -> dict[int, Decimal]:
    """Recipient -> total owed for all package months up to ``period``: the bench's bare reference."""
    with connection.cursor() as cursor:
        cursor.execute(TOTALS, params(partnerships=[partnership], issuer=issuer, period=period))
        return {r: v for r, _n, v in cursor.fetchall()}
