"""The recharge ledger's SQL (``brokerage.finance.ledger``): what a run reads, compares and settles."""

# The packages a full run gives the rule (services._load_facts): the issuer's packages in the
# partnership started by the period's end, and its packages elsewhere (another partnership, a later
# start) that this issuer and partnership billed or waived (a ``LedgerBilled`` row: a line or a
# waiver, whatever its net). Packages of another payer that were
# billed only have their billed months reversed: they come back from ``DIFFERENCES``.
# Read through the partnership's clients and the issuer's packages (indexes), each package's ledger
# row by its key: a run reads what its scope holds, not every client and ledger row of the region
# (hashing a region's 50,000 clients and 80,000 ledger rows: the region's 20 scopes read in about
# 1,000 ms, against 880 ms this way, rows fetched included; 43 ms against 25 ms in EXPLAIN). The
# billed probe (a scalar subquery, not a join the planner may hash over the scope's whole billing)
# runs only for the rare package the first branch leaves out.
PACKAGES = """
WITH scope_clients AS MATERIALIZED (
    SELECT id, case_reference, nhs_number FROM brokerage_client WHERE partnership_id = %(partnership)s
),
picked AS (
    SELECT p.id, p.start, p."end", p.paying_organisation_id, c.case_reference, c.nhs_number,
           p.provider_id, p.service_type, TRUE AS in_scope
    FROM brokerage_package p JOIN scope_clients c ON c.id = p.client_id
    WHERE p.paying_organisation_id = %(issuer)s AND p.start <= %(period_end)s
    UNION ALL
    SELECT p.id, p.start, p."end", p.paying_organisation_id, c.case_reference, c.nhs_number,
           p.provider_id, p.service_type, FALSE
    FROM brokerage_package p JOIN brokerage_client c ON c.id = p.client_id
    WHERE p.paying_organisation_id = %(issuer)s
      AND NOT (p.start <= %(period_end)s AND p.client_id IN (SELECT id FROM scope_clients))
      AND (SELECT TRUE FROM brokerage_ledgerbilled b
           WHERE b.issuer_id = %(issuer)s AND b.partnership_id = %(partnership)s AND b.package_id = p.id
             AND b.month <= %(period)s
           LIMIT 1)
)
SELECT p.id, p.start, p."end", p.paying_organisation_id, p.case_reference, p.nhs_number, o.name,
       p.service_type, p.in_scope,
       lp.computed_through, lp.stale_from, COALESCE(lp.changes, 0),
       lp.steady_weekly_ten_thousandths, lp.steady_funders, lp.steady_percent_hundredths
FROM picked p
JOIN commissioning_provider pr ON pr.id = p.provider_id
JOIN commissioning_organisation o ON o.id = pr.organisation_id
LEFT JOIN LATERAL (
    SELECT * FROM brokerage_ledgerpackage WHERE package_id = p.id OFFSET 0  -- by its key, always
) lp ON TRUE
ORDER BY p.start DESC, p.id DESC
"""

