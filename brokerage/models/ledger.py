"""The recharge ledger: rule 1's results as last computed, so a run recomputes only what changed.

``brokerage.recharges`` stays the rule; these tables only cache what it returned, per package month:
the amount owed to the paying organisation by each other funder (``LedgerOwed``) and the days that
could not be billed (``LedgerIssue``). ``LedgerPackage`` says how far a package's rows hold:
months up to ``computed_through`` are valid, except from ``stale_from`` on; and, when nothing can
change after them, the cost and shares that hold from then on (``steady_*``).

Triggers on the facts the rule reads (a package's dates and payer, its costs, funding splits and
shares, suspensions) mark the package stale from the first month a write can change, for every
write, bulk and raw SQL included (migration 0013).

``LedgerBilled`` is the other side of the comparison: the net billed (invoice lines, credit-note
lines negative, drafts included) and the amount waived per (issuer, partnership, package, recipient,
month), in pence, kept by statement-level triggers on invoice lines, invoices and waivers (migration
0015) for every write, a run's COPY and a draft's deletion included. It holds a row while a line or
waiver exists for its key (``lines``, ``waivers``), whatever its net, as the invoice lines do.

``LedgerUnsettled`` holds every (issuer, partnership, package, month) where a run of that issuer
and partnership could find owed and billed apart: triggers add (or bump the ``seq`` of) a row on
every write to the owed or billed rows of a package month, and on every change of what decides
whether a scope counts a package's owed at all (its payer, start or client, the client's
partnership) (migration 0018). A run compares only its scope's
rows and the months it wrote itself (its own writes unsettle nothing, migration 0019), unsettles
those of its months that still differ, then deletes the rows that agree, each only if its ``seq``
is the one it read, so a write committed meanwhile keeps its row. Truncating it would lose
differences: it is rebuilt by filling it with every owed and billed package month, as migration
0018 does; the next runs settle them.

Empty owed, issue and package tables are correct: a package with no ``LedgerPackage`` row (or
none computed) is recomputed from its start. Nothing in them is a fact of its own, so they keep no
history: truncating the three changes no bill, only the next run's time. ``LedgerBilled`` is no
cache to empty but a sum of tracked rows, rebuilt from the lines and waivers as migration 0015 does.
That is why the columns are plain ids and whole pence, with no foreign keys to the facts (a deleted
package's rows go with it by trigger; its billed rows go with its lines and waivers).
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models


class LedgerPackage(models.Model):
    package_id = models.BigIntegerField(primary_key=True)
    computed_through = models.DateField(null=True, help_text="The last month whose rows were computed")
    stale_from = models.DateField(null=True, help_text="The first month a later write may have changed")
    changes = models.BigIntegerField(default=0, help_text="Writes seen by the triggers (a run's guard)")
    # What ``recharges.steady_from`` found from the month after ``computed_through`` on: the one
    # weekly cost and shares billed from then on, when nothing can change; empty otherwise. A run
    # bills a package that is not stale and steady from these (``recharges.steady_facts``), without
    # loading its facts. Whole numbers, as the other ledger tables keep amounts (this table keeps
    # no history): the weekly cost in ten-thousandths of a pound (a unit rate's two places times
    # the units' two, exactly), the shares in hundredths of a percent.
    steady_weekly_ten_thousandths = models.BigIntegerField(null=True)
    steady_funders = ArrayField(models.BigIntegerField(), null=True)
    steady_percent_hundredths = ArrayField(models.BigIntegerField(), null=True)

    def __str__(self) -> str:
        return f"Ledger of package {self.package_id} to {self.computed_through}"


class LedgerOwed(models.Model):
    package_id = models.BigIntegerField()
    month = models.DateField()
    recipient_id = models.BigIntegerField(help_text="The funder who owes the paying organisation")
    owed_pence = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["package_id", "month"], name="ledger_owed_package_month")]

    def __str__(self) -> str:
        return f"{self.package_id} {self.month:%Y-%m} {self.recipient_id}: {self.owed_pence}p"


class LedgerIssue(models.Model):
    package_id = models.BigIntegerField()
    month = models.DateField()
    start = models.DateField()
    end = models.DateField()
    kind = models.CharField(max_length=30)
    message = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["package_id", "month"], name="ledger_issue_package_month")]

    def __str__(self) -> str:
        return f"{self.package_id} {self.start} to {self.end}: {self.kind}"


class LedgerBilled(models.Model):
    issuer_id = models.BigIntegerField()
    partnership_id = models.BigIntegerField()
    package_id = models.BigIntegerField()
    recipient_id = models.BigIntegerField(help_text="The funder billed")
    month = models.DateField()
    billed_pence = models.BigIntegerField(
        default=0, help_text="Net billed: invoice lines less credit-note lines"
    )
    waived_pence = models.BigIntegerField(default=0)
    lines = models.BigIntegerField(default=0, help_text="Invoice lines of this key (any net)")
    waivers = models.BigIntegerField(default=0)

    class Meta:
        # Package first: every read names the package (a scope's months of it, the scopes that
        # bill it for the unsettling triggers of migration 0018), so this one index serves them
        # all, and a run's thousands of new rows keep one index fewer (migration 0027).
        constraints = [
            models.UniqueConstraint(
                fields=["package_id", "issuer_id", "partnership_id", "month", "recipient_id"],
                name="ledger_billed_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.package_id} {self.month:%Y-%m} to {self.recipient_id}: {self.billed_pence}p"


class InvoiceLineCount(models.Model):
    """How many lines an invoice has (its ``line_count`` in the API's list), kept by statement-level
    triggers on invoice lines (migration 0017) for every write, a run's COPY and a draft's deletion
    included: a row while the invoice has a line. The list read it as ``COUNT(*)`` of each listed
    invoice's lines, an index scan of every line (about 10 ms of a page of a borough's invoices)."""

    invoice_id = models.BigIntegerField(primary_key=True)
    lines = models.BigIntegerField()

    def __str__(self) -> str:
        return f"Invoice {self.invoice_id}: {self.lines} lines"


class LedgerUnsettled(models.Model):
    issuer_id = models.BigIntegerField()
    partnership_id = models.BigIntegerField()
    package_id = models.BigIntegerField()
    month = models.DateField()
    seq = models.BigIntegerField(default=1, help_text="Bumped by every write: a settling run's guard")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["issuer_id", "partnership_id", "package_id", "month"], name="ledger_unsettled_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.package_id} {self.month:%Y-%m} unsettled for {self.issuer_id}/{self.partnership_id}"
