"""The weekly contracts-ending digest (domain.md: contracts ending within 6 and 12 months are
surfaced for re-procurement planning).

Every contract manager who manages live or extended contracts ending within the longer horizon
(``settings.CONTRACT_DIGEST_MONTHS``, 6 and 12 months) gets one e-mail a week listing them in two
sections: ending within 6 months, and ending after 6 and within 12 months. A manager sees only the
contracts the permission gate still lets them view, so someone who has lost a partnership's grant
is not sent its contracts.

Apps add their own reminders (an agreement review coming due, to its pool manager) as digest
sections registered with ``commissioning.registry.add_digest_section``: their recipients get the
same weekly e-mail, with a section per app, even when they manage no contract ending soon.

Sending is idempotent per manager and ISO week: ``claim_delivery`` records a ``DigestDelivery`` in
the same transaction as the send, so a retried or repeated run in the same week e-mails nobody
twice, and a failed send leaves no record, so the retry sends it.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format

from commissioning import registry
from commissioning.models import Contract, DigestDelivery, User
from commissioning.money import format_money

logger = logging.getLogger(__name__)

TEXT_TEMPLATE = "commissioning/email/contracts_ending_digest.txt"
HTML_TEMPLATE = "commissioning/email/contracts_ending_digest.html"


@dataclass(frozen=True)
class ManagerDigest:
    """What one contract manager is told this week."""

    manager: User
    today: date
    soon: list[Contract]  # ending within the shorter horizon (6 months)
    later: list[Contract]  # ending after it and within the longer horizon (12 months)
    # The apps' reminders (registry digest sections): (section, its items for this user).
    sections: list[tuple[registry.DigestSection, list[registry.DigestItem]]] = field(default_factory=list)

    @property
    def contracts(self) -> list[Contract]:
        return self.soon + self.later

    @property
    def reminders(self) -> int:
        return sum(len(items) for _section, items in self.sections)

    @property
    def has_content(self) -> bool:
        return bool(self.contracts or self.reminders)


def horizons() -> tuple[int, int]:
    short, long = settings.CONTRACT_DIGEST_MONTHS
    return short, long


def week_start(day: date) -> date:
    """The Monday of the ISO week ``day`` falls in."""
    return day - timedelta(days=day.weekday())


def digest_recipients(today: date) -> list[User]:
    """Active users who manage a live or extended contract ending within the longer horizon, and
    those an app's digest section reminds of something this week."""
    _short, long = horizons()
    managing = set(
        Contract.objects.ending_within(long, today=today).values_list("contract_manager", flat=True)
    )
    for section in registry.digest_sections():
        managing.update(section.recipients(today))
    managing.discard(None)
    return list(User.objects.filter(pk__in=managing, is_active=True).order_by("pk"))


def manager_digest(manager: User, *, today: date) -> ManagerDigest:
    short, long = horizons()
    contracts = list(
        Contract.objects.restrict(manager, "view")
        .filter(contract_manager=manager)
        .ending_within(long, today=today)
        .select_related("partnership", "provider__organisation")
        .order_by("end", "partnership__name", "reference")
    )
    limit = today + relativedelta(months=short)
    sections = [(section, section.items(manager, today)) for section in registry.digest_sections()]
    return ManagerDigest(
        manager=manager,
        today=today,
        soon=[c for c in contracts if c.end <= limit],
        later=[c for c in contracts if c.end > limit],
        sections=[(section, items) for section, items in sections if items],
    )


def _row(contract: Contract, today: date, site_url: str) -> dict:
    months = contract.months_remaining(today)
    return {
        "reference": contract.reference,
        "service": contract.service,
        "partnership": contract.partnership.name,
        "provider": contract.provider.name,
        "end": contract.end,
        "remaining": "less than a month" if not months else f"{months} month{'s' if months != 1 else ''}",
        "status": contract.get_status_display(),
        "annual_value": format_money(contract.annual_value),
        "extension_options": contract.extension_options,
        "url": f"{site_url}{contract.get_absolute_url()}" if site_url else "",
    }


