"""Region runs (issue 14): one request recharges a month across every partnership a finance officer
may run, both issuers of each; the member runs fan out as a Celery chord (run eagerly here, as the
task service would, one task after another) and the callback records the summary."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from brokerage import recharges
from brokerage.finance import region
from brokerage.models import Invoice, RechargeRun, RegionRun, RegionRunMember
from brokerage.services import Share
from brokerage.tasks import dispatch_region_run, run_region_member, stalled_region_runs
from commissioning import roles
from commissioning.celery import app as celery_app
from commissioning.models import PartnershipGrant
from tests.brokerage.factories import ClientFactory, PackageFactory, PanelDecisionFactory
from tests.brokerage.finance.conftest import WEEKLY
from tests.commissioning.factories import PartnershipFactory

MAY = date(2022, 5, 1)


@pytest.fixture
def eager(monkeypatch):
    """The task service as tests run it: every task (the chord included) at once, in this process."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)


def _package(partnership, broker, payer, shares, start=date(2022, 5, 10)):
    from brokerage import services

    client = ClientFactory(partnership=partnership)
    package = PackageFactory(client=client, start=start, paying_organisation=payer)
    services.package_cost_add(
        package=package, effective_from=start, unit_rate=WEEKLY, units_per_week=1, unit="week", by=broker
    )
    services.funding_split_add(
        package=package,
        effective_from=start,
        shares=[Share(org, Decimal(p)) for org, p in shares],
        basis="panel_decision",
        decision_reference=PanelDecisionFactory(client=client).reference,
        by=broker,
    )
    return package


@pytest.fixture
def second(partnership, finance, broker):
    """A second partnership of the finance officer's, whose NHS commissioner pays a package the
    council shares 25%."""
    other = PartnershipFactory(name="Croydon")
    PartnershipGrant.objects.create(user=finance, partnership=other)
    PartnershipGrant.objects.create(user=broker, partnership=other)
    _package(other, broker, other.nhs_commissioner, [(other.council, 25), (other.nhs_commissioner, 75)])
    return other


