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
