"""Governance demo data (demo-data.md): the boards and memberships of the seed papers, the
2 September 2021 meeting of the Bromley Borough Based Board with item 6, enclosure 4, the IPB paper
and the decision approving it, the City of London gateways and the Barking & Dagenham Joint
Committee, and a meeting coming up so the pages have something ahead.

``load(partnerships=..., users=..., seed=..., today=...)`` is deterministic: everything is fixed
or dated from ``today``; ``seed`` feeds a ``random.Random`` used only for the register of interests.
Boards and members come from ``fixtures/core.json`` (read by the core loader); people are looked up
by name there. Board codes must be unique across partnerships, because they start every decision
reference: the City of London's Integrated Commissioning Board is ``CHICB`` (City and Hackney)."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pghistory
from dateutil.relativedelta import relativedelta

from commissioning.demo import read_reference
from commissioning.models import Organisation, Partnership, Person, User
from governance import services
from governance.models import (
    AttendanceStatus,
    Board,
    ForwardPlanEntry,
    InterestAction,
    InterestNature,
    Outcome,
    Purpose,
    Session,
    VotingMode,
)

LONDON = ZoneInfo("Europe/London")

# Code in the fixture -> code in the database, where the fixture's code is taken by another board.
CODE_OVERRIDES = {("City of London", "ICB"): "CHICB"}

# The rules of each board (demo-data.md names the boards; the figures are illustrative).
BOARD_RULES = {
    ("Bromley", "PBB"): {
        "voting_mode": VotingMode.PARTNER_BLOCK,
        "quorum_min_voting": 6,
        "quorum_min_per_partner": 2,
        "delegated_limit": Decimal("5000000.00"),
        "key_decision_threshold": Decimal("500000.00"),
        "terms_of_reference": "Ensures that relevant budgets are used to commission for maximum impact "
        "and value in health "
        "and care services, and takes an overview of how the Bromley system is functioning. Meets "
        "in public; jointly "
        "chaired by a lead GP and an elected member.",
    },
    ("Bromley", "BBB"): {
        "voting_mode": VotingMode.MAJORITY,
        "chair_has_casting_vote": True,
        "quorum_min_voting": 4,
        "quorum_min_per_partner": 1,
        "delegated_limit": Decimal("1000000.00"),
        "key_decision_threshold": Decimal("500000.00"),
        "terms_of_reference": "The borough based board of NHS South East London CCG in Bromley, taking "
        "joint decisions "
        "with the London Borough of Bromley on integrated commissioning.",
    },
    ("Bromley", "ICB"): {
        "voting_mode": VotingMode.MAJORITY,
        "quorum_min_voting": 3,
        "quorum_min_per_partner": 1,
        "delegated_limit": Decimal("250000.00"),
        "key_decision_threshold": Decimal("100000.00"),
        "meets_in_public": False,
        "terms_of_reference": "Officer board overseeing the section 75 agreement and integrated "
        "commissioning; refers "
        "decisions above its limit to the Borough Based Board.",
    },
    ("City of London", "ICB"): {
        "voting_mode": VotingMode.PARTNER_BLOCK,
        "quorum_min_voting": 3,
        "quorum_min_per_partner": 1,
        "delegated_limit": Decimal("2000000.00"),
        "key_decision_threshold": Decimal("250000.00"),
        "terms_of_reference": "Integrated Commissioning Board for the pooled budget of the City of "
        "London Corporation "
        "and City & Hackney CCG; monthly gateways over 2016/17 let partners confirm they remain "
        "comfortable to proceed.",
    },
    ("Barking & Dagenham", "JC"): {
        "voting_mode": VotingMode.MAJORITY,
        "chair_has_casting_vote": False,
        "council_executive": True,
        "quorum_min_voting": 4,
        "quorum_min_per_partner": 2,
        "delegated_limit": Decimal("3000000.00"),
        "key_decision_threshold": Decimal("500000.00"),
        "terms_of_reference": "Joint Committee of the Cabinet and the PCT Board, meeting four to six "
        "times a year to take "
        "joint decisions on integrated health and social care.",
    },
}

ROLE_WORDS = {
    "chair": "chair",
    "joint chair": "joint_chair",
    "deputy chair": "deputy_chair",
    "member": "member",
    "lay member": "lay_member",
    "co-opted": "co_opted",
    "officer in attendance": "officer",
}

IPB_TITLE = "Establishment of an Integrated Placements and Brokerage (IPB) Service"
IPB_PAPER_TITLE = (
    "Establishment of an Integrated Placements and Brokerage (IPB) Service between the London Borough of "
    "Bromley and NHS South-East London CCG (Bromley)"
)
IPB_SUMMARY = (
    "The Council and CCG have been working to develop and test plans for an Integrated Placements "
    "and Brokerage "
    "(IPB) service, with detailed work on the right model, as well as its operational and financial "
    "viability. "
    "The outcome of this work highlighted opportunities to improve the coordination of common "
    "health and care "
    "services through a single brokerage function; to improve the joint management of the local "
    "health and care "
    "market; to strengthen the negotiating position of LBB and the CCG; to ensure better value for "
    "money; to ensure "
    "an equitable service for clients of LBB and the CCG; and to reduce bureaucracy in the "
    "administration of joint "
    "packages of care. On 12th July 2021, Integrated Commissioning Board agreed the IPB proposals "
    "in principle, "
    "subject to agreement at the Bromley Borough Based Board."
)
IPB_RECOMMENDATIONS = [
    "notes the opportunities highlighted from the work led by Integrated Commissioning Board (ICB) "
    "to develop and test "
    "plans for a Bromley Integrated Placements and Brokerage Service (IPB).",
    "agrees that the Integrated Placements and Brokerage (IPB) service be established in line with ICB "
    "recommendations, that is by 1st April 2022, with some activities mobilised through the course "
    "of the end of "
    "2021/22.",
    "confirms the ICB decision on the budget for (i) the mobilisation of the new service in 2021/22 "
    "and (ii) the "
    "indicative 2022/23 budget for the new service.",
    "notes that the CCG has agreed to fund any additional reasonable costs borne by LBB in the "
    "delivery of the IPB and "
    "that this will be considered as part of the development of the final 2022/23 budget.",
    "notes that there are anticipated benefits to LBB including improved coordination over "
    "provision and prices, the "
    "opportunity to negotiate better quality and costs “at scale” and a reduction in duplication "
    "and bureaucracy "
    "related to cross Council-CCG charges and payments.",
    "notes that there are anticipated savings to the CCG which would (i) be realised in the early "
    "years of operation "
    "of the IPB and (ii) which would be in excess of the CCG’s contribution to the service overall.",
    "agrees that the Assistant Director of Commissioning will take forward the delivery of this project.",
]
IPB_BODY = (
    "Brokerage and placements services are critical to the way in which local authorities and the "
    "NHS purchase "
    "quality, value for money packages of care (including placements).\n\n"
    "In Bromley, the Council and local NHS have parallel approaches to brokerage and placements: the Central "
    "Placements Team (in-house, LBB) supports children looked after and adult social care clients, "
    "and the NHS "
    "Continuing Care/Continuing Healthcare team (in-house, CCG) supports continuing care clients.\n\n"
    "One consequence of the parallel approach is that the two organisations can at times operate in "
    "competition with "
    "one another in seeking quality provision and value for money places for their respective clients.\n\n"
    "Budget (s75), 2021/22 mobilisation: Placements and Brokerage CCG £102,840; Personal Budgets "
    "and Direct Payments "
    "support team CCG £8,000, iBCF £29,799, LBB £13,914; Additional finance costs CCG £7,500. "
    "2022/23 indicative: "
    "Placements and Brokerage CCG £205,679; Additional finance costs CCG £15,000. (The paper's "
    "printed 2021/22 total of £154,553 omits the £7,500 additional finance costs line: "
    "102,840 + 8,000 + 29,799 + 13,914 = 154,553; all the lines sum to £162,053.)"
)


def _at(day: date, hour: int = 14, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def _secretary(users: dict[str, User]) -> User | None:
    return users.get("board_secretary")


def load(*, partnerships: dict[str, Partnership], users: dict[str, User], seed: int, today: date) -> None:
    rng = random.Random(f"{seed}:governance")
    by = _secretary(users)
    reference = read_reference()
    organisations = {o.code: o for o in Organisation.objects.all()}
    people = {p.name: p for p in Person.objects.all()}
    boards: dict[tuple[str, str], Board] = {}
    with pghistory.context(source="load_demo", user=by.pk if by else None):
        for spec in reference["boards"]:
            partnership = partnerships.get(spec["partnership"])
            if partnership is None:
                continue
            key = (spec["partnership"], spec["code"])
            board = services.board_create(
                by=by,
                partnership=partnership,
                name=spec["name"],
                code=CODE_OVERRIDES.get(key, spec["code"]),
                **BOARD_RULES.get(key, {}),
            )
            boards[key] = board
            for member in spec["members"]:
                representing = member["representing"]
                services.membership_add(
                    board=board,
                    person=people[member["person"]],
                    role=ROLE_WORDS[member["role"]],
                    voting=member["voting"],
                    representing=organisations[representing]
                    if representing and representing != "joint"
                    else None,
                    start=date(2019, 9, 18),
                    by=by,
                )
        if ("Bromley", "ICB") in boards and ("Bromley", "BBB") in boards:
            services.board_update(board=boards[("Bromley", "ICB")], parent=boards[("Bromley", "BBB")], by=by)
        if ("Bromley", "BBB") in boards:
            _bromley_bbb(boards[("Bromley", "BBB")], people, by=by, today=today)
        if ("City of London", "ICB") in boards:
            _city_gateways(boards[("City of London", "ICB")], by=by)
        if ("Barking & Dagenham", "JC") in boards:
            _barking_joint_committee(boards[("Barking & Dagenham", "JC")], by=by)
        _register(partnerships, people, rng=rng, today=today, by=by)


def _bromley_bbb(board: Board, people: dict[str, Person], *, by, today: date) -> None:
    meeting = services.meeting_create(
        board=board,
        starts_at=_at(date(2021, 9, 2), 14),
        venue="Bromley Civic Centre, Stockwell Close, BR1 3UH",
        by=by,
    )
    for membership in board.memberships.all():
        services.attendance_record(
            meeting=meeting, person=membership.person, status=AttendanceStatus.PRESENT, by=by
        )
    bcf = services.paper_create(
        by=by,
        board=board,
        title="Better Care Fund plan 2021/22",
        session=Session.PUBLIC,
        executive_summary="The Better Care Fund plan for 2021/22 for assurance before submission.",
        recommendations=["notes the Better Care Fund plan 2021/22"],
        authors="Joint Head of Integrated Commissioning",
        executive_sponsor="Place Based Director",
    )
    winter = services.paper_create(
        by=by,
        board=board,
        title="Winter planning 2021/22",
        session=Session.PUBLIC,
        executive_summary="Arrangements for hospital discharge and domiciliary care over winter 2021/22.",
        recommendations=["notes the winter plan"],
        authors="Director of Adult Services",
    )
    ipb = services.paper_create(
        by=by,
        board=board,
        title=IPB_PAPER_TITLE,
        session=Session.PUBLIC,
        executive_summary=IPB_SUMMARY,
        recommendations=IPB_RECOMMENDATIONS,
        body=IPB_BODY,
        equality_impact="Placements and brokerage services provide advice and support for children, "
        "young people and "
        "adults in accessing packages of care to meet their assessed needs, including Black, Asian "
        "and Minority Ethnic "
        "groups.",
        financial_impact="The report includes the outcomes of a financial viability exercise for "
        "the IPB, with risks "
        "and mitigating actions in relation to the mobilisation of this service.",
        risk_impact="Set out in 1.7 of the report.",
        conflicts_of_interest="There are no conflicts of interest for this decision.",
        presented_before="Integrated Commissioning Board, 12 July 2021; Portfolio Holder for Adult "
        "Care and Health; "
        "Adult Care and Health Policy Development and Scrutiny Committee",
        authors="Associate Director of Integrated Commissioning (CCG); Director of Commissioning "
        "(CCG) / Assistant "
        "Director of Commissioning (LBB)",
        clinical_lead="GP Clinical Leads, SEL CCG Bromley",
        executive_sponsor="Portfolio Holder for Adult Care and Health",
    )
    services.agenda_item_add(meeting=meeting, title=bcf.title, purpose=Purpose.ASSURANCE, paper=bcf, by=by)
    services.agenda_item_add(meeting=meeting, title=winter.title, purpose=Purpose.NOTING, paper=winter, by=by)
    item = services.agenda_item_add(
        meeting=meeting,
        title=IPB_TITLE,
        purpose=Purpose.DECISION,
        presenter="Assistant Director of Commissioning",
        paper=ipb,
        by=by,
    )
    assert (item.item_number, item.enclosure_number) == ("6", "4"), (item.item_number, item.enclosure_number)
    # The lifecycle of rule 3: the meeting is held (its attendance recorded) before its decisions,
    # and a decision is public only once its notice is published.
    services.meeting_mark_held(meeting=meeting, by=by)
    decision = services.decision_record(
        agenda_item=item,
        resolution="That the Bromley Borough Based Board:\n"
        + "\n".join(f"{n}. {text}" for n, text in enumerate(IPB_RECOMMENDATIONS, start=1)),
        reasons="A single placements and brokerage function improves coordination, market "
        "management and value for "
        "money for clients of both LBB and the CCG.",
        alternatives_rejected="Continuing the parallel council and CCG brokerage teams, which "
        "compete for the same "
        "provision and duplicate work.",
        outcome=Outcome.APPROVED,
        financial_value=Decimal("162053.00"),
        by=by,
    )
    decision = services.decision_publish(decision=decision, published_on=date(2021, 9, 3), by=by)
    services.action_add(
        meeting=meeting,
        decision=decision,
        agenda_item=item,
        description="Mobilise the Integrated Placements and Brokerage service ahead of 1 April 2022",
        owner=people["Joint Head of Integrated Commissioning (Bromley)"],
        due=date(2022, 4, 1),
        by=by,
    )
    minutes = services.minutes_write(
        meeting=meeting,
        entries={item.pk: "The Board considered the report and agreed the recommendations."},
        by=by,
    )
    # Not yet approved (the next meeting is to come): published as a draft, subject to approval.
    services.minutes_publish_draft(minutes=minutes, by=by)
    # A meeting coming up, with its forward plan entry, so the pages have something ahead.
    upcoming_day = today + relativedelta(months=1)
    while upcoming_day.weekday() != 3:  # Thursdays
        upcoming_day += timedelta(days=1)
    upcoming = services.meeting_create(
        board=board,
        starts_at=_at(upcoming_day, 14),
        venue="Bromley Civic Centre, Stockwell Close, BR1 3UH",
        by=by,
    )
    # Loaded history: an entry the system published 35 days before the meeting (the service sets
    # today's date on publication; the loader records when it happened).
    ForwardPlanEntry.objects.create(
        board=board,
        title="Integrated Placements and Brokerage: final budget for the year",
        expected_meeting=upcoming,
        key_decision=True,
        consultation="Integrated Commissioning Board",
        contact="Joint Head of Integrated Commissioning",
        first_published_on=upcoming_day - timedelta(days=35),
    )


def _city_gateways(board: Board, *, by) -> None:
    """The 2016 paper's monthly gateways over the rest of 2016/17."""
    for month in (date(2016, 12, 8), date(2017, 1, 12), date(2017, 2, 9), date(2017, 3, 9)):
        meeting = services.meeting_create(
            board=board, starts_at=_at(month, 10), venue="Guildhall, London EC2", by=by
        )
        services.agenda_item_add(
            meeting=meeting,
            title="Integrated commissioning gateway: do partners remain comfortable to proceed?",
            purpose=Purpose.DECISION,
            by=by,
        )


