from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from commissioning.models import (
    AccessLog,
    ApiToken,
    Contract,
    ContractReview,
    DigestDelivery,
    Organisation,
    Partnership,
    PartnershipGrant,
    Person,
    Provider,
    User,
)


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "payment_terms_days", "active")
    list_filter = ("kind", "active")
    search_fields = ("code", "name")


@admin.register(Partnership)
class PartnershipAdmin(admin.ModelAdmin):
    list_display = ("name", "council", "nhs_commissioner", "active")
    list_select_related = ("council", "nhs_commissioner")


class GrantInline(admin.TabularInline):
    model = PartnershipGrant
    extra = 1
    fields = ("partnership", "granted_at")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [GrantInline]
    list_display = ("username", "first_name", "last_name", "organisation", "is_active", "is_superuser")
    list_filter = ("groups", "is_active", "is_superuser")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Organisation", {"fields": ("organisation", "job_title")}),
    )


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ("name", "role_title", "organisation", "user")
    search_fields = ("name", "role_title")


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ("organisation", "cqc_location_id", "cqc_rating", "approved_list_status")
    list_filter = ("cqc_rating", "approved_list_status")
    list_select_related = ("organisation",)
    search_fields = ("organisation__name", "cqc_location_id")


class ReviewInline(admin.TabularInline):
    model = ContractReview
    extra = 0


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = (
        "reference",
        "service",
        "partnership",
        "provider",
        "annual_value",
        "start",
        "end",
        "status",
    )
    list_filter = ("partnership", "status", "service_type")
    list_select_related = ("partnership", "provider__organisation")
    search_fields = ("reference", "service", "provider__organisation__name")
    inlines = [ReviewInline]


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Read-only: the table is append-only in the database too."""

    list_display = ("at", "user", "action", "object_repr", "partnership", "ip_address")
    list_filter = ("action", "partnership")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at")
    exclude = ()


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(admin.ModelAdmin):
    list_display = ("user", "week_start", "sent_at", "contracts_count")
    list_filter = ("week_start",)
