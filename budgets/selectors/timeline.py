"""One agreement's story, newest first: its signature, variations, the decisions behind it, its
reviews, its schedules added and its budget lines approved, and its own recorded changes, each
told with names (people, boards, decisions, lines), never bare ids.

A fixed number of queries whatever the number of entries: one per source, plus the history
renderer's one per kind of object named (``commissioning.history``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from pghistory.models import Events

from budgets.models import AgreementStatus, BudgetLine, Review, Schedule, Section75Agreement, Variation
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
