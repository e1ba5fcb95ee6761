"""Monthly positions of budget lines (rules.md, rule 2): entered one line or a whole schedule at a
time, corrected until the board meeting that received them is held, then locked; and reported to
a board meeting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pghistory
from django.core.exceptions import ValidationError
from django.db import transaction

from budgets.models import BudgetLine, MonthlyPosition, Schedule, financial_year_of
from budgets.services.base import delete_recorded, raise_errors, refuse_stale, save_recorded
from commissioning.models import User
from commissioning.services import StaleEdit


class PositionErrors(ValidationError):
    """Errors of a whole-schedule positions form, by budget line pk; nothing was saved."""

    def __init__(self, by_line: dict[int, ValidationError]):
        self.by_line = by_line
        super().__init__([message for error in by_line.values() for message in error.messages])


def _period_errors(line: BudgetLine, period: date | None) -> dict[str, list[str]]:
    if period is None:
        return {"period": ["Enter the period, as YYYY-MM."]}
    if period.day != 1:
        return {"period": ["A period is a month: give its first day (or YYYY-MM in the API)."]}
    if financial_year_of(period) != line.year:
        return {
            "period": [
                f"{period:%B %Y} is outside {line.year_label}, the financial year of the line "
                f"“{line.name}” (April {line.year} to March {line.year + 1})."
            ]
        }
    return {}


def _lock_message(position: MonthlyPosition) -> str:
    return (
        f"The {position.period:%B %Y} position of “{position.budget_line.name}” was reported to "
        f"{position.reported_at}, which has been held: it can no longer be changed."
    )


@transaction.atomic
def monthly_position_save(
    *,
    budget_line: BudgetLine,
    period: date,
    actual_to_date: Decimal,
    forecast_outturn: Decimal,
    by: User,
    commentary: str = "",
    version: int | None = None,
) -> MonthlyPosition:
    """Record (or correct) the position of one line for one period.

    A position reported to a board meeting that has been held is locked."""
    errors = _period_errors(budget_line, period)
    for field, value in (("actual_to_date", actual_to_date), ("forecast_outturn", forecast_outturn)):
        if value is None:
            errors.setdefault(field, []).append("Enter an amount.")
        elif Decimal(value) < 0:
            errors.setdefault(field, []).append("The amount cannot be negative.")
    raise_errors(errors)
    position = (
        MonthlyPosition.objects.select_for_update(of=("self",))
        .select_related("reported_at", "budget_line")
        .filter(budget_line=budget_line, period=period)
        .first()
    )
    if position is None:
        position = MonthlyPosition(budget_line=budget_line, period=period)
    else:
        if position.is_locked:
            raise ValidationError(_lock_message(position))
        refuse_stale(version, position.version, "position")
        unchanged = (
            position.actual_to_date == Decimal(actual_to_date)
            and position.forecast_outturn == Decimal(forecast_outturn)
            and position.commentary == (commentary or "")
        )
        if unchanged:
            return position
        position.version += 1
    position.actual_to_date = actual_to_date
    position.forecast_outturn = forecast_outturn
    position.commentary = commentary or ""
    position.submitted_by = by
    position.full_clean(exclude=["version", "reported_at", "submitted_by"], validate_unique=False)
    save_recorded(position, by=by)
    return position


@dataclass
class PositionEntry:
    budget_line: BudgetLine
    actual_to_date: Decimal | None
    forecast_outturn: Decimal | None
    commentary: str = ""
    version: int | None = None


@transaction.atomic
def monthly_positions_save_period(
    *, schedule: Schedule, period: date, entries: Sequence[PositionEntry], by: User
) -> list[MonthlyPosition]:
    """The whole-schedule form: one position per line for one period, all or nothing.

    Lines left blank (no actual and no forecast) are skipped. Every line's error is collected and
    raised together as ``PositionErrors``; nothing is saved if any line is wrong."""
    saved: list[MonthlyPosition] = []
    errors: dict[int, ValidationError] = {}
    for entry in entries:
        line = entry.budget_line
        if line.schedule_id != schedule.pk:
            errors[line.pk] = ValidationError({"budget_line": ["This line belongs to another schedule."]})
            continue
        if entry.actual_to_date is None and entry.forecast_outturn is None and not entry.commentary:
            continue
        try:
            with transaction.atomic():
                saved.append(
                    monthly_position_save(
                        budget_line=line,
                        period=period,
                        actual_to_date=entry.actual_to_date,
                        forecast_outturn=entry.forecast_outturn,
                        commentary=entry.commentary,
                        version=entry.version,
                        by=by,
                    )
                )
        except StaleEdit:
            raise
        except ValidationError as error:
            errors[line.pk] = error
    if errors:
        raise PositionErrors(errors)
    return saved


@transaction.atomic
def monthly_position_create(
    *,
    budget_line: BudgetLine,
    period: date,
    actual_to_date: Decimal,
    forecast_outturn: Decimal,
    by: User,
    commentary: str = "",
) -> MonthlyPosition:
    """A new position (the API's POST): a line has one position per period."""
    if period is not None and MonthlyPosition.objects.filter(budget_line=budget_line, period=period).exists():
        raise ValidationError(
            {
                "period": [
                    f"“{budget_line.name}” already has a position for {period:%B %Y}: "
                    "change that one instead."
                ]
            }
        )
    return monthly_position_save(
        budget_line=budget_line,
        period=period,
        actual_to_date=actual_to_date,
        forecast_outturn=forecast_outturn,
        commentary=commentary,
        by=by,
    )


@transaction.atomic
def monthly_position_update(
    *, position: MonthlyPosition, by: User, version: int | None = None, **fields: Any
) -> MonthlyPosition:
    """Correct a position's figures or commentary (its line and period stay)."""
    for name in ("budget_line", "period"):
        if name in fields and fields[name] != getattr(position, name):
            raise ValidationError({name: [f"A position's {name.replace('_', ' ')} cannot change."]})
    current = MonthlyPosition.objects.select_related("reported_at").get(pk=position.pk)
    if current.is_locked:
        raise ValidationError(_lock_message(current))
    return monthly_position_save(
        budget_line=current.budget_line,
        period=current.period,
        actual_to_date=fields.get("actual_to_date", current.actual_to_date),
        forecast_outturn=fields.get("forecast_outturn", current.forecast_outturn),
        commentary=fields.get("commentary", current.commentary),
        version=version,
        by=by,
    )


@transaction.atomic
def monthly_position_delete(*, position: MonthlyPosition, by: User) -> None:
    """Delete a position (an administrator's correction); a locked one stays."""
    current = (
        MonthlyPosition.objects.select_for_update(of=("self",))
        .select_related("reported_at", "budget_line")
        .get(pk=position.pk)
    )
    if current.is_locked:
        raise ValidationError(_lock_message(current))
    delete_recorded(current, by=by)


# --- Reporting to the board -----------------------------------------------------------------------


@transaction.atomic
def positions_report(*, schedule: Schedule, period: date, meeting, by: User) -> int:
    """Record that a board meeting received a schedule's positions for a period. Once the meeting is
    held they lock. Returns how many positions were marked."""
    partnership = schedule.agreement.partnership
    if meeting.board.partnership_id != partnership.pk:
        raise ValidationError({"meeting": [f"Choose a meeting of a {partnership.name} board."]})
    if schedule.board_id and meeting.board_id != schedule.board_id:
        raise ValidationError(
            {"meeting": [f"Choose a meeting of {schedule.board.name}, the schedule's board."]}
        )
    positions = list(
        MonthlyPosition.objects.select_for_update(of=("self",))
        .select_related("reported_at")
        .filter(budget_line__schedule=schedule, period=period)
        .order_by("pk")
    )
    if not positions:
        raise ValidationError({"period": [f"No positions have been entered for {period:%B %Y}."]})
    marked = 0
    with pghistory.context(user=by.pk):
        for position in positions:
            if position.is_locked:
                continue
            position.reported_at = meeting
            position.version += 1
            position.save(update_fields=["reported_at", "version"])
            marked += 1
    return marked


@transaction.atomic
def positions_report_periods(
    *, schedule: Schedule, periods: Sequence[date], meeting, by: User
) -> dict[date, int]:
    """Report several periods of a schedule's positions to one board meeting, all or nothing.

    Every period must have positions still open (a period whose positions are all locked was
    already received by a held meeting). Returns how many positions were marked, by period."""
    if not periods:
        raise ValidationError({"periods": ["Choose at least one period to report."]})
    errors: list[str] = []
    marked: dict[date, int] = {}
    for period in sorted(set(periods)):
        try:
            with transaction.atomic():
                marked[period] = positions_report(schedule=schedule, period=period, meeting=meeting, by=by)
        except ValidationError as error:
            if hasattr(error, "error_dict") and "meeting" in error.error_dict:
                raise
            errors.extend(error.messages)
            continue
        if marked[period] == 0:
            errors.append(
                f"The {period:%B %Y} positions were reported to a meeting that has been held: "
                "they are locked and cannot be reported again."
            )
    if errors:
        raise ValidationError({"periods": errors})
    return marked
