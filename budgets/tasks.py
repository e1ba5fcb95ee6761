"""Celery tasks of the budgets app: adapters around services, safe to run twice."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from budgets import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def raise_due_contributions(today: str | None = None) -> int:
    """Daily: raise every contribution instalment due by today as a draft invoice from the host
    (rules.md rule 2). Idempotent: an instalment is raised once."""
    day = date.fromisoformat(today) if today else timezone.localdate()
    return services.contribution_instalments_raise_due(today=day)


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=120, time_limit=150)
def render_fund_statement(statement_id: int) -> dict:
    """Render and keep a pooled fund statement's PDF (queued on commit by its request)."""
    row = services.fund_statement_render(statement_id=statement_id)
    return {"statement": row.pk, "status": row.status, "checksum": row.pdf_checksum}


def stalled_fund_statements(cutoff) -> list[int]:
    """Statements still queued since before ``cutoff`` that no worker holds (the render holds the
    row's lock): registered with the core's stalled-work recovery in ``BudgetsConfig.ready``."""
    from django.db import transaction

    from budgets.models import FundStatement, StatementStatus

    with transaction.atomic():
        return list(
            FundStatement.objects.filter(status=StatementStatus.QUEUED, requested_at__lt=cutoff)
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