# The scope's unsettled package months up to the period (``LedgerUnsettled``: every other package
# month agrees) and the months the run computed again (its own writes unsettle nothing, RUNNING),
# and for each, owed (ledger) and net billed plus waived per funder, where they differ. A scope
# counts a package's owed when the issuer pays it and its client is in the partnership, from its
# first month (the ledger's months before it, if any, are not owed); a full run gives the rule no
# other package's facts, so what else was billed comes back to reverse. The months a run computes
# for the first time are not here: nothing was billed for them unless they are unsettled
# (``prepare``).
_COMPARED = """
WITH keys AS (
    SELECT id, package_id, month, seq FROM brokerage_ledgerunsettled
    WHERE issuer_id = %(issuer)s AND partnership_id = %(partnership)s AND month <= %(period)s
    UNION ALL
    SELECT NULL, package_id, month, NULL
    FROM unnest(%(written)s::bigint[], %(months)s::date[]) AS f(package_id, month)
),
unsettled AS MATERIALIZED (
    SELECT k.id, k.package_id, k.month, k.seq,
           COALESCE(p.paying_organisation_id = %(issuer)s AND c.partnership_id = %(partnership)s
                    AND k.month >= date_trunc('month', p.start), FALSE) AS counted
    FROM (SELECT package_id, month, MAX(id) AS id, MAX(seq) AS seq FROM keys GROUP BY 1, 2) k
    LEFT JOIN brokerage_package p ON p.id = k.package_id
    LEFT JOIN brokerage_client c ON c.id = p.client_id
),
owed AS (  -- an index lookup per month (OFFSET 0: kept apart), whatever the planner expects
    SELECT u.package_id, o.recipient_id, u.month, o.owed_pence
    FROM unsettled u CROSS JOIN LATERAL (
        SELECT recipient_id, owed_pence FROM brokerage_ledgerowed
        WHERE package_id = u.package_id AND month = u.month OFFSET 0
    ) o
    WHERE u.counted
),
billed AS (
    SELECT u.package_id, b.recipient_id, u.month, b.pence
    FROM unsettled u CROSS JOIN LATERAL (
        SELECT recipient_id, billed_pence + waived_pence AS pence FROM brokerage_ledgerbilled
        WHERE issuer_id = %(issuer)s AND partnership_id = %(partnership)s
          AND package_id = u.package_id AND month = u.month OFFSET 0
    ) b
),
compared AS MATERIALIZED (
    SELECT COALESCE(o.package_id, b.package_id) AS package_id,
           COALESCE(o.recipient_id, b.recipient_id) AS recipient_id,
           COALESCE(o.month, b.month) AS month, b.pence,
           COALESCE(o.owed_pence, 0) <> COALESCE(b.pence, 0) AS differs
    FROM owed o FULL JOIN billed b
      ON b.package_id = o.package_id AND b.recipient_id = o.recipient_id AND b.month = o.month
),
differing AS (SELECT DISTINCT package_id, month FROM compared WHERE differs)
"""

# The scope's unsettled months from ``since`` to the period: of the months a run computes for the
# first time, those are the only ones that can have been billed (the rest are compared in Python).
UNSETTLED_SINCE = """
SELECT package_id, month FROM brokerage_ledgerunsettled
WHERE issuer_id = %(issuer)s AND partnership_id = %(partnership)s
  AND month >= %(since)s AND month <= %(period)s
"""

# The keys of every package month with a difference, with their billed amounts.
DIFFERENCES = (
    _COMPARED
    + """
SELECT c.package_id, c.recipient_id, c.month, ROUND(c.pence / 100.0, 2)
FROM compared c JOIN differing d ON d.package_id = c.package_id AND d.month = c.month
"""
)

# After a run wrote its documents: its scope's unsettled package months that now agree, with the
# ``seq`` read (written months are not among them: the run knows which of those still differ).
AGREEING = (
    _COMPARED  # noqa: S608 (this module's own constants)
    + """
SELECT u.id, u.seq FROM unsettled u
WHERE u.id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM differing d WHERE d.package_id = u.package_id AND d.month = u.month)
"""
)

# A run's own writes to the ledger's owed and billed rows of its scope unsettle nothing (the
# triggers of migration 0019 leave them out): the run compares the months it wrote and unsettles
# those that still differ itself. Transaction-local, cleared when the run settles.
RUNNING = "SELECT set_config('brokerage.ledger_run', %s, true)"

# Each only if its ``seq`` is still the one read: a write committed since then (or committing now:
# the row is locked, then checked again) bumped it, and the row stays for the next run.
SETTLE = """
DELETE FROM brokerage_ledgerunsettled t
USING unnest(%(ids)s::bigint[], %(seqs)s::bigint[]) AS r(id, seq)
WHERE t.id = r.id AND t.seq = r.seq
"""

OWED_COLUMNS = ("package_id", "month", "recipient_id", "owed_pence")
ISSUE_COLUMNS = ("package_id", "month", "start", "end", "kind", "message")

# The issues of the packages in scope (``PACKAGES``' in_scope) from each one's first month to the
# period. Joined through the scope, not by a list of the packages: few package months have issues,
# so one pass over them beats an index probe per package (25 ms for a borough's 4,800).
ISSUES = """
SELECT i.package_id, i.month, i.start, i."end", i.kind, i.message FROM brokerage_ledgerissue i
JOIN brokerage_package p ON p.id = i.package_id
JOIN brokerage_client c ON c.id = p.client_id
WHERE p.paying_organisation_id = %(issuer)s AND c.partnership_id = %(partnership)s
  AND p.start <= %(period_end)s AND i.month >= date_trunc('month', p.start)::date
  AND i.month <= %(period)s
"""
