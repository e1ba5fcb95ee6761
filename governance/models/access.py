"""Who may see exempt content (security.md, rules.md rule 3): a board's current members (its
secretaries by their ``secretary`` membership) and administrators.

Part 2 items, private papers, exempt appendices, their decisions and minutes and members' packs are
exempt; ``ExemptContentMixin`` narrows ``restrict`` to them, and ``sees_exempt_content_of`` answers
the same question for one board (a members' pack, the button that generates it)."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from commissioning.roles import BOARD_SECRETARY


def entitled_board_ids(user):
    """Boards whose exempt content (Part 2 items, private papers, exempt appendices, members' packs)
    the user may see: boards they are a current member of (Membership -> Person -> User)."""
    from governance.models.boards import Membership

    today = timezone.localdate()
    return Membership.objects.current(today).filter(person__user=user).values("board_id")


def sees_all_exempt(user) -> bool:
    """Administrators only. A board secretary sees the exempt content of the boards where they hold
    a ``secretary`` membership (as a current member of that board), and only the public content of
    the partnership's other boards (rules.md, rule 3)."""
    return bool(user.is_superuser)


def acts_for_others(user) -> bool:
    """Administrators and board secretaries record for anyone (declarations of interest, the
    register); others only for themselves. Not a right to see exempt content."""
    if user.is_superuser:
        return True
    return user.is_authenticated and user.has_role(BOARD_SECRETARY)


def sees_exempt_content_of(user, board) -> bool:
    """May ``user`` see the exempt content of this board (and so generate its members' pack)?
    Its current members (secretaries by their ``secretary`` membership) and administrators may."""
    return sees_all_exempt(user) or entitled_board_ids(user).filter(board_id=board.pk).exists()


class ExemptContentMixin:
    """The object permission of security.md: exempt content is visible only to current members of
    its board (secretaries included, by their ``secretary`` membership) and administrators. Each
    model says what is exempt (the class method ``exempt_q``)
    and where the board is (``board_path``); ``restrict`` calls ``restrict_objects`` after the
    partnership scope."""

    board_path: str = "board"

    @classmethod
    def restrict_objects(cls, qs, user, action):
        if sees_all_exempt(user):
            return qs
        return qs.filter(~cls.exempt_q() | Q(**{f"{cls.board_path}__in": entitled_board_ids(user)}))
