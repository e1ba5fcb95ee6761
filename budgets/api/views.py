"""Budget endpoints of API v1 (api.md). Each viewset fetches through the permission gate (base),
validates with a serializer and calls the same service as the pages."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from budgets import periods, selectors, services, statement_pdf
from budgets.api import serializers
from budgets.filtersets import (
    AgreementFilterSet,
    BudgetLineFilterSet,
    ContributionPlanFilterSet,
    FundingStreamFilterSet,
    MonthlyPositionFilterSet,
    ReviewFilterSet,
    ScheduleFilterSet,
    VariationFilterSet,
)
from budgets.models import (
    BudgetLine,
    ContributionPlan,
    FundingStream,
    FundStatement,
    MonthlyPosition,
    Review,
    Schedule,
    Section75Agreement,
    StatementStatus,
    Variation,
)
from budgets.selectors.statement import fund_statement, statement_csv_dicts, statement_data
from commissioning.api.base import RestrictedModelViewSet
from commissioning.permissions import has_model_permission

CONFLICT = OpenApiResponse(description="The record changed since the given version; nothing saved.")


class _VersionedViewSet(RestrictedModelViewSet):
    @staticmethod
    def split_version(serializer) -> tuple[dict, int | None]:
        fields = dict(serializer.validated_data)
        return fields, fields.pop("version", None)


@extend_schema(tags=["budgets"])
@extend_schema_view(
    list=extend_schema(summary="List section 75 agreements"),
    retrieve=extend_schema(summary="One section 75 agreement"),
    create=extend_schema(summary="Record a section 75 agreement"),
    partial_update=extend_schema(
        summary="Change a section 75 agreement",
        responses={200: serializers.AgreementSerializer, 409: CONFLICT},
    ),
)
class AgreementViewSet(_VersionedViewSet):
    """Section 75 agreements of the partnerships granted to you; the host is an organisation code."""

    model = Section75Agreement
    serializer_class = serializers.AgreementSerializer
    filterset_class = AgreementFilterSet
    select_related = ("host",)
    ordering_fields = ["reference", "start", "end", "status"]
    ordering = ["reference", "pk"]
    csv_filename = "agreements"

    def create_object(self, serializer):
        fields, _version = self.split_version(serializer)
        return services.agreement_create(by=self.request.user, **fields)

    def update_object(self, serializer):
        fields, version = self.split_version(serializer)
        return services.agreement_update(
            agreement=serializer.instance, by=self.request.user, version=version, **fields
        )

    def destroy_object(self, instance) -> None:
        services.agreement_delete(agreement=instance, by=self.request.user)

    def _statement_choice(self, request, agreement):
        return periods.parse_statement_choice(agreement, request.query_params)

    @extend_schema(
        summary="The pooled fund statement",
        description=(
            "The memorandum account of the agreement's pooled funds (rules.md rule 2) for a financial "
            "year (`year`, its starting year; default the current one) or its quarter to date "
            "(`quarter`, 1-4): per pooled schedule, each partner's contribution due and received, the "
            "budget, actual to date, forecast outturn, variance, risk share and settlement (positive: "
            "owed to the host). `?format=csv`: one row per schedule and partner."
        ),
        parameters=[
            OpenApiParameter("year", OpenApiTypes.INT, description="Financial year by its starting year"),
            OpenApiParameter("quarter", OpenApiTypes.INT, description="1-4; omit for the whole year"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(
        detail=True,
        methods=["get"],
        filter_backends=[],
        pagination_class=None,
        extra_query_params=("year", "quarter"),
    )
    def statement(self, request, pk=None):
        agreement = self.get_object()
        year, quarter = self._statement_choice(request, agreement)
        statement = fund_statement(agreement, year=year, quarter=quarter, user=request.user)
        if request.accepted_renderer.format == "csv":
            self.csv_filename = f"statement-{agreement.reference}-{year}" + (
                f"-q{quarter}" if quarter else ""
            )
            return Response({"rows": statement_csv_dicts(statement)})
        return Response(statement_data(statement))

    @extend_schema(
        summary="The pooled fund statement as a PDF",
        description=(
            "The latest PDF of the statement for `year` (and `quarter`) that the worker has produced. "
            "None yet: 202 with the request's status, the worker producing it (queued now if your role "
            "may produce statements, else 404); ask again."
        ),
        parameters=[
            OpenApiParameter("year", OpenApiTypes.INT, description="Financial year by its starting year"),
            OpenApiParameter("quarter", OpenApiTypes.INT, description="1-4; omit for the whole year"),
        ],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 202: OpenApiTypes.OBJECT},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="statement/pdf",
        filter_backends=[],
        pagination_class=None,
        extra_query_params=("year", "quarter"),
    )
    def statement_pdf(self, request, pk=None):
        agreement = self.get_object()
        year, quarter = self._statement_choice(request, agreement)
        rows = FundStatement.objects.restrict(request.user, "view").filter(
            agreement=agreement, year=year, quarter=quarter
        )
        row = rows.filter(status=StatementStatus.READY).order_by("-finished_at", "-pk").first()
        if row is None:
            pending = rows.filter(status=StatementStatus.QUEUED).order_by("-pk").first()
            if pending is None:
                if not has_model_permission(request.user, FundStatement, "add"):
                    raise Http404("No PDF of this statement has been produced yet.")
                pending = services.fund_statement_request(
                    agreement=agreement, year=year, quarter=quarter, by=request.user
                )
            return Response(
                {"id": pending.pk, "year": year, "quarter": quarter, "status": pending.status}, status=202
            )
        try:
            data = statement_pdf.read_kept(row)
        except statement_pdf.PdfMissing as exc:
            raise Http404(f"The statement's PDF is not available: {exc}.") from exc
        response = HttpResponse(data, content_type="application/pdf")
        span = f"-q{quarter}" if quarter else ""
        response["Content-Disposition"] = (
            f'attachment; filename="statement-{agreement.reference}-{year}{span}.pdf"'
        )
        return response


def _fixed_shares(data) -> list[services.FixedShare] | None:
    if data is None:
        return None
    return [services.FixedShare(organisation=item["organisation"], percent=item["percent"]) for item in data]


@extend_schema(tags=["budgets"])
@extend_schema_view(
    list=extend_schema(summary="List schedules"),
    retrieve=extend_schema(summary="One schedule"),
    create=extend_schema(summary="Add a schedule to an agreement"),
    partial_update=extend_schema(
        summary="Change a schedule", responses={200: serializers.ScheduleSerializer, 409: CONFLICT}
    ),
)
class ScheduleViewSet(_VersionedViewSet):
    """Schedules of section 75 agreements, with their risk-share rules and fixed shares."""

    model = Schedule
    serializer_class = serializers.ScheduleSerializer
    filterset_class = ScheduleFilterSet
    prefetch_related = ("fixed_shares__organisation",)
    ordering_fields = ["number", "title"]
    ordering = ["agreement_id", "number"]
    csv_filename = "schedules"

    def create_object(self, serializer):
        fields, _version = self.split_version(serializer)
        shares = _fixed_shares(fields.pop("fixed_shares", None))
        return services.schedule_create(by=self.request.user, fixed_shares=shares, **fields)

    def update_object(self, serializer):
        fields, version = self.split_version(serializer)
        shares = _fixed_shares(fields.pop("fixed_shares", None))
        return services.schedule_update(
            schedule=serializer.instance, by=self.request.user, version=version, fixed_shares=shares, **fields
        )

    def destroy_object(self, instance) -> None:
        services.schedule_delete(schedule=instance, by=self.request.user)

    @extend_schema(
        summary="Derived figures of a schedule",
        description=(
            "Contributions by partner and funding stream, forecast outturn, variance and each partner's "
            "risk share for a financial year (`year`, its starting year; default the current one) at a "
            "period (`period`, YYYY-MM; default the latest reported)."
        ),
        parameters=[
            OpenApiParameter("year", OpenApiTypes.INT, description="Financial year by its starting year"),
            OpenApiParameter("period", OpenApiTypes.STR, description="YYYY-MM within the year"),
        ],
        responses={200: serializers.ScheduleSummarySerializer},
    )
    @action(
        detail=True,
        methods=["get"],
        filter_backends=[],
        pagination_class=None,
        extra_query_params=("year", "period"),
    )
    def summary(self, request, pk=None):
        schedule = self.get_object()
        schedule = selectors.with_related(Schedule.objects.filter(pk=schedule.pk)).get()
        choice = periods.choose(
            year=request.query_params.get("year"),
            period=request.query_params.get("period"),
            years=lambda: selectors.schedule_years(schedule),
            default=selectors.current_year(schedule),
            covering=f"the years of agreement {schedule.agreement.reference}",
        )
        data = selectors.summary_data(selectors.monitor(schedule, choice.year, choice.period))
        return Response(serializers.ScheduleSummarySerializer(data).data)


@extend_schema(tags=["budgets"])
@extend_schema_view(
    list=extend_schema(summary="List funding streams"),
    retrieve=extend_schema(summary="One funding stream"),
    create=extend_schema(summary="Add a funding stream"),
    partial_update=extend_schema(summary="Change a funding stream"),
)
class FundingStreamViewSet(_VersionedViewSet):
    """Funding streams of a partnership, each contributed by one partner organisation (code)."""

    model = FundingStream
    serializer_class = serializers.FundingStreamSerializer
    filterset_class = FundingStreamFilterSet
    select_related = ("organisation",)
    ordering_fields = ["name"]
    ordering = ["partnership_id", "name"]
    csv_filename = "funding-streams"

    def create_object(self, serializer):
        return services.funding_stream_create(by=self.request.user, **serializer.validated_data)

    def update_object(self, serializer):
        return services.funding_stream_update(
            stream=serializer.instance, by=self.request.user, **serializer.validated_data
        )

    def destroy_object(self, instance) -> None:
        services.funding_stream_delete(stream=instance, by=self.request.user)


@extend_schema(tags=["budgets"])
@extend_schema_view(
    list=extend_schema(summary="List budget lines"),
    retrieve=extend_schema(summary="One budget line"),
    create=extend_schema(summary="Add a budget line"),
    partial_update=extend_schema(
        summary="Change a budget line", responses={200: serializers.BudgetLineSerializer, 409: CONFLICT}
    ),
)
class BudgetLineViewSet(_VersionedViewSet):
    """Budget lines: one per schedule, financial year, funding stream and name. Totals are never
    stored: ask `schedules/{id}/summary/`."""

    model = BudgetLine
    serializer_class = serializers.BudgetLineSerializer
    filterset_class = BudgetLineFilterSet
    ordering_fields = ["year", "name", "amount"]
    ordering = ["schedule_id", "year", "pk"]
    csv_filename = "budget-lines"

    def create_object(self, serializer):
        fields, _version = self.split_version(serializer)
        return services.budget_line_create(by=self.request.user, **fields)

    def update_object(self, serializer):
        fields, version = self.split_version(serializer)
        return services.budget_line_update(
            line=serializer.instance, by=self.request.user, version=version, **fields
        )

    def destroy_object(self, instance) -> None:
        services.budget_line_delete(line=instance, by=self.request.user)


@extend_schema(tags=["budgets"])
@extend_schema_view(
    list=extend_schema(summary="List monthly positions"),
    retrieve=extend_schema(summary="One monthly position"),
    create=extend_schema(summary="Record a monthly position"),
    partial_update=extend_schema(
        summary="Correct a monthly position",
        responses={200: serializers.MonthlyPositionSerializer, 409: CONFLICT},
    ),
)
class MonthlyPositionViewSet(_VersionedViewSet):
    """Monthly positions of budget lines (period YYYY-MM within the line's financial year)."""

    model = MonthlyPosition
    serializer_class = serializers.MonthlyPositionSerializer
    filterset_class = MonthlyPositionFilterSet
    select_related = ("reported_at",)
    ordering_fields = ["period"]
    ordering = ["budget_line_id", "period"]
    csv_filename = "monthly-positions"

    def create_object(self, serializer):
        fields, _version = self.split_version(serializer)
        return services.monthly_position_create(by=self.request.user, **fields)

    def update_object(self, serializer):
        fields, version = self.split_version(serializer)
        return services.monthly_position_update(
            position=serializer.instance, by=self.request.user, version=version, **fields
        )

    def destroy_object(self, instance) -> None:
        services.monthly_position_delete(position=instance, by=self.request.user)


@extend_schema(tags=["budgets"])
@extend_schema_view(
    list=extend_schema(summary="List variations of section 75 agreements"),
    retrieve=extend_schema(summary="One variation"),
    create=extend_schema(summary="Record a variation (the agreement becomes varied)"),
)
class VariationViewSet(RestrictedModelViewSet):
    """Variations: numbered per agreement by the service, each approved by a decision. Recorded, not
    changed: a correction is a further variation."""

    model = Variation
    serializer_class = serializers.VariationSerializer
    filterset_class = VariationFilterSet
    prefetch_related = ("schedules",)
    http_method_names = ["get", "post", "head", "options"]
    ordering_fields = ["number", "effective_from"]
    ordering = ["agreement_id", "number"]
    csv_filename = "variations"

    def create_object(self, serializer):
        return services.variation_record(by=self.request.user, **serializer.validated_data)


@extend_schema(tags=["budgets"])
@extend_schema_view(
    list=extend_schema(summary="List reviews of section 75 agreements"),
    retrieve=extend_schema(summary="One review"),
    create=extend_schema(summary="Add the review of a year"),
    partial_update=extend_schema(
        summary="Record a review held, its outcome and where it went",
        responses={200: serializers.ReviewSerializer, 409: CONFLICT},
    ),
)
class ReviewViewSet(_VersionedViewSet):
    """Annual reviews of agreements; one a financial year. Filter `held=false` for those to come."""

    model = Review
    serializer_class = serializers.ReviewSerializer
    filterset_class = ReviewFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]
    ordering_fields = ["due", "year"]
    ordering = ["agreement_id", "-due"]
    csv_filename = "reviews"

    def create_object(self, serializer):
        fields, _version = self.split_version(serializer)
        return services.review_create(by=self.request.user, **fields)

    def update_object(self, serializer):
        fields, version = self.split_version(serializer)
        return services.review_update(
            review=serializer.instance, by=self.request.user, version=version, **fields
        )


