"""Writes of the budgets app. Each service is one transaction, takes keyword-only arguments, checks
the rules that span rows (and names the field in its ``ValidationError``), records who acted in the
history (``pghistory.context``) and is what the pages, the API, the import and the demo all call.

Stale edits (a ``version`` older than the stored one) raise ``StaleEdit`` (409 in the API).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pghistory
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from budgets import risk_share
from budgets.models import (
    BudgetLine,
    FundingStream,
    MonthlyPosition,
    Schedule,
    ScheduleFixedShare,
    Section75Agreement,
    Virement,
    VirementStatus,
    financial_year_of,
    year_label,
)
from commissioning.models import Organisation, Partnership, User
from commissioning.services import StaleEdit

ZERO = Decimal("0.00")
APPROVING_OUTCOMES = ("approved", "approved_with_amendments")


@dataclass(frozen=True)
class FixedShare:
    organisation: Organisation
    percent: Decimal


class PositionErrors(ValidationError):
    """Errors of a whole-schedule positions form, by budget line pk; nothing was saved."""

    def __init__(self, by_line: dict[int, ValidationError]):
        self.by_line = by_line
        super().__init__([message for error in by_line.values() for message in error.messages])


def _stale(version: int | None, stored: int, what: str) -> None:
    if version is not None and version != stored:
        raise StaleEdit(
            f"Someone else changed this {what} since you opened it. "
            "Your changes have not been saved: reload the page to see theirs."
        )


def _partners(partnership: Partnership) -> tuple[int, int]:
    return (partnership.council_id, partnership.nhs_commissioner_id)


def _check_decision(decision, partnership: Partnership, field: str, errors: dict) -> None:
    if decision is None:
        return
    board_partnership_id = decision.agenda_item.meeting.board.partnership_id
    if board_partnership_id != partnership.pk:
        errors.setdefault(field, []).append(f"Choose a decision of a {partnership.name} board.")


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _save(instance, *, by: User, **save_kwargs) -> None:
    """Save, turning a uniqueness race the checks could not foresee into a ValidationError."""
    try:
        with transaction.atomic(), pghistory.context(user=by.pk):
            instance.save(**save_kwargs)
    except IntegrityError as error:
        raise ValidationError(
            "This change conflicts with an existing record (for example a duplicate). Nothing was saved."
        ) from error


# --- Agreements ---------------------------------------------------------------------------------

AGREEMENT_FIELDS = ("partnership", "reference", "title", "host", "start", "end", "status", "decision")


def _validate_agreement(agreement: Section75Agreement) -> None:
    errors: dict[str, list[str]] = {}
    partnership = agreement.partnership
    if agreement.host_id and agreement.host_id not in _partners(partnership):
        errors.setdefault("host", []).append(
            f"The host must be one of the partners of {partnership.name}: "
            f"{partnership.council.name} or {partnership.nhs_commissioner.name}."
        )
    if agreement.start and agreement.end and agreement.end <= agreement.start:
        errors.setdefault("end", []).append("The end date must be after the start date.")
    _check_decision(agreement.decision, partnership, "decision", errors)
    if agreement.pk and agreement.start and agreement.end:
        outside = (
            BudgetLine.objects.filter(schedule__agreement=agreement)
            .exclude(year__in=agreement.years)
            .values_list("year", flat=True)
            .distinct()
        )
        if outside:
            labels = ", ".join(year_label(y) for y in sorted(outside))
            errors.setdefault("end", []).append(
                f"The agreement must still cover the years of its budget lines ({labels})."
            )
    _raise(errors)
    agreement.full_clean(exclude=["version"])


@transaction.atomic
def agreement_create(*, by: User, **fields: Any) -> Section75Agreement:
    unknown = set(fields) - set(AGREEMENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown agreement fields: {sorted(unknown)}")
    agreement = Section75Agreement(**fields)
    _validate_agreement(agreement)
    _save(agreement, by=by)
    return agreement


@transaction.atomic
def agreement_update(
    *, agreement: Section75Agreement, by: User, version: int | None = None, **fields: Any
) -> Section75Agreement:
    unknown = set(fields) - set(AGREEMENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown agreement fields: {sorted(unknown)}")
    locked = Section75Agreement.objects.select_for_update().get(pk=agreement.pk)
    _stale(version, locked.version, "agreement")
    for name, value in fields.items():
        setattr(locked, name, value)
    _validate_agreement(locked)
    locked.version += 1
    _save(locked, by=by)
    return locked


# --- Schedules ----------------------------------------------------------------------------------

SCHEDULE_FIELDS = (
    "agreement",
    "number",
    "title",
    "arrangement",
    "integration_level",
    "pool_manager",
    "board",
    "overspend_rule",
    "underspend_rule",
)


def _validate_schedule(schedule: Schedule, fixed_shares: Sequence[FixedShare] | None) -> None:
    errors: dict[str, list[str]] = {}
    partnership = schedule.agreement.partnership
    partners = _partners(partnership)
    if schedule.board_id and schedule.board.partnership_id != partnership.pk:
        errors.setdefault("board", []).append(f"Choose a board of {partnership.name}.")
    if schedule.uses_fixed_shares:
        shares = list(fixed_shares or [])
        seen: set[int] = set()
        for share in shares:
            if share.organisation.pk not in partners:
                errors.setdefault("fixed_shares", []).append(
                    f"{share.organisation.code} is not a partner of {partnership.name}."
                )
            elif share.organisation.pk in seen:
                errors.setdefault("fixed_shares", []).append(
                    f"{share.organisation.code} has more than one fixed share."
                )
            seen.add(share.organisation.pk)
        try:
            risk_share.validate_fixed_percentages(
                {s.organisation.pk: Decimal(s.percent) for s in shares if s.organisation.pk in partners}
            )
        except risk_share.RiskShareError as error:
            errors.setdefault("fixed_shares", []).append(str(error))
    elif fixed_shares:
        errors.setdefault("fixed_shares", []).append(
            "Fixed shares apply only when a risk-share rule is fixed percentages."
        )
    if (
        schedule.agreement_id
        and schedule.number
        and Schedule.objects.filter(agreement_id=schedule.agreement_id, number=schedule.number)
        .exclude(pk=schedule.pk)
        .exists()
    ):
        errors.setdefault("number", []).append(
            f"The agreement already has a schedule {schedule.number}: choose another number."
        )
    _raise(errors)
    schedule.full_clean(exclude=["version"], validate_unique=False)


def _set_fixed_shares(schedule: Schedule, fixed_shares: Sequence[FixedShare] | None, by: User) -> None:
    with pghistory.context(user=by.pk):
        wanted = {s.organisation.pk: Decimal(s.percent) for s in (fixed_shares or [])}
        if not schedule.uses_fixed_shares:
            wanted = {}
        existing = {s.organisation_id: s for s in schedule.fixed_shares.all()}
        for organisation_id, share in existing.items():
            if organisation_id not in wanted:
                share.delete()
            elif share.percent != wanted[organisation_id]:
                share.percent = wanted[organisation_id]
                share.save(update_fields=["percent"])
        for organisation_id, percent in wanted.items():
            if organisation_id not in existing:
                ScheduleFixedShare.objects.create(
                    schedule=schedule, organisation_id=organisation_id, percent=percent
                )


@transaction.atomic
def schedule_create(*, by: User, fixed_shares: Sequence[FixedShare] | None = None, **fields: Any) -> Schedule:
    unknown = set(fields) - set(SCHEDULE_FIELDS)
    if unknown:
        raise TypeError(f"unknown schedule fields: {sorted(unknown)}")
    schedule = Schedule(**fields)
    _validate_schedule(schedule, fixed_shares)
    _save(schedule, by=by)
    _set_fixed_shares(schedule, fixed_shares, by)
    return schedule


@transaction.atomic
def schedule_update(
    *,
    schedule: Schedule,
    by: User,
    version: int | None = None,
    fixed_shares: Sequence[FixedShare] | None = None,
    **fields: Any,
) -> Schedule:
    """Change a schedule. ``fixed_shares=None`` keeps the stored shares."""
    unknown = set(fields) - set(SCHEDULE_FIELDS) - {"agreement"}
    if unknown:
        raise TypeError(f"unknown schedule fields: {sorted(unknown)}")
    locked = Schedule.objects.select_for_update().select_related("agreement__partnership").get(pk=schedule.pk)
    _stale(version, locked.version, "schedule")
    if "agreement" in fields and fields["agreement"].pk != locked.agreement_id:
        raise ValidationError({"agreement": ["A schedule cannot move to another agreement."]})
    for name, value in fields.items():
        setattr(locked, name, value)
    if fixed_shares is None:
        fixed_shares = [FixedShare(s.organisation, s.percent) for s in locked.fixed_shares.all()]
    _validate_schedule(locked, fixed_shares)
    locked.version += 1
    _save(locked, by=by)
    _set_fixed_shares(locked, fixed_shares, by)
    return locked


# --- Funding streams ----------------------------------------------------------------------------


def _validate_stream(stream: FundingStream) -> None:
    errors: dict[str, list[str]] = {}
    partnership = stream.partnership
    if stream.organisation_id and stream.organisation_id not in _partners(partnership):
        errors.setdefault("organisation", []).append(
            f"A funding stream is contributed by one of the partners of {partnership.name}."
        )
    if (
        stream.name
        and FundingStream.objects.filter(partnership=partnership, name__iexact=stream.name.strip())
        .exclude(pk=stream.pk)
        .exists()
    ):
        errors.setdefault("name", []).append(f"{partnership.name} already has a funding stream of this name.")
    _raise(errors)
    stream.full_clean(validate_unique=False)


@transaction.atomic
def funding_stream_create(
    *, by: User, partnership: Partnership, name: str, organisation: Organisation
) -> FundingStream:
    stream = FundingStream(partnership=partnership, name=(name or "").strip(), organisation=organisation)
    _validate_stream(stream)
    _save(stream, by=by)
    return stream


@transaction.atomic
def funding_stream_update(*, stream: FundingStream, by: User, **fields: Any) -> FundingStream:
    locked = FundingStream.objects.select_for_update().get(pk=stream.pk)
    moving = "partnership" in fields and fields["partnership"].pk != locked.partnership_id
    if moving and locked.lines.exists():
        raise ValidationError({"partnership": ["A funding stream with budget lines cannot move."]})
    new_organisation = fields.get("organisation")
    if (
        new_organisation is not None
        and new_organisation.pk != locked.organisation_id
        and locked.lines.exists()
    ):
        raise ValidationError(
            {
                "organisation": [
                    f"Budget lines use “{locked.name}”, so its contributing partner cannot change: that "
                    "would move their contributions and risk shares to the other partner. Add a new "
                    "funding stream instead."
                ]
            }
        )
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
    for name, value in fields.items():
        setattr(locked, name, value)
    _validate_stream(locked)
    _save(locked, by=by)
    return locked


# --- Budget lines -------------------------------------------------------------------------------

LINE_FIELDS = ("schedule", "name", "year", "funding_stream", "amount", "status", "decision")


def budget_line_errors(line: BudgetLine) -> dict[str, list[str]]:
    """Every rule a budget line breaks, by field (also used by the import, row by row)."""
    errors: dict[str, list[str]] = {}
    schedule = line.schedule
    agreement = schedule.agreement
    partnership = agreement.partnership
    if line.amount is not None and Decimal(line.amount) < 0:
        errors.setdefault("amount", []).append("The amount cannot be negative.")
    if line.year is not None and line.year not in agreement.years:
        years = agreement.years
        errors.setdefault("year", []).append(
            f"{year_label(line.year)} is outside the agreement {agreement.reference}, "
            f"which covers {year_label(years[0])} to {year_label(years[-1])}."
        )
    if line.funding_stream_id and line.funding_stream.partnership_id != partnership.pk:
        errors.setdefault("funding_stream", []).append(f"Choose a funding stream of {partnership.name}.")
    _check_decision(line.decision, partnership, "decision", errors)
    name = (line.name or "").strip()
    if not name:
        errors.setdefault("name", []).append("Enter the name of the budget line.")
    elif (
        line.year is not None
        and line.funding_stream_id
        and BudgetLine.objects.filter(
            schedule=schedule, year=line.year, funding_stream_id=line.funding_stream_id, name=name
        )
        .exclude(pk=line.pk)
        .exists()
    ):
        errors.setdefault("name", []).append(
            f"This schedule already has a line “{name}” for {line.funding_stream} in {year_label(line.year)}."
        )
    return errors


def _validate_line(line: BudgetLine) -> None:
    line.name = (line.name or "").strip()
    _raise(budget_line_errors(line))
    line.full_clean(exclude=["version"], validate_unique=False)


@transaction.atomic
def budget_line_create(*, by: User, **fields: Any) -> BudgetLine:
    unknown = set(fields) - set(LINE_FIELDS)
    if unknown:
        raise TypeError(f"unknown budget line fields: {sorted(unknown)}")
    line = BudgetLine(**fields)
    _validate_line(line)
    _save(line, by=by)
    return line


@transaction.atomic
def budget_line_update(
    *, line: BudgetLine, by: User, version: int | None = None, **fields: Any
) -> BudgetLine:
    unknown = set(fields) - set(LINE_FIELDS)
    if unknown:
        raise TypeError(f"unknown budget line fields: {sorted(unknown)}")
    locked = BudgetLine.objects.select_for_update().get(pk=line.pk)
    _stale(version, locked.version, "budget line")
    if "schedule" in fields and fields["schedule"].pk != locked.schedule_id:
        raise ValidationError({"schedule": ["A budget line cannot move to another schedule."]})
    if "year" in fields and fields["year"] != locked.year and locked.positions.exists():
        raise ValidationError({"year": ["A line with monthly positions cannot change its year."]})
    for name, value in fields.items():
        setattr(locked, name, value)
    _validate_line(locked)
    locked.version += 1
    _save(locked, by=by)
    return locked


@transaction.atomic
def budget_line_delete(*, line: BudgetLine, by: User) -> None:
    """Delete a line that has no positions or virements (PROTECT refuses it otherwise: 409)."""
    with pghistory.context(user=by.pk):
        line.delete()


@transaction.atomic
def budget_lines_create_many(*, by: User, lines: Iterable[dict[str, Any]]) -> list[BudgetLine]:
    """All or nothing: every line is created, or none (the first error rolls everything back)."""
    return [budget_line_create(by=by, **fields) for fields in lines]


# --- Monthly positions --------------------------------------------------------------------------


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
    _raise(errors)
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
        _stale(version, position.version, "position")
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
    _save(position, by=by)
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


# --- Virements ----------------------------------------------------------------------------------


def virement_needs_decision(virement: Virement) -> bool:
    """Above the approving board's delegated limit a virement needs a decision. A schedule with no
    approving board has no delegation: every virement needs a decision. A board with a blank limit
    has no limit."""
    board = virement.schedule.board
    if board is None:
        return True
    return board.delegated_limit is not None and virement.amount > board.delegated_limit


@transaction.atomic
def virement_propose(
    *,
    schedule: Schedule,
    year: int,
    from_line: BudgetLine,
    to_line: BudgetLine,
    amount: Decimal,
    reason: str,
    by: User,
) -> Virement:
    errors: dict[str, list[str]] = {}
    if amount is None or Decimal(amount) <= 0:
        errors.setdefault("amount", []).append("The amount must be more than £0.")
    for field, line in (("from_line", from_line), ("to_line", to_line)):
        if line.schedule_id != schedule.pk or line.year != year:
            errors.setdefault(field, []).append(f"Choose a line of this schedule for {year_label(year)}.")
    if from_line.pk == to_line.pk:
        errors.setdefault("to_line", []).append("Choose a different line to move the money to.")
    if not (reason or "").strip():
        errors.setdefault("reason", []).append("Enter the reason for the virement.")
    if amount is not None and "from_line" not in errors and Decimal(amount) > from_line.amount:
        errors.setdefault("amount", []).append(
            f"The amount is more than the £{from_line.amount:,.2f} on “{from_line.name}”."
        )
    _raise(errors)
    virement = Virement(
        schedule=schedule,
        year=year,
        from_line=from_line,
        to_line=to_line,
        amount=amount,
        reason=reason.strip(),
        proposed_by=by,
    )
    _save(virement, by=by)
    return virement


def _decision_errors(virement: Virement, decision) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if decision is None:
        if virement_needs_decision(virement):
            board = virement.schedule.board
            limit = (
                f"the £{board.delegated_limit:,.2f} delegated limit of {board.name}"
                if board is not None
                else "what officers may approve (the schedule has no approving board)"
            )
            errors["decision"] = [
                f"This virement of £{virement.amount:,.2f} is above {limit}: link the board "
                "decision that approved it."
            ]
        return errors
    _check_decision(decision, virement.schedule.agreement.partnership, "decision", errors)
    if decision.outcome not in APPROVING_OUTCOMES:
        errors.setdefault("decision", []).append(
            f"Decision {decision.reference} was {decision.get_outcome_display().lower()}, not approved."
        )
    return errors


@transaction.atomic
def virement_approve(*, virement: Virement, by: User, decision=None) -> Virement:
    locked = (
        Virement.objects.select_for_update(of=("self",))
        .select_related("schedule__board", "schedule__agreement__partnership")
        .get(pk=virement.pk)
    )
    if locked.status != VirementStatus.PROPOSED:
        raise ValidationError(f"This virement is already {locked.get_status_display().lower()}.")
    decision = decision or locked.decision
    _raise(_decision_errors(locked, decision))
    if decision is None and by.pk == locked.proposed_by_id:
        # Separation of duties: under delegated authority an officer may not approve their own
        # proposal. With a board decision linked, the board approved it; anyone may record that.
        raise ValidationError(
            {"decision": ["You proposed this virement, so another officer must approve it."]}
        )
    locked.decision = decision
    locked.status = VirementStatus.APPROVED
    locked.approved_by = by
    _save(locked, by=by)
    return locked


@transaction.atomic
def virement_apply(*, virement: Virement, by: User) -> Virement:
    """Move the money: the from line goes down and the to line up by the amount, under row locks
    taken in primary-key order; a linked decision records the change it allowed."""
    locked = (
        Virement.objects.select_for_update(of=("self",))
        .select_related("schedule__board", "schedule__agreement__partnership")
        .get(pk=virement.pk)
    )
    if locked.status != VirementStatus.APPROVED:
        raise ValidationError("Only an approved virement can be applied.")
    _raise(_decision_errors(locked, locked.decision))
    lines = {
        line.pk: line
        for line in BudgetLine.objects.select_for_update()
        .filter(pk__in=[locked.from_line_id, locked.to_line_id])
        .order_by("pk")
    }
    source, target = lines[locked.from_line_id], lines[locked.to_line_id]
    if source.amount < locked.amount:
        raise ValidationError(
            {"amount": [f"“{source.name}” now has only £{source.amount:,.2f}: the virement cannot apply."]}
        )
    with pghistory.context(user=by.pk, virement=locked.pk):
        BudgetLine.objects.filter(pk=source.pk).update(
            amount=F("amount") - locked.amount, version=F("version") + 1
        )
        BudgetLine.objects.filter(pk=target.pk).update(
            amount=F("amount") + locked.amount, version=F("version") + 1
        )
        locked.status = VirementStatus.APPLIED
        locked.applied_at = timezone.now()
        locked.save(update_fields=["status", "applied_at"])
        if locked.decision_id:
            from governance.models import DecisionLink

            content_type = ContentType.objects.get_for_model(BudgetLine)
            for line, after in (
                (source, source.amount - locked.amount),
                (target, target.amount + locked.amount),
            ):
                DecisionLink.objects.update_or_create(
                    decision=locked.decision,
                    content_type=content_type,
                    object_id=line.pk,
                    defaults={
                        "description": f"Virement {locked.pk}: {line.name} ({line.year_label})",
                        "amount_before": line.amount,
                        "amount_after": after,
                    },
                )
    return locked


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
