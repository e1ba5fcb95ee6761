"""A meeting's page and what the secretary does on it: plan the meeting, record attendance, write
and approve the minutes, set and close actions."""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse

from commissioning.generic import ObjectView, ServiceActionView
from commissioning.models import Person
from governance import selectors, services
from governance.forms import (
    ActionForm,
    ActionStatusForm,
    AgendaItemForm,
    AttendanceForm,
    MeetingForm,
    MinutesForm,
)
from governance.models import (
    Action,
    AgendaItem,
    Attendance,
    Board,
    BoardPack,
    ForwardPlanEntry,
    Meeting,
    MeetingStatus,
    Minutes,
    PackStatus,
    Paper,
)
from governance.views.base import ButtonForm, ConfirmStep, FormOnPage
from governance.views.boards import BoardDetailView


class MeetingDetailView(ObjectView):
    model = Meeting
    template_name = "governance/meeting_detail.html"
    context_object_name = "meeting"

    def object_queryset(self, model, action):
        return super().object_queryset(model, action).select_related("board__partnership")

    def get_context_data(self, **kwargs):
        meeting = self.object
        user = self.request.user
        board = meeting.board
        items = list(selectors.agenda_for(meeting, user))
        day = meeting.local_date
        kwargs.setdefault(
            "item_form",
            AgendaItemForm(
                papers=self.restricted("view", Paper).filter(board=board),
                entries=self.restricted("view", ForwardPlanEntry).filter(
                    board=board, first_published_on__isnull=False
                ),
            ),
        )
        kwargs.setdefault(
            "attendance_form",
            AttendanceForm(
                people=Person.objects.filter(memberships__board=board).distinct().order_by("name")
                | Person.objects.filter(attendance__meeting=meeting).distinct(),
                members=Person.objects.filter(
                    pk__in=selectors.members_on(board, day).values("person_id")
                ).order_by("name"),
            ),
        )
        packs = self.restricted("view", BoardPack).filter(meeting=meeting).order_by("audience", "-version")
        minutes = Minutes.objects.filter(meeting=meeting).prefetch_related("entries").first()
        kwargs.setdefault("minutes_form", MinutesForm(items=items, minutes=minutes))
        kwargs.setdefault("action_form", ActionForm(people=selectors.board_people(board, meeting)))
        previous = (
            Meeting.objects.filter(board=board, starts_at__lt=meeting.starts_at)
            .order_by("-starts_at")
            .first()
        )
        previous_minutes = Minutes.objects.filter(meeting=previous).first() if previous else None
        return super().get_context_data(
            page_title=str(meeting),
            board=board,
            items=items,
            hidden_count=meeting.agenda_items.count() - len(items),
            attendance=Attendance.objects.filter(meeting=meeting).select_related("person", "substitute_for"),
            action_log=selectors.action_log_for(meeting, user),
            actions=self.restricted("view", Action).filter(meeting=meeting).select_related("owner"),
            minutes=minutes,
            minute_entries=[e for e in minutes.entries.all() if e.agenda_item_id in {i.pk for i in items}]
            if minutes
            else [],
            previous_minutes=previous_minutes,
            packs=packs,
            packs_busy=any(p.status in (PackStatus.QUEUED, PackStatus.RENDERING) for p in packs),
            can_change=self.user_can("change") and self.user_can("add", AgendaItem),
            can_generate=self.user_can("add", BoardPack),
            can_close_actions=self.user_can("change", Action),
            can_members_pack=services.may_generate_members_pack(user, meeting),
            can_mark_held=meeting.status in (MeetingStatus.SCHEDULED, MeetingStatus.AGENDA_PUBLISHED),
            **kwargs,
        )


class MeetingPacksPartial(MeetingDetailView):
    """The packs table alone, polled by htmx while a pack renders."""

    template_name = "governance/_packs.html"


