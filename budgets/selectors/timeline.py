"""One agreement's story, newest first: its signature, variations, the decisions behind it, its
reviews, its schedules added and its budget lines approved, the partners' contribution invoices and
the year-end settlements (raised, issued, paid), and its own recorded changes, each told with names
(people, boards, decisions, lines, invoice numbers), never bare ids.

A fixed number of queries whatever the number of entries: one per source, plus the history
renderer's one per kind of object named (``commissioning.history``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from pghistory.models import Events

from budgets.models import (
    AgreementStatus,
    BudgetLine,
    ContributionInstalment,
    Review,
    Schedule,
    Section75Agreement,
    StatementSettlement,
    Variation,
    year_label,
)
from budgets.selectors.history import loaded
from commissioning import history
from commissioning.models import User
from commissioning.money import format_money
from commissioning.permissions import has_model_permission
from governance.models import Decision, DecisionLink


@dataclass
class TimelineEntry:
    """One moment of the story: when (a day, and a moment to order entries of one day), what kind
    of moment, a sentence naming who and what, the page it is about, and the values recorded."""

    day: date
    kind: str
    title: str
    text: str = ""
    who: Any = None
    url: str = ""
    changes: list[history.Change] = field(default_factory=list)
    at: datetime | None = None
    who_pk: Any = None  # from a history row's context, resolved to ``who`` in one query

    @property
    def sort_key(self) -> tuple:
        moment = self.at or timezone.make_aware(datetime.combine(self.day, time.max))
        return (self.day, moment)

    @property
    def day_label(self) -> str:
        return date_format(self.day, "j F Y")


def _local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()


def _context_user(event):
    """The user a history row's context names (``pghistory.context(user=...)``), if any."""
    return (event.pgh_context.metadata or {}).get("user") if event.pgh_context_id else None


def _decision_text(decision: Decision) -> str:
    board = decision.agenda_item.meeting.board.name
    return f"{decision.reference} of the {board}: {decision.get_outcome_display().lower()}"


def _agreement_changes(agreement: Section75Agreement) -> list[TimelineEntry]:
    events = (
        Events.objects.tracks(agreement)
        .across(history.event_model("budgets.Section75Agreement"))
        .order_by(*history.ORDER)
    )
    entries = []
    for entry in history.entries(events, known=loaded(agreement, "partnership", "host", "decision")):
        # Signed by a change of status (one recorded already signed reads as added, on that day).
        signed = any(
            c.label == "Status" and c.before is not None and str(c.after) == AgreementStatus.SIGNED.label
            for c in entry.changes
        )
        entries.append(
            TimelineEntry(
                day=_local_day(entry.when),
                at=entry.when,
                kind="Signature" if signed else "Change",
                title=f"{agreement.reference} signed" if signed else entry.summary,
                who=entry.who,
                changes=entry.changes,
            )
        )
    return entries


def _invoice_entries(invoice, *, kind: str, what: str, partner, url: str) -> list[TimelineEntry]:
    """An invoice's issue and its payments (read from ``invoice.payments``, prefetched), told as
    moments of the agreement's story. A draft is not issued yet: nothing but its raising to tell."""
    entries = []
    if invoice.issue_date:
        due = f", due {date_format(invoice.due_date, 'j F Y')}" if invoice.due_date else ""
        noun = "credit note" if invoice.is_credit else "invoice"
        entries.append(
            TimelineEntry(
                day=invoice.issue_date,
                kind=kind,
                title=f"{what}: {noun} {invoice.number} issued to {partner.name}",
                text=f"{format_money(invoice.total)}{due}",
                url=url,
                who_pk=invoice.issued_by_id,
            )
        )
    paid = Decimal("0.00")
    for payment in invoice.payments.all():
        paid += payment.amount
        whole = " (paid in full)" if paid >= invoice.total else ""
        entries.append(
            TimelineEntry(
                day=payment.paid_on,
                at=payment.recorded_at,
                kind=kind,
                title=f"{what}: {format_money(payment.amount)} received on {invoice.number}{whole}",
                text=f"From {partner.name}"
                + (f", reference {payment.reference}" if payment.reference else ""),
                url=url,
                who_pk=payment.recorded_by_id,
            )
        )
    return entries


