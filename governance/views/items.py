"""Agenda items: adding and ordering them on a meeting's agenda, an item's page (its paper,
declarations of interest, whether the board is quorate for it, its decisions) and declaring an
interest on it."""

from __future__ import annotations

from django.urls import reverse

from commissioning.generic import ObjectView, ServiceActionView
from commissioning.models import Person
from governance import selectors, services
from governance.forms import AgendaItemForm, DecisionForm, DeclarationForm
from governance.models import (
    AgendaItem,
    Decision,
    ForwardPlanEntry,
    InterestDeclaration,
    Paper,
    PaperAppendix,
)
from governance.views.base import FormOnPage
from governance.views.meetings import OnMeetingPage


class AgendaItemDetailView(ObjectView):
    """One item: its paper, declarations, whether it is quorate before the vote, and its decisions."""

    model = AgendaItem
    template_name = "governance/item_detail.html"
    context_object_name = "item"

    def object_queryset(self, model, action):
        qs = super().object_queryset(model, action)
        return qs.select_related("meeting__board__partnership", "paper") if model is AgendaItem else qs

    def get_context_data(self, **kwargs):
        item = self.object
        board = item.meeting.board
        members = Person.objects.filter(
            pk__in=selectors.members_on(board, item.meeting.local_date).values("person_id")
        )
        kwargs.setdefault(
            "decision_form",
            DecisionForm(voters=selectors.voters_for_item(item), casting=board.chair_has_casting_vote),
        )
        kwargs.setdefault("declaration_form", DeclarationForm(people=members.order_by("name")))
        paper = item.paper
        return super().get_context_data(
            page_title=item.title,
            meeting=item.meeting,
            board=board,
            quorum=selectors.quorum_for_item(item),
            paper=paper if paper and self.may("view", paper) else None,
            appendices=self.restricted("view", PaperAppendix).filter(paper=paper) if paper else [],
            declarations=item.declarations.select_related("person"),
            decisions=self.restricted("view", Decision).filter(agenda_item=item),
            can_decide=self.user_can("add", Decision),
            can_declare=self.user_can("add", InterestDeclaration),
            **kwargs,
        )


class AgendaItemAddView(OnMeetingPage):
    model = AgendaItem
    action = "add"
    form_class = AgendaItemForm
    form_name = "item_form"

    def get_form_kwargs(self):
        board = self.page_object().board
        papers = self.restricted("view", Paper).filter(board=board)
        entries = self.restricted("view", ForwardPlanEntry).filter(
            board=board, first_published_on__isnull=False
        )
        return {**super().get_form_kwargs(), "papers": papers, "entries": entries}

    def perform(self, form) -> AgendaItem:
        return services.agenda_item_add(meeting=self.page_object(), by=self.request.user, **form.cleaned_data)

    def get_success_message(self, item: AgendaItem) -> str:
        return f"Item “{item.title}” added to the agenda."

    def get_success_url(self, item=None) -> str:
        return self.meeting_url()


class AgendaItemMoveView(ServiceActionView):
    """Move an item up or down its part of the agenda."""

    model = AgendaItem
    action = "change"

    def act(self, item: AgendaItem) -> str:
        services.agenda_item_move(
            item=item, direction=self.request.POST.get("direction", ""), by=self.request.user
        )
        return ""

    def back(self, item: AgendaItem) -> str:
        return item.meeting.get_absolute_url()


class OnItemPage(FormOnPage):
    """A form on an item's page (``pk`` is the item)."""

    page_view = AgendaItemDetailView
    item_action = "view"

    def object_queryset(self, model, action):
        qs = super().object_queryset(model, action)
        return qs.select_related("meeting__board__partnership", "paper") if model is AgendaItem else qs

    def page_object(self) -> AgendaItem:
        return self.get_object(self.item_action, model=AgendaItem)


class DeclarationRecordView(OnItemPage):
    """A member declares an interest on an item (a board secretary may record anyone's)."""

    model = InterestDeclaration
    action = "add"
    form_class = DeclarationForm
    form_name = "declaration_form"
    success_message = "Declaration of interest recorded."

    def get_form_kwargs(self):
        item = self.page_object()
        members = selectors.members_on(item.meeting.board, item.meeting.local_date).values("person_id")
        return {**super().get_form_kwargs(), "people": Person.objects.filter(pk__in=members)}

    def perform(self, form) -> InterestDeclaration:
        item = self.page_object()
        return services.declaration_record(
            board=item.meeting.board, agenda_item=item, by=self.request.user, **form.cleaned_data
        )

    def get_success_url(self, result=None) -> str:
        return reverse("governance:item", args=[self.page_object().pk])
