"""Celery tasks of the brokerage app: adapters around services, safe to run twice."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from commissioning.jobs import held_advisory_locks

from . import services


@shared_task
def mark_started_referrals(today: str | None = None) -> int:
    """Daily: referrals whose accepted package has now started move to started (idempotent)."""
    day = date.fromisoformat(today) if today else timezone.localdate()
    return services.referrals_mark_started(today=day)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_recharge(run_id: int) -> dict:
    """Compute a recharge run (queued on commit by ``brokerage.finance.services.recharge_run_request``).
    Safe to run twice: a finished run is left as it is; a half-done one left nothing behind."""
    from .finance import services as finance_services

    run = finance_services.recharge_run_execute(run_id=run_id)
    return {
        "run": run.pk,
        "status": run.status,
        "invoices": run.invoice_count,
        "credit_notes": run.credit_note_count,
    }


@shared_task(acks_late=True, reject_on_worker_lost=True)
def dispatch_region_run(region_run_id: int) -> dict:
    """Send a region run's members to the workers as a chord (queued on commit by
    ``brokerage.finance.region.region_run_request``, and again by the recovery). Safe to run twice."""
    from .finance import region

    return {"region_run": region_run_id, "members": region.region_run_dispatch(region_run_id=region_run_id)}


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_region_member(member_id: int) -> dict:
    """One member of a region run's chord: its recharge run. Never fails the chord: a run that fails
    is marked failed, and the others go on."""
    from .finance import region

    member = region.region_member_execute(member_id=member_id)
    return {"member": member.pk, "run": member.run_id, "status": member.status}


@shared_task(acks_late=True, reject_on_worker_lost=True)
def finish_region_run(region_run_id: int) -> dict:
    """The chord's callback: the region run's summary, once every member has ended."""
    from .finance import region

    done = region.region_run_finish(region_run_id=region_run_id)
    return {
        "region_run": done.pk,
        "status": done.status,
        "done": done.done_count,
        "failed": done.failed_count,
    }


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=120, time_limit=150)
def render_invoice_pdf(invoice_id: int) -> dict:
    """Render and keep an issued invoice's PDF once (queued on commit by the issue services)."""
    from .finance import services as finance_services

    invoice = finance_services.invoice_pdf_ensure(invoice_id=invoice_id)
    return {"invoice": invoice.pk, "number": invoice.number, "checksum": invoice.pdf_checksum}


# --- Stalled work (registered with the core's recovery in BrokerageConfig.ready) -------------------


def stalled_recharge_runs(cutoff) -> list[int]:
    """Runs queued or running since before ``cutoff`` whose issuer no worker holds (a run holds an
    advisory lock per issuer for its whole transaction)."""
    from .finance.services import RECHARGE_LOCK_CLASS
    from .models import RechargeRun, RechargeRunStatus

    rows = RechargeRun.objects.filter(
        Q(status=RechargeRunStatus.QUEUED, created_at__lt=cutoff)
        | Q(status=RechargeRunStatus.RUNNING, started_at__lt=cutoff)
    ).values_list("pk", "issuer_id")
    busy = held_advisory_locks(RECHARGE_LOCK_CLASS)
    return sorted(pk for pk, issuer_id in rows if issuer_id not in busy)


def stalled_region_runs(cutoff) -> list[int]:
    """Region runs queued or running since before ``cutoff`` none of whose member runs a worker
    holds: dispatched again, their finished members are left as they are and the callback records
    the summary (a chord whose messages were lost never calls it)."""
    from .finance.services import RECHARGE_LOCK_CLASS
    from .models import ACTIVE_RUN_STATUSES, RegionRun, RegionRunMember

    active = RegionRun.objects.filter(status__in=ACTIVE_RUN_STATUSES, created_at__lt=cutoff)
    pks = set(active.values_list("pk", flat=True))
    if not pks:
        return []
    busy = held_advisory_locks(RECHARGE_LOCK_CLASS)
    worked_on = RegionRunMember.objects.filter(
        region_run__in=pks, run__status__in=ACTIVE_RUN_STATUSES, issuer__in=busy
    ).values_list("region_run_id", flat=True)
    return sorted(pks - set(worked_on))


def stalled_invoice_pdfs(cutoff) -> list[int]:
    """Issued invoices and credit notes without their PDF that no worker is rendering (the render
    holds the invoice's row lock). An invoice has no time of issue, only a date, so the grace period
    does not apply; queuing a PDF whose message is still waiting costs one no-op task."""
    from .models import Invoice, InvoiceStatus

    with transaction.atomic():
        return list(
            Invoice.objects.exclude(status=InvoiceStatus.DRAFT)
            .filter(pdf_checksum="")
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
