"""Serializers of the governance endpoints (api.md). They check shapes; the rules live in the
services, which the viewsets call. Names here are the API contract."""

from __future__ import annotations

from rest_framework import serializers

from commissioning.api.fields import MoneyField, OrganisationCodeField, VisiblePrimaryKeyRelatedField
from commissioning.api.serializers import CleanModelSerializer
from commissioning.models import Partnership, Person
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
    PackAudience,
    Paper,
    PaperAppendix,
    PaperLink,
    Vote,
)


class BoardSerializer(serializers.ModelSerializer):
    """A board: quorum, voting mode, casting vote, delegated limit, key-decision threshold."""

    partnership = VisiblePrimaryKeyRelatedField(model=Partnership)
    parent = VisiblePrimaryKeyRelatedField(model=Board, required=False, allow_null=True)
    delegated_limit = MoneyField(required=False, allow_null=True)
    key_decision_threshold = MoneyField(required=False, allow_null=True)

    class Meta:
        model = Board
        fields = [
            "id",
            "partnership",
            "name",
            "code",
            "meets_in_public",
            "council_executive",
            "quorum_min_voting",
            "quorum_min_per_partner",
            "voting_mode",
            "chair_has_casting_vote",
            "delegated_limit",
            "key_decision_threshold",
            "parent",
            "terms_of_reference",
        ]
        validators: list = []


