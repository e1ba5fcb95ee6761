"""Section 75 agreements, their schedules, funding streams, budget lines, monthly positions and
virements (domain.md, rules.md rule 2).

Nothing here is a total: contributions, variances and risk shares are always derived from the lines
and positions (``budgets.selectors``, ``budgets.tables``, ``budgets.risk_share``). What must never be
false is also a database constraint; rules that span rows (fixed shares summing to 100, a line's
year within its agreement, a position's period within its line's year) are checked by the services
in ``budgets.services``, the one way to write these models.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pghistory
from dateutil.relativedelta import relativedelta
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from commissioning.models import Organisation, Partnership, User
from commissioning.money import format_money, money_field
from commissioning.permissions import RestrictedManager

HELD_STATUSES = ("held", "minutes_approved")  # governance.MeetingStatus values after a meeting
YEAR_MIN, YEAR_MAX = 2000, 2100


def financial_year_of(day: date) -> int:
    """The financial year (by its starting year) a date falls in: 1 April to 31 March."""
    return day.year if day.month >= 4 else day.year - 1


def year_label(year: int) -> str:
    """2022 -> "2022/23"."""
    return f"{year}/{(year + 1) % 100:02d}"


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 4, 1), date(year + 1, 3, 31)


def year_periods(year: int) -> list[date]:
    """The twelve periods (first days of months) of a financial year, April to March."""
    return [date(year + (m < 4), m, 1) for m in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)]


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"
    VARIED = "varied", "Varied"
    ENDED = "ended", "Ended"


class Population(models.TextChoices):
    RESIDENT = "resident", "Resident population"
    GP_REGISTERED = "gp_registered", "GP-registered population"


def signed_document_upload_to(instance, filename: str) -> str:
    """A generated name: nothing the uploader chose reaches the file system (the original name is
    kept as display text only)."""
    return f"agreements/{uuid.uuid4().hex}.pdf"


class Arrangement(models.TextChoices):
    POOLED = "pooled", "Pooled fund"
    ALIGNED = "aligned", "Aligned budgets"
    LEAD = "lead", "Lead commissioning"


class RiskShareRule(models.TextChoices):
    PROPORTIONAL = "proportional", "In proportion to contributions"
    OWN_LINES = "own_lines", "Each partner bears its own lines"
    HOST = "host", "The host partner bears it all"
    FIXED = "fixed", "Fixed percentages"


class IntegrationLevel(models.IntegerChoices):
    SEPARATE = 1, "1: separate budgets and plans"
    ALIGNED = 2, "2: single plan, separate (aligned) budgets"
    INTEGRATED = 3, "3: aligned plans and integrated (pooled) budgets"


class LineStatus(models.TextChoices):
    INDICATIVE = "indicative", "Indicative"
    MOBILISATION = "mobilisation", "Mobilisation"
    APPROVED = "approved", "Approved"


class VirementStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved"
    APPLIED = "applied", "Applied"


@pghistory.track()
class Section75Agreement(models.Model):
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="agreements")
    reference = models.CharField(max_length=40)
    title = models.CharField(max_length=300)
    host = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="hosted_agreements",
        help_text="The partner that hosts the pooled fund",
    )
    start = models.DateField()
    end = models.DateField()
    status = models.CharField(max_length=10, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT)
    decision = models.ForeignKey(
        "governance.Decision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agreements",
        verbose_name="approving decision",
    )
    # The terms, as data (domain.md): the annual review and any exit run on them.
    nhs_functions = ArrayField(
        models.CharField(max_length=300),
        default=list,
        blank=True,
        verbose_name="NHS functions delegated",
        help_text="Regulation 5 of the 2000 Regulations: one named function a line",
    )
    council_functions = ArrayField(
        models.CharField(max_length=300),
        default=list,
        blank=True,
        verbose_name="health-related council functions delegated",
        help_text="Regulation 6 of the 2000 Regulations: one named function a line",
    )
    review_frequency_months = models.PositiveSmallIntegerField(
        "review frequency (months)",
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
    )
    next_review_due = models.DateField("next review due", null=True, blank=True)
    notice_months = models.PositiveSmallIntegerField(
        "notice period (months)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="The notice either partner must give to end the agreement",
    )
    exit_provisions = models.TextField(blank=True)
    dispute_resolution = models.TextField(blank=True)
    vat_position = models.TextField("VAT position of the host", blank=True)
    population = models.CharField("population served", max_length=15, choices=Population.choices, blank=True)
    signed_document = models.FileField(upload_to=signed_document_upload_to, blank=True)
    signed_document_name = models.CharField(
        "signed document", max_length=100, blank=True, help_text="The uploaded file's name, as display text"
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    partnership_path = "partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["partnership__name", "reference"]
        verbose_name = "section 75 agreement"
        constraints = [
            models.UniqueConstraint(fields=["partnership", "reference"], name="agreement_reference_unique"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="agreement_end_after_start"),
            models.CheckConstraint(
                condition=Q(review_frequency_months__gte=1, review_frequency_months__lte=120),
                name="agreement_review_frequency_range",
            ),
            models.CheckConstraint(
                condition=Q(notice_months__isnull=True) | Q(notice_months__gte=1, notice_months__lte=60),
                name="agreement_notice_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("budgets:agreement-detail", args=[self.pk])

    @property
    def years(self) -> list[int]:
        """The financial years the agreement covers, by starting year."""
        return list(range(financial_year_of(self.start), financial_year_of(self.end) + 1))

    def earliest_exit(self, notice_given: date) -> date | None:
        """The day the agreement would end if a partner gave notice on ``notice_given``: the notice
        period later, but never after the agreement's own end (nor before its start). None when the
        agreement states no notice period."""
        if not self.notice_months:
            return None
        given = max(notice_given, self.start) if self.start else notice_given
        exit_on = given + relativedelta(months=self.notice_months)
        return min(exit_on, self.end) if self.end else exit_on

    @property
    def earliest_exit_date(self) -> date | None:
        """The earliest exit notice given today gives (``earliest_exit``)."""
        from django.utils import timezone

        return self.earliest_exit(timezone.localdate())


@pghistory.track()
class Schedule(models.Model):
    agreement = models.ForeignKey(Section75Agreement, on_delete=models.PROTECT, related_name="schedules")
    number = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    title = models.CharField(max_length=200)
    arrangement = models.CharField(max_length=10, choices=Arrangement.choices, default=Arrangement.POOLED)
    integration_level = models.PositiveSmallIntegerField(
        choices=IntegrationLevel.choices,
        default=IntegrationLevel.ALIGNED,
        validators=[MinValueValidator(1), MaxValueValidator(3)],
    )
    pool_manager = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="managed_schedules"
    )
    board = models.ForeignKey(
        "governance.Board",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="budget_schedules",
        verbose_name="approving board",
        help_text="Approves virements; above its delegated limit a virement needs a decision",
    )
    overspend_rule = models.CharField(
        max_length=15, choices=RiskShareRule.choices, default=RiskShareRule.PROPORTIONAL
    )
    underspend_rule = models.CharField(
        max_length=15, choices=RiskShareRule.choices, default=RiskShareRule.PROPORTIONAL
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    partnership_path = "agreement__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["agreement", "number"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "number"], name="schedule_number_unique"),
            models.CheckConstraint(
                condition=Q(integration_level__gte=1, integration_level__lte=3),
                name="schedule_integration_level_range",
            ),
            models.CheckConstraint(
                condition=Q(overspend_rule__in=RiskShareRule.values)
                & Q(underspend_rule__in=RiskShareRule.values),
                name="schedule_rules_known",
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="schedule_number_positive"),
        ]

    def __str__(self) -> str:
        return f"Schedule {self.number}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("budgets:schedule-detail", args=[self.pk])

    @property
    def partnership(self) -> Partnership:
        return self.agreement.partnership

    @property
    def uses_fixed_shares(self) -> bool:
        return RiskShareRule.FIXED in (self.overspend_rule, self.underspend_rule)

    def pack_context(self) -> dict:
        """What ``budgets/pack/schedule.html`` needs, from live figures: the table of the current
        year, the monitoring of its latest period with risk shares, and the SVG chart."""
        from budgets import selectors

        return selectors.schedule_pack_context(self)


@pghistory.track()
class ScheduleFixedShare(models.Model):
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="fixed_shares")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )

    partnership_path = "schedule__agreement__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["schedule", "organisation__name"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "organisation"], name="fixed_share_once"),
            models.CheckConstraint(
                condition=Q(percent__gte=0, percent__lte=100), name="fixed_share_percent_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation.code} {self.percent}%"


@pghistory.track()
class FundingStream(models.Model):
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="funding_streams")
    name = models.CharField(max_length=100, help_text="For example CCG, iBCF, LBB core")
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="funding_streams",
        help_text="The partner that contributes this stream",
    )

    partnership_path = "partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["partnership__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["partnership", "name"], name="funding_stream_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


@pghistory.track()
class BudgetLine(models.Model):
    schedule = models.ForeignKey(Schedule, on_delete=models.PROTECT, related_name="lines")
    name = models.CharField(max_length=200)
    year = models.PositiveSmallIntegerField(
        "financial year",
        validators=[MinValueValidator(YEAR_MIN), MaxValueValidator(YEAR_MAX)],
        help_text="By its starting year: 2022 is 2022/23",
    )
    funding_stream = models.ForeignKey(FundingStream, on_delete=models.PROTECT, related_name="lines")
    amount = money_field()
    status = models.CharField(max_length=15, choices=LineStatus.choices, default=LineStatus.INDICATIVE)
    decision = models.ForeignKey(
        "governance.Decision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="budget_lines",
        verbose_name="approving decision",
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    partnership_path = "schedule__agreement__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["schedule", "year", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "year", "funding_stream", "name"], name="budget_line_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="budget_line_amount_non_negative"),
            models.CheckConstraint(
                condition=Q(year__gte=YEAR_MIN, year__lte=YEAR_MAX), name="budget_line_year_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.funding_stream}, {year_label(self.year)})"

    @property
    def year_label(self) -> str:
        return year_label(self.year)


@pghistory.track()
class MonthlyPosition(models.Model):
    budget_line = models.ForeignKey(BudgetLine, on_delete=models.PROTECT, related_name="positions")
    period = models.DateField(help_text="The first day of the month")
    actual_to_date = money_field()
    forecast_outturn = money_field()
    commentary = models.TextField(blank=True)
    submitted_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reported_at = models.ForeignKey(
        "governance.Meeting",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="budget_positions",
        help_text="The board meeting that received it; locked once that meeting is held",
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    partnership_path = "budget_line__schedule__agreement__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["budget_line", "period"]
        constraints = [
            models.UniqueConstraint(fields=["budget_line", "period"], name="position_once_per_period"),
            models.CheckConstraint(condition=Q(period__day=1), name="position_period_first_of_month"),
            models.CheckConstraint(
                condition=Q(actual_to_date__gte=0) & Q(forecast_outturn__gte=0),
                name="position_amounts_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.budget_line.name} {self.period:%Y-%m}"

    @property
    def is_locked(self) -> bool:
        return self.reported_at_id is not None and self.reported_at.status in HELD_STATUSES

    @property
    def variance(self) -> Decimal:
        return self.forecast_outturn - self.budget_line.amount


@pghistory.track()
class Virement(models.Model):
    schedule = models.ForeignKey(Schedule, on_delete=models.PROTECT, related_name="virements")
    year = models.PositiveSmallIntegerField("financial year")
    from_line = models.ForeignKey(BudgetLine, on_delete=models.PROTECT, related_name="virements_out")
    to_line = models.ForeignKey(BudgetLine, on_delete=models.PROTECT, related_name="virements_in")
    amount = money_field()
    reason = models.TextField()
    status = models.CharField(max_length=10, choices=VirementStatus.choices, default=VirementStatus.PROPOSED)
    decision = models.ForeignKey(
        "governance.Decision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="virements",
        verbose_name="approving decision",
    )
    proposed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    applied_at = models.DateTimeField(null=True, blank=True)

    partnership_path = "schedule__agreement__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="virement_amount_positive"),
            models.CheckConstraint(condition=~Q(from_line=F("to_line")), name="virement_two_lines"),
            models.CheckConstraint(
                condition=~Q(status="applied") | Q(applied_at__isnull=False), name="virement_applied_at"
            ),
        ]

    def __str__(self) -> str:
        return f"Virement of {format_money(self.amount)} from {self.from_line.name} to {self.to_line.name}"


from budgets.models.contributions import (  # noqa: E402, F401  (re-exported)
    ContributionInstalment,
    ContributionPlan,
    Frequency,
)
from budgets.models.links import ContractSchedule, LineFeed  # noqa: E402, F401  (re-exported)
from budgets.models.records import Review, ReviewOutcome, Variation  # noqa: E402, F401  (re-exported)
from budgets.models.statements import (  # noqa: E402, F401  (re-exported)
    FundStatement,
    StatementSettlement,
    StatementStatus,
)