def build_message(digest: ManagerDigest, *, connection=None) -> EmailMultiAlternatives:
    short, long = horizons()
    # SITE_URL (e.g. https://commissioning.example.org) turns references into links when set.
    site_url = getattr(settings, "SITE_URL", "").rstrip("/")
    context = {
        "manager": digest.manager,
        "name": digest.manager.get_full_name() or digest.manager.username,
        "today": digest.today,
        "short_months": short,
        "long_months": long,
        "soon": [_row(c, digest.today, site_url) for c in digest.soon],
        "later": [_row(c, digest.today, site_url) for c in digest.later],
        "has_contracts": bool(digest.contracts),
        "sections": [
            {
                "title": section.title,
                "rows": [
                    {"text": item.text, "url": f"{site_url}{item.path}" if site_url and item.path else ""}
                    for item in items
                ],
            }
            for section, items in digest.sections
        ],
        "site_name": settings.SITE_NAME,
    }
    week = date_format(week_start(digest.today), "j F Y")
    if digest.contracts or not digest.reminders:
        subject = (
            f"Contracts ending: {len(digest.soon)} within {short} months, "
            f"{len(digest.later)} more within {long} (week of {week})"
        )
        if digest.reminders:
            subject += f", and {digest.reminders} other reminder{'s' if digest.reminders != 1 else ''}"
    else:
        subject = f"Reminders: {digest.reminders} (week of {week})"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(TEXT_TEMPLATE, context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[digest.manager.email],
        headers={"Auto-Submitted": "auto-generated"},
        connection=connection,
    )
    message.attach_alternative(render_to_string(HTML_TEMPLATE, context), "text/html")
    return message


def claim_delivery(*, user: User, week: date, contracts_count: int) -> bool:
    """Record this week's digest for ``user``; False if it was already recorded.

    The one place that knows how deliveries are deduplicated. Call it inside the transaction that
    sends the e-mail: a failed send rolls the record back. A concurrent run blocks on the unique
    (user, week_start) index until this transaction ends, then finds the row.
    """
    _delivery, created = DigestDelivery.objects.get_or_create(
        user=user, week_start=week, defaults={"contracts_count": contracts_count}
    )
    return created


def send_contracts_ending_digest(*, today: date | None = None) -> dict[str, int]:
    """Send this week's digests; return a JSON-serialisable summary of the run.

    ``managers``: managers with contracts to report; ``emails``: digests sent by this run;
    ``already_sent``: managers whose digest for this week went earlier; ``no_email``: managers
    without an e-mail address; ``failed``: sends that raised (not recorded, so a retry sends them);
    ``contracts_6`` and ``contracts_12``: contracts in the digests sent by this run ending within
    the shorter and within the longer horizon (the second includes the first, as on the dashboard);
    ``reminders``: the apps' reminders (digest sections) in the digests sent by this run.
    """
    today = today or timezone.localdate()
    week = week_start(today)
    summary = dict.fromkeys(
        (
            "managers",
            "emails",
            "already_sent",
            "no_email",
            "failed",
            "contracts_6",
            "contracts_12",
            "reminders",
        ),
        0,
    )
    connection = get_connection()
    try:
        for manager in digest_recipients(today):
            digest = manager_digest(manager, today=today)
            if not digest.has_content:  # manages some, but may no longer view them
                continue
            summary["managers"] += 1
            if not manager.email:
                logger.warning("Contracts digest: %s has no e-mail address", manager.username)
                summary["no_email"] += 1
                continue
            try:
                with transaction.atomic():
                    if not claim_delivery(user=manager, week=week, contracts_count=len(digest.contracts)):
                        summary["already_sent"] += 1
                        continue
                    build_message(digest, connection=connection).send()
            except (smtplib.SMTPException, OSError):
                logger.exception("Contracts digest to %s failed; it will be retried", manager.username)
                summary["failed"] += 1
                continue
            summary["emails"] += 1
            summary["contracts_6"] += len(digest.soon)
            summary["contracts_12"] += len(digest.contracts)
            summary["reminders"] += digest.reminders
    finally:
        connection.close()
    logger.info("Contracts digest for the week of %s: %s", week, summary)
    return summary
