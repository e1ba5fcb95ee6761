"""Links budgets keeps to records of the core: the schedule that funds a contract."""

from __future__ import annotations

import pghistory
from django.db import transaction

from budgets.models import BudgetLine, ContractSchedule, LineFeed, Schedule
from budgets.services.base import Errors, raise_errors
from commissioning.choices import ServiceType
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


@transaction.atomic
def budget_line_feed_set(
    *, line: BudgetLine, service_types: list[str], package_ids: list[int], by: User
) -> LineFeed | None:
    """Feed a budget line from packages (rules.md, rule 2): its schedule's partnership's packages of
    these service types, and these packages one by one. Nothing to feed it: the line goes back to
    typed actuals (the feed is removed)."""
    errors: Errors = {}
    unknown = sorted(set(service_types) - set(ServiceType.values))
    if unknown:
        errors["service_types"] = [f"Unknown service type: {', '.join(unknown)}."]
    if any(int(pk) <= 0 for pk in package_ids):
        errors["package_ids"] = ["Package ids are positive whole numbers."]
    raise_errors(errors)
    types, ids = sorted(set(service_types)), sorted({int(pk) for pk in package_ids})
    feed = LineFeed.objects.select_for_update().filter(budget_line=line).first()
    with pghistory.context(user=by.pk):
        if not types and not ids:
            if feed is not None:
                feed.delete()
            return None
        if feed is None:
            return LineFeed.objects.create(budget_line=line, service_types=types, package_ids=ids)
        feed.service_types, feed.package_ids = types, ids
        feed.save(update_fields=["service_types", "package_ids"])
    return feed
