"""Rate cards: the council's baseline price of a service type for a financial year."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pghistory
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, IntegerField, Q, When
from django.db.models.functions import ExtractYear

from commissioning.choices import ServiceType
from commissioning.models import Partnership
from commissioning.money import money_field
from commissioning.permissions import RestrictedManager

from .. import rates
from .choices import Unit


@pghistory.track()
class RateCard(models.Model):
    """The baseline (council) price of a service type in a partnership for one financial year."""

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="rate_cards")
    service_type = models.CharField(max_length=25, choices=ServiceType.choices)
    year = models.PositiveSmallIntegerField(
        "financial year",
        validators=[MinValueValidator(2000), MaxValueValidator(2100)],
        help_text="The year the financial year starts: 2024 is 2024/25",
    )
    unit_rate = money_field()
    unit = models.CharField(max_length=10, choices=Unit.choices)

    partnership_path = "partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-year", "service_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "service_type", "year"], name="rate_card_once_per_service_and_year"
            ),
            models.CheckConstraint(condition=Q(unit_rate__gte=0), name="rate_card_rate_non_negative"),
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2100), name="rate_card_year_range"),
        ]

    def __str__(self) -> str:
        return f"{self.get_service_type_display()} {self.year_label}: {self.unit_rate} per {self.unit}"

    @property
    def year_label(self) -> str:
        return rates.financial_year_label(self.year)


def rate_card_rate(*, partnership_id: int, service_type: str, unit: str, day: date) -> Decimal | None:
    """The rate card's unit rate for a service type in a partnership, in ``unit``, for the financial
    year of ``day`` (None if there is none: then any price needs a manager's approval)."""
    return (
        RateCard.objects.filter(
            partnership_id=partnership_id,
            service_type=service_type,
            unit=unit,
            year=rates.financial_year(day),
        )
        .values_list("unit_rate", flat=True)
        .first()
    )


def financial_year_expression(field_name: str):
    """SQL for the financial year (its starting year) of a date column."""
    return Case(
        When(**{f"{field_name}__month__gte": 4}, then=ExtractYear(field_name)),
        default=ExtractYear(field_name) - 1,
        output_field=IntegerField(),
    )
