"""Links budgets keeps to records of the core: the schedule that funds a contract."""

from __future__ import annotations

import pghistory
from django.db import transaction

from budgets.models import ContractSchedule, Schedule
from budgets.services.base import Errors, raise_errors
from commissioning.models import Contract, User


@transaction.atomic
def contract_schedule_set(
    *, contract: Contract, schedule: Schedule | None, by: User
) -> ContractSchedule | None:
    """Say which schedule funds ``contract`` (None: no schedule). The schedule must be one of an
    agreement of the contract's own partnership. Returns the link (None once removed); the
    contract's cached link is brought up to date, so a page or an API answer built from it next
    shows the change."""
    errors: Errors = {}
    if schedule is not None and schedule.agreement.partnership_id != contract.partnership_id:
        errors["schedule"] = [f"Choose a schedule of an agreement of {contract.partnership.name}."]
    raise_errors(errors)
    Contract.objects.select_for_update().filter(pk=contract.pk).first()  # one writer at a time
    link = ContractSchedule.objects.filter(contract=contract).first()
    with pghistory.context(user=by.pk):
        if schedule is None:
            if link is not None:
                link.delete()
            link = None
        elif link is None:
            link = ContractSchedule.objects.create(contract=contract, schedule=schedule, linked_by=by)
        elif link.schedule_id != schedule.pk:
            link.schedule, link.linked_by = schedule, by
            link.save(update_fields=["schedule", "linked_by", "linked_at"])
    Contract.funding_schedule_link.related.set_cached_value(contract, link)
    return link