def _barking_joint_committee(board: Board, *, by) -> None:
    for day in (date(2010, 9, 14), date(2010, 11, 16), date(2011, 1, 18), date(2011, 3, 15)):
        services.meeting_create(board=board, starts_at=_at(day, 18), venue="Barking Town Hall", by=by)


def _register(partnerships, people, *, rng: random.Random, today: date, by) -> None:
    year = today.year if today.month >= 4 else today.year - 1
    bromley = partnerships.get("Bromley")
    if bromley is None:
        return
    members = sorted(
        {
            m.person
            for b in Board.objects.filter(partnership=bromley)
            for m in b.memberships.select_related("person")
        },
        key=lambda p: p.name,
    )
    for person in members:
        roll = rng.random()
        if roll < 0.5:
            services.register_entry_record(
                person=person, partnership=bromley, year=year, nil_return=True, by=by
            )
        elif roll < 0.75:
            services.register_entry_record(
                person=person,
                partnership=bromley,
                year=year,
                nil_return=False,
                interests="Trustee of a local carers' charity (non-financial personal).",
                by=by,
            )
    gp = people.get("GP joint chair (Bromley)")
    item = None
    if gp is not None:
        from governance.models import AgendaItem

        item = AgendaItem.objects.filter(meeting__board__code="BBB", title=IPB_TITLE).first()
    if item is not None:
        services.declaration_record(
            person=gp,
            board=item.meeting.board,
            agenda_item=item,
            nature=InterestNature.NON_FINANCIAL_PROFESSIONAL,
            description="GP partner in a practice whose patients use the brokerage service",
            action=InterestAction.REMAINED,
            declared_on=date(2021, 9, 2),
            by=by,
        )