class MeetingCreateView(FormOnPage):
    """Plan a meeting of a board (from the board's page): it starts with its standing items."""

    model = Meeting
    action = "add"
    form_class = MeetingForm
    page_view = BoardDetailView
    form_name = "meeting_form"

    def page_object(self) -> Board:
        return self.get_object("change", model=Board)

    def perform(self, form) -> Meeting:
        return services.meeting_create(
            board=self.page_object(),
            starts_at=form.starts_at(),
            venue=form.cleaned_data["venue"],
            by=self.request.user,
        )

    def get_success_message(self, meeting: Meeting) -> str:
        return f"Meeting of {meeting.board.name} planned with its standing items."


class OnMeetingPage(FormOnPage):
    """A form on a meeting's page (``pk`` is the meeting, which the user must be able to change)."""

    page_view = MeetingDetailView

    def object_queryset(self, model, action):
        qs = super().object_queryset(model, action)
        return qs.select_related("board__partnership") if model is Meeting else qs

    def page_object(self) -> Meeting:
        return self.get_object("change", model=Meeting)

    def meeting_url(self, anchor: str = "") -> str:
        return reverse("governance:meeting", args=[self.page_object().pk]) + anchor


class AttendanceRecordView(OnMeetingPage):
    model = Attendance
    action = "add"
    form_class = AttendanceForm
    form_name = "attendance_form"
    success_message = "Attendance recorded."

    def get_form_kwargs(self):
        meeting = self.page_object()
        members = selectors.members_on(meeting.board, meeting.local_date).values("person_id")
        return {
            **super().get_form_kwargs(),
            "people": Person.objects.restrict(self.request.user),
            "members": Person.objects.filter(pk__in=members),
        }

    def perform(self, form) -> Attendance:
        return services.attendance_record(
            meeting=self.page_object(), by=self.request.user, **form.cleaned_data
        )

    def get_success_url(self, result=None) -> str:
        return self.meeting_url()


class MinutesWriteView(OnMeetingPage):
    model = Minutes
    action = "add"
    form_class = MinutesForm
    form_name = "minutes_form"
    success_message = "Minutes saved and numbered."

    def get_form_kwargs(self):
        meeting = self.page_object()
        return {
            **super().get_form_kwargs(),
            "items": list(selectors.agenda_for(meeting, self.request.user)),
            "minutes": Minutes.objects.filter(meeting=meeting).first(),
        }

    def perform(self, form) -> Minutes:
        return services.minutes_write(
            meeting=self.page_object(),
            entries=form.entries(),
            part2_summary=form.cleaned_data["part2_summary"],
            by=self.request.user,
        )

    def get_success_url(self, result=None) -> str:
        return self.meeting_url("#minutes")


class MinutesApproveView(ConfirmStep, ServiceActionView):
    """Approve the previous meeting's minutes (``minutes`` in the form) at this meeting (``pk``),
    after the "Are you sure?" step (GET, ``?minutes=``)."""

    model = Minutes
    action = "change"
    http_method_names = ["get", "post"]

    def get_target(self) -> Minutes:
        self.meeting = self.get_object("change", model=Meeting)
        data = self.request.POST if self.request.method == "POST" else self.request.GET
        return self.get_object("change", pk=data.get("minutes") or "")

    def confirm_target(self) -> Minutes:
        return self.get_target()

    def confirm_context(self, minutes: Minutes) -> dict:
        return {
            "caption": str(self.meeting),
            "heading": f"Approve the minutes of {minutes.meeting.local_date:%-d %B %Y}?",
            "explanation": [
                f"The board approves them at this meeting ({self.meeting.local_date:%-d %B %Y}).",
                "Approved minutes are published on the public site and can no longer change.",
            ],
            "hidden": [("minutes", minutes.pk)],
            "confirm_label": "Yes, approve the minutes",
            "cancel_url": self.meeting.get_absolute_url(),
        }

    def act(self, minutes: Minutes) -> str:
        services.minutes_approve(minutes=minutes, at_meeting=self.meeting, by=self.request.user)
        return f"Minutes of {minutes.meeting} approved."

    def back(self, minutes: Minutes) -> str:
        return self.meeting.get_absolute_url()


