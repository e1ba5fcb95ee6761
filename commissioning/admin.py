"""Django admin of the shared core. Contracts are written through their services (the same rules,
history and lost-update guard as the register's pages); reviews are added on the contract's page;
the access log is append-only; API keys are created only by their owners (the key is shown once)
and can be revoked here."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from commissioning.generic.admin import ReadOnlyAdmin, ReadOnlyInline, ServiceAdmin
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
from commissioning.services import CONTRACT_FIELDS, api_token_revoke, contract_create, contract_update


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


class ReviewInline(ReadOnlyInline):
    model = ContractReview
    fields = ("review_date", "rag_rating", "notes", "reviewed_by")
    readonly_fields = fields


@admin.register(Contract)
class ContractAdmin(ServiceAdmin):
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
    readonly_fields = ("version",)
    inlines = [ReviewInline]

    def _arguments(self, form) -> dict:
        arguments = self.fields_of(form, CONTRACT_FIELDS)
        if "associate_commissioners" in form.cleaned_data:
            arguments["associate_commissioners"] = list(form.cleaned_data["associate_commissioners"])
        return arguments

    def create(self, request, form):
        return contract_create(by=request.user, **self._arguments(form))

    def update(self, request, obj, form):
        return contract_update(
            contract=obj, by=request.user, version=self.loaded_version(form), **self._arguments(form)
        )


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    """Read-only: the table is append-only in the database too."""

    list_display = ("at", "user", "action", "object_repr", "partnership", "ip_address")
    list_filter = ("action", "partnership")


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Keys are made by their owners on the profile page (the key is shown once and stored hashed);
    an administrator can revoke one here, for example when a laptop is lost."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__username", "prefix")
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser  # the revoke action needs it; the form has no fields to change

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in ApiToken._meta.fields]

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset):
        for token in queryset:
            api_token_revoke(token=token, by=request.user)
        messages.success(request, f"{queryset.count()} key(s) revoked.")


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(admin.ModelAdmin):
    list_display = ("user", "week_start", "sent_at", "contracts_count")
    list_filter = ("week_start",)