@extend_schema(tags=["budgets"])
@extend_schema_view(
    list=extend_schema(summary="List contribution plans"),
    retrieve=extend_schema(summary="One contribution plan"),
    create=extend_schema(summary="Plan a partner's contribution to a pooled schedule for a year"),
    partial_update=extend_schema(
        summary="Change a plan's frequency (before any instalment is raised)",
        responses={200: serializers.ContributionPlanSerializer, 409: CONFLICT},
    ),
)
class ContributionPlanViewSet(_VersionedViewSet):
    """Partners' contributions to pooled schedules, a plan a partner, schedule and year; the amount
    and instalments are derived. Without a plan a contribution is invoiced quarterly in advance."""

    model = ContributionPlan
    serializer_class = serializers.ContributionPlanSerializer
    filterset_class = ContributionPlanFilterSet
    select_related = ("partner",)
    http_method_names = ["get", "post", "patch", "head", "options"]
    ordering_fields = ["year"]
    ordering = ["schedule_id", "year", "partner__code", "pk"]
    csv_filename = "contribution-plans"

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        plans = list(page) if page is not None else list(queryset)
        self._plan_rows = self._rows_for(plans)
        return page

    def _rows_for(self, plans) -> dict:
        """Plan id -> its derived row, for a page of plans: a few queries per year on the page."""
        by_year: dict[int, set[int]] = {}
        for plan in plans:
            by_year.setdefault(plan.year, set()).add(plan.schedule_id)
        rows = {}
        for year, schedule_ids in by_year.items():
            schedules = list(selectors.with_related(Schedule.objects.filter(pk__in=schedule_ids)))
            rows.update({r.plan.pk: r for r in selectors.plan_rows(schedules, year) if r.plan is not None})
        return rows

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if hasattr(self, "_plan_rows"):
            context["plan_rows"] = self._plan_rows
        return context

    def create_object(self, serializer):
        fields, _version = self.split_version(serializer)
        return services.contribution_plan_save(by=self.request.user, new=True, **fields)

    def update_object(self, serializer):
        fields, version = self.split_version(serializer)
        plan = serializer.instance
        return services.contribution_plan_save(
            schedule=plan.schedule,
            year=plan.year,
            partner=plan.partner,
            frequency=fields.get("frequency", plan.frequency),
            by=self.request.user,
            version=version,
        )
