"""Reference data of the governance app: boards, their memberships and their forward plans.

The single-row rules (a parent board of the same partnership, a member representing one of the
partners, an expected meeting of the same board) are the models' ``clean``; these services apply
them through ``full_clean``, so the pages, the API and the admin all refuse the same things."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from commissioning.models import Person, User
from governance.models import Board, ForwardPlanEntry, Membership
from governance.selectors import partnership_people
from governance.services.common import check_fields, unchanged, validated_save

BOARD_FIELDS = {
    "partnership",
    "name",
    "code",
    "meets_in_public",
    "council_executive",
    "quorum_min_voting",
    "quorum_min_per_partner",
    "voting_mode",
    "chair_has_casting_vote",
    "delegated_limit",
    "key_decision_threshold",
    "parent",
    "terms_of_reference",
}


@transaction.atomic
def board_create(*, by: User | None, **fields: Any) -> Board:
    check_fields(fields, BOARD_FIELDS, "board")
    return validated_save(Board(**fields), by=by)


@transaction.atomic
def board_update(*, board: Board, by: User | None, **fields: Any) -> Board:
    check_fields(fields, BOARD_FIELDS, "board")
    locked = Board.objects.select_for_update().get(pk=board.pk)
    for name, value in fields.items():
        setattr(locked, name, value)
    return validated_save(locked, by=by)


# --- Memberships ----------------------------------------------------------------------------------

MEMBERSHIP_FIELDS = {"role", "voting", "representing", "start", "end"}


@transaction.atomic
def membership_add(
    *,
    board: Board,
    person: Person,
    role: str,
    voting: bool,
    representing=None,
    start: date,
    end: date | None = None,
    by: User | None,
) -> Membership:
    """Add a member: one of the people of the board's partnership, holding no other membership of
    the board on any day of this one; officers and secretaries have no vote."""
    if not partnership_people(board.partnership).filter(pk=person.pk).exists():
        raise ValidationError({"person": [f"{person} is not one of the people of {board.partnership.name}."]})
    membership = Membership(
        board=board,
        person=person,
        role=role,
        voting=voting,
        representing=representing,
        start=start,
        end=end,
    )
    return validated_save(membership, by=by)


@transaction.atomic
def membership_update(
    *,
    membership: Membership,
    by: User | None,
    board: Board | None = None,
    person: Person | None = None,
    **fields: Any,
) -> Membership:
    """Change a member's role, vote, the partner represented or the dates. The person and the board
    stay (``board`` and ``person``, if given, must be the membership's own): a different person is
    a new membership."""
    check_fields(fields, MEMBERSHIP_FIELDS, "membership")
    errors = {
        **unchanged(membership, "board", board, "The board of a membership cannot change: add a new one."),
        **unchanged(membership, "person", person, "The person of a membership cannot change: add a new one."),
    }
    if errors:
        raise ValidationError(errors)
    locked = Membership.objects.select_for_update().select_related("board__partnership").get(pk=membership.pk)
    for name, value in fields.items():
        setattr(locked, name, value)
    return validated_save(locked, by=by)


# --- The forward plan -----------------------------------------------------------------------------

FORWARD_PLAN_FIELDS = {
    "title",
    "expected_meeting",
    "key_decision",
    "exempt",
    "exemption_reason",
    "consultation",
    "contact",
}


@transaction.atomic
def forward_plan_save(
    *,
    board: Board,
    by: User | None,
    entry: ForwardPlanEntry | None = None,
    publish: bool = False,
    **fields: Any,
) -> ForwardPlanEntry:
    """Add an entry to a board's forward plan of key decisions, or change one (it stays on its
    board's plan). The first-published date is never given: ``publish`` sets it to today, once; a
    later change keeps it (and the history records the change)."""
    if "first_published_on" in fields:
        raise ValidationError(
            {
                "first_published_on": [
                    "The first-published date is set by the system when the entry is published."
                ]
            }
        )
    check_fields(fields, FORWARD_PLAN_FIELDS, "forward plan")
    if entry is not None:
        if entry.board_id != board.pk:
            raise ValidationError({"board": ["An entry stays on its board's forward plan."]})
        entry = ForwardPlanEntry.objects.select_for_update().get(pk=entry.pk)
    else:
        entry = ForwardPlanEntry(board=board)
    for name, value in fields.items():
        setattr(entry, name, value)
    if not entry.exempt:
        entry.exemption_reason = ""
    if publish and entry.first_published_on is None:
        entry.first_published_on = timezone.localdate()
    return validated_save(entry, by=by)


@transaction.atomic
def forward_plan_publish(*, entry: ForwardPlanEntry, by: User | None) -> ForwardPlanEntry:
    """Publish an entry: its first-published date is today, set once and never moved."""
    locked = ForwardPlanEntry.objects.select_for_update().get(pk=entry.pk)
    if locked.first_published_on is not None:
        raise ValidationError(
            {"first_published_on": [f"The entry was published on {locked.first_published_on:%-d %B %Y}."]}
        )
    locked.first_published_on = timezone.localdate()
    return validated_save(locked, by=by)