class MembershipSerializer(CleanModelSerializer):
    board = VisiblePrimaryKeyRelatedField(model=Board, action="change")
    person = VisiblePrimaryKeyRelatedField(model=Person)
    representing = OrganisationCodeField(
        required=False, allow_null=True, help_text="Partner code; null: joint"
    )
    person_name = serializers.CharField(source="person.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "board", "person", "person_name", "role", "voting", "representing", "start", "end"]


class ForwardPlanEntrySerializer(CleanModelSerializer):
    board = VisiblePrimaryKeyRelatedField(model=Board, action="change")
    expected_meeting = VisiblePrimaryKeyRelatedField(model=Meeting, required=False, allow_null=True)
    publish = serializers.BooleanField(
        write_only=True, required=False, help_text="Publish the entry now: its first-published date is today"
    )

    def validate(self, attrs):
        if isinstance(self.initial_data, dict) and "first_published_on" in self.initial_data:
            raise serializers.ValidationError(
                {
                    "first_published_on": [
                        "The first-published date is set by the system when the entry is published."
                    ]
                }
            )
        return super().validate(attrs)

    class Meta:
        model = ForwardPlanEntry
        fields = [
            "id",
            "board",
            "title",
            "expected_meeting",
            "key_decision",
            "exempt",
            "exemption_reason",
            "consultation",
            "contact",
            "first_published_on",
            "publish",
        ]
        read_only_fields = ["first_published_on"]


class MeetingSerializer(serializers.ModelSerializer):
    board = VisiblePrimaryKeyRelatedField(model=Board, action="change")
    board_code = serializers.CharField(source="board.code", read_only=True)

    class Meta:
        model = Meeting
        fields = ["id", "board", "board_code", "starts_at", "venue", "status"]


class AgendaItemSerializer(serializers.ModelSerializer):
    meeting = VisiblePrimaryKeyRelatedField(model=Meeting, action="change")
    paper = VisiblePrimaryKeyRelatedField(model=Paper, required=False, allow_null=True)
    exempt = serializers.BooleanField(read_only=True)

    class Meta:
        model = AgendaItem
        fields = [
            "id",
            "meeting",
            "order",
            "item_number",
            "enclosure_number",
            "title",
            "purpose",
            "presenter",
            "standing_kind",
            "exemption_regime",
            "exemption_paragraph",
            "exemption_reason",
            "exempt",
            "paper",
            "supplement_number",
        ]
        read_only_fields = ["order", "item_number", "enclosure_number", "standing_kind", "supplement_number"]


class AppendixSerializer(serializers.ModelSerializer):
    exempt = serializers.BooleanField(read_only=True)

    class Meta:
        model = PaperAppendix
        fields = [
            "id",
            "order",
            "title",
            "page_count",
            "exemption_regime",
            "exemption_paragraph",
            "exemption_reason",
            "exempt",
        ]


class PaperLinkSerializer(serializers.ModelSerializer):
    target_type = serializers.SerializerMethodField()

    class Meta:
        model = PaperLink
        fields = ["id", "target_type", "object_id"]

    def get_target_type(self, link) -> str:
        return f"{link.content_type.app_label}.{link.content_type.model}"


class PaperSerializer(serializers.ModelSerializer):
    board = VisiblePrimaryKeyRelatedField(model=Board)
    recommendations = serializers.ListField(
        child=serializers.CharField(max_length=4000), required=False, max_length=50
    )
    appendices = serializers.SerializerMethodField()
    links = PaperLinkSerializer(
        many=True, read_only=True, help_text="The live tables the paper's packs carry"
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="On PATCH, the version you loaded (or If-Match): missing 428, stale 409.",
    )

    class Meta:
        model = Paper
        fields = [
            "id",
            "board",
            "title",
            "session",
            "authors",
            "clinical_lead",
            "executive_sponsor",
            "executive_summary",
            "recommendations",
            "body",
            "equality_impact",
            "financial_impact",
            "legal_impact",
            "risk_impact",
            "conflicts_of_interest",
            "presented_before",
            "appendices",
            "links",
            "version",
        ]

    def get_appendices(self, paper) -> list[dict]:
        visible = self.context.get("visible_appendix_ids")
        rows = [a for a in paper.appendices.all() if visible is None or a.pk in visible]
        return AppendixSerializer(rows, many=True).data

    def validate(self, attrs):
        if self.instance is None:  # the version a change was made from: nothing to say on create
            attrs.pop("version", None)
        return attrs


class AttendanceSerializer(serializers.ModelSerializer):
    meeting = VisiblePrimaryKeyRelatedField(model=Meeting, action="change")
    person = VisiblePrimaryKeyRelatedField(model=Person)
    substitute_for = VisiblePrimaryKeyRelatedField(model=Person, required=False, allow_null=True)

    class Meta:
        model = Attendance
        fields = ["id", "meeting", "person", "status", "substitute_for"]
        validators: list = []


class DeclarationSerializer(serializers.ModelSerializer):
    person = VisiblePrimaryKeyRelatedField(model=Person)
    board = VisiblePrimaryKeyRelatedField(model=Board)
    meeting = VisiblePrimaryKeyRelatedField(model=Meeting, required=False, allow_null=True)
    agenda_item = VisiblePrimaryKeyRelatedField(model=AgendaItem, required=False, allow_null=True)

    class Meta:
        model = InterestDeclaration
        fields = [
            "id",
            "person",
            "board",
            "meeting",
            "agenda_item",
            "nature",
            "description",
            "action",
            "dispensation",
            "declared_on",
        ]


class VoteSerializer(serializers.ModelSerializer):
    person_name = serializers.CharField(source="person.name", read_only=True)
    representing = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Vote
        fields = ["person", "person_name", "representing", "choice", "casting"]


class CastVoteSerializer(serializers.Serializer):
    person = VisiblePrimaryKeyRelatedField(model=Person)
    choice = serializers.ChoiceField(choices=["for", "against", "abstain"])


class DecisionLinkSerializer(serializers.ModelSerializer):
    target_type = serializers.SerializerMethodField()
    amount_before = MoneyField(non_negative=False, read_only=True, allow_null=True)
    amount_after = MoneyField(non_negative=False, read_only=True, allow_null=True)

    class Meta:
        model = DecisionLink
        fields = ["target_type", "object_id", "description", "amount_before", "amount_after"]

    def get_target_type(self, link) -> str:
        return f"{link.content_type.app_label}.{link.content_type.model}"


class LinkTargetSerializer(serializers.Serializer):
    """A record to link, named as the links list it: ``target_type`` (``budgets.schedule``,
    ``budgets.budgetline``, ``budgets.virement``, ``budgets.section75agreement``,
    ``budgets.variation``) and ``object_id``. A record the user may not see is refused as if it
    did not exist."""

    target_type = serializers.CharField(max_length=100)
    object_id = serializers.IntegerField(min_value=1)

    def validate(self, attrs):
        from governance import linking

        target = linking.resolve(
            self.context["request"].user, f"{attrs['target_type'].lower()}:{attrs['object_id']}"
        )
        if target is None:
            raise serializers.ValidationError({"object_id": ["There is no such record you may link to."]})
        attrs["target"] = target
        return attrs


class DecisionLinkInputSerializer(LinkTargetSerializer):
    description = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    amount_before = MoneyField(non_negative=False, required=False, allow_null=True, default=None)
    amount_after = MoneyField(
        non_negative=False,
        required=False,
        allow_null=True,
        default=None,
        help_text="For a virement: the amount moved as proposed (before) and as approved (after)",
    )


class DecisionSerializer(serializers.ModelSerializer):
    """The decision record of rules.md: resolution, reasons, alternatives rejected, interests and
    dispensations, who decided, key decision, call-in, decided / published / effective."""

    agenda_item = VisiblePrimaryKeyRelatedField(model=AgendaItem, action="change")
    financial_value = MoneyField(required=False, allow_null=True)
    votes = CastVoteSerializer(many=True, required=False, write_only=True)
    casting_vote = serializers.ChoiceField(
        choices=["for", "against"], required=False, allow_null=True, write_only=True
    )
    recorded_votes = VoteSerializer(source="votes", many=True, read_only=True)
    decided_by = serializers.CharField(source="agenda_item.meeting.board.name", read_only=True)
    board = serializers.CharField(source="agenda_item.meeting.board.code", read_only=True)
    subject_to_call_in = serializers.SerializerMethodField()
    interests = serializers.SerializerMethodField()
    flagged = serializers.BooleanField(read_only=True)
    links = DecisionLinkSerializer(many=True, read_only=True)

    class Meta:
        model = Decision
        fields = [
            "id",
            "agenda_item",
            "board",
            "reference",
            "minute_number",
            "resolution",
            "reasons",
            "alternatives_rejected",
            "outcome",
            "quorate",
            "quorum_note",
            "vote_note",
            "financial_value",
            "key_decision",
            "notice_ok",
            "notice_note",
            "flagged",
            "urgent",
            "urgent_reason",
            "decided_by",
            "decided_on",
            "published_on",
            "subject_to_call_in",
            "call_in_ends",
            "effective_from",
            "interests",
            "votes",
            "casting_vote",
            "recorded_votes",
            "links",
            "version",
            "corrects",
        ]
        read_only_fields = [
            "corrects",
            "reference",
            "minute_number",
            "quorate",
            "quorum_note",
            "vote_note",
            "key_decision",
            "notice_ok",
            "notice_note",
            "decided_on",
            "call_in_ends",
            "effective_from",
            "version",
        ]

    def get_subject_to_call_in(self, decision) -> bool:
        return bool(decision.agenda_item.meeting.board.council_executive and not decision.urgent)

    def get_interests(self, decision) -> list[dict]:
        return [
            {
                "person": d.person.name,
                "nature": d.nature,
                "description": d.description,
                "action": d.action,
                "dispensation": d.dispensation,
            }
            for d in decision.agenda_item.declarations.all()
        ]


class DecisionPublishSerializer(serializers.Serializer):
    published_on = serializers.DateField()


class DecisionCorrectionSerializer(serializers.Serializer):
    resolution = serializers.CharField()
    reasons = serializers.CharField(required=False, allow_blank=True)
    alternatives_rejected = serializers.CharField(required=False, allow_blank=True)
    financial_value = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True
    )
    correction_note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class ActionSerializer(serializers.ModelSerializer):
    meeting = VisiblePrimaryKeyRelatedField(model=Meeting, action="change")
    owner = VisiblePrimaryKeyRelatedField(model=Person)
    decision = VisiblePrimaryKeyRelatedField(model=Decision, required=False, allow_null=True)
    agenda_item = VisiblePrimaryKeyRelatedField(model=AgendaItem, required=False, allow_null=True)

    class Meta:
        model = Action
        fields = ["id", "meeting", "decision", "agenda_item", "description", "owner", "due", "status"]


