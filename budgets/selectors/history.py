"""Who changed what on a schedule (with its fixed shares, lines, positions and virements), a funding
stream or an agreement, newest first, read with the one history renderer (``commissioning.history``),
and how budgets' records read in a history (``register_history``, from ``BudgetsConfig.ready``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from pghistory.models import Events

from budgets.models import (
    BudgetLine,
    FundingStream,
    MonthlyPosition,
    Schedule,
    ScheduleFixedShare,
    Section75Agreement,
    Virement,
    year_label,
)
from commissioning import history
from commissioning.models import Organisation
from commissioning.money import format_money
from commissioning.permissions import has_model_permission

HISTORY_LIMIT = 100


@dataclass
class HistoryPage:
    """A slice of a history, newest first: ``entries`` from the ``offset``-th event on, at most
    ``limit`` of them, and whether older events remain (no total is counted)."""

    entries: list[history.HistoryEntry]
    offset: int
    limit: int
    events: int  # read for this page: more than the entries when an update changed no shown field
    has_more: bool


def loaded(obj: models.Model, *relations: str) -> dict[tuple, models.Model]:
    """``obj`` and those of its ``relations`` already loaded with it, by (model, pk): the objects a
    history may name without a query (``history.entries(known=...)``)."""
    known: dict[tuple, models.Model] = {(type(obj), obj.pk): obj}
    for name in relations:
        field = obj._meta.get_field(name)
        if field.is_cached(obj) and (related := getattr(obj, name)) is not None:
            known[(field.related_model, related.pk)] = related
    return known


def schedule_history(
    schedule: Schedule, user, lines: Sequence[BudgetLine] | None = None
) -> list[history.HistoryEntry]:
    """The latest ``HISTORY_LIMIT`` changes of a schedule (``schedule_history_page``)."""
    return schedule_history_page(schedule, user, lines=lines, limit=HISTORY_LIMIT).entries


def schedule_history_page(
    schedule: Schedule,
    user,
    lines: Sequence[BudgetLine] | None = None,
    *,
    offset: int = 0,
    limit: int = HISTORY_LIMIT,
) -> HistoryPage:
    """Who changed what on a schedule, its fixed shares, lines, positions and virements, newest
    first, with each field's before and after (django-pghistory's trigger rows): the events from
    the ``offset``-th, at most ``limit``, and whether there are older ones. Each source reads its
    newest ``offset + limit + 1`` events, merged and sliced here (the extra one tells if more
    remain). At most four queries plus one per kind of related object named, whatever the offset
    (the positions' newest event ids, then their history rows); one fewer when given the schedule's
    lines (all years, as ``lines_of([schedule])``: the lines named need no query then). An update
    that changed no shown field has no entry, so a page may hold fewer than ``limit`` entries."""
    offset, limit = max(0, offset), max(0, limit)
    wanted_count = offset + limit + 1
    wanted = [
        history.event_model("budgets.Schedule"),
        history.event_model("budgets.ScheduleFixedShare"),
        history.event_model("budgets.BudgetLine"),
    ]
    if has_model_permission(user, Virement, "view"):
        wanted.append(history.event_model("budgets.Virement"))
    events = list(Events.objects.references(schedule).across(*wanted).order_by(*history.ORDER)[:wanted_count])
    if lines is None:
        lines = BudgetLine.objects.filter(schedule=schedule).select_related("funding_stream")
    lines = list(lines)
    if lines and has_model_permission(user, MonthlyPosition, "view"):
        # The newest position events by id first (an index scan of one table), then the history
        # rows of those alone: read directly, pghistory's query builds the before/after of every
        # position event of the lines (hundreds on a schedule a few years old) before sorting them.
        position_events = history.event_model("budgets.MonthlyPosition")
        newest = list(
            position_events.objects.filter(budget_line_id__in=[line.pk for line in lines])
            .order_by("-pgh_created_at", "-pgh_id")
            .values_list("pgh_id", flat=True)[:wanted_count]
        )
        if newest:
            events += list(
                Events.objects.references(lines)
                .across(position_events)
                .filter(pgh_id__in=newest)
                .order_by(*history.ORDER)[:wanted_count]
            )
    events.sort(key=history.newest_first, reverse=True)
    window = events[offset:wanted_count]
    known = loaded(schedule, "agreement", "pool_manager", "board")
    for line in lines:
        known |= loaded(line, "funding_stream")
    return HistoryPage(
        entries=history.entries(window[:limit], known=known),
        offset=offset,
        limit=limit,
        events=len(window[:limit]),
        has_more=len(window) > limit,
    )


def stream_history(stream: FundingStream) -> list[history.HistoryEntry]:
    """Who changed a funding stream, newest first (two queries plus one per kind of object named)."""
    events = (
        Events.objects.tracks(stream)
        .across(history.event_model("budgets.FundingStream"))
        .order_by(*history.ORDER)[:HISTORY_LIMIT]
    )
    return history.entries(events, known=loaded(stream, "partnership", "organisation"))


def agreement_history(agreement: Section75Agreement) -> list[history.HistoryEntry]:
    """Who changed an agreement itself (its schedules keep their own history), newest first."""
    events = (
        Events.objects.tracks(agreement)
        .across(history.event_model("budgets.Section75Agreement"))
        .order_by(*history.ORDER)[:HISTORY_LIMIT]
    )
    return history.entries(events, known=loaded(agreement, "partnership", "host", "decision"))


# --- How budgets' records read in a history -----------------------------------------------------


def _line(data: dict, names: history.Names) -> str:
    return f"“{data.get('name', '')}” {year_label(int(data['year']))}" if data.get("year") else ""


def _position(data: dict, names: history.Names) -> str:
    line = names.get(BudgetLine, data.get("budget_line_id"))
    day = history.parse_date(data.get("period"))
    period = history.format_date(day, "F Y") if day else data.get("period", "")
    return f"of “{line.name if line else '?'}” for {period}"


def _fixed_share(data: dict, names: history.Names) -> str:
    organisation = names.get(Organisation, data.get("organisation_id"))
    return organisation.code if organisation else ""


def register_history() -> None:
    """How budgets' tracked records read in a history ("Budget line “Placements” 2021/22 changed",
    "Monthly position of “Placements” for May 2022 added"): called from ``BudgetsConfig.ready``."""
    history.register(
        Section75Agreement,
        noun="Agreement",
        describe=lambda data, names: data.get("reference", ""),
        # The stored file's generated name means nothing to a reader: its display name is shown.
        skip={"signed_document"},
    )
    history.register(Schedule, noun="Schedule")
    history.register(
        ScheduleFixedShare,
        noun="Fixed share",
        describe=_fixed_share,
        mentions=lambda data: [(Organisation, data.get("organisation_id"))],
        skip={"schedule_id"},
    )
    history.register(
        FundingStream, noun="Funding stream", describe=lambda data, names: f"“{data.get('name', '')}”"
    )
    history.register(BudgetLine, noun="Budget line", describe=_line, skip={"schedule_id"})
    history.register(
        MonthlyPosition,
        noun="Monthly position",
        describe=_position,
        mentions=lambda data: [(BudgetLine, data.get("budget_line_id"))],
        # Who submitted a position is who made the change: the entry says so already.
        skip={"budget_line_id", "submitted_by_id"},
    )
    history.register(
        Virement,
        noun="Virement",
        describe=lambda data, names: format_money(Decimal(str(data.get("amount") or 0))),
        skip={"schedule_id", "proposed_at"},
    )
    # A budget line is named with its funding stream; a decision with its agenda item.
    history.name_with(BudgetLine, "funding_stream")
    history.name_with("governance.Decision", "agenda_item")
