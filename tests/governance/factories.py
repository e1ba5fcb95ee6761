"""Factories of the governance tests. A BoardFactory board belongs to a partnership whose two
partners are the council and the NHS commissioner; members represent one of them or both (None)."""

from __future__ import annotations

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import factory

from governance.models import (
    AgendaItem,
    Attendance,
    AttendanceStatus,
    Board,
    Decision,
    ForwardPlanEntry,
    InterestDeclaration,
    InterestNature,
    Meeting,
    Membership,
    Paper,
)
from tests.commissioning.factories import PartnershipFactory, PersonFactory

LONDON = ZoneInfo("Europe/London")


def london(year, month, day, hour=14, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


class BoardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Board

    partnership = factory.SubFactory(PartnershipFactory)
    name = factory.Sequence(lambda n: f"Joint Board {n}")
    code = factory.Sequence(lambda n: f"JB{n:03d}")
    quorum_min_voting = 3
    quorum_min_per_partner = 1


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    board = factory.SubFactory(BoardFactory)
    person = factory.SubFactory(PersonFactory)
    role = "member"
    voting = True
    representing = factory.LazyAttribute(lambda m: m.board.partnership.council)
    start = date(2020, 1, 1)


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meeting

    board = factory.SubFactory(BoardFactory)
    starts_at = factory.LazyFunction(lambda: london(2021, 9, 2))
    venue = "Civic Centre, Stockwell Close, Bromley"


class PaperFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Paper

    board = factory.SubFactory(BoardFactory)
    title = factory.Sequence(lambda n: f"Paper {n}")
    authors = "Associate Director of Integrated Commissioning"
    executive_sponsor = "Portfolio Holder for Adult Care and Health"
    executive_summary = "A summary."
    recommendations = factory.LazyFunction(lambda: ["notes the report", "agrees the proposal"])


class AgendaItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgendaItem

    meeting = factory.SubFactory(MeetingFactory)
    order = factory.Sequence(lambda n: n + 10)
    title = factory.Sequence(lambda n: f"Item {n}")
    purpose = "decision"


class AttendanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attendance

    meeting = factory.SubFactory(MeetingFactory)
    person = factory.SubFactory(PersonFactory)
    status = AttendanceStatus.PRESENT


class DeclarationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InterestDeclaration

    person = factory.SubFactory(PersonFactory)
    board = factory.SubFactory(BoardFactory)
    nature = InterestNature.FINANCIAL
    description = "Director of a provider bidding for the service"
    action = "withdrew"


class ForwardPlanEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ForwardPlanEntry

    board = factory.SubFactory(BoardFactory)
    title = factory.Sequence(lambda n: f"Decision {n}")
    key_decision = True
    first_published_on = date(2021, 7, 1)


def pdf_bytes(pages: int, text: str = "Appendix page") -> bytes:
    """A real PDF with one line of text per page (for appendices)."""
    from weasyprint import HTML

    html = "".join(
        f'<p style="page-break-after: always">{text} {n} of {pages}</p>' for n in range(1, pages + 1)
    )
    return HTML(string=f"<html><body>{html}</body></html>").write_pdf()


def pdf_upload(pages: int, text: str = "Appendix page"):
    return io.BytesIO(pdf_bytes(pages, text))


class DecisionFactory(factory.django.DjangoModelFactory):
    """A decision on an item of a held meeting, taken on the meeting's day (not yet published)."""

    class Meta:
        model = Decision

    agenda_item = factory.SubFactory(AgendaItemFactory, meeting__status="held")
    reference = factory.LazyAttributeSequence(
        lambda d, n: f"{d.agenda_item.meeting.board.code}/{d.decided_on.year}/{n + 1:03d}"
    )
    resolution = "Approved"
    outcome = "approved"
    decided_on = factory.LazyAttribute(lambda d: d.agenda_item.meeting.starts_at.astimezone(LONDON).date())


def secretary_of(user, board, start=date(2020, 1, 1)) -> Membership:
    """Make ``user`` (a board secretary) the secretary of ``board``: the ``secretary`` membership
    through which a secretary sees the board's exempt content (rules.md, rule 3)."""
    from commissioning.models import Person

    person = Person.objects.filter(user=user).first() or PersonFactory(name=str(user), user=user)
    return Membership.objects.create(board=board, person=person, role="secretary", voting=False, start=start)