class MinuteEntryInSerializer(serializers.Serializer):
    agenda_item = serializers.IntegerField()
    text = serializers.CharField(max_length=20000)


class MinutesSerializer(serializers.ModelSerializer):
    meeting = VisiblePrimaryKeyRelatedField(model=Meeting, action="change")
    entries = MinuteEntryInSerializer(many=True, write_only=True, required=False)
    minute_entries = serializers.SerializerMethodField()
    approved_at = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = Minutes
        fields = ["id", "meeting", "part2_summary", "entries", "minute_entries", "approved_at", "approved_on"]
        read_only_fields = ["approved_on"]

    def get_minute_entries(self, minutes) -> list[dict]:
        visible = self.context.get("visible_item_ids")
        return [
            {"agenda_item": e.agenda_item_id, "minute_number": e.minute_number, "text": e.text}
            for e in minutes.entries.all()
            if visible is None or e.agenda_item_id in visible
        ]


class MinutesApproveSerializer(serializers.Serializer):
    at_meeting = VisiblePrimaryKeyRelatedField(model=Meeting)


class BoardPackSerializer(serializers.ModelSerializer):
    pdf = serializers.SerializerMethodField()

    class Meta:
        model = BoardPack
        fields = [
            "id",
            "meeting",
            "audience",
            "version",
            "supplement_number",
            "status",
            "progress",
            "page_count",
            "checksum",
            "requested_at",
            "started_at",
            "finished_at",
            "error",
            "pdf",
        ]
        read_only_fields = fields

    def get_pdf(self, pack) -> str | None:
        from django.urls import reverse

        return reverse("governance-api:pack-pdf", args=[pack.pk]) if pack.status == "ready" else None


class PackRequestSerializer(serializers.Serializer):
    audience = serializers.ChoiceField(choices=PackAudience.choices)
