"""The register of interests: the year's register and who has not declared, one person's register,
the annual declaration (a nil return included) and changes during the year."""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView

from commissioning.generic import GateMixin
from governance import selectors, services
from governance.forms import RegisterChangeForm, RegisterEntryForm
from governance.models import (
    DECLARE_CHANGES_WITHIN_DAYS,
    InterestDeclaration,
    Membership,
    RegisterChange,
    RegisterEntry,
)
from governance.views.base import GovernanceFormView


class RegisterMixin(GateMixin):
    # The register's own permission (governance/roles.py), not the board's: brokers and finance
    # may read boards and decisions but not members' interests.
    model = RegisterEntry

    def partnerships(self):
        """The partnerships granted to the user, narrowed to the one chosen in the header."""
        granted = selectors.granted_partnerships(self.request.user)
        if self.request.partnership:
            return granted.filter(pk=self.request.partnership.pk)
        return granted


class RegisterView(RegisterMixin, TemplateView):
    """The register of interests for the year and the members who have not declared."""

    template_name = "governance/register.html"

    def get_context_data(self, **kwargs):
        year = selectors.register_year(timezone.localdate())
        partnership = self.request.partnership
        partnerships = (
            [partnership] if partnership else list(selectors.granted_partnerships(self.request.user))
        )
        return super().get_context_data(
            page_title="Register of interests",
            year=year,
            entries=self.restricted("view").filter(year=year).select_related("person", "partnership"),
            missing=[(p, selectors.members_not_declared(p, year)) for p in partnerships],
            changes=selectors.register_changes(self.request.user, partnerships, year),
            within_days=DECLARE_CHANGES_WITHIN_DAYS,
            can_declare=self.user_can("add"),
            can_declare_change=self.user_can("add", RegisterChange),
            **kwargs,
        )


class RegisterPersonView(RegisterMixin, TemplateView):
    """One person's register: annual declarations, changes during the year (late ones flagged) and
    their declarations at meetings."""

    template_name = "governance/register_person.html"

    def get_context_data(self, **kwargs):
        partnerships = self.partnerships()
        person = selectors.register_person(partnerships, self.kwargs["pk"])
        if person is None:
            raise Http404("No such member of your partnerships' boards")
        changes = list(
            self.restricted("view", RegisterChange)
            .filter(person=person, partnership__in=partnerships)
            .select_related("partnership")
        )
        return super().get_context_data(
            page_title=f"Register of interests: {person.name}",
            person=person,
            memberships=self.restricted("view", Membership)
            .filter(person=person, board__partnership__in=partnerships)
            .select_related("board"),
            entries=self.restricted("view")
            .filter(person=person, partnership__in=partnerships)
            .select_related("partnership"),
            changes=changes,
            late_count=sum(1 for c in changes if c.late),
            declarations=self.restricted("view", InterestDeclaration)
            .filter(person=person, board__partnership__in=partnerships)
            .select_related("board", "meeting", "agenda_item")
            .order_by("-declared_on"),
            can_declare=self.user_can("add"),
            can_change=self.user_can("add", RegisterChange),
            **kwargs,
        )


class RegisterDeclareView(GovernanceFormView):
    """The annual declaration of interests (a nil return included)."""

    model = RegisterEntry
    action = "add"
    form_class = RegisterEntryForm
    caption = "Register of interests"
    submit = "Make declaration"
    out_of_scope_field = "partnership"
    out_of_scope_message = "Choose one of your own partnerships"

    def year(self) -> int:
        return selectors.register_year(timezone.localdate())

    def choices(self):
        """Whom the user may declare for, and in which of their partnerships."""
        if not hasattr(self, "_choices"):
            user = self.request.user
            partnerships = selectors.granted_partnerships(user).order_by("name")
            self._choices = selectors.register_people(user, partnerships), partnerships
        return self._choices

    def get_form_kwargs(self):
        people, partnerships = self.choices()
        return {**super().get_form_kwargs(), "people": people, "partnerships": partnerships}

    def get_initial(self):
        people, partnerships = self.choices()
        initial = {"person": people.first()} if people.count() == 1 else {}
        if self.request.partnership:
            initial["partnership"] = self.request.partnership
        elif partnerships.count() == 1:
            initial["partnership"] = partnerships.first()
        return initial

    def get_heading(self) -> str:
        year = self.year()
        return f"Declare interests for {year}/{str(year + 1)[2:]}"

    def cancel_url(self) -> str:
        return reverse("governance:register")

    def perform(self, form) -> RegisterEntry:
        data = form.cleaned_data
        return services.register_entry_record(
            person=data["person"],
            partnership=data["partnership"],
            year=self.year(),
            nil_return=data["nil_return"],
            interests=data["interests"],
            by=self.request.user,
        )

    def get_success_message(self, entry: RegisterEntry) -> str:
        return f"Declaration of {entry.person} recorded{' (nil return)' if entry.nil_return else ''}."

    def get_success_url(self, entry=None) -> str:
        return reverse("governance:register-person", args=[entry.person_id])


class RegisterChangeView(RegisterDeclareView):
    """A change to one's interests during the year, due within 28 days of arising."""

    model = RegisterChange
    form_class = RegisterChangeForm
    heading = "Declare a change to your interests"
    submit = "Declare change"

    def get_heading(self) -> str:
        return self.heading

    def perform(self, form) -> RegisterChange:
        return services.register_change_record(by=self.request.user, **form.cleaned_data)

    def get_success_message(self, change: RegisterChange) -> str:
        if change.late:
            return (
                f"Change recorded for {change.person}. It was declared {change.days_to_declare} days after "
                "it arose, later than the 28 days allowed, so the register flags it as late."
            )
        return f"Change recorded for {change.person}."