def _money_entries(agreement: Section75Agreement, user, schedules: dict) -> list[TimelineEntry]:
    """The pool's money: each contribution instalment raised as an invoice, issued and paid, and
    each partner's year-end settlement raised, issued and paid. Four queries (instalments and
    settlements, each with their invoices' payments), whatever their number."""
    entries: list[TimelineEntry] = []
    see_invoices = user.has_perm("brokerage.view_invoice")

    def invoice_url(invoice) -> str:
        return reverse("finance:invoice", args=[invoice.pk]) if see_invoices else ""

    if has_model_permission(user, ContributionInstalment, "view") and schedules:
        instalments = (
            ContributionInstalment.objects.restrict(user, "view")
            .filter(plan__schedule__in=list(schedules.values()), invoice__isnull=False)
            .select_related("invoice", "plan__partner", "plan__schedule")
            .prefetch_related("invoice__payments")
        )
        for instalment in instalments:
            plan, invoice = instalment.plan, instalment.invoice
            count = plan.instalment_count
            what = (
                f"Instalment {instalment.number} of {count} of {plan.partner.name}'s {year_label(plan.year)} "
                f"contribution to schedule {plan.schedule.number}, {plan.schedule.title}"
            )
            url = invoice_url(invoice)
            entries.append(
                TimelineEntry(
                    day=_local_day(instalment.raised_at),
                    at=instalment.raised_at,
                    kind="Contribution",
                    title=f"{what}: raised as a draft invoice",
                    text=format_money(instalment.amount)
                    + ("" if instalment.raised_by_id else " (raised by the daily task, as it fell due)"),
                    url=url,
                    who_pk=instalment.raised_by_id,
                )
            )
            entries += _invoice_entries(
                invoice, kind="Contribution", what=what, partner=plan.partner, url=url
            )

    if has_model_permission(user, StatementSettlement, "view"):
        settlements = (
            StatementSettlement.objects.restrict(user, "view")
            .filter(statement__agreement=agreement, invoice__isnull=False)
            .select_related("invoice", "partner", "statement__decision")
            .prefetch_related("invoice__payments")
        )
        for settlement in settlements:
            statement, invoice = settlement.statement, settlement.invoice
            what = f"Year-end settlement of {year_label(statement.year)} with {settlement.partner.name}"
            partner = settlement.partner.name
            if settlement.amount > 0:
                owes = f"{partner} owes {format_money(settlement.amount)}, its share of the overspend"
            else:
                owes = (
                    f"{agreement.host.name} owes {partner} {format_money(-settlement.amount)}, "
                    "its share of the underspend"
                )
            approved = (
                f"; the statement was approved by decision {statement.decision.reference}"
                if statement.decision_id
                else ""
            )
            url = invoice_url(invoice)
            entries.append(
                TimelineEntry(
                    day=_local_day(settlement.raised_at),
                    at=settlement.raised_at,
                    kind="Settlement",
                    title=f"{what}: raised as a draft {'credit note' if invoice.is_credit else 'invoice'}",
                    text=owes + approved,
                    url=url,
                    who_pk=settlement.raised_by_id,
                )
            )
            entries += _invoice_entries(
                invoice, kind="Settlement", what=what, partner=settlement.partner, url=url
            )
    return entries


