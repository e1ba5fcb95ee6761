"""Django admin for governance: read and correct reference data. Decisions, votes and packs are
read-only here; they change only through the services (references, quorum, call-in)."""

from django.contrib import admin

from governance import models


class MembershipInline(admin.TabularInline):
    model = models.Membership
    extra = 0
    autocomplete_fields = ["person"]


@admin.register(models.Board)
class BoardAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "partnership", "voting_mode", "council_executive", "delegated_limit"]
    list_filter = ["partnership", "voting_mode", "council_executive"]
    search_fields = ["name", "code"]
    inlines = [MembershipInline]


@admin.register(models.Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["board", "starts_at", "venue", "status"]
    list_filter = ["board", "status"]
    date_hierarchy = "starts_at"


@admin.register(models.Paper)
class PaperAdmin(admin.ModelAdmin):
    list_display = ["title", "board", "session", "version"]
    list_filter = ["board", "session"]
    search_fields = ["title"]


@admin.register(models.ForwardPlanEntry)
class ForwardPlanEntryAdmin(admin.ModelAdmin):
    list_display = ["title", "board", "key_decision", "first_published_on", "expected_meeting"]
    list_filter = ["board", "key_decision"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["reference", "minute_number", "outcome", "decided_on", "key_decision", "quorate"]
    list_filter = ["outcome", "key_decision"]
    search_fields = ["reference", "resolution"]


@admin.register(models.BoardPack)
class BoardPackAdmin(ReadOnlyAdmin):
    list_display = ["meeting", "audience", "version", "status", "page_count", "finished_at"]
    list_filter = ["audience", "status"]
