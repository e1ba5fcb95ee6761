"""Governance endpoints of API v1 (api.md). Each viewset fetches through the permission gate
(``restrict``: hidden objects, exempt content of other boards included, are 404), validates with a
serializer and calls the service the pages call."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, permissions, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from commissioning.api.base import RestrictedModelViewSet, RestrictedReadOnlyViewSet
from commissioning.api.exceptions import Conflict
from commissioning.audit import log_access
from commissioning.models import AccessLog
from governance import packs, services
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
    ExemptionRegime,
    ForwardPlanEntry,
    InterestDeclaration,
    Meeting,
    Membership,
    Minutes,
    PackAudience,
    PackStatus,
    Paper,
    PaperAppendix,
    Session,
    entitled_board_ids,
    sees_all_exempt,
)
from governance.services import CastVote


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
        data = dict(serializer.validated_data)
        membership = serializer.instance
        for name in ("board", "person"):
            value = data.pop(name, None)
            if value is not None and value.pk != getattr(membership, f"{name}_id"):
                raise DjangoValidationError(
                    {name: [f"The {name} of a membership cannot change: add a new one."]}
                )
        return services.membership_update(membership=membership, by=self.request.user, **data)


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
        board = data.pop("board", None)
        if board is not None and board.pk != entry.board_id:
            raise DjangoValidationError({"board": ["An entry stays on its board's forward plan."]})
        return services.forward_plan_save(board=entry.board, entry=entry, by=self.request.user, **data)


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
        data = dict(serializer.validated_data)
        meeting = serializer.instance
        if "status" in data:
            meeting = services.meeting_set_status(
                meeting=meeting, status=data.pop("status"), by=self.request.user
            )
        for name, value in data.items():
            setattr(meeting, name, value)
        return services._save(meeting, by=self.request.user)


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
        data = dict(serializer.validated_data)
        data.pop("meeting", None)
        return services.agenda_item_update(item=serializer.instance, by=self.request.user, **data)

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
        return qs.prefetch_related("appendices")

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

    def update_object(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("board", None)
        version = data.pop("version", None)
        return services.paper_update(paper=serializer.instance, by=self.request.user, version=version, **data)


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
        votes = [CastVote(person=v["person"], choice=v["choice"]) for v in data.pop("votes", [])]
        return services.decision_record(by=self.request.user, votes=votes, **data)

    def update_object(self, serializer):
        data = serializer.validated_data
        unexpected = set(data) - {"published_on"}
        if unexpected:
            raise exceptions.ValidationError(
                {
                    name: ["A recorded decision cannot change; record a new decision instead."]
                    for name in sorted(unexpected)
                }
            )
        if not data.get("published_on"):
            raise exceptions.ValidationError({"published_on": ["Give the publication date."]})
        return services.decision_publish(
            decision=serializer.instance, published_on=data["published_on"], by=self.request.user
        )

    def destroy_object(self, instance):
        raise exceptions.PermissionDenied("Decisions are part of the record and are never deleted.")


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
        data.pop("status", None)
        return services.action_add(by=self.request.user, **data)


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

    action_permissions = {"approve": "change"}

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
class MeetingPacksView(generics.ListCreateAPIView):
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
        audience = body.validated_data["audience"]
        if audience == PackAudience.MEMBERS and not (
            sees_all_exempt(request.user)
            or entitled_board_ids(request.user).filter(board_id=meeting.board_id).exists()
        ):
            raise exceptions.PermissionDenied(
                "Only the board's members and secretaries may generate the members' pack."
            )
        pack = services.pack_request(meeting=meeting, audience=audience, by=request.user)
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
        return pack_download(request, self.get_object())


def pack_download(request, pack: BoardPack):
    """The PDF of a ready pack; every download of a members' pack is logged (security.md)."""
    if pack.status != PackStatus.READY:
        raise Conflict("The pack is not ready yet.")
    try:
        path = packs.pack_file(pack)
        handle = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    except FileNotFoundError as exc:
        raise Http404("The pack file is missing.") from exc
    if pack.audience == PackAudience.MEMBERS:
        log_access(request=request, obj=pack, action=AccessLog.Action.DOWNLOAD)
    local = pack.meeting.local_date
    name = f"{pack.meeting.board.code}-{local:%Y-%m-%d}-{pack.audience}-v{pack.version}.pdf"
    return FileResponse(handle, as_attachment=True, filename=name, content_type="application/pdf")


# --- Public ---------------------------------------------------------------------------------------