def agreement_timeline(agreement: Section75Agreement, user) -> list[TimelineEntry]:
    """Every entry of the agreement's story the user may see, newest first."""
    url = agreement.get_absolute_url()
    entries: list[TimelineEntry] = [
        TimelineEntry(
            day=agreement.start,
            kind="Term",
            title=f"The term of {agreement.reference} begins",
            text=f"Hosted by {agreement.host.name}, until {date_format(agreement.end, 'j F Y')}",
            url=url,
        )
    ]
    entries += _agreement_changes(agreement)
    decision_ids: set[int] = {agreement.decision_id} if agreement.decision_id else set()

    if has_model_permission(user, Variation, "view"):
        for variation in (
            Variation.objects.restrict(user, "view").filter(agreement=agreement).prefetch_related("schedules")
        ):
            touched = "; ".join(f"schedule {s.number}, {s.title}" for s in variation.schedules.all())
            entries.append(
                TimelineEntry(
                    day=variation.effective_from,
                    kind="Variation",
                    title=f"Variation {variation.number} takes effect",
                    text=variation.changes + (f" (touches {touched})" if touched else ""),
                    url=f"{url}#variation-{variation.number}",
                )
            )
            decision_ids.add(variation.decision_id)

    if has_model_permission(user, Review, "view"):
        for review in (
            Review.objects.restrict(user, "view").filter(agreement=agreement).select_related("paper")
        ):
            went = f"; it went to the paper “{review.paper.title}”" if review.paper_id else ""
            if review.held_on:
                title = f"{review} held: {review.get_outcome_display().lower() or 'no outcome recorded'}"
                day = review.held_on
            else:
                title, day = f"{review} due", review.due
            entries.append(
                TimelineEntry(
                    day=day,
                    kind="Review",
                    title=title,
                    text=(review.notes or "") + went,
                    url=f"{url}#reviews",
                )
            )
            if review.decision_id:
                decision_ids.add(review.decision_id)

    schedules = {s.pk: s for s in Schedule.objects.restrict(user, "view").filter(agreement=agreement)}
    schedule_events = (
        history.event_model("budgets.Schedule")
        .objects.filter(pgh_obj_id__in=schedules, pgh_label="insert")
        .select_related("pgh_context")
    )
    for event in schedule_events:
        schedule = schedules[event.pgh_obj_id]
        entries.append(
            TimelineEntry(
                day=_local_day(event.pgh_created_at),
                at=event.pgh_created_at,
                kind="Schedule",
                title=f"Schedule {schedule.number}, {schedule.title}, added",
                text=schedule.get_arrangement_display(),
                url=schedule.get_absolute_url(),
            )
        )
        entries[-1].who_pk = _context_user(event)

    if has_model_permission(user, BudgetLine, "view") and schedules:
        lines = {
            line.pk: line
            for line in BudgetLine.objects.filter(schedule__in=schedules.values()).select_related(
                "funding_stream"
            )
        }
        approvals = (
            history.event_model("budgets.BudgetLine")
            .objects.filter(pgh_obj_id__in=lines, status="approved")
            .order_by("pgh_obj_id", "pgh_created_at")
            .distinct("pgh_obj_id")
            .select_related("pgh_context")
        )
        for event in approvals:
            line = lines[event.pgh_obj_id]
            entries.append(
                TimelineEntry(
                    day=_local_day(event.pgh_created_at),
                    at=event.pgh_created_at,
                    kind="Budget line",
                    title=(
                        f"Budget line “{line.name}” ({line.funding_stream.name}, {line.year_label}) approved"
                    ),
                    text=format_money(event.amount),
                    url=schedules[line.schedule_id].get_absolute_url(),
                )
            )
            entries[-1].who_pk = _context_user(event)
            if line.decision_id:
                decision_ids.add(line.decision_id)

    entries += _money_entries(agreement, user, schedules)

    linked = DecisionLink.objects.restrict(user).filter(
        content_type=ContentType.objects.get_for_model(Section75Agreement), object_id=agreement.pk
    )
    decisions = (
        Decision.objects.restrict(user, "view")
        .filter(pk__in=decision_ids | set(linked.values_list("decision_id", flat=True)))
        .select_related("agenda_item__meeting__board")
    )
    for decision in decisions:
        entries.append(
            TimelineEntry(
                day=decision.decided_on,
                kind="Decision",
                title=f"Decision {_decision_text(decision)}",
                text=decision.resolution,
                url=reverse("governance:decision", args=[decision.pk]),
            )
        )

    wanted = {int(e.who_pk) for e in entries if e.who_pk}
    if wanted:
        people = {u.pk: u for u in User.objects.filter(pk__in=wanted)}
        for entry in entries:
            if entry.who_pk:
                entry.who = people.get(int(entry.who_pk))
    entries.sort(key=lambda e: e.sort_key, reverse=True)
    return entries
