"""The scale generator at its tiny size (CI guards it without running ``make bench``): the rows it
writes pass every constraint and trigger, the same seed gives the same data, and the bench's SQL
reference of rule 1 agrees with the recharge run to the penny, also after a backdated change."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Sum

from benchmarks import reference
from benchmarks.generate import first_borough, generate, period_for
from benchmarks.generate import people as generator_people
from brokerage import services
from brokerage.finance import services as finance_services
from brokerage.models import (
    Client,
    FundingSplit,
    Invoice,
    InvoiceLine,
    Package,
    PackageCost,
    PanelDecision,
    RechargeRun,
)
from brokerage.services import Share
from brokerage.services.base import cited_panel_decision
from commissioning.models import Partnership, User
from governance.models import Decision, Meeting
from tests.brokerage.factories import PanelDecisionFactory, RechargeRunFactory

TODAY = date(2026, 11, 15)
PERIOD = period_for(TODAY)

pytestmark = pytest.mark.django_db


def _check_deferred() -> None:
    """Run the deferred constraint triggers now (shares summing to 100), as a commit would."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _fingerprint() -> dict:
    """Totals that do not depend on database ids."""
    return {
        "clients": Client.objects.count(),
        "packages": Package.objects.count(),
        "costs": PackageCost.objects.aggregate(
            n=Count("id"), rates=Sum("unit_rate"), units=Sum("units_per_week")
        ),
        "splits": FundingSplit.objects.aggregate(n=Count("id"), shares=Count("shares")),
        "package_days": sorted((p.start, p.end or date.max, p.service_type) for p in Package.objects.all()),
        "invoices": Invoice.objects.aggregate(n=Count("id"), total=Sum("total")),
        "numbers": sorted(Invoice.objects.values_list("number", flat=True)),
        "lines": InvoiceLine.objects.aggregate(n=Count("id"), total=Sum("amount")),
        "decisions": Decision.objects.count(),
        "meetings": Meeting.objects.count(),
    }


def _generate_and_fingerprint(seed: int) -> dict:
    with transaction.atomic():
        generate(size="tiny", seed=seed, today=TODAY)
        _check_deferred()
        fingerprint = _fingerprint()
        transaction.set_rollback(True)
    return fingerprint


def test_same_seed_same_data_other_seed_other_data():
    first = _generate_and_fingerprint(7)
    assert first["packages"] == 70 and first["clients"] == 40
    assert first["lines"]["n"] > 0 and first["invoices"]["total"] > 0 and first["decisions"] > 0
    assert _generate_and_fingerprint(7) == first
    assert _generate_and_fingerprint(8) != first


def test_tiny_size_is_valid_and_complete():
    result = generate(size="tiny", seed=3, today=TODAY)
    _check_deferred()
    assert len(result["loaded"]) == 1
    partnership = Partnership.objects.get(name="Scale borough 01")
    assert first_borough() == partnership  # what the borough figures measure
    # Histories: no package without a cost from its start, shares of every split sum to 100.
    for package in Package.objects.filter(client__partnership=partnership).prefetch_related("costs"):
        costs = sorted(package.costs.all(), key=lambda c: c.effective_from)
        assert costs[0].effective_from == package.start
        for a, b in zip(costs, costs[1:], strict=False):
            assert a.effective_to is not None and (b.effective_from - a.effective_to).days == 1
            assert a.weekly_cost != b.weekly_cost  # neighbours differ (reference.py's condition)
    for split in FundingSplit.objects.prefetch_related("shares"):
        assert sum(s.percent for s in split.shares.all()) == Decimal("100")
    # A panel-decision split cites a decision recorded for its client, deciding the same shares
    # and dates, applied to its package; references are unique in the partnership.
    panel = FundingSplit.objects.filter(basis="panel_decision").select_related("package")
    assert panel.exists()
    decisions = {d.reference: d for d in PanelDecision.objects.prefetch_related("shares")}
    assert len(decisions) == PanelDecision.objects.count() == panel.count()
    for split in panel.prefetch_related("shares"):
        decision = decisions[split.decision_reference]
        assert cited_panel_decision(split.package.client, split.basis, split.decision_reference) == decision
        assert (decision.package_id, decision.effective_from, decision.effective_to) == (
            split.package_id,
            split.effective_from,
            split.effective_to,
        )
        assert decision.meeting_date < decision.effective_from and decision.applied_at is not None
        assert {(s.organisation_id, s.percent) for s in decision.shares.all()} == {
            (s.organisation_id, s.percent) for s in split.shares.all()
        }
    # Issued invoices for every month before the period, numbered gaplessly per issuer and year.
    issued = Invoice.objects.filter(partnership=partnership).issued()
    assert issued.exists() and not Invoice.objects.drafts().exists()
    assert max(issued.values_list("period", flat=True)) < PERIOD
    by_series = defaultdict(list)
    for number in issued.values_list("number", flat=True):
        prefix, sequence = number.rsplit("-", 1)
        by_series[prefix].append(int(sequence))
    for sequences in by_series.values():
        assert sorted(sequences) == list(range(1, len(sequences) + 1))
    # Running it again adds nothing.
    assert generate(size="tiny", seed=3, today=TODAY)["loaded"] == []


