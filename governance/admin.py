"""Django admin for governance: read and correct reference data. Every add and change goes through
the services, as the pages and the API do: the models' rules (``clean``) show on the fields, the
administrator is recorded in the history, a paper's version goes up. Decisions, votes and packs are
read-only here; they change only through the services (references, quorum, call-in)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from commissioning.generic.admin import ReadOnlyAdmin
from commissioning.generic.admin import ServiceAdmin as CoreServiceAdmin
from governance import models, services
from governance.services.boards import BOARD_FIELDS, FORWARD_PLAN_FIELDS, MEMBERSHIP_FIELDS
from governance.services.papers import PAPER_FIELDS


class ServiceAdmin(CoreServiceAdmin):
    """The core ServiceAdmin (the loaded version guarding against lost updates, the history naming
    the administrator), with each admin below naming the fields its services take
    (``service_fields``) and calling them in ``create(request, form, data)`` and
    ``update(request, obj, form, data)``."""

    service_fields: set[str] = set()

    def save_model(self, request, obj, form, change):
        data = self.fields_of(form, self.service_fields)
        saved = self.update(request, obj, form, data) if change else self.create(request, form, data)
        # The admin goes on with ``obj`` (its message, its log entry, the inlines): make it the row saved.
        for field in obj._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False


class MembershipInlineForm(forms.ModelForm):
    def clean_person(self):
        person = self.cleaned_data["person"]
        if self.instance.pk and person and person.pk != self.instance.person_id:
            raise ValidationError("The person of a membership cannot change: add a new one.")
        return person


class MembershipInline(admin.TabularInline):
    model = models.Membership
    form = MembershipInlineForm
    fields = ["person", "role", "voting", "representing", "start", "end"]
    extra = 0
    autocomplete_fields = ["person"]
    can_delete = False  # a membership ends (``end``); there is no service that deletes one


@admin.register(models.Board)
class BoardAdmin(ServiceAdmin):
    list_display = ["name", "code", "partnership", "voting_mode", "council_executive", "delegated_limit"]
    list_filter = ["partnership", "voting_mode", "council_executive"]
    search_fields = ["name", "code"]
    inlines = [MembershipInline]
    service_fields = BOARD_FIELDS

    def create(self, request, form, data):
        return services.board_create(by=request.user, **data)

    def update(self, request, board, form, data):
        return services.board_update(board=board, by=request.user, **data)

    def save_formset(self, request, form, formset, change):
        """Members through ``membership_add`` and ``membership_update`` (and what the admin's change
        message lists: ``new_objects``, ``changed_objects``, ``deleted_objects``)."""
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for member_form in formset.forms:
            if not member_form.has_changed():
                continue
            data = {name: member_form.cleaned_data[name] for name in MEMBERSHIP_FIELDS}
            membership = member_form.instance
            if membership.pk:
                saved = services.membership_update(membership=membership, by=request.user, **data)
                formset.changed_objects.append((saved, member_form.changed_data))
            else:
                person = member_form.cleaned_data["person"]
                saved = services.membership_add(board=form.instance, person=person, by=request.user, **data)
                formset.new_objects.append(saved)


@admin.register(models.Meeting)
class MeetingAdmin(ServiceAdmin):
    list_display = ["board", "starts_at", "venue", "status"]
    list_filter = ["board", "status"]
    date_hierarchy = "starts_at"
    service_fields = {"starts_at", "venue", "status", "board"}

    def get_fields(self, request, obj=None):
        # A new meeting starts scheduled, with its standing items; it stays with its board.
        return ["board", "starts_at", "venue"] if obj is None else ["board", "starts_at", "venue", "status"]

    def get_readonly_fields(self, request, obj=None):
        return ["board"] if obj is not None else []

    def create(self, request, form, data):
        return services.meeting_create(by=request.user, **data)

    def update(self, request, meeting, form, data):
        return services.meeting_update(meeting=meeting, by=request.user, **data)


@admin.register(models.Paper)
class PaperAdmin(ServiceAdmin):
    list_display = ["title", "board", "session", "version"]
    list_filter = ["board", "session"]
    search_fields = ["title"]
    service_fields = PAPER_FIELDS
    fields = [
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
        "loaded_version",
    ]

    def get_readonly_fields(self, request, obj=None):
        return ["board", "version"] if obj is not None else []

    def get_fields(self, request, obj=None):
        return [*self.fields, "version"] if obj is not None else self.fields

    def create(self, request, form, data):
        return services.paper_create(by=request.user, **data)

    def update(self, request, paper, form, data):
        version = self.loaded_version(form)
        return services.paper_update(paper=paper, version=version, by=request.user, **data)


@admin.register(models.ForwardPlanEntry)
class ForwardPlanEntryAdmin(ServiceAdmin):
    list_display = ["title", "board", "key_decision", "first_published_on", "expected_meeting"]
    list_filter = ["board", "key_decision"]
    service_fields = FORWARD_PLAN_FIELDS

    def get_readonly_fields(self, request, obj=None):
        return ["board"] if obj is not None else []

    def create(self, request, form, data):
        return services.forward_plan_save(board=form.cleaned_data["board"], by=request.user, **data)

    def update(self, request, entry, form, data):
        return services.forward_plan_save(board=entry.board, entry=entry, by=request.user, **data)

    @admin.action(description="Publish the selected entries (first published today)")
    def publish(self, request, queryset):
        published = 0
        for entry in queryset.filter(first_published_on__isnull=True):
            services.forward_plan_publish(entry=entry, by=request.user)
            published += 1
        self.message_user(request, f"{published} forward plan entries published.")

    actions = ["publish"]


@admin.register(models.Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["reference", "minute_number", "outcome", "decided_on", "key_decision", "quorate"]
    list_filter = ["outcome", "key_decision"]
    search_fields = ["reference", "resolution"]


@admin.register(models.BoardPack)
class BoardPackAdmin(ReadOnlyAdmin):
    list_display = ["meeting", "audience", "version", "status", "page_count", "finished_at"]
    list_filter = ["audience", "status"]
