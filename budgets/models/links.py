"""What budgets keeps about records of the shared core: the schedule that funds a contract
(domain.md: a contract's "linked s75 schedule"). Budgets owns the link, so the core stays free of
the domain (conventions.md); the core's contract page and API show it through
``commissioning.registry.add_extension_field``."""

from __future__ import annotations

import pghistory
from django.contrib.postgres.fields import ArrayField
from django.db import models

from commissioning.choices import ServiceType
from commissioning.models import Contract, User
from commissioning.permissions import RestrictedManager


@pghistory.track()
class ContractSchedule(models.Model):
    """A contract funded from a schedule of a section 75 agreement of the same partnership (at most
    one schedule a contract; a schedule funds any number)."""

    contract = models.OneToOneField(Contract, on_delete=models.CASCADE, related_name="funding_schedule_link")
    schedule = models.ForeignKey("budgets.Schedule", on_delete=models.PROTECT, related_name="contract_links")
    linked_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    linked_at = models.DateTimeField(auto_now=True)

    partnership_path = "schedule__agreement__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["schedule", "contract__reference"]
        verbose_name = "contract's funding schedule"

    def __str__(self) -> str:
        return f"{self.contract.reference} funded by schedule {self.schedule.number}"


@pghistory.track()
class LineFeed(models.Model):
    """A budget line fed by packages instead of typed actuals (rules.md, rule 2): the packages of
    its schedule's partnership of these service types, and these packages one by one (by id: the
    packages are brokerage's, read through ``commissioning.registry.cost_feed``)."""

    budget_line = models.OneToOneField("budgets.BudgetLine", on_delete=models.CASCADE, related_name="feed")
    service_types = ArrayField(
        models.CharField(max_length=25, choices=ServiceType.choices), default=list, blank=True
    )
    package_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)

    partnership_path = "budget_line__schedule__agreement__partnership"
    objects = RestrictedManager()

    class Meta:
        verbose_name = "budget line fed by packages"

    def __str__(self) -> str:
        return f"Packages feeding {self.budget_line}"
