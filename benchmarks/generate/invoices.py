"""Invoices: every month before the period billed exactly, issued and numbered."""

from __future__ import annotations

from django.db import connection

from benchmarks import reference
from benchmarks.copy import immediate_constraints
from benchmarks.generate.base import (
    Borough,
    period_for,
)

# --- Invoices: every month before the period billed exactly, issued and numbered -----------------

# The lines rule 1 says every month before the period owed, computed once into a temporary table
# (the invoices and their lines are both written from it; planned twice, the segment joins were
# most of the statements' own time).
HISTORY_SEGMENTS = (  # constant SQL, values are parameters
    "CREATE TEMPORARY TABLE bench_history_line ON COMMIT DROP AS "
    + reference.SEGMENTS  # noqa: S608
    + """
SELECT partnership_id, payer, recipient, month, package_id, lo, hi, days, weekly_cost, percent, amount
FROM line WHERE month < %(period)s
"""
)

HISTORY_INVOICES = """
WITH doc AS (
    SELECT partnership_id, payer, recipient, month, SUM(amount) AS total
    FROM bench_history_line GROUP BY partnership_id, payer, recipient, month
    HAVING SUM(amount) > 0
)
INSERT INTO brokerage_invoice (partnership_id, kind, is_credit, issuer_id, recipient_id, period, number,
    issue_date, due_date, status, total, amount_paid, amount_credited, issuer_address, recipient_address,
    pdf_path, pdf_checksum, run_id, credit_note_for_id, created_at, issued_by_id)
SELECT doc.partnership_id, 'invoice', false, doc.payer, doc.recipient, doc.month, NULL, NULL, NULL, 'draft',
       doc.total, 0, 0, i.address, r.address, '', '', NULL, NULL,
       (doc.month + interval '1 month' + interval '3 days')::timestamptz, NULL
FROM doc JOIN commissioning_organisation i ON i.id = doc.payer
JOIN commissioning_organisation r ON r.id = doc.recipient
ORDER BY doc.month, doc.payer, doc.recipient
"""

# Written in invoice and position order (the order the ids and the invoice index want).
HISTORY_LINES = """
INSERT INTO brokerage_invoiceline (invoice_id, package_id, client_reference, nhs_number, provider,
    service_type, month, start, "end", days, weekly_cost, percent, amount, adjustment, corrects_month,
    previously_billed, description, position)
SELECT inv.id, line.package_id, c.case_reference, c.nhs_number, LEFT(po.name, 200), p.service_type,
       line.month, line.lo, line.hi, line.days, line.weekly_cost, line.percent, line.amount,
       false, NULL, false, '',
       ROW_NUMBER() OVER (PARTITION BY inv.id ORDER BY c.case_reference, line.package_id, line.lo) - 1
FROM bench_history_line line
JOIN brokerage_invoice inv ON inv.partnership_id = line.partnership_id AND inv.issuer_id = line.payer
     AND inv.recipient_id = line.recipient AND inv.period = line.month AND inv.kind = 'invoice'
JOIN brokerage_package p ON p.id = line.package_id
JOIN brokerage_client c ON c.id = p.client_id
JOIN commissioning_provider pr ON pr.id = p.provider_id
JOIN commissioning_organisation po ON po.id = pr.organisation_id
WHERE line.amount <> 0 AND inv.partnership_id = ANY(%(partnerships)s)
ORDER BY inv.id, c.case_reference, line.package_id, line.lo
"""

# Issue in order: numbers per issuer and financial year, dated the 5th of the following month.
HISTORY_ISSUE = """
WITH numbered AS (
    SELECT inv.id, o.code, o.id AS issuer,
           (CASE WHEN EXTRACT(MONTH FROM inv.period + interval '1 month') >= 4
                 THEN EXTRACT(YEAR FROM inv.period + interval '1 month')
                 ELSE EXTRACT(YEAR FROM inv.period + interval '1 month') - 1 END)::int AS fy,
           (inv.period + interval '1 month' + interval '4 days')::date AS issued,
           r.payment_terms_days AS terms
    FROM brokerage_invoice inv
    JOIN commissioning_organisation o ON o.id = inv.issuer_id
    JOIN commissioning_organisation r ON r.id = inv.recipient_id
    WHERE inv.partnership_id = ANY(%(partnerships)s) AND inv.status = 'draft' AND inv.run_id IS NULL
), seq AS (
    SELECT numbered.*, ROW_NUMBER() OVER (PARTITION BY issuer, fy ORDER BY issued, id) AS n FROM numbered
)
UPDATE brokerage_invoice inv
SET status = 'issued', number = seq.code || '-' || LPAD((seq.fy %% 100)::text, 2, '0')
        || LPAD(((seq.fy + 1) %% 100)::text, 2, '0') || '-' || LPAD(seq.n::text, 5, '0'),
    issue_date = seq.issued, due_date = seq.issued + seq.terms
FROM seq WHERE inv.id = seq.id
"""

HISTORY_SEQUENCES = """
INSERT INTO brokerage_numbersequence (issuer_id, year, kind, last)
SELECT issuer_id, (CASE WHEN EXTRACT(MONTH FROM issue_date) >= 4 THEN EXTRACT(YEAR FROM issue_date)
                       ELSE EXTRACT(YEAR FROM issue_date) - 1 END)::int, 'invoice', COUNT(*)
FROM brokerage_invoice WHERE partnership_id = ANY(%(partnerships)s) AND number IS NOT NULL
GROUP BY 1, 2
ON CONFLICT (issuer_id, year, kind) DO UPDATE SET last = EXCLUDED.last
"""


def invoice_history(b: Borough) -> None:
    period = period_for(b.today)
    args = reference.params(partnerships=[b.partnership.pk], issuer=None, period=period)
    with connection.cursor() as cursor:
        # Fresh statistics first: planned on the empty tables' guesses, the joins take minutes.
        for table in (
            "brokerage_client",
            "brokerage_package",
            "brokerage_packagecost",
            "brokerage_fundingsplit",
            "brokerage_fundingshare",
            "brokerage_invoice",
        ):
            cursor.execute(f"ANALYZE {table}")
        cursor.execute("DROP TABLE IF EXISTS bench_history_line")
        cursor.execute(HISTORY_SEGMENTS, args)
        cursor.execute("ANALYZE bench_history_line")
        # Foreign keys checked as each statement ends (benchmarks.copy.immediate_constraints: with
        # the lines' checks queued until commit, their history triggers took a minute).
        with immediate_constraints(cursor):
            cursor.execute(HISTORY_INVOICES, args)
            cursor.execute("ANALYZE brokerage_invoice")  # else the lines' join re-reads per invoice
            # The lines go into drafts (issued just below): the frozen-lines trigger, one set-based
            # check at the end of the statement, lets them in.
            cursor.execute(HISTORY_LINES, args)
            cursor.execute(HISTORY_ISSUE, args)
            cursor.execute(HISTORY_SEQUENCES, args)
        cursor.execute("DROP TABLE bench_history_line")
