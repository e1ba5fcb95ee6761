"""Reads of the governance app that are more than one filter. Everything the user sees comes
through ``restrict``; the quorum and vote helpers read one item's facts for the pure rule modules."""

from __future__ import annotations

from datetime import date

from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    F,
    Func,
    Prefetch,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone

from commissioning.models import Partnership, Person
from governance.models import (
    AgendaItem,
    Attendance,
    AttendanceStatus,
    Board,
    Decision,
    InterestAction,
    InterestDeclaration,
    Meeting,
    Membership,
    Outcome,
    RegisterEntry,
    acts_for_others,
    current_membership_q,
)
from governance.quorum import Attendee, QuorumResult, assess_quorum, counts_towards_quorum

PRESENT = (AttendanceStatus.PRESENT, AttendanceStatus.PRESENT_VIRTUALLY)
CONFLICTED_ACTIONS = (InterestAction.WITHDREW, InterestAction.DID_NOT_VOTE)


def members_on(board: Board, day: date) -> QuerySet[Membership]:
    """The board's memberships current on ``day`` (``Membership.objects.current``)."""
    return Membership.objects.current(day).filter(board=board).select_related("person", "representing")


def partnership_people(partnership: Partnership) -> QuerySet[Person]:
    """The people a board of this partnership may take as members: those of its two partner
    organisations, those already on one of its boards, and independent people (no organisation)
    who sit on no other partnership's board."""
    partners = [partnership.council_id, partnership.nhs_commissioner_id]
    elsewhere = Membership.objects.exclude(board__partnership=partnership).values("person_id")
    return Person.objects.filter(
        Q(organisation_id__in=partners)
        | Q(memberships__board__partnership=partnership)
        | (Q(organisation__isnull=True) & ~Q(pk__in=elsewhere))
    ).distinct()


def partner_codes(board: Board) -> list[str]:
    partnership = board.partnership
    return [partnership.council.code, partnership.nhs_commissioner.code]


def conflicted_person_ids(item: AgendaItem) -> set[int]:
    """People who declared an interest on this item and withdrew or did not vote."""
    return set(
        InterestDeclaration.objects.filter(agenda_item=item, action__in=CONFLICTED_ACTIONS).values_list(
            "person_id", flat=True
        )
    )


def attendees_for_item(item: AgendaItem) -> list[Attendee]:
    """Each member of the board on the meeting day as quorum sees them for this item. A substitute
    present for a member takes that member's vote and the organisation they represent."""
    meeting = item.meeting
    board = meeting.board
    day = timezone.localtime(meeting.starts_at).date()
    memberships = {m.person_id: m for m in members_on(board, day)}
    attendance = list(Attendance.objects.filter(meeting=meeting).select_related("person"))
    conflicted = conflicted_person_ids(item)
    attendees: dict[int, Attendee] = {}
    for membership in memberships.values():
        attendees[membership.person_id] = Attendee(
            person_id=membership.person_id,
            name=membership.person.name,
            voting=membership.voting,
            representing=membership.representing.code if membership.representing else None,
            present=False,
            conflicted=membership.person_id in conflicted,
        )
    for row in attendance:
        if row.status not in PRESENT:
            continue
        seat = (
            memberships.get(row.substitute_for_id)
            if row.substitute_for_id
            else memberships.get(row.person_id)
        )
        if seat is None:
            continue  # in attendance but holds no seat
        attendees[row.person_id] = Attendee(
            person_id=row.person_id,
            name=row.person.name,
            voting=seat.voting,
            representing=seat.representing.code if seat.representing else None,
            present=True,
            conflicted=row.person_id in conflicted,
        )
    return list(attendees.values())


def voters_for_item(item: AgendaItem) -> list[Attendee]:
    """Who may vote on this item: present, voting and not conflicted (``quorum``'s rule)."""
    return [attendee for attendee in attendees_for_item(item) if counts_towards_quorum(attendee)]


def quorum_for_item(item: AgendaItem) -> QuorumResult:
    board = item.meeting.board
    return assess_quorum(
        attendees_for_item(item),
        min_voting=board.quorum_min_voting,
        min_per_partner=board.quorum_min_per_partner,
        partners=partner_codes(board),
    )


