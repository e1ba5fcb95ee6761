"""Governance endpoints of API v1 (api.md). Each viewset fetches through the permission gate
(``restrict``: hidden objects, exempt content of other boards included, are 404), validates with a
serializer and calls the service the pages call."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, permissions, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from commissioning.api.base import RestrictedModelViewSet, RestrictedReadOnlyViewSet
from commissioning.api.exceptions import Conflict
from commissioning.api.strict import StrictQueryMixin
from governance import downloads, public, services
from governance.api import serializers as s
from governance.filtersets import (
    ActionFilterSet,
    BoardFilterSet,
    DecisionFilterSet,
    MeetingFilterSet,
    PaperFilterSet,
)
from governance.models import (
    Action,
    AgendaItem,
    Attendance,
    Board,
    BoardPack,
    Decision,
    DecisionLink,
    ForwardPlanEntry,
    InterestDeclaration,
    Meeting,
    Membership,
    Minutes,
    Paper,
    PaperAppendix,
    PaperLink,
)


@extend_schema(tags=["governance"])
class BoardViewSet(RestrictedModelViewSet):
    """Boards of the partnerships granted to you, with their quorum and voting rules."""

    model = Board
    serializer_class = s.BoardSerializer
    filterset_class = BoardFilterSet
    select_related = ("partnership",)
    ordering_fields = ["name", "code"]
    csv_filename = "boards"

    def create_object(self, serializer):
        return services.board_create(by=self.request.user, **serializer.validated_data)

    def update_object(self, serializer):
        return services.board_update(
            board=serializer.instance, by=self.request.user, **serializer.validated_data
        )


@extend_schema(tags=["governance"])
class MembershipViewSet(RestrictedModelViewSet):
    """Members of boards: role, vote, the partner represented (organisation code; null = joint)."""

    model = Membership
    serializer_class = s.MembershipSerializer
    filterset_fields = ["board", "person", "role", "voting"]
    select_related = ("person", "representing", "board")
    csv_filename = "memberships"

    def create_object(self, serializer):
        return services.membership_add(by=self.request.user, **serializer.validated_data)

    def update_object(self, serializer):
        return services.membership_update(
            membership=serializer.instance, by=self.request.user, **serializer.validated_data
        )


@extend_schema(tags=["governance"])
class ForwardPlanViewSet(RestrictedModelViewSet):
    """The forward plan of key decisions."""

    model = ForwardPlanEntry
    serializer_class = s.ForwardPlanEntrySerializer
    filterset_fields = ["board", "key_decision", "expected_meeting"]
    csv_filename = "forward-plan"

    def create_object(self, serializer):
        data = dict(serializer.validated_data)
        return services.forward_plan_save(board=data.pop("board"), by=self.request.user, **data)

    def update_object(self, serializer):
        data = dict(serializer.validated_data)
        entry = serializer.instance
        return services.forward_plan_save(
            board=data.pop("board", entry.board), entry=entry, by=self.request.user, **data
        )

    action_permissions = {"publish": "change"}

    @extend_schema(request=None, responses={200: s.ForwardPlanEntrySerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Publish the entry: the system sets its first-published date to today (never typed)."""
        entry = services.forward_plan_publish(entry=self.get_object(), by=request.user)
        return Response(s.ForwardPlanEntrySerializer(entry, context=self.get_serializer_context()).data)


@extend_schema(tags=["governance"])
class MeetingViewSet(RestrictedModelViewSet):
    """Meetings; a new meeting gets its standing agenda items."""

    model = Meeting
    serializer_class = s.MeetingSerializer
    filterset_class = MeetingFilterSet
    select_related = ("board",)
    ordering_fields = ["starts_at"]
    csv_filename = "meetings"

    def create_object(self, serializer):
        return services.meeting_create(by=self.request.user, **serializer.validated_data)

    def update_object(self, serializer):
        return services.meeting_update(
            meeting=serializer.instance, by=self.request.user, **serializer.validated_data
        )