def public_board_data(board: Board) -> dict:
    """What anyone may read about a board that meets in public: meetings with their agendas (exempt
    items by title and reason only), public papers and appendices, decisions on public items, the
    public forward plan. Built only from public rows, never from a user's scope."""
    exempt = (ExemptionRegime.SCHEDULE_12A, ExemptionRegime.ACT_1960)
    meetings = board.meetings.order_by("-starts_at").prefetch_related(
        Prefetch("agenda_items", queryset=AgendaItem.objects.select_related("paper").order_by("order")),
        Prefetch(
            "agenda_items__paper__appendices",
            queryset=PaperAppendix.objects.filter(exemption_regime=ExemptionRegime.NONE).order_by("order"),
        ),
        Prefetch(
            "packs",
            queryset=BoardPack.objects.filter(audience=PackAudience.PUBLIC, status=PackStatus.READY).order_by(
                "-version"
            ),
        ),
    )
    decisions = (
        Decision.objects.filter(agenda_item__meeting__board=board)
        .exclude(agenda_item__exemption_regime__in=exempt)
        .select_related("agenda_item__meeting")
        .order_by("-decided_on", "-reference")
    )
    out_meetings = []
    for meeting in meetings:
        items = []
        for item in meeting.agenda_items.all():
            row = {
                "item_number": item.item_number,
                "title": item.title,
                "purpose": item.purpose,
                "exempt": item.exempt,
            }
            if item.exempt:
                row["exemption"] = {
                    "regime": item.exemption_regime,
                    "paragraph": item.exemption_paragraph,
                    "reason": item.exemption_reason,
                }
            elif item.paper is not None and item.paper.session == Session.PUBLIC:
                paper = item.paper
                row["paper"] = {
                    "title": paper.title,
                    "executive_summary": paper.executive_summary,
                    "recommendations": paper.recommendations,
                    "authors": paper.authors,
                    "appendices": [a.title for a in paper.appendices.all()],
                }
            items.append(row)
        packs_ready = list(meeting.packs.all())
        out_meetings.append(
            {
                "id": meeting.pk,
                "starts_at": meeting.starts_at.isoformat(),
                "venue": meeting.venue,
                "status": meeting.status,
                "agenda": items,
                "public_pack": packs_ready[0].pk if packs_ready else None,
            }
        )
    return {
        "code": board.code,
        "name": board.name,
        "partnership": board.partnership.name,
        "meetings": out_meetings,
        "decisions": [
            {
                "reference": d.reference,
                "minute_number": d.minute_number,
                "title": d.agenda_item.title,
                "resolution": d.resolution,
                "reasons": d.reasons,
                "alternatives_rejected": d.alternatives_rejected,
                "outcome": d.outcome,
                "key_decision": d.key_decision,
                "decided_on": d.decided_on.isoformat(),
                "published_on": d.published_on.isoformat() if d.published_on else None,
                "call_in_ends": d.call_in_ends.isoformat() if d.call_in_ends else None,
                "effective_from": d.effective_from.isoformat() if d.effective_from else None,
            }
            for d in decisions
        ],
        "forward_plan": [
            {
                "title": e.title if not e.exempt else e.title,
                "key_decision": e.key_decision,
                "exempt": e.exempt,
                "exemption_reason": e.exemption_reason if e.exempt else "",
                "first_published_on": e.first_published_on.isoformat(),
                "expected_meeting": e.expected_meeting_id,
            }
            for e in board.forward_plan.order_by("first_published_on")
        ],
    }


def public_boards():
    return Board.objects.filter(meets_in_public=True).select_related("partnership")


@extend_schema(
    tags=["public"], auth=[], responses={200: OpenApiResponse(description="The board's public record")}
)
class PublicBoardView(APIView):
    """A board's meetings, agendas, public papers, decisions and forward plan; no login, no exempt content."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    def get(self, request, code: str):
        board = get_object_or_404(public_boards(), code=code.upper())
        return Response(public_board_data(board))


@extend_schema(
    tags=["public"],
    auth=[],
    responses={(200, "application/pdf"): OpenApiResponse(description="The public pack"), 404: None},
)
class PublicPackView(APIView):
    """The latest public pack of a meeting of a public board (PDF)."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    def get(self, request, code: str, pack_pk: int):
        pack = get_object_or_404(
            BoardPack.objects.select_related("meeting__board"),
            pk=pack_pk,
            meeting__board__in=public_boards().filter(code=code.upper()),
            audience=PackAudience.PUBLIC,
        )
        return pack_download(request, pack)