def agenda_for(meeting: Meeting, user) -> QuerySet[AgendaItem]:
    """The items of a meeting the user may see (exempt items only for the board's members)."""
    return (
        AgendaItem.objects.restrict(user, "view")
        .filter(meeting=meeting)
        .select_related("paper")
        .prefetch_related("decisions")
        .order_by("order")
    )


def public_agenda(meeting: Meeting) -> list[AgendaItem]:
    """Every item, for the public page: exempt ones keep their title and reason only."""
    return list(meeting.agenda_items.select_related("paper").order_by("order"))


def action_log_for(meeting: Meeting, user=None, *, public: bool = False):
    """Open actions of the board's earlier meetings: the action log of this meeting.

    Actions follow the exemption rule of minutes and decisions: with ``user``, only the actions
    that user may see (``restrict``); with ``public=True`` (the public pack), no action of an
    exempt item or of a decision taken on one. With neither, every action (the members' pack)."""
    from governance.models import Action, ActionStatus

    actions = Action.objects.restrict(user, "view") if user is not None else Action.objects.all()
    if public:
        actions = actions.exclude(Action.exempt_q())
    return (
        actions.filter(
            meeting__board=meeting.board, meeting__starts_at__lt=meeting.starts_at, status=ActionStatus.OPEN
        )
        .select_related("owner", "meeting")
        .order_by("due", "pk")
    )


def board_people(board: Board, meeting: Meeting) -> QuerySet[Person]:
    """Everyone on the board, and anyone who attended the meeting: who may own an action."""
    return (
        Person.objects.filter(memberships__board=board).distinct()
        | Person.objects.filter(attendance__meeting=meeting).distinct()
    ).order_by("name")


def granted_partnerships(user) -> QuerySet[Partnership]:
    """The partnerships granted to the user (every one, for an administrator)."""
    if user.is_superuser:
        return Partnership.objects.all()
    return Partnership.objects.filter(grants__user=user).distinct()


def decision_log(user, partnership: Partnership | None = None) -> QuerySet[Decision]:
    """The decisions of the log (page and CSV; the CSV adds ``prefetch_related("links__...")``
    for its "Changed" column, which the page does not show)."""
    return (
        Decision.objects.restrict(user, "view")
        .in_partnership(partnership)
        .select_related("agenda_item__meeting__board")
    )


def decision_log_rows(decisions: QuerySet[Decision]) -> QuerySet:
    """The decision log page's rows from its filtered, ordered queryset, as dicts with every cell
    formatted by PostgreSQL (one query, as before): the link, the board's code, the item's title,
    the outcome's label, the date as ``j M Y`` shows it (``5 Dec 2026``) and the flags. No model
    instances, no ``reverse`` or date formatting per row."""
    prefix = reverse("governance:decision", args=[0]).removesuffix("0/")
    return decisions.values(
        "reference",
        "key_decision",
        "quorate",
        url=Concat(Value(prefix), Cast("pk", TextField()), Value("/"), output_field=TextField()),
        board_code=F("agenda_item__meeting__board__code"),
        item_title=F("agenda_item__title"),
        outcome_label=Case(
            *(When(outcome=value, then=Value(str(label))) for value, label in Outcome.choices),
            default=F("outcome"),
            output_field=TextField(),
        ),
        decided=Func(F("decided_on"), Value("FMDD Mon YYYY"), function="to_char", output_field=TextField()),
        flagged=ExpressionWrapper(Q(key_decision=True, notice_ok=False), output_field=BooleanField()),
    )


def upcoming_meetings(user, partnership: Partnership | None = None):
    now = timezone.now()
    return (
        Meeting.objects.restrict(user, "view")
        .in_partnership(partnership)
        .filter(starts_at__gte=now)
        .select_related("board")
        .order_by("starts_at")
    )


def members_not_declared(partnership: Partnership, year: int) -> QuerySet[Person]:
    """Current members of the partnership's boards without a register entry (nil returns count) for
    the financial year."""
    today = timezone.localdate()
    declared = RegisterEntry.objects.filter(partnership=partnership, year=year).values("person_id")
    return (
        # One filter() call, so the partnership and the dates apply to the same membership row.
        Person.objects.filter(
            current_membership_q(today, via="memberships__"),
            memberships__board__partnership=partnership,
        )
        .exclude(pk__in=declared)
        .distinct()
        .order_by("name")
    )


