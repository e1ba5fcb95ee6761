"""Reference data of the governance app: boards, their memberships and their forward plans.

The single-row rules (a parent board of the same partnership, a member representing one of the
partners, an expected meeting of the same board) are the models' ``clean``; these services apply
them through ``full_clean``, so the pages, the API and the admin all refuse the same things."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from commissioning.models import Person, User
from governance.models import Board, ForwardPlanEntry, Membership
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
    "first_published_on",
}


@transaction.atomic
def forward_plan_save(
    *, board: Board, by: User | None, entry: ForwardPlanEntry | None = None, **fields: Any
) -> ForwardPlanEntry:
    """Add an entry to a board's forward plan of key decisions, or change one (it stays on its
    board's plan)."""
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
    return validated_save(entry, by=by)
