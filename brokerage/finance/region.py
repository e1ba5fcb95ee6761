"""Region runs (issue 14): one request recharges a month across every partnership a finance officer
may run, both issuers of each, fanned out across the Celery workers.

- ``region_run_request`` records the region run and one member per partnership and issuer, makes
  each member's recharge run (queued, as ``services.recharge_run_request`` makes one) and, when the
  transaction commits, queues ``dispatch_region_run``;
- ``region_run_dispatch`` sends the members as a Celery chord: a group with one task per member (the
  members of an issuer that is a partner in several partnerships chained, one after another, as an
  issuer has one run of a month at a time), and ``finish_region_run`` as its callback;
- ``region_member_execute`` (each member's task) runs the member's recharge run with
  ``services.recharge_run_execute``: the ordinary run, its advisory lock per issuer, its drafts
  written in its own transaction, idempotent; a run that fails is marked failed and the others go on;
- ``region_run_finish`` (the callback) records the summary from the member runs, once all have ended.

Every step is safe to run twice, so a lost message costs nothing but time: ``stalled_region_runs``
(brokerage/tasks.py) finds a region run that nothing works on and dispatches it again; members
already finished are left as they are.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date

import pghistory
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from commissioning import jobs
from commissioning.models import Partnership, User
from commissioning.permissions import has_model_permission

from ..models import ACTIVE_RUN_STATUSES, RechargeRun, RechargeRunStatus, RegionRun, RegionRunMember
from . import services

logger = logging.getLogger(__name__)

# A member whose issuer stays busy with other partnerships' runs of the month after this many
# turns is recorded as failed (ask again later), rather than keeping a worker waiting for ever.
CLAIM_ATTEMPTS = 5
ZERO = services.ZERO


def region_run_partnerships(user: User) -> QuerySet[Partnership]:
    """The partnerships whose runs ``user`` may start: those they may see, if their role runs
    recharges; by name."""
    if not has_model_permission(user, RechargeRun, "add"):
        return Partnership.objects.none()
    return (
        Partnership.objects.restrict(user, "view")
        .select_related("council", "nhs_commissioner")
        .order_by("name", "pk")
    )


def region_run_plan(partnerships) -> list[tuple[Partnership, object]]:
    """(partnership, issuer) of each member, in the order the pages list them."""
    return [(p, issuer) for p in partnerships for issuer in (p.council, p.nhs_commissioner)]


def region_run_validate(*, period: date, partnerships) -> None:
    """What a region run of ``period`` over ``partnerships`` needs (the single run's rules too)."""
    if not partnerships:
        raise ValidationError("You have no partnership whose recharges you may run.")
    for partnership, issuer in region_run_plan(partnerships):
        services.recharge_run_validate(partnership=partnership, issuer=issuer, period=period)


@transaction.atomic
def region_run_request(*, period: date, by: User | None, partnerships=None) -> RegionRun:
    """Queue a run of ``period`` for both issuers of each partnership (default: every partnership
    ``by`` may run). Asking again while this user's region run of the month is queued or running
    answers that region run: asking twice starts one."""
    partnerships = list(region_run_partnerships(by) if partnerships is None else partnerships)
    region_run_validate(period=period, partnerships=partnerships)
    plan = region_run_plan(partnerships)
    active = RegionRun.objects.filter(requested_by=by, period=period, status__in=ACTIVE_RUN_STATUSES)
    if by is not None and (existing := active.first()) is not None:
        return existing
    with pghistory.context(user=by.pk if by else None):
        try:
            with transaction.atomic():
                region = RegionRun.objects.create(period=period, requested_by=by, run_count=len(plan))
        except IntegrityError:  # the same request, a moment ago (a double click)
            existing = active.first()
            if existing is None:
                raise ValidationError({"period": ["A region run of this month has just finished."]}) from None
            return existing
        members = [RegionRunMember(region_run=region, partnership=p, issuer=i) for p, i in plan]
        if _claim_runs(region, members):
            RegionRunMember.objects.bulk_create(members)
        else:  # an issuer was taken a moment ago by another request: member by member, as its tasks do
            for member in members:
                member.run = None
            for member in RegionRunMember.objects.bulk_create(members):
                _claim_run(member)
    from ..tasks import dispatch_region_run

    jobs.enqueue(dispatch_region_run, region.pk)  # broker down: the region run waits, recovered later
    return region


def _claim_runs(region: RegionRun, members: list[RegionRunMember]) -> bool:
    """``_claim_run`` for every member of a new region run at once (members not yet written): one
    query for the issuers' active runs of the month and one insert of the new runs, rather than
    five statements a member. The first member of an issuer with no active run gets a new run, a
    member whose issuer's active run is of its partnership gets that run, and the others none
    (their tasks make them later), as member by member in the plan's order. False, with nothing
    written, when an issuer's run was made by someone else since the query."""
    active = {
        run.issuer_id: run
        for run in RechargeRun.objects.filter(
            issuer__in={m.issuer_id for m in members}, period=region.period, status__in=ACTIVE_RUN_STATUSES
        )
    }
    new = []
    for member in members:
        run = active.get(member.issuer_id)
        if run is None:
            run = active[member.issuer_id] = _new_run(member)
            new.append(run)
        member.run = run if run.partnership_id == member.partnership_id else None
    try:
        with transaction.atomic():
            RechargeRun.objects.bulk_create(new)
    except IntegrityError:
        return False
    return True


def _new_run(member: RegionRunMember) -> RechargeRun:
    """The queued recharge run a member of a region run gets (not yet saved)."""
    region = member.region_run
    return RechargeRun(
        partnership_id=member.partnership_id,
        issuer_id=member.issuer_id,
        period=region.period,
        requested_by_id=region.requested_by_id,
    )


def _active_run_of(issuer_id: int, period: date) -> RechargeRun | None:
    return RechargeRun.objects.filter(issuer=issuer_id, period=period, status__in=ACTIVE_RUN_STATUSES).first()


def _claim_run(member: RegionRunMember) -> RechargeRun | None:
    """Give ``member`` its recharge run (call in a transaction, the member row locked or new):
    a new queued run, or the run of this partnership and issuer already queued or running. None
    when the issuer is busy with another partnership's run of the month (the returned run of
    ``_busy_run``): the member's task makes its run once that one has ended."""
    region = member.region_run
    active = _active_run_of(member.issuer_id, region.period)
    if active is None:
        try:
            with transaction.atomic():
                run = _new_run(member)
                run.save(force_insert=True)
        except IntegrityError:  # another request took the issuer a moment ago
            return None
    elif active.partnership_id == member.partnership_id:
        run = active
    else:
        return None
    member.run = run
    RegionRunMember.objects.filter(pk=member.pk).update(run=run)
    return run


# --- The chord -------------------------------------------------------------------------------------


def region_run_dispatch(*, region_run_id: int) -> int:
    """Send an active region run's members to the workers as a chord; returns how many members.
    Idempotent like its tasks: dispatching twice runs each member run once."""
    from celery import chain, chord, group

    from ..tasks import finish_region_run, run_region_member

    region = RegionRun.objects.filter(pk=region_run_id, status__in=ACTIVE_RUN_STATUSES).first()
    if region is None:
        return 0
    by_issuer: dict[int, list[int]] = defaultdict(list)
    members = region.members.order_by("partnership__name", "issuer__code", "pk")
    for pk, issuer_id in members.values_list("pk", "issuer_id"):
        by_issuer[issuer_id].append(pk)
    header = [
        chain(*(run_region_member.si(pk) for pk in pks)) if len(pks) > 1 else run_region_member.si(pks[0])
        for pks in by_issuer.values()
    ]
    if not header:
        region_run_finish(region_run_id=region.pk)
        return 0
    chord(group(header), finish_region_run.si(region.pk)).apply_async()
    return sum(len(pks) for pks in by_issuer.values())


def region_member_execute(*, member_id: int) -> RegionRunMember:
    """Run one member (its chord task). Never raises: a failure is recorded on the member's run
    (``recharge_run_execute``) or, when no run could be made, on the member, and the chord goes on."""
    member = RegionRunMember.objects.select_related("region_run", "issuer").get(pk=member_id)
    RegionRun.objects.filter(pk=member.region_run_id, status=RechargeRunStatus.QUEUED).update(
        status=RechargeRunStatus.RUNNING, started_at=timezone.now()
    )
    try:
        run_id = _member_run(member)
        if run_id is not None:
            services.recharge_run_execute(run_id=run_id)
    except Exception as exc:
        logger.exception("member %s of region run %s failed", member.pk, member.region_run_id)
        RegionRunMember.objects.filter(pk=member.pk, run__isnull=True).update(failure=str(exc)[:2000])
    member.refresh_from_db()
    return member


def _member_run(member: RegionRunMember) -> int | None:
    """The member's run id, made now if the issuer was busy when the region run was requested."""
    if member.run_id is not None:
        return member.run_id
    for _attempt in range(CLAIM_ATTEMPTS):
        with transaction.atomic():
            locked = (
                RegionRunMember.objects.select_for_update().select_related("region_run").get(pk=member.pk)
            )
            if locked.run_id is not None:
                return locked.run_id
            if locked.failure:
                return None
            if (run := _claim_run(locked)) is not None:
                return run.pk
            busy = _active_run_of(locked.issuer_id, locked.region_run.period)
        if busy is not None:
            # The issuer's run of this month for another partnership: run it to its end here (safe
            # from any worker: a finished run is left as it is, a running one is waited for).
            services.recharge_run_execute(run_id=busy.pk)
    raise RuntimeError(
        f"{member.issuer.code} stayed busy with runs of other partnerships for "
        f"{member.region_run.period:%B %Y}; ask for this run again."
    )


@transaction.atomic
def region_run_finish(*, region_run_id: int) -> RegionRun:
    """Record the summary once every member has ended (the chord's callback; idempotent). A member
    still queued or running (its message lost) leaves the region run running, for the recovery."""
    region = RegionRun.objects.select_for_update().get(pk=region_run_id)
    if not region.is_active:
        return region
    members = list(region.members.select_related("run"))
    if not all(m.finished for m in members):
        return region
    done = [m.run for m in members if m.run is not None and m.run.status == RechargeRunStatus.DONE]
    region.done_count = len(done)
    region.failed_count = len(members) - len(done)
    region.invoice_count = sum(r.invoice_count for r in done)
    region.credit_note_count = sum(r.credit_note_count for r in done)
    region.total_invoiced = sum((r.total_invoiced for r in done), ZERO)
    region.total_credited = sum((r.total_credited for r in done), ZERO)
    region.status = RechargeRunStatus.FAILED if region.failed_count else RechargeRunStatus.DONE
    region.started_at = region.started_at or timezone.now()
    region.finished_at = timezone.now()
    with pghistory.context(user=region.requested_by_id):
        region.save()
    return region