class ActionAddView(OnMeetingPage):
    model = Action
    action = "add"
    form_class = ActionForm
    form_name = "action_form"
    success_message = "Action added."

    def get_form_kwargs(self):
        meeting = self.page_object()
        return {**super().get_form_kwargs(), "people": selectors.board_people(meeting.board, meeting)}

    def perform(self, form) -> Action:
        return services.action_add(meeting=self.page_object(), by=self.request.user, **form.cleaned_data)

    def get_success_url(self, result=None) -> str:
        return self.meeting_url("#actions")


class ActionStatusView(ButtonForm):
    """Mark an action done or dropped: it leaves the action log of the board's next meetings. Goes
    back to the meeting page it was closed from (``meeting``), else the action's own meeting."""

    model = Action
    action = "change"
    form_class = ActionStatusForm
    invalid_message = "Choose open, done or dropped for the action."

    def object_queryset(self, model, action):
        return super().object_queryset(model, action).select_related("meeting")

    def target(self) -> Action:
        return self.get_object()

    def perform(self, form) -> Action:
        return services.action_set_status(
            action=self.target(), status=form.cleaned_data["status"], by=self.request.user
        )

    def get_success_message(self, action: Action) -> str:
        return f"Action marked {action.get_status_display().lower()}."

    def back(self) -> str:
        back = self.request.POST.get("meeting")
        meeting = (
            self.restricted("view", Meeting).filter(pk=back).first() if back and back.isdigit() else None
        )
        return reverse("governance:meeting", args=[(meeting or self.target().meeting).pk]) + "#action-log"


class AgendaPublishView(ConfirmStep, ServiceActionView):
    """Publish the agenda (after "Are you sure?"): its item and enclosure numbers freeze."""

    model = Meeting
    action = "change"
    http_method_names = ["get", "post"]

    def confirm_target(self) -> Meeting:
        return self.get_target()

    def confirm_context(self, meeting: Meeting) -> dict:
        return {
            "caption": meeting.board.name,
            "heading": f"Publish the agenda of {meeting.local_date:%-d %B %Y}?",
            "explanation": [
                "The agenda goes on the public site with its item and enclosure numbers.",
                "Once published those numbers never change: an item added later is numbered after "
                "the item it follows (for example 5A) and goes out in a numbered supplement.",
            ],
            "confirm_label": "Yes, publish the agenda",
            "cancel_url": meeting.get_absolute_url(),
        }

    def act(self, meeting: Meeting) -> str:
        services.agenda_publish(meeting=meeting, by=self.request.user)
        return "Agenda published: item and enclosure numbers are now fixed."


class MeetingHeldView(ServiceActionView):
    """Mark the meeting held: it has started and its attendance is recorded."""

    model = Meeting
    action = "change"

    def act(self, meeting: Meeting) -> str:
        services.meeting_mark_held(meeting=meeting, by=self.request.user)
        return "Meeting marked held."


class MinutesPublishDraftView(ServiceActionView):
    """Publish this meeting's draft minutes, marked "Draft, subject to approval"."""

    model = Minutes
    action = "change"

    def get_target(self) -> Minutes:
        self.meeting = self.get_object("change", model=Meeting)
        self.require_role("change", Minutes)
        minutes = Minutes.objects.filter(meeting=self.meeting).first()
        if minutes is None:
            raise Http404("No minutes written yet")
        return minutes

    def act(self, minutes: Minutes) -> str:
        services.minutes_publish_draft(minutes=minutes, by=self.request.user)
        return "Draft minutes published, marked “Draft, subject to approval”."

    def back(self, minutes: Minutes) -> str:
        return self.meeting.get_absolute_url() + "#minutes"
