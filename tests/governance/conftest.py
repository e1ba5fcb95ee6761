from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from commissioning import roles
from commissioning.models import Person
from governance import services
from governance.models import AttendanceStatus, Board, Meeting, Membership
from tests.commissioning.factories import PersonFactory
from tests.governance.factories import BoardFactory, london


@dataclass
class BoardScene:
    """A board of six voting members (three council, three NHS), a non-voting officer, a meeting on
    Thursday 2 September 2021 with everyone present, and one item for decision."""

    board: Board
    meeting: Meeting
    council: list[Person]
    nhs: list[Person]
    officer: Person
    item: object

    @property
    def everyone(self) -> list[Person]:
        return [*self.council, *self.nhs]


@pytest.fixture
def scene(partnership) -> BoardScene:
    board = BoardFactory(
        partnership=partnership,
        name="Borough Based Board",
        code="BBB",
        quorum_min_voting=4,
        quorum_min_per_partner=2,
        delegated_limit=Decimal("500000.00"),
        key_decision_threshold=Decimal("250000.00"),
    )
    council = [PersonFactory(name=f"Council member {n}") for n in (1, 2, 3)]
    nhs = [PersonFactory(name=f"NHS member {n}") for n in (1, 2, 3)]
    officer = PersonFactory(name="Officer in attendance")
    from datetime import date

    for index, person in enumerate(council):
        Membership.objects.create(
            board=board,
            person=person,
            role="chair" if index == 0 else "member",
            voting=True,
            representing=partnership.council,
            start=date(2020, 1, 1),
        )
    for person in nhs:
        Membership.objects.create(
            board=board,
            person=person,
            voting=True,
            representing=partnership.nhs_commissioner,
            start=date(2020, 1, 1),
        )
    Membership.objects.create(
        board=board, person=officer, role="officer", voting=False, start=date(2020, 1, 1)
    )
    meeting = services.meeting_create(
        board=board, starts_at=london(2021, 9, 2, 14), venue="Civic Centre", by=None
    )
    for person in [*council, *nhs, officer]:
        services.attendance_record(meeting=meeting, person=person, status=AttendanceStatus.PRESENT, by=None)
    item = services.agenda_item_add(
        meeting=meeting, title="Integrated Placements and Brokerage", purpose="decision", by=None
    )
    return BoardScene(board=board, meeting=meeting, council=council, nhs=nhs, officer=officer, item=item)


@pytest.fixture
def secretary(make_user, partnership):
    return make_user(roles.BOARD_SECRETARY, [partnership])


@pytest.fixture
def board_member(make_user, partnership):
    return make_user(roles.BOARD_MEMBER, [partnership])


@pytest.fixture
def auditor(make_user, partnership):
    return make_user(roles.AUDITOR, [partnership])