def boards_with_meetings(user, partnership=None):
    return (
        Board.objects.restrict(user, "view")
        .in_partnership(partnership)
        .select_related("partnership", "parent")
        .prefetch_related(Prefetch("meetings", queryset=Meeting.objects.order_by("-starts_at")))
    )


def upcoming_meetings_panel(user, partnership):
    """Dashboard panel: the next meetings of the boards the user may see."""
    from django.urls import reverse

    from commissioning.permissions import has_model_permission
    from commissioning.selectors import Panel

    if not has_model_permission(user, Meeting, "view"):
        return None
    meetings = upcoming_meetings(user, partnership)
    rows = list(meetings[:5])
    count = meetings.count()
    return Panel(
        title="Board meetings coming up",
        count=count,
        link=reverse("governance:index"),
        link_text="View boards and meetings",
        rows=rows,
    )


# --- Change history of a board (who changed its constitution, members and forward plan) -----------

_HISTORY_LIMIT = 100


def board_history(board: Board, user) -> list:
    """Changes to the board, its memberships and (if the user may see it) its forward plan, newest
    first, with who made each and every field's before and after (``commissioning.history``).
    Three queries plus one per kind of related object named."""
    from pghistory.models import Events

    from commissioning import history
    from commissioning.permissions import has_model_permission
    from governance.models import ForwardPlanEntry

    wanted = [history.event_model("governance.Board"), history.event_model("governance.Membership")]
    if has_model_permission(user, ForwardPlanEntry, "view"):
        wanted.append(history.event_model("governance.ForwardPlanEntry"))
    events = (
        Events.objects.references(board)
        .across(*wanted)
        # A child board's events name this board as parent: they are the child's history.
        .exclude(Q(pgh_obj_model="governance.Board") & ~Q(pgh_obj_id=str(board.pk)))
        .order_by(*history.ORDER)[:_HISTORY_LIMIT]
    )
    return history.entries(events, known={(Board, board.pk): board})


def register_history() -> None:
    """How governance's tracked records read in a history (``GovernanceConfig.ready``)."""
    from commissioning import history
    from governance.models import ForwardPlanEntry, Meeting

    history.register(Board, noun="Board", skip={"partnership_id"})
    history.register(
        Membership,
        summary=lambda verb, data, names: (
            f"Membership of {names.name(Person, data.get('person_id'), 'a person')} {verb}"
        ),
        mentions=lambda data: [(Person, data.get("person_id"))],
        skip={"board_id", "person_id"},
    )
    history.register(
        ForwardPlanEntry,
        summary=lambda verb, data, names: f"Forward plan entry “{data.get('title', '')}” {verb}",
        skip={"board_id"},
    )
    # A meeting is named after its board.
    history.name_with(Meeting, "board")


def register_people(user, partnerships) -> QuerySet[Person]:
    """Whom the user may declare interests for: board secretaries, anyone on the partnerships'
    boards; others, only themselves."""
    people = Person.objects.filter(memberships__board__partnership__in=partnerships).distinct()
    if not acts_for_others(user):
        people = people.filter(user=user)
    return people.order_by("name")


def register_person(partnerships, pk) -> Person | None:
    """A member of the partnerships' boards, whose register may be read, or None."""
    people = Person.objects.filter(memberships__board__partnership__in=partnerships).distinct()
    return people.filter(pk=pk).first()


def register_year(day: date) -> int:
    """The financial year (by its starting year) a day falls in: April to March."""
    return day.year if day.month >= 4 else day.year - 1


def register_changes(user, partnerships, year: int):
    """Changes to registered interests declared in a financial year, through the permission gate."""
    from governance.models import RegisterChange

    return (
        RegisterChange.objects.restrict(user, "view")
        .filter(
            partnership__in=partnerships,
            declared_on__gte=date(year, 4, 1),
            declared_on__lte=date(year + 1, 3, 31),
        )
        .select_related("person", "partnership")
        .order_by("-declared_on", "-pk")
    )
