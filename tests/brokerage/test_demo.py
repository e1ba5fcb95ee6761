"""The brokerage demo data: everything demo-data.md lists for brokerage is there, and the same
seed gives the same data."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction

from brokerage import demo, selectors
from brokerage.models import (
    Client,
    Cohort,
    FundingSplit,
    Offer,
    Package,
    PanelDecision,
    Referral,
    ReferralStatus,
)
from commissioning import demo as core_demo

pytestmark = pytest.mark.django_db

TODAY = date(2025, 6, 18)


def _load(seed=7):
    ctx = core_demo.load_demo(seed=seed, today=TODAY)
    if demo.demo_step not in core_demo.DEMO_STEPS:  # not yet wired into the core loader
        demo.load(partnerships=ctx.partnerships, users=ctx.users, seed=seed, today=TODAY)
    return ctx


def fingerprint():
    return (
        sorted(
            Client.objects.values_list("case_reference", "nhs_number", "given_name", "family_name", "cohort")
        ),
        sorted(Referral.objects.values_list("client__case_reference", "status", "urgency", "service_type")),
        sorted(
            (p.client.case_reference, p.start, tuple((c.effective_from, c.unit_rate) for c in p.costs.all()))
            for p in Package.objects.select_related("client").prefetch_related("costs")
        ),
    )


def test_the_demo_has_every_cohort_and_referral_status_and_the_listed_cases():
    _load()

    assert set(Client.objects.values_list("cohort", flat=True)) == set(Cohort.values)
    assert set(Referral.objects.values_list("status", flat=True)) == set(ReferralStatus.values)
    offers = list(Offer.objects.with_rate_card())
    assert any(o.rate_card_difference > 0 for o in offers)
    assert any(o.rate_card_difference <= 0 for o in offers)
    assert all(o.approved_at for o in offers if o.status == "accepted" and o.rate_card_difference > 0)
    assert Package.objects.filter(costs__effective_to__isnull=False).exists()  # price changes
    s117 = FundingSplit.objects.filter(basis="s117")
    assert s117.exists()
    assert all(sorted(s.shares.values_list("percent", flat=True)) == [Decimal("50.00")] * 2 for s in s117)
    chc = FundingSplit.objects.filter(basis="chc_eligibility", shares__percent=100).distinct()
    assert any(
        FundingSplit.objects.filter(
            package=s.package, effective_to__lt=s.effective_from, basis="single_funder"
        ).exists()
        for s in chc
    )
    backdated = [
        d for d in PanelDecision.objects.filter(applied_at__isnull=False) if d.effective_from < d.meeting_date
    ]
    assert len(backdated) >= 1
    gaps = [
        p for p in Package.objects.all() if selectors.unfunded_periods(p, list(p.splits.all()), today=TODAY)
    ]
    assert len(gaps) >= 1
    assert PanelDecision.objects.due_for_review(by=TODAY).exists()


def test_the_same_seed_gives_the_same_brokerage_data():
    with transaction.atomic():
        sid = transaction.savepoint()
        _load(seed=11)
        first = fingerprint()
        transaction.savepoint_rollback(sid)
    _load(seed=11)
    assert fingerprint() == first
