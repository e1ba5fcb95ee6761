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
