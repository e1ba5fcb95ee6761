"""What budgets keeps about records of the shared core: the schedule that funds a contract
(domain.md: a contract's "linked s75 schedule"). Budgets owns the link, so the core stays free of
the domain (conventions.md); the core's contract page and API show it through
``commissioning.registry.add_extension_field``."""

from __future__ import annotations

import pghistory
from django.db import models

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
