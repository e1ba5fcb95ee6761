"""Django admin for section 75 budgets: find and correct records, with the same rules as the pages.

Agreements, schedules, funding streams and budget lines are checked by the services' own rules when
the form is validated (an error names the field and nothing is saved) and saved through the services,
so history names the administrator and versions move on. Fixed shares change with their schedule's
risk-share rule on the schedule page (they must sum to 100), monthly positions lock once reported to
a held meeting, and virements move money only through approval and application: those three are
read-only here. Totals, variances and risk shares are derived, shown read-only, never typed in.
An agreement's signed document, variations and reviews are recorded on the agreement's pages (the
uploads are checked there): read-only here.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count

from budgets import services
from budgets.models import (
    BudgetLine,
    FundingStream,
    MonthlyPosition,
    Review,
    Schedule,
    ScheduleFixedShare,
    Section75Agreement,
    Variation,
    Virement,
)
from commissioning.generic.admin import ReadOnlyAdmin, ServiceAdmin
from commissioning.money import format_money

# --- Agreements -----------------------------------------------------------------------------------


# The signed document is uploaded (and checked) on the agreement's page only.
EDITABLE_AGREEMENT_FIELDS = [f for f in services.AGREEMENT_FIELDS if f != "signed_document"]


class ScheduleInline(admin.TabularInline):
    model = Schedule
    fields = ["number", "title", "arrangement", "integration_level", "overspend_rule", "underspend_rule"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Section75Agreement)
class AgreementAdmin(ServiceAdmin):
    list_display = ["reference", "title", "partnership", "host", "start", "end", "status", "schedule_count"]
    list_filter = ["status", "partnership"]
    search_fields = ["reference", "title", "partnership__name", "host__code", "host__name"]
    date_hierarchy = "start"
    autocomplete_fields = ["host"]
    raw_id_fields = ["decision"]
    readonly_fields = ["version", "years_covered", "signed_document_name"]
    fields = [*EDITABLE_AGREEMENT_FIELDS, "signed_document_name", "years_covered", "version"]
    inlines = [ScheduleInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("partnership", "host")
            .annotate(schedule_count=Count("schedules"))
        )

    @admin.display(description="schedules", ordering="schedule_count")
    def schedule_count(self, obj) -> int:
        return obj.schedule_count

    @admin.display(description="financial years")
    def years_covered(self, obj) -> str:
        if not (obj.start and obj.end):
            return "-"
        years = obj.years
        from budgets.models import year_label

        return f"{year_label(years[0])} to {year_label(years[-1])}"

    def check_rules(self, instance):
        services.agreement_validate(agreement=instance)

    def delete_record(self, request, obj):
        services.agreement_delete(agreement=obj, by=request.user)

    def create(self, request, form):
        return services.agreement_create(by=request.user, **self.fields_of(form, EDITABLE_AGREEMENT_FIELDS))

    def update(self, request, obj, form):
        return services.agreement_update(
            agreement=obj,
            by=request.user,
            version=self.loaded_version(form),
            **self.fields_of(form, EDITABLE_AGREEMENT_FIELDS),
        )


# --- Schedules ------------------------------------------------------------------------------------


class FixedShareInline(admin.TabularInline):
    model = ScheduleFixedShare
    fields = ["organisation", "percent"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Schedule)
class ScheduleAdmin(ServiceAdmin):
    list_display = [
        "__str__",
        "agreement",
        "arrangement",
        "integration_level",
        "board",
        "overspend_rule",
        "underspend_rule",
        "line_count",
    ]
    list_filter = ["arrangement", "integration_level", "overspend_rule", "agreement__partnership"]
    search_fields = ["title", "agreement__reference", "agreement__title"]
    autocomplete_fields = ["agreement", "pool_manager", "board"]
    readonly_fields = ["version", "fixed_shares_text"]
    inlines = [FixedShareInline]

    def get_fields(self, request, obj=None):
        return [
            *services.SCHEDULE_FIELDS,
            "fixed_shares_text",
            "version",
            *(["loaded_version"] if obj else []),
        ]

    def get_readonly_fields(self, request, obj=None):
        # A schedule never moves to another agreement.
        return [*self.readonly_fields, "agreement"] if obj else self.readonly_fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("agreement__partnership", "board")
            .annotate(line_count=Count("lines"))
        )

    @admin.display(description="budget lines", ordering="line_count")
    def line_count(self, obj) -> int:
        return obj.line_count

    @admin.display(description="fixed shares")
    def fixed_shares_text(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "-"
        shares = obj.fixed_shares.select_related("organisation")
        shares = [f"{s.organisation.code} {s.percent}%" for s in shares]
        return ", ".join(shares) or "None (change them on the schedule page)"

    def check_rules(self, instance):
        fixed = services.stored_fixed_shares(instance) if instance.pk else None
        services.schedule_validate(schedule=instance, fixed_shares=fixed)

    def delete_record(self, request, obj):
        services.schedule_delete(schedule=obj, by=request.user)

    def create(self, request, form):
        return services.schedule_create(by=request.user, **self.fields_of(form, services.SCHEDULE_FIELDS))

    def update(self, request, obj, form):
        fields = self.fields_of(form, services.SCHEDULE_FIELDS)
        fields.pop("agreement", None)
        return services.schedule_update(
            schedule=obj, by=request.user, version=self.loaded_version(form), **fields
        )


@admin.register(ScheduleFixedShare)
class FixedShareAdmin(ReadOnlyAdmin):
    list_display = ["schedule", "organisation", "percent"]
    list_filter = ["schedule__agreement__partnership"]
    search_fields = ["schedule__title", "organisation__code", "organisation__name"]
    list_select_related = ["schedule", "organisation"]


@admin.register(Variation)
class VariationAdmin(ReadOnlyAdmin):
    list_display = ["agreement", "number", "effective_from", "decision"]
    list_filter = ["agreement__partnership"]
    search_fields = ["agreement__reference", "changes", "decision__reference"]
    list_select_related = ["agreement", "decision"]
    exclude = ["signed_deed"]


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ["agreement", "year", "due", "held_on", "outcome"]
    list_filter = ["outcome", "agreement__partnership"]
    search_fields = ["agreement__reference", "notes"]
    list_select_related = ["agreement"]


# --- Funding streams and budget lines -------------------------------------------------------------


@admin.register(FundingStream)
class FundingStreamAdmin(ServiceAdmin):
    list_display = ["name", "partnership", "organisation", "line_count"]
    list_filter = ["partnership", "organisation"]
    search_fields = ["name", "organisation__code", "organisation__name"]
    autocomplete_fields = ["organisation"]
    fields = ["partnership", "name", "organisation"]

    def get_readonly_fields(self, request, obj=None):
        return ["partnership"] if obj else []

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("partnership", "organisation")
            .annotate(line_count=Count("lines"))
        )

    @admin.display(description="budget lines", ordering="line_count")
    def line_count(self, obj) -> int:
        return obj.line_count

    def check_rules(self, instance):
        services.funding_stream_validate(stream=instance)

    def delete_record(self, request, obj):
        services.funding_stream_delete(stream=obj, by=request.user)

    def create(self, request, form):
        return services.funding_stream_create(
            by=request.user, **self.fields_of(form, ["partnership", "name", "organisation"])
        )

    def update(self, request, obj, form):
        return services.funding_stream_update(
            stream=obj, by=request.user, **self.fields_of(form, ["name", "organisation"])
        )


@admin.register(BudgetLine)
class BudgetLineAdmin(ServiceAdmin):
    list_display = ["name", "schedule", "year", "funding_stream", "amount_display", "status", "decision"]
    list_filter = ["year", "status", "schedule__agreement__partnership", "funding_stream__name"]
    search_fields = ["name", "schedule__title", "schedule__agreement__reference", "funding_stream__name"]
    autocomplete_fields = ["schedule", "funding_stream"]
    raw_id_fields = ["decision"]
    list_select_related = ["schedule__agreement", "funding_stream", "decision"]
    readonly_fields = ["version"]
    fields = [*services.LINE_FIELDS, "version"]

    def get_readonly_fields(self, request, obj=None):
        return ["schedule", "version"] if obj else ["version"]

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, obj) -> str:
        return format_money(obj.amount)

    def check_rules(self, instance):
        services.budget_line_validate(line=instance)

    def create(self, request, form):
        return services.budget_line_create(by=request.user, **self.fields_of(form, services.LINE_FIELDS))

    def update(self, request, obj, form):
        fields = self.fields_of(form, services.LINE_FIELDS)
        fields.pop("schedule", None)
        return services.budget_line_update(
            line=obj, by=request.user, version=self.loaded_version(form), **fields
        )

    def delete_record(self, request, obj):
        services.budget_line_delete(line=obj, by=request.user)


# --- Monitoring and virements (read-only) ---------------------------------------------------------


@admin.register(MonthlyPosition)
class MonthlyPositionAdmin(ReadOnlyAdmin):
    list_display = [
        "budget_line",
        "period",
        "actual_display",
        "forecast_display",
        "variance_display",
        "reported_at",
        "locked",
    ]
    list_filter = ["period", "budget_line__year", "budget_line__schedule__agreement__partnership"]
    search_fields = ["budget_line__name", "budget_line__schedule__title", "commentary"]
    date_hierarchy = "period"
    list_select_related = ["budget_line", "reported_at__board", "submitted_by"]
    raw_id_fields = ["budget_line", "reported_at", "submitted_by"]
    readonly_fields = ["variance_display", "locked"]

    @admin.display(description="actual to date", ordering="actual_to_date")
    def actual_display(self, obj) -> str:
        return format_money(obj.actual_to_date)

    @admin.display(description="forecast outturn", ordering="forecast_outturn")
    def forecast_display(self, obj) -> str:
        return format_money(obj.forecast_outturn)

    @admin.display(description="variance (forecast - budget)")
    def variance_display(self, obj) -> str:
        return format_money(obj.variance)

    @admin.display(description="locked", boolean=True)
    def locked(self, obj) -> bool:
        return obj.is_locked


@admin.register(Virement)
class VirementAdmin(ReadOnlyAdmin):
    list_display = [
        "__str__",
        "schedule",
        "year",
        "amount_display",
        "status",
        "decision",
        "proposed_by",
        "applied_at",
    ]
    list_filter = ["status", "year", "schedule__agreement__partnership"]
    search_fields = ["reason", "schedule__title", "from_line__name", "to_line__name", "decision__reference"]
    list_select_related = ["schedule", "from_line", "to_line", "decision", "proposed_by"]
    raw_id_fields = ["schedule", "from_line", "to_line", "decision", "proposed_by", "approved_by"]
    readonly_fields = ["needs_decision"]

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, obj) -> str:
        return format_money(obj.amount)

    @admin.display(description="above the board's delegated limit", boolean=True)
    def needs_decision(self, obj) -> bool:
        return services.virement_needs_decision(obj)
