"""Celery tasks of the brokerage app: adapters around services, safe to run twice."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task
def mark_started_referrals(today: str | None = None) -> int:
    """Daily: referrals whose accepted package has now started move to started (idempotent)."""
    day = date.fromisoformat(today) if today else timezone.localdate()
    return services.referrals_mark_started(today=day)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_recharge(run_id: int) -> dict:
    """Compute a recharge run (queued on commit by ``finance_services.recharge_run_request``).
    Safe to run twice: a finished run is left as it is; a half-done one left nothing behind."""
    from . import finance_services

    run = finance_services.recharge_run_execute(run_id=run_id)
    return {
        "run": run.pk,
        "status": run.status,
        "invoices": run.invoice_count,
        "credit_notes": run.credit_note_count,
    }


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=120, time_limit=150)
def render_invoice_pdf(invoice_id: int) -> dict:
    """Render and keep an issued invoice's PDF once (queued on commit by the issue services)."""
    from . import finance_services

    invoice = finance_services.invoice_pdf_ensure(invoice_id=invoice_id)
    return {"invoice": invoice.pk, "number": invoice.number, "checksum": invoice.pdf_checksum}
