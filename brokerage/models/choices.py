"""The choices and status groups of the brokerage models, shared by models, forms and filters."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Cohort(models.TextChoices):
    ADULT_SOCIAL_CARE = "adult_social_care", "Adult social care"
    CHILDREN_LOOKED_AFTER = "children_looked_after", "Children looked after"
    CONTINUING_HEALTHCARE = "continuing_healthcare", "NHS continuing healthcare (CHC)"
    CHILDRENS_CONTINUING_CARE = "childrens_continuing_care", "Children's continuing care"
    SECTION_117 = "section_117", "Section 117 aftercare"
    OTHER = "other", "Other"


class Urgency(models.TextChoices):
    ROUTINE = "routine", "Routine"
    HOSPITAL_DISCHARGE = "hospital_discharge", "Hospital discharge"
    AT_RISK = "at_risk", "At risk of no support"


URGENT = (Urgency.HOSPITAL_DISCHARGE, Urgency.AT_RISK)

# How a referral's urgency is shown wherever a page shows it (the queue, the referral's page): its
# label (the choice's) in a GOV.UK tag of this class, or as plain text where the class is blank.
# Urgent referrals (``URGENT``, first in the queue) are tagged red.
URGENCY_TAG_CLASSES: dict[str, str] = {
    urgency.value: "govuk-tag--red" if urgency in URGENT else "" for urgency in Urgency
}


class ReferralStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    SOURCING = "sourcing", "Sourcing"
    OFFERED = "offered", "Offered"
    ACCEPTED = "accepted", "Accepted"
    STARTED = "started", "Started"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATUSES = (ReferralStatus.RECEIVED, ReferralStatus.SOURCING, ReferralStatus.OFFERED)


class Unit(models.TextChoices):
    HOUR = "hour", "Hour"
    NIGHT = "night", "Night"
    WEEK = "week", "Week"


class OfferStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    DECLINED = "declined", "Declined"
    ACCEPTED = "accepted", "Accepted"


class PackageStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    ENDED = "ended", "Ended"


class FundingBasis(models.TextChoices):
    PANEL_DECISION = "panel_decision", "Joint funding panel decision"
    CHC_ELIGIBILITY = "chc_eligibility", "CHC eligibility"
    S117 = "s117", "Section 117 aftercare"
    SINGLE_FUNDER = "single_funder", "Single funder"


# The shares of a funding split sum to exactly 100, also in the database (a deferred constraint


def percent_field(**kwargs) -> models.DecimalField:
    """A percentage with two places, 0 to 100 (a funding or panel share, a line's percent)."""
    return models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        **kwargs,
    )