def _request(by, django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        return region.region_run_request(period=MAY, by=by, **kwargs)


def test_a_region_run_runs_every_partnership_and_records_the_summary(
    eager, partnership, council, ccg, finance, example_one, second, django_capture_on_commit_callbacks
):
    requested = _request(finance, django_capture_on_commit_callbacks)

    region_run = RegionRun.objects.get(pk=requested.pk)
    members = {(m.partnership_id, m.issuer_id): m.run for m in region_run.members.select_related("run")}
    assert set(members) == {
        (partnership.pk, council.pk),
        (partnership.pk, ccg.pk),
        (second.pk, second.council_id),
        (second.pk, second.nhs_commissioner_id),
    }
    runs = list(members.values())
    assert all(r.status == "done" and r.period == MAY for r in runs)
    # Example 1: the council bills the CCG £1,552.02; in Croydon the NHS bills the council 25% of
    # the same £3,880.05 (22 days at £1,234.56 a week).
    assert {k: (r.invoice_count, r.total_invoiced) for k, r in members.items()} == {
        (partnership.pk, council.pk): (1, Decimal("1552.02")),
        (partnership.pk, ccg.pk): (0, Decimal("0.00")),
        (second.pk, second.council_id): (0, Decimal("0.00")),
        (second.pk, second.nhs_commissioner_id): (1, Decimal("970.01")),
    }
    assert (region_run.status, region_run.run_count, region_run.done_count, region_run.failed_count) == (
        "done",
        4,
        4,
        0,
    )
    assert region_run.invoice_count == Invoice.objects.count() == 2
    assert region_run.total_invoiced == sum(r.total_invoiced for r in runs) == Decimal("2522.03")
    assert region_run.started_at and region_run.finished_at

    # Asking again once it has ended is a new region run whose runs bill nothing new.
    again = _request(finance, django_capture_on_commit_callbacks)
    again.refresh_from_db()
    assert again.pk != region_run.pk and again.status == "done" and again.invoice_count == 0
    assert Invoice.objects.count() == 2


def test_a_failed_member_run_leaves_the_others_and_the_summary_correct(
    eager,
    partnership,
    council,
    ccg,
    finance,
    example_one,
    second,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    real = recharges.true_up
    failing = second.nhs_commissioner.pk

    def true_up(facts, **kwargs):
        if any(f.payer == failing for f in facts):
            raise RuntimeError("the rule broke")
        return real(facts, **kwargs)

    monkeypatch.setattr(recharges, "true_up", true_up)

    region_run = _request(finance, django_capture_on_commit_callbacks)

    region_run.refresh_from_db()
    by_issuer = {m.issuer_id: m.run for m in region_run.members.select_related("run")}
    assert by_issuer[failing].status == "failed" and by_issuer[failing].failure == "the rule broke"
    assert not Invoice.objects.filter(run=by_issuer[failing]).exists()
    assert [by_issuer[o].status for o in (council.pk, ccg.pk, second.council.pk)] == ["done"] * 3
    assert (region_run.status, region_run.done_count, region_run.failed_count) == ("failed", 3, 1)
    assert region_run.invoice_count == 1 and region_run.total_invoiced == Decimal("1552.02")
    assert Invoice.objects.get().run == by_issuer[council.pk]


def test_an_issuer_in_two_partnerships_runs_each_in_turn(
    eager, partnership, council, ccg, finance, broker, example_one, django_capture_on_commit_callbacks
):
    """One run of an issuer and month at a time (the database's partial unique constraint): the
    second partnership's run is made by its member's task, after the first has ended."""
    shared = PartnershipFactory(name="Croydon", council=council)
    PartnershipGrant.objects.create(user=finance, partnership=shared)
    PartnershipGrant.objects.create(user=broker, partnership=shared)
    _package(shared, broker, council, [(council, 50), (shared.nhs_commissioner, 50)])

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        region_run = region.region_run_request(period=MAY, by=finance)
    made_at_request = {
        (m.partnership_id, m.issuer_id): m.run_id is not None for m in region_run.members.all()
    }
    assert made_at_request[(shared.pk, council.pk)] is False
    assert made_at_request[(partnership.pk, council.pk)] is True
    assert len(callbacks) == 1
    callbacks[0]()  # the task service takes the dispatch

    region_run.refresh_from_db()
    council_runs = RechargeRun.objects.filter(issuer=council, period=MAY).order_by("pk")
    assert [r.partnership_id for r in council_runs] == [partnership.pk, shared.pk]
    assert all(r.status == "done" for r in council_runs)
    assert (region_run.status, region_run.done_count, region_run.invoice_count) == ("done", 4, 2)
    assert region_run.total_invoiced == Decimal("1552.02") + Decimal("1940.02")  # 50% of £3,880.05


def test_asking_twice_while_it_works_is_one_region_run_and_tasks_run_twice_change_nothing(
    partnership, council, ccg, finance, example_one, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = region.region_run_request(period=MAY, by=finance)
        second = region.region_run_request(period=MAY, by=finance)
    assert first.pk == second.pk and RegionRun.objects.count() == 1 and len(callbacks) == 1
    assert RechargeRun.objects.filter(status="queued").count() == 2

    members = list(first.members.order_by("pk"))
    for member in members:  # as the chord's tasks, each delivered twice
        run_region_member.apply(args=[member.pk]).get()
        run_region_member.apply(args=[member.pk]).get()
    assert Invoice.objects.count() == 1 and RechargeRun.objects.count() == 2
    assert region.region_run_finish(region_run_id=first.pk).status == "done"
    assert region.region_run_finish(region_run_id=first.pk).invoice_count == 1
    # Dispatched again (a recovery), a finished region run sends nothing.
    assert dispatch_region_run.apply(args=[first.pk]).get() == {"region_run": first.pk, "members": 0}


def test_the_callback_waits_for_every_member(partnership, council, ccg, finance, example_one):
    region_run = region.region_run_request(period=MAY, by=finance)
    member = region_run.members.get(issuer=council)
    region.region_member_execute(member_id=member.pk)

    assert region.region_run_finish(region_run_id=region_run.pk).status == "running"
    # Older than the grace period and nothing works on it: the recovery dispatches it again.
    assert stalled_region_runs(region_run.created_at) == []  # within the grace period
    assert stalled_region_runs(region_run.created_at + timedelta(minutes=10)) == [region_run.pk]


def test_a_month_not_started_and_no_partnership_are_refused(partnership, finance, make_user):
    with pytest.raises(ValidationError) as error:
        region.region_run_request(period=date(2099, 1, 1), by=finance)
    assert "A month that has not started yet" in str(error.value)
    nobody = make_user(roles.COMMISSIONER, [partnership])
    with pytest.raises(ValidationError, match="no partnership"):
        region.region_run_request(period=MAY, by=nobody)
    assert not RegionRun.objects.exists() and not RechargeRun.objects.exists()


# --- Pages -----------------------------------------------------------------------------------------


@pytest.fixture
def as_finance(client, finance):
    client.force_login(finance)
    return client


def test_running_every_partnership_from_the_page_asks_first(
    as_finance, partnership, council, ccg, second, django_capture_on_commit_callbacks
):
    index = as_finance.get(reverse("finance:index")).content.decode()
    assert "Run every partnership for a month" in index
    url = reverse("finance:region-run-create")
    assert as_finance.get(url).status_code == 200

    confirm = as_finance.post(url, {"period": "2022-05"})

    text = confirm.content.decode()
    assert confirm.status_code == 200 and "Run every partnership for May 2022?" in text
    assert "Bromley" in text and "Croydon" in text and "Start 4 runs" in text
    assert not RegionRun.objects.exists() and not RechargeRun.objects.exists()

    with django_capture_on_commit_callbacks() as callbacks:
        started = as_finance.post(url, {"period": "2022-05", "confirmed": "yes"})

    region_run = RegionRun.objects.get()
    assert started.status_code == 302 and started["Location"] == region_run.get_absolute_url()
    assert len(callbacks) == 1 and region_run.members.count() == 4
    page = as_finance.get(region_run.get_absolute_url()).content.decode()
    assert "Every partnership, May 2022" in page and 'hx-trigger="every 2s"' in page
    assert page.count('class="govuk-table__row"') == 5  # the heading and four runs


def test_a_bad_month_is_named_and_nothing_starts(as_finance, partnership):
    url = reverse("finance:region-run-create")
    for period, message in (("May", "Give the period as a month"), ("2099-01", "has not started yet")):
        response = as_finance.post(url, {"period": period, "confirmed": "yes"})
        assert response.status_code == 200 and message in response.content.decode()
    assert not RegionRun.objects.exists()


def test_a_region_run_is_seen_only_by_users_of_all_its_partnerships(
    client, partnership, council, ccg, finance, second, make_user, eager, django_capture_on_commit_callbacks
):
    region_run = _request(finance, django_capture_on_commit_callbacks)
    only_home = make_user(roles.FINANCE_OFFICER, [partnership])
    auditor = make_user(roles.AUDITOR, [partnership, second])

    client.force_login(only_home)
    assert client.get(region_run.get_absolute_url()).status_code == 404
    assert "Every partnership" not in client.get(reverse("finance:index")).content.decode()
    client.force_login(auditor)
    assert client.get(region_run.get_absolute_url()).status_code == 200
    assert client.get(reverse("finance:region-run-create")).status_code == 403
    assert RegionRunMember.objects.restrict(only_home).count() == 2  # its own partnership's members


def test_the_request_makes_every_members_run_in_a_few_statements_however_many_partnerships(
    partnership, council, ccg, finance, broker, django_assert_max_num_queries
):
    """The members' runs are made together (one query for the issuers' active runs, one insert),
    not five statements a member: a region of many partnerships answers the click at once."""
    for name in ("Croydon", "Merton", "Sutton", "Kingston", "Richmond"):
        other = PartnershipFactory(name=name)
        PartnershipGrant.objects.create(user=finance, partnership=other)
    with django_assert_max_num_queries(16):  # 12 members; member by member this was 69
        region_run = region.region_run_request(period=MAY, by=finance)
    members = list(region_run.members.select_related("run"))
    assert len(members) == 12 and all(m.run is not None for m in members)
    assert {(m.run.partnership_id, m.run.issuer_id) for m in members} == {
        (m.partnership_id, m.issuer_id) for m in members
    }
    assert all(m.run.status == "queued" and m.run.requested_by == finance for m in members)
    assert RechargeRun.objects.count() == 12


def test_an_issuers_active_run_is_taken_by_its_partnerships_member_and_blocks_the_others(
    partnership, council, ccg, finance, broker
):
    """As member by member: an issuer's run of the month already queued for this partnership is the
    member's run; one queued for another partnership leaves the member without a run for now."""
    shared = PartnershipFactory(name="Croydon", council=council)
    PartnershipGrant.objects.create(user=finance, partnership=shared)
    own = RechargeRun.objects.create(partnership=partnership, issuer=council, period=MAY)
    elsewhere = RechargeRun.objects.create(partnership=shared, issuer=ccg, period=MAY)  # ccg: busy

    region_run = region.region_run_request(period=MAY, by=finance)
    runs = {(m.partnership_id, m.issuer_id): m.run_id for m in region_run.members.all()}
    assert runs[(partnership.pk, council.pk)] == own.pk
    assert runs[(partnership.pk, ccg.pk)] is None
    assert runs[(shared.pk, council.pk)] is None  # the council's run of the month is the other's
    assert runs[(shared.pk, shared.nhs_commissioner_id)] is not None
    assert RechargeRun.objects.filter(period=MAY).count() == 3 and elsewhere.pk not in runs.values()


def test_an_issuer_taken_by_another_request_meanwhile_is_claimed_member_by_member(
    partnership, council, ccg, finance, monkeypatch
):
    """The issuers' active runs are read before the runs are inserted: if another request made one
    in between, the insert is refused as a whole (the database's partial unique constraint), nothing
    of it stays, and the members claim their runs one by one, as their tasks would."""
    taken = RechargeRun.objects.create(partnership=partnership, issuer=ccg, period=MAY)
    real_filter = RechargeRun.objects.filter

    def blind(*args, **kwargs):  # the other request's run is not seen by the first query
        monkeypatch.undo()
        return real_filter(*args, **kwargs).exclude(pk=taken.pk)

    monkeypatch.setattr(RechargeRun.objects, "filter", blind, raising=False)
    region_run = region.region_run_request(period=MAY, by=finance)

    runs = {m.issuer_id: m.run_id for m in region_run.members.all()}
    assert runs[ccg.pk] == taken.pk
    assert runs[council.pk] is not None and runs[council.pk] != taken.pk
    assert RechargeRun.objects.filter(period=MAY).count() == 2