@extend_schema(tags=["governance"])
class AgendaItemViewSet(RestrictedModelViewSet):
    """Agenda items. Order, item and enclosure numbers are kept by the service (standing items first,
    exempt business after the exclusion of the public); ``move`` swaps an item with its neighbour."""

    model = AgendaItem
    serializer_class = s.AgendaItemSerializer
    filterset_fields = ["meeting", "purpose", "standing_kind"]
    select_related = ("meeting",)
    csv_filename = "agenda-items"
    action_permissions = {"move": "change"}

    def create_object(self, serializer):
        return services.agenda_item_add(by=self.request.user, **serializer.validated_data)

    def update_object(self, serializer):
        return services.agenda_item_update(
            item=serializer.instance, by=self.request.user, **serializer.validated_data
        )

    @extend_schema(
        request={
            "application/json": {"type": "object", "properties": {"direction": {"enum": ["up", "down"]}}}
        }
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        item = self.get_object()
        item = services.agenda_item_move(
            item=item, direction=str(request.data.get("direction", "")), by=request.user
        )
        return Response(s.AgendaItemSerializer(item, context=self.get_serializer_context()).data)


def _require_link_role(user, model) -> None:
    from commissioning.permissions import has_model_permission

    if not has_model_permission(user, model, "add"):
        raise exceptions.PermissionDenied(
            f"Your role does not allow you to add {model._meta.verbose_name_plural}."
        )


@extend_schema(tags=["governance"])
class PaperViewSet(RestrictedModelViewSet):
    """Board papers with the cover-sheet fields; appendices listed (exempt ones only for members)."""

    model = Paper
    serializer_class = s.PaperSerializer
    filterset_class = PaperFilterSet
    csv_filename = "papers"

    def get_queryset(self):
        qs = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return qs
        return qs.prefetch_related("appendices", "links__content_type")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        user = getattr(self.request, "user", None)
        if user is not None and user.is_authenticated:
            context["visible_appendix_ids"] = set(
                PaperAppendix.objects.restrict(user, "view").values_list("pk", flat=True)
            )
        return context

    def create_object(self, serializer):
        return services.paper_create(by=self.request.user, **serializer.validated_data)

    action_permissions = {"links": "view"}

    # Linking records what the record concerns; it does not change it, so it needs no version.
    unversioned_actions = frozenset({"links"})

    @extend_schema(request=s.LinkTargetSerializer, responses={201: s.PaperSerializer})
    @action(detail=True, methods=["post"])
    def links(self, request, pk=None):
        """Carry a record's live table in the paper's packs (a schedule's budget table):
        ``{target_type, object_id}``. Needs the role to link papers (403 otherwise)."""
        paper = self.get_object()
        _require_link_role(request.user, PaperLink)
        body = s.LinkTargetSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        return self.respond_to_write(
            lambda: (
                services.paper_link_add(
                    paper=paper, target=body.validated_data["target"], by=request.user
                ).paper
            ),
            lambda written: (
                s.PaperSerializer(
                    Paper.objects.prefetch_related("appendices", "links__content_type").get(pk=written.pk),
                    context=self.get_serializer_context(),
                ).data
            ),
            status_code=201,
        )

    def update_object(self, serializer):
        return services.paper_update(
            paper=serializer.instance, by=self.request.user, **serializer.validated_data
        )


@extend_schema(tags=["governance"])
class AttendanceViewSet(RestrictedModelViewSet):
    """Attendance and substitutes; posting again for the same person updates the row."""

    model = Attendance
    serializer_class = s.AttendanceSerializer
    filterset_fields = ["meeting", "person", "status"]
    csv_filename = "attendance"

    def create_object(self, serializer):
        return services.attendance_record(by=self.request.user, **serializer.validated_data)

    def update_object(self, serializer):
        data = {
            "meeting": serializer.instance.meeting,
            "person": serializer.instance.person,
            "status": serializer.instance.status,
            "substitute_for": serializer.instance.substitute_for,
            **serializer.validated_data,
        }
        return services.attendance_record(by=self.request.user, **data)


@extend_schema(tags=["governance"])
class DeclarationViewSet(RestrictedModelViewSet):
    """Declarations of interest per board, meeting or item, with the action taken."""

    model = InterestDeclaration
    serializer_class = s.DeclarationSerializer
    filterset_fields = ["board", "meeting", "agenda_item", "person", "action"]
    select_related = ("person",)
    csv_filename = "declarations"

    def create_object(self, serializer):
        return services.declaration_record(by=self.request.user, **serializer.validated_data)

    def update_object(self, serializer):
        return services.declaration_update(
            declaration=serializer.instance, by=self.request.user, **serializer.validated_data
        )


@extend_schema(tags=["governance"])
@extend_schema_view(
    create=extend_schema(
        summary="Record a decision",
        description="Checks quorum (conflicted members excluded), counts `votes` in the board's voting "
        "mode, refers approvals above the delegated limit, flags key decisions without notice, allocates "
        "the reference.",
    ),
    partial_update=extend_schema(
        summary="Publish a decision (`published_on`); call-in runs from publication"
    ),
)
class DecisionViewSet(RestrictedModelViewSet):
    """The decision log of your partnerships (decisions on exempt items only for the board's members)."""

    model = Decision
    serializer_class = s.DecisionSerializer
    filterset_class = DecisionFilterSet
    select_related = ("agenda_item__meeting__board",)
    ordering_fields = ["decided_on", "reference"]
    csv_filename = "decisions"

    def get_queryset(self):
        qs = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return qs
        return qs.prefetch_related(
            "votes__person", "votes__representing", "links__content_type", "agenda_item__declarations__person"
        )

    def create_object(self, serializer):
        data = dict(serializer.validated_data)
        votes = [services.CastVote(person=v["person"], choice=v["choice"]) for v in data.pop("votes", [])]
        return services.decision_record(by=self.request.user, votes=votes, **data)

    def update_object(self, serializer):
        return services.decision_update(
            decision=serializer.instance, by=self.request.user, **serializer.validated_data
        )

    def destroy_object(self, instance):
        raise exceptions.PermissionDenied("Decisions are part of the record and are never deleted.")

    action_permissions = {"correct": "add", "links": "view"}

    # Linking records what the record concerns; it does not change it, so it needs no version.
    unversioned_actions = frozenset({"links"})

    @extend_schema(request=s.DecisionLinkInputSerializer, responses={201: s.DecisionSerializer})
    @action(detail=True, methods=["post"])
    def links(self, request, pk=None):
        """Record what the decision approved or changed: an agreement, variation, schedule, budget
        line or virement (``{target_type, object_id, description, amount_before, amount_after}``;
        for a virement, the amount moved as proposed and as approved). The record must be of the
        decision's partnership. Needs the role to link decisions (403 otherwise)."""
        decision = self.get_object()
        _require_link_role(request.user, DecisionLink)
        body = s.DecisionLinkInputSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        return self.respond_to_write(
            lambda: (
                services.decision_link_add(
                    decision=decision,
                    target=data["target"],
                    by=request.user,
                    description=data["description"],
                    amount_before=data["amount_before"],
                    amount_after=data["amount_after"],
                ).decision
            ),
            lambda written: (
                s.DecisionSerializer(
                    self.get_queryset().get(pk=written.pk), context=self.get_serializer_context()
                ).data
            ),
            status_code=201,
        )

    @extend_schema(request=s.DecisionCorrectionSerializer, responses={201: s.DecisionSerializer})
    @action(detail=True, methods=["post"])
    def correct(self, request, pk=None):
        """A correction notice for a published decision: a new record citing it (``corrects``),
        published like any decision (PATCH ``published_on``)."""
        original = self.get_object()
        body = s.DecisionCorrectionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        correction = services.decision_correct(decision=original, by=request.user, **body.validated_data)
        return Response(
            s.DecisionSerializer(correction, context=self.get_serializer_context()).data, status=201
        )


@extend_schema(tags=["governance"])
class ActionViewSet(RestrictedModelViewSet):
    """Actions with owners and due dates; open ones form the next meeting's action log."""

    model = Action
    serializer_class = s.ActionSerializer
    filterset_class = ActionFilterSet
    select_related = ("owner",)
    csv_filename = "actions"

    def create_object(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("status", None)  # a new action is open
        return services.action_add(by=self.request.user, **data)

    def update_object(self, serializer):
        return services.action_update(
            action=serializer.instance, by=self.request.user, **serializer.validated_data
        )


@extend_schema(tags=["governance"])
class MinutesViewSet(RestrictedModelViewSet):
    """Minutes with numbered entries per item and the Part 2 summary."""

    model = Minutes
    serializer_class = s.MinutesSerializer
    filterset_fields = ["meeting"]
    csv_filename = "minutes"

    def get_queryset(self):
        qs = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return qs
        return qs.prefetch_related("entries")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        user = getattr(self.request, "user", None)
        if user is not None and user.is_authenticated:
            context["visible_item_ids"] = set(
                AgendaItem.objects.restrict(user, "view").values_list("pk", flat=True)
            )
        return context

    def _write(self, serializer, meeting):
        data = serializer.validated_data
        entries = {e["agenda_item"]: e["text"] for e in data.get("entries", [])}
        return services.minutes_write(
            meeting=meeting,
            entries=entries,
            part2_summary=data.get("part2_summary", ""),
            by=self.request.user,
        )

    def create_object(self, serializer):
        return self._write(serializer, serializer.validated_data["meeting"])

    def update_object(self, serializer):
        return self._write(serializer, serializer.instance.meeting)

    action_permissions = {"approve": "change", "publish_draft": "change"}

    @extend_schema(request=None, responses={200: s.MinutesSerializer})
    @action(detail=True, methods=["post"], url_path="publish-draft")
    def publish_draft(self, request, pk=None):
        """Publish the minutes before approval, marked "Draft, subject to approval"."""
        minutes = services.minutes_publish_draft(minutes=self.get_object(), by=request.user)
        return Response(s.MinutesSerializer(minutes, context=self.get_serializer_context()).data)

    @extend_schema(request=s.MinutesApproveSerializer, responses={200: s.MinutesSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve the minutes at a later meeting of the same board (POST ``{at_meeting}``)."""
        minutes = self.get_object()
        body = s.MinutesApproveSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        minutes = services.minutes_approve(
            minutes=minutes, at_meeting=body.validated_data["at_meeting"], by=request.user
        )
        return Response(s.MinutesSerializer(minutes, context=self.get_serializer_context()).data)


# --- Packs ----------------------------------------------------------------------------------------


@extend_schema(tags=["governance"])
class MeetingPacksView(StrictQueryMixin, generics.ListCreateAPIView):
    """GET: the pack versions of a meeting. POST ``{audience}``: queue a new version (202)."""

    serializer_class = s.BoardPackSerializer
    model = BoardPack
    queryset = BoardPack.objects.none()

    def get_meeting(self) -> Meeting:
        return get_object_or_404(
            Meeting.objects.restrict(self.request.user, "view"), pk=self.kwargs["meeting_pk"]
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return BoardPack.objects.none()
        return (
            BoardPack.objects.restrict(self.request.user, "view")
            .filter(meeting=self.get_meeting())
            .order_by("audience", "-version")
        )

    @extend_schema(request=s.PackRequestSerializer, responses={202: s.BoardPackSerializer})
    def post(self, request, *args, **kwargs):
        meeting = self.get_meeting()
        body = s.PackRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # The service refuses the members' pack (403) to anyone but the board's members and secretaries.
        pack = services.pack_request(
            meeting=meeting, audience=body.validated_data["audience"], by=request.user
        )
        return Response(s.BoardPackSerializer(pack).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["governance"])
class BoardPackViewSet(RestrictedReadOnlyViewSet):
    """A pack version: status, progress, page count, checksum; ``pdf/`` is the file."""

    model = BoardPack
    serializer_class = s.BoardPackSerializer
    filterset_fields = ["meeting", "audience", "status"]
    csv_filename = "packs"

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(description="The pack"),
            409: OpenApiResponse(description="Not ready yet"),
        }
    )
    @action(detail=True, methods=["get"], url_path="pdf", url_name="pdf")
    def pdf(self, request, pk=None):
        return pack_pdf(request, self.get_object())


def pack_pdf(request, pack: BoardPack):
    """The PDF of a ready pack (``governance.downloads``); not ready yet: 409."""
    try:
        return downloads.pack_response(request, pack)
    except downloads.PackNotReady as not_ready:
        raise Conflict(str(not_ready)) from not_ready


# --- Public ---------------------------------------------------------------------------------------


@extend_schema(
    tags=["public"], auth=[], responses={200: OpenApiResponse(description="The boards that meet in public")}
)
class PublicIndexView(StrictQueryMixin, APIView):
    """Every board that meets in public: code, name, partnership, its public record and its feed."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(operation_id="public_boards_list")
    def get(self, request):
        return Response({"boards": public.public_index_data()})


@extend_schema(
    tags=["public"], auth=[], responses={200: OpenApiResponse(description="The board's public record")}
)
class PublicBoardView(StrictQueryMixin, APIView):
    """A board's meetings, agendas, public papers, decisions and forward plan; no login, no exempt content."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    def get(self, request, code: str):
        return Response(public.public_board_data(public.public_board(code)))


@extend_schema(
    tags=["public"],
    auth=[],
    responses={(200, "application/pdf"): OpenApiResponse(description="The public pack"), 404: None},
)
class PublicPackView(StrictQueryMixin, APIView):
    """The latest public pack of a meeting of a public board (PDF)."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    def get(self, request, code: str, pack_pk: int):
        # Any public pack of the board (a version not ready yet answers 409, as for members).
        return pack_pdf(request, public.public_pack(code, pack_pk, ready_only=False))