def _billed(partnership, issuer) -> dict:
    out: dict = defaultdict(Decimal)
    for line in InvoiceLine.objects.filter(
        invoice__partnership=partnership, invoice__issuer=issuer
    ).select_related("invoice"):
        sign = -1 if line.invoice.kind == "credit_note" else 1
        out[(line.package_id, line.invoice.recipient_id, line.month)] += sign * line.amount
    return {k: v for k, v in out.items() if v}


def _run(partnership, issuer) -> RechargeRun:
    run = RechargeRunFactory(partnership=partnership, issuer=issuer, period=PERIOD)
    return finance_services.recharge_run_execute(run_id=run.pk)


def test_sql_reference_agrees_with_the_recharge_run_to_the_penny():
    generate(size="tiny", seed=5, today=TODAY)
    partnership = Partnership.objects.select_related("council", "nhs_commissioner").get(
        name="Scale borough 01"
    )
    for issuer in (partnership.council, partnership.nhs_commissioner):
        # Before the run, the history bills exactly what the reference says every earlier month owed.
        owed = reference.owed(partnership=partnership.pk, issuer=issuer.pk, period=PERIOD)
        assert {k: v for k, v in owed.items() if k[2] < PERIOD} == _billed(partnership, issuer)
        run = _run(partnership, issuer)
        assert run.status == "done", run.failure
        # The run bills the period alone (no adjustments) and then everything billed equals owed.
        assert not InvoiceLine.objects.filter(invoice__run=run).exclude(month=PERIOD).exists()
        assert _billed(partnership, issuer) == owed
        totals = reference.owed_totals(partnership=partnership.pk, issuer=issuer.pk, period=PERIOD)
        assert sum(totals.values()) == sum(owed.values()) > 0


def test_sql_reference_agrees_after_a_backdated_split_change():
    generate(size="tiny", seed=5, today=TODAY)
    partnership = Partnership.objects.select_related("council", "nhs_commissioner").get(
        name="Scale borough 01"
    )
    council, nhs = partnership.council, partnership.nhs_commissioner
    change_from = date(PERIOD.year - 1, PERIOD.month, 1)
    by = User.objects.get(username="bench_broker")
    packages = Package.objects.filter(
        client__partnership=partnership, paying_organisation=council, start__lt=change_from, end__isnull=True
    ).select_related("client__partnership")[:5]
    assert packages
    for package in packages:
        services.package_change_funding(
            package=package,
            effective_from=change_from,
            shares=[Share(council, Decimal("35")), Share(nhs, Decimal("65"))],
            basis="panel_decision",
            decision_reference=PanelDecisionFactory(client=package.client).reference,
            by=by,
        )
    run = _run(partnership, council)
    assert run.status == "done", run.failure
    assert InvoiceLine.objects.filter(invoice__run=run, adjustment=True).exists()
    assert _billed(partnership, council) == reference.owed(
        partnership=partnership.pk, issuer=council.pk, period=PERIOD
    )


def _shares_short_of_100(plan):
    (start, end, basis, ref, funders), *rest = plan
    return [(start, end, basis, ref, [(funders[0][0], Decimal("90"))]), *rest]


def _overlapping_splits(plan):
    return [*plan, plan[-1]]


@pytest.mark.parametrize("spoil", [_shares_short_of_100, _overlapping_splits])
def test_a_generated_row_that_breaks_a_rule_fails_the_load(monkeypatch, spoil):
    """The loader's short cuts (constraints checked per COPY, set-based share sums) still refuse bad rows."""
    real = generator_people.split_plan
    monkeypatch.setattr(generator_people, "split_plan", lambda *args: spoil(real(*args)))
    with pytest.raises(IntegrityError):
        generate(size="tiny", seed=3, today=TODAY)
    assert not Partnership.objects.filter(name="Scale borough 01").exists()
