"""Read-mostly admin for support staff. Costs, splits and decisions change through the services
(the pages and the API) so their history and overlap rules hold; here they are read-only. Clients
and referrals are not here at all: every view of a client's record must go through the pages,
which write the access log."""

from django.contrib import admin

from commissioning.generic.admin import ReadOnlyAdmin

from .models import FundingSplit, Offer, Package, PackageCost, PanelDecision, RateCard


@admin.register(RateCard)
class RateCardAdmin(ReadOnlyAdmin):
    list_display = ("partnership", "service_type", "year", "unit_rate", "unit")
    list_filter = ("partnership", "year", "service_type")


@admin.register(Offer)
class OfferAdmin(ReadOnlyAdmin):
    list_display = ("referral", "provider", "unit_rate", "units_per_week", "unit", "status", "approved_by")
    list_filter = ("status",)


@admin.register(Package)
class PackageAdmin(ReadOnlyAdmin):
    list_display = ("reference", "provider", "service_type", "start", "end", "status")
    list_filter = ("status", "service_type")
    list_select_related = ("provider__organisation",)


@admin.register(PackageCost)
class PackageCostAdmin(ReadOnlyAdmin):
    list_display = ("package", "effective_from", "effective_to", "unit_rate", "units_per_week", "unit")


@admin.register(FundingSplit)
class FundingSplitAdmin(ReadOnlyAdmin):
    list_display = ("package", "effective_from", "effective_to", "basis", "decision_reference")


@admin.register(PanelDecision)
class PanelDecisionAdmin(ReadOnlyAdmin):
    list_display = ("reference", "meeting_date", "effective_from", "review_date", "applied_at")
