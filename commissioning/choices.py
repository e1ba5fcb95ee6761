"""Enumerations shared across apps. API values are the stored values (api.md); labels are for the UI."""

from django.db import models


class OrganisationKind(models.TextChoices):
    COUNCIL = "council", "Council"
    NHS_COMMISSIONER = "nhs_commissioner", "NHS commissioner (CCG/ICB)"
    NHS_TRUST = "nhs_trust", "NHS trust"
    PROVIDER = "provider", "Care provider"
    VOLUNTARY = "voluntary", "Voluntary sector body"


class ServiceType(models.TextChoices):
    DOMICILIARY = "domiciliary", "Domiciliary care"
    RESIDENTIAL = "residential", "Residential care"
    NURSING = "nursing", "Nursing care"
    SUPPORTED_LIVING = "supported_living", "Supported living"
    CHILDRENS_PLACEMENT = "childrens_placement", "Children's placement"
    DIRECT_PAYMENT = "direct_payment", "Direct payment"
    OTHER = "other", "Other"


class CQCRating(models.TextChoices):
    OUTSTANDING = "outstanding", "Outstanding"
    GOOD = "good", "Good"
    REQUIRES_IMPROVEMENT = "requires_improvement", "Requires improvement"
    INADEQUATE = "inadequate", "Inadequate"
    NOT_RATED = "not_rated", "Not rated"


class ApprovedListStatus(models.TextChoices):
    APPROVED = "approved", "Approved"
    PENDING = "pending", "Pending approval"
    SUSPENDED = "suspended", "Suspended"
    NOT_ON_LIST = "not_on_list", "Not on the approved list"


class ContractStatus(models.TextChoices):
    PIPELINE = "pipeline", "In procurement"
    LIVE = "live", "Live"
    EXTENDED = "extended", "Extended"
    ENDED = "ended", "Ended"
    TERMINATED = "terminated", "Terminated early"


class ProcurementRoute(models.TextChoices):
    OPEN = "open", "Open tender"
    RESTRICTED = "restricted", "Restricted tender"
    COMPETITIVE_FLEXIBLE = "competitive_flexible", "Competitive flexible procedure"
    FRAMEWORK = "framework", "Framework call-off"
    DIRECT_AWARD = "direct_award", "Direct award"
    PROVIDER_SELECTION = "provider_selection", "Provider Selection Regime"
    SPOT = "spot", "Spot purchase"
    GRANT = "grant", "Grant agreement"


class RAG(models.TextChoices):
    RED = "red", "Red"
    AMBER = "amber", "Amber"
    GREEN = "green", "Green"
