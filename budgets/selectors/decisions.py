"""Decision traceability: the governance decisions behind agreements, budget lines and virements,
and the amounts a decision's links record."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

from budgets.models import BudgetLine, Virement
from governance.models import Decision, DecisionLink


@dataclass(frozen=True)
class DecisionRef:
    """A decision that approved an agreement, budget line or virement, as the budgets pages show
    it. ``decision`` is None when the user may not see it (an exempt item they are not entitled
    to): then only its reference, already on the record, is shown. The amounts are those the
    decision's link records, when it records them."""

    reference: str
    decision: Any = None  # governance.Decision, with its meeting and board
    amount_before: Decimal | None = None
    amount_after: Decimal | None = None
    description: str = ""

    @property
    def has_amounts(self) -> bool:
        return self.amount_before is not None or self.amount_after is not None


def decision_refs(user, objects: Sequence[models.Model]) -> dict[int, list[DecisionRef]]:
    """The decisions behind each object (all of one model with a ``decision`` foreign key): its
    approving decision and every decision linked to it (governance.DecisionLink), by the object's
    pk, approving decision first, then by date. At most three queries, whatever the number of
    objects (the third only when some approving decision is hidden from the user)."""
    return decision_refs_of(user, objects)[0]


def decision_refs_of(user, *groups: Sequence[models.Model]) -> list[dict[int, list[DecisionRef]]]:
    """``decision_refs`` of several groups of objects (each of one model, e.g. a schedule's lines
    and its virements) in the same at most three queries: one dict per group, in order."""
    groups = [list(objects) for objects in groups]
    kinds = [ContentType.objects.get_for_model(type(objects[0])) if objects else None for objects in groups]
    wanted = Q()
    for objects, kind in zip(groups, kinds, strict=True):
        if objects:
            wanted |= Q(content_type=kind, object_id__in=[o.pk for o in objects])
    if not wanted:
        return [{} for _ in groups]
    links = list(
        DecisionLink.objects.restrict(user)
        .filter(wanted)
        .select_related("decision__agenda_item__meeting__board")
    )
    by_object: dict[tuple[int, int], list] = defaultdict(list)
    for link in links:
        by_object[(link.content_type_id, link.object_id)].append(link)
    decisions = {link.decision_id: link.decision for link in links}
    approving = {o.decision_id for objects in groups for o in objects if o.decision_id} - decisions.keys()
    if approving:
        decisions |= {
            d.pk: d
            for d in Decision.objects.restrict(user)
            .filter(pk__in=approving)
            .select_related("agenda_item__meeting__board")
        }
    hidden = dict(
        Decision.objects.filter(pk__in=approving - decisions.keys()).values_list("pk", "reference")
        if approving - decisions.keys()
        else ()
    )
    result = []
    for objects, kind in zip(groups, kinds, strict=True):
        refs: dict[int, list[DecisionRef]] = {}
        for obj in objects:
            found = []
            own = {link.decision_id: link for link in by_object.get((kind.pk, obj.pk), ())}
            if obj.decision_id:
                decision = decisions.get(obj.decision_id)
                found.append(_ref(own.pop(obj.decision_id, None), decision, hidden.get(obj.decision_id, "")))
            others = sorted(own.values(), key=_by_date)
            found.extend(_ref(link, link.decision) for link in others)
            refs[obj.pk] = found
        result.append(refs)
    return result


def _by_date(link) -> tuple:
    return (link.decision.decided_on, link.decision.reference)


def _ref(link, decision, reference: str = "") -> DecisionRef:
    return DecisionRef(
        reference=decision.reference if decision is not None else reference,
        decision=decision,
        amount_before=link.amount_before if link else None,
        amount_after=link.amount_after if link else None,
        description=link.description if link else "",
    )


@dataclass(frozen=True)
class LineChange:
    line: BudgetLine
    amount_before: Decimal | None
    amount_after: Decimal | None


def virement_line_changes(user, virements: Sequence[Virement]) -> dict[int, list[LineChange]]:
    """For each virement with an approving decision the user may see: the amounts that decision's
    links record on the virement's two lines (written when it applied), from line first. One
    query; the virements come with their lines (``select_related``)."""
    decided = [v for v in virements if v.decision_id]
    if not decided:
        return {}
    links = {
        (link.decision_id, link.object_id): link
        for link in DecisionLink.objects.restrict(user).filter(
            content_type=ContentType.objects.get_for_model(BudgetLine),
            decision_id__in={v.decision_id for v in decided},
            object_id__in={pk for v in decided for pk in (v.from_line_id, v.to_line_id)},
        )
    }
    changes: dict[int, list[LineChange]] = {}
    for virement in decided:
        for line in (virement.from_line, virement.to_line):
            link = links.get((virement.decision_id, line.pk))
            if link is not None and (link.amount_before is not None or link.amount_after is not None):
                changes.setdefault(virement.pk, []).append(
                    LineChange(line, link.amount_before, link.amount_after)
                )
    return changes
