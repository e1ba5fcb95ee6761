"""The governance landing page, a board's page, and the board secretary's forms for boards, their
members and their forward plans."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView

from commissioning.generic import GateMixin, ObjectView, ServiceActionView
from commissioning.models import Person
from governance import selectors, services
from governance.forms import BoardForm, ForwardPlanForm, MeetingForm, MembershipForm
from governance.models import Board, Decision, ForwardPlanEntry, Meeting, Membership
from governance.views.base import GovernanceFormView


class IndexView(GateMixin, TemplateView):
    """The governance landing page: boards and upcoming meetings."""

    model = Board
    template_name = "governance/index.html"

    def get_context_data(self, **kwargs):
        user, partnership = self.request.user, self.request.partnership
        return super().get_context_data(
            page_title="Boards and meetings",
            boards=self.scoped_queryset().select_related("partnership", "parent"),
            upcoming=selectors.upcoming_meetings(user, partnership)[:10],
            recent=self.restricted("view", Meeting)
            .in_partnership(partnership)
            .filter(starts_at__lt=timezone.now())
            .select_related("board")
            .order_by("-starts_at")[:10],
            can_see_decisions=self.user_can("view", Decision),
            can_add_board=self.user_can("add"),
            **kwargs,
        )


class BoardDetailView(ObjectView):
    model = Board
    template_name = "governance/board_detail.html"
    context_object_name = "board"

    def get_context_data(self, **kwargs):
        board = self.object
        user = self.request.user
        today = timezone.localdate()
        memberships = list(
            self.restricted("view", Membership)
            .filter(board=board)
            .select_related("person", "representing")
            .order_by("role", "person__name", "-start")
        )
        for membership in memberships:
            membership.current = membership.is_current(today)
        memberships.sort(key=lambda m: not m.current)  # current members first, stable within
        kwargs.setdefault("meeting_form", MeetingForm())
        return super().get_context_data(
            page_title=board.name,
            today=today,
            memberships=memberships,
            meetings=self.restricted("view", Meeting).filter(board=board).order_by("-starts_at"),
            forward_plan=self.restricted("view", ForwardPlanEntry)
            .filter(board=board)
            .select_related("expected_meeting")
            .order_by("first_published_on"),
            can_add_meeting=self.user_can("add", Meeting),
            can_change_board=self.user_can("change"),
            can_add_member=self.user_can("add", Membership),
            can_change_member=self.user_can("change", Membership),
            can_plan=self.user_can("add", ForwardPlanEntry),
            can_change_plan=self.user_can("change", ForwardPlanEntry),
            history=selectors.board_history(board, user),
            **kwargs,
        )


# --- Boards ---------------------------------------------------------------------------------------


class BoardCreateView(GovernanceFormView):
    model = Board
    action = "add"
    form_class = BoardForm
    heading = "New board"
    caption = "Boards and meetings"
    submit = "Create board"
    out_of_scope_field = "partnership"
    out_of_scope_message = "Choose one of your own partnerships"

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "partnerships": selectors.granted_partnerships(self.request.user),
            "boards": self.restricted("view"),
        }

    def get_initial(self):
        partnership = self.request.partnership
        return {"partnership": partnership} if partnership else {}

    def cancel_url(self) -> str:
        return reverse("governance:index")

    def perform(self, form) -> Board:
        return services.board_create(by=self.request.user, **form.cleaned_data)

    def get_success_message(self, board: Board) -> str:
        return f"Board “{board.name}” created. Add its members next."


class BoardEditView(GovernanceFormView):
    model = Board
    action = "change"
    form_class = BoardForm
    submit = "Save board"

    def object_queryset(self, model, action):
        qs = super().object_queryset(model, action)
        return qs.select_related("partnership") if model is Board else qs

    def board(self) -> Board:
        return self.get_object()

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "instance": self.board(),
            "partnerships": selectors.granted_partnerships(self.request.user),
            "boards": self.restricted("view"),
        }

    def get_heading(self) -> str:
        return f"Change {self.board().name}"

    def get_caption(self) -> str:
        board = self.board()
        return f"{board.partnership.name} · {board.code}"

    def cancel_url(self) -> str:
        return self.board().get_absolute_url()

    def get_context_data(self, **kwargs):
        return super().get_context_data(board=self.board(), **kwargs)

    def perform(self, form) -> Board:
        return services.board_update(board=self.board(), by=self.request.user, **form.cleaned_data)

    def get_success_message(self, board: Board) -> str:
        return f"Board “{board.name}” saved."


# --- Members --------------------------------------------------------------------------------------


class MembershipCreateView(GovernanceFormView):
    model = Membership
    action = "add"
    form_class = MembershipForm
    submit = "Add member"

    def object_queryset(self, model, action):
        qs = super().object_queryset(model, action)
        return qs.select_related("partnership") if model is Board else qs

    def board(self) -> Board:
        return self.get_object("view", model=Board)

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "board": self.board(),
            # the people of the board's partnership only (rules.md, rule 3)
            "people": Person.objects.restrict(self.request.user)
            .filter(pk__in=selectors.partnership_people(self.board().partnership).values("pk"))
            .order_by("name"),
        }

    def get_initial(self):
        return {"start": timezone.localdate(), "voting": False}  # a vote is given, never assumed

    def get_heading(self) -> str:
        return f"Add a member to {self.board().name}"

    def get_caption(self) -> str:
        board = self.board()
        return f"{board.partnership.name} · {board.code}"

    def cancel_url(self) -> str:
        return self.board().get_absolute_url() + "#members"

    def get_context_data(self, **kwargs):
        return super().get_context_data(board=self.board(), **kwargs)

    def perform(self, form) -> Membership:
        return services.membership_add(board=self.board(), by=self.request.user, **form.cleaned_data)

    def get_success_message(self, membership: Membership) -> str:
        return f"{membership.person} added as {membership.get_role_display().lower()}."

    def get_success_url(self, membership=None) -> str:
        return membership.board.get_absolute_url() + "#members"


class MembershipEditView(GovernanceFormView):
    model = Membership
    action = "change"
    form_class = MembershipForm
    submit = "Save membership"

    def object_queryset(self, model, action):
        return super().object_queryset(model, action).select_related("board__partnership", "person")

    def membership(self) -> Membership:
        return self.get_object()

    def get_form_kwargs(self):
        membership = self.membership()
        return {**super().get_form_kwargs(), "instance": membership, "board": membership.board}

    def get_heading(self) -> str:
        return f"Change the membership of {self.membership().person}"

    def get_caption(self) -> str:
        return self.membership().board.name

    def cancel_url(self) -> str:
        return self.membership().board.get_absolute_url() + "#members"

    def get_context_data(self, **kwargs):
        return super().get_context_data(board=self.membership().board, **kwargs)

    def perform(self, form) -> Membership:
        return services.membership_update(
            membership=self.membership(), by=self.request.user, **form.cleaned_data
        )

    def get_success_message(self, membership: Membership) -> str:
        return f"Membership of {membership.person} saved."

    def get_success_url(self, membership=None) -> str:
        return membership.board.get_absolute_url() + "#members"


# --- The forward plan -----------------------------------------------------------------------------


class ForwardPlanFormView(GovernanceFormView):
    """An entry of a board's forward plan; the views below say which board (``board()``) and,
    to change one, which entry."""

    model = ForwardPlanEntry
    form_class = ForwardPlanForm
    submit = "Save entry"

    def entry(self) -> ForwardPlanEntry | None:
        return None

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.entry(), "board": self.board()}

    def get_caption(self) -> str:
        return f"{self.board().name} · forward plan"

    def cancel_url(self) -> str:
        return self.board().get_absolute_url() + "#forward-plan"

    def get_context_data(self, **kwargs):
        return super().get_context_data(board=self.board(), **kwargs)

    def perform(self, form) -> ForwardPlanEntry:
        return services.forward_plan_save(
            board=self.board(), entry=self.entry(), by=self.request.user, **form.cleaned_data
        )

    def get_success_message(self, entry: ForwardPlanEntry) -> str:
        return f"Forward plan entry “{entry.title}” saved."

    def get_success_url(self, entry=None) -> str:
        return entry.board.get_absolute_url() + "#forward-plan"


class ForwardPlanCreateView(ForwardPlanFormView):
    """Add an entry to a board's forward plan (the board is ``board_pk``)."""

    action = "add"

    def object_queryset(self, model, action):
        qs = super().object_queryset(model, action)
        return qs.select_related("partnership") if model is Board else qs

    def board(self) -> Board:
        return self.get_object("view", model=Board, pk=self.kwargs["board_pk"])

    def get_initial(self):
        return {"key_decision": True, "publish": True}

    def get_heading(self) -> str:
        return f"Add to the forward plan of {self.board().name}"


class ForwardPlanEditView(ForwardPlanFormView):
    action = "change"

    def object_queryset(self, model, action):
        return super().object_queryset(model, action).select_related("board__partnership")

    def entry(self) -> ForwardPlanEntry:
        return self.get_object()

    def board(self) -> Board:
        return self.entry().board

    def get_heading(self) -> str:
        return f"Change “{self.entry().title}”"


class ForwardPlanPublishView(ServiceActionView):
    """Publish a forward plan entry: the system sets its first-published date to today."""

    model = ForwardPlanEntry
    action = "change"

    def act(self, entry: ForwardPlanEntry) -> str:
        published = services.forward_plan_publish(entry=entry, by=self.request.user)
        return f"“{entry.title}” published on the forward plan on {published.first_published_on:%-d %B %Y}."

    def back(self, entry: ForwardPlanEntry) -> str:
        return entry.board.get_absolute_url() + "#forward-plan"
