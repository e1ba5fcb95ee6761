"""SQL queries per request are constant in the number of rows (quality.md, issue 7).

Every list page and every list endpoint is requested with 2 rows and again with 12 rows (each row
with the related records real data has: costs and splits per package, lines per invoice, members
per board ...) and must run the same number of queries, under a sane bound.

The routes are discovered, not listed by hand: the API's from the routers and the API URL
patterns, the pages' from the URL resolver. Each discovered route must appear in ``API_LISTS`` /
``WEB_LISTS`` (with the builder of its rows) or in ``API_NOT_LISTS`` / ``WEB_NOT_LISTS`` (with the
reason it lists nothing that grows), so a new list route without an entry fails
``test_every_list_route_has_an_entry``. Routes sharing a builder are measured on the same rows
(one test per builder); the counts are printed (``pytest -s``) and a failure names the extra
queries' shapes.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pghistory
import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from brokerage import services as brokerage_services
from brokerage.finance import services as finance_services
from brokerage.models import PanelDecision, ReferralActivity, RegionRun, RegionRunMember
from brokerage.services import Share
from budgets.models import financial_year_of
from commissioning import roles
from commissioning.choices import ServiceType
from commissioning.models import AccessLog, Contract, PartnershipGrant
from commissioning.services import api_token_create
from governance import services as governance_services
from governance.models import (
    Action,
    Attendance,
    AttendanceStatus,
    BoardPack,
    PaperAppendix,
    RegisterEntry,
    Vote,
)
from tests.brokerage.factories import (
    ClientFactory,
    OfferFactory,
    PackageFactory,
    PanelDecisionFactory,
    RateCardFactory,
    RechargeRunFactory,
    ReferralFactory,
    change_price,
)
from tests.budgets.factories import (
    AgreementFactory,
    BudgetLineFactory,
    FundingStreamFactory,
    MonthlyPositionFactory,
    ScheduleFactory,
)
from tests.commissioning.factories import (
    ContractFactory,
    ContractReviewFactory,
    OrganisationFactory,
    PartnershipFactory,
    PersonFactory,
    ProviderFactory,
    UserFactory,
)
from tests.governance.factories import (
    BoardFactory,
    DecisionFactory,
    DeclarationFactory,
    ForwardPlanEntryFactory,
    MembershipFactory,
    london,
)

pytestmark = pytest.mark.django_db

FEW, MANY = 2, 12
# A page renders a layout (session, user, partnership switcher, navigation counts) around its
# rows; an API list is leaner. The bounds catch a page that is constant but wasteful.
# Measured at the time of writing: pages 10-26 queries, API lists 6-12.
WEB_BOUND = 40
API_BOUND = 20


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- Scene and builders --------------------------------------------------------------------------


@dataclass
class Scene:
    """One partnership, the user who reads it and the parents that builders add children to."""

    partnership: object
    user: object
    objects: dict = field(default_factory=dict)
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def council(self):
        return self.partnership.council

    @property
    def nhs(self):
        return self.partnership.nhs_commissioner

    def once(self, key: str, make: Callable):
        if key not in self.objects:
            self.objects[key] = make()
        return self.objects[key]

    def next(self) -> int:
        return next(self.counter)


TODAY = timezone.localdate()
YEAR = financial_year_of(TODAY)


# Core ---------------------------------------------------------------------------------------------


def _contract(s: Scene, **kwargs) -> Contract:
    contract = ContractFactory(partnership=s.partnership, contract_manager=s.user, **kwargs)
    contract.associate_commissioners.set([s.nhs])
    for _ in range(2):
        ContractReviewFactory(contract=contract, reviewed_by=s.user)
    return contract


def contracts(s: Scene, k: int) -> None:
    for _ in range(k):
        _contract(s)


def contract_history(s: Scene, k: int) -> None:
    contract = s.once("contract", lambda: _contract(s))
    for n in range(k):
        ContractReviewFactory(contract=contract, reviewed_by=UserFactory())
        with pghistory.context(user=UserFactory().pk):
            contract.notes = f"Change {s.next()}"
            contract.annual_value += Decimal(n + 1)
            contract.save()


def organisations(s: Scene, k: int) -> None:
    for _ in range(k):
        OrganisationFactory()


def providers(s: Scene, k: int) -> None:
    for _ in range(k):
        ProviderFactory()


def partnerships(s: Scene, k: int) -> None:
    for _ in range(k):
        PartnershipGrant.objects.create(user=s.user, partnership=PartnershipFactory())


def history(s: Scene, k: int) -> None:
    """Audit trail events by different people."""
    for _ in range(k):
        with pghistory.context(user=UserFactory().pk):
            contract = ContractFactory(partnership=s.partnership)
            contract.notes = "Edited"
            contract.save()


def access_log(s: Scene, k: int) -> None:
    content_type = ContentType.objects.get_for_model(Contract)
    for _ in range(k):
        contract = ContractFactory(partnership=s.partnership)
        AccessLog.objects.create(
            user=UserFactory(),
            action=AccessLog.Action.VIEW,
            content_type=content_type,
            object_id=str(contract.pk),
            object_repr=str(contract),
            partnership=s.partnership,
            path=f"/contracts/{contract.pk}/",
        )


def api_tokens(s: Scene, k: int) -> None:
    for _ in range(k):
        api_token_create(user=s.user, name=f"Key {s.next()}")


# Budgets ------------------------------------------------------------------------------------------


def _stream(s: Scene, organisation):
    return s.once(
        f"stream-{organisation.pk}",
        lambda: FundingStreamFactory(partnership=s.partnership, organisation=organisation),
    )


def _agreement(s: Scene):
    return AgreementFactory(partnership=s.partnership, start=date(YEAR - 2, 4, 1), end=date(YEAR + 3, 3, 31))


def _line(s: Scene, schedule, n: int):
    line = BudgetLineFactory(
        schedule=schedule,
        year=YEAR,
        funding_stream=_stream(s, s.council if n % 2 else s.nhs),
        amount=Decimal("1000.00") * (n + 1),
    )
    MonthlyPositionFactory(budget_line=line, period=date(YEAR, 4, 1), submitted_by=s.user)
    return line


def _schedule(s: Scene, agreement, lines: int = 2):
    schedule = ScheduleFactory(agreement=agreement, number=s.next())
    for n in range(lines):
        _line(s, schedule, n)
    return schedule


def agreements(s: Scene, k: int) -> None:
    for _ in range(k):
        agreement = _agreement(s)
        _schedule(s, agreement)
        _schedule(s, agreement)


def contribution_plans(s: Scene, k: int) -> None:
    """k pooled schedules of one agreement, each with the contributing partner's plan for YEAR."""
    from budgets.models import Arrangement
    from budgets.selectors.contributions import contributing_partners
    from budgets.services import contribution_plan_save

    agreement = s.once("agreement", lambda: _agreement(s))
    for _ in range(k):
        schedule = ScheduleFactory(agreement=agreement, number=s.next(), arrangement=Arrangement.POOLED)
        _line(s, schedule, 0)
        _line(s, schedule, 1)
        for partner in contributing_partners(schedule):
            contribution_plan_save(
                schedule=schedule, year=YEAR, partner=partner, frequency="quarterly", by=s.user
            )


def agreement_schedules(s: Scene, k: int) -> None:
    agreement = s.once("agreement", lambda: _agreement(s))
    for _ in range(k):
        _schedule(s, agreement)


def schedule_lines(s: Scene, k: int) -> None:
    schedule = s.once("schedule", lambda: _schedule(s, _agreement(s), lines=0))
    for _ in range(k):
        _line(s, schedule, s.next())


def agreement_records(s: Scene, k: int) -> None:
    """One agreement with k variations (each approved by the decision) and k reviews."""
    from budgets.models import Review, Variation

    agreement = s.once("agreement", lambda: _agreement(s))
    decision = s.once(
        "agreement-decision", lambda: DecisionFactory(agenda_item__meeting__board__partnership=s.partnership)
    )
    for _ in range(k):
        n = s.next()
        Variation.objects.create(
            agreement=agreement,
            number=n,
            effective_from=agreement.start,
            changes=f"Change {n}",
            decision=decision,
        )
        Review.objects.create(agreement=agreement, year=2000 + n, due=agreement.start, notes=f"Review {n}")


def funding_streams(s: Scene, k: int) -> None:
    for n in range(k):
        FundingStreamFactory(partnership=s.partnership, organisation=s.council if n % 2 else s.nhs)


# Brokerage ----------------------------------------------------------------------------------------


def _shares(s: Scene, council: int) -> list[Share]:
    return [Share(s.council, Decimal(council)), Share(s.nhs, Decimal(100 - council))]


def _package(s: Scene, client=None, start: date = date(2024, 4, 1)):
    """A package with two prices and two funding splits (of two shares each)."""
    client = client or ClientFactory(partnership=s.partnership)
    package = PackageFactory(
        client=client, provider=ProviderFactory(), paying_organisation=s.council, start=start
    )
    by = s.user
    brokerage_services.package_cost_add(
        package=package,
        effective_from=start,
        unit_rate=Decimal("20.00"),
        units_per_week=Decimal("10"),
        unit="hour",
        by=by,
    )
    brokerage_services.funding_split_add(
        package=package,
        effective_from=start,
        shares=_shares(s, 60),
        basis="panel_decision",
        decision_reference=PanelDecisionFactory(client=package.client).reference,
        by=by,
    )
    change_price(
        package=package,
        effective_from=start + timedelta(days=40),
        unit_rate=Decimal("21.50"),
        units_per_week=Decimal("10"),
        unit="hour",
        by=by,
    )
    brokerage_services.package_change_funding(
        package=package,
        effective_from=start + timedelta(days=50),
        shares=_shares(s, 50),
        basis="panel_decision",
        decision_reference=PanelDecisionFactory(client=package.client).reference,
        by=by,
    )
    package.refresh_from_db()
    return package


def _referral(s: Scene, client=None, offers: int = 2):
    referral = ReferralFactory(client=client or ClientFactory(partnership=s.partnership), assigned_to=s.user)
    ReferralActivity.objects.create(referral=referral, kind=ReferralActivity.Kind.RECEIVED, by=s.user)
    for _ in range(offers):
        OfferFactory(referral=referral, recorded_by=s.user)
    return referral


def clients(s: Scene, k: int) -> None:
    for _ in range(k):
        client = ClientFactory(partnership=s.partnership)
        _referral(s, client, offers=1)
        _package(s, client)


def client_detail(s: Scene, k: int) -> None:
    client = s.once("client", lambda: ClientFactory(partnership=s.partnership))
    for _ in range(k):
        _referral(s, client, offers=1)
        _package(s, client)


def referrals(s: Scene, k: int) -> None:
    for _ in range(k):
        _referral(s)


def referral_detail(s: Scene, k: int) -> None:
    referral = s.once("referral", lambda: _referral(s, offers=0))
    for _ in range(k):
        OfferFactory(referral=referral, recorded_by=UserFactory())
        ReferralActivity.objects.create(
            referral=referral, kind=ReferralActivity.Kind.NOTE, by=UserFactory(), text="Called"
        )


def offers(s: Scene, k: int) -> None:
    for _ in range(k):
        OfferFactory(
            referral=ReferralFactory(client=ClientFactory(partnership=s.partnership)), recorded_by=s.user
        )


def rate_cards(s: Scene, k: int) -> None:
    types = list(ServiceType.values)
    for _ in range(k):
        n = s.next()
        RateCardFactory(partnership=s.partnership, service_type=types[n % len(types)], year=2010 + n)


def packages(s: Scene, k: int) -> None:
    for _ in range(k):
        _package(s)


def approvals(s: Scene, k: int) -> None:
    """Packages each with a price change waiting (no rate card), and referrals each with two offers
    waiting: one above the card recorded by the viewer, one with no card recorded by someone else
    (each row says who recorded it, the card a week and the difference, and offers the actions)."""
    s.once("approvals_card", lambda: RateCardFactory(partnership=s.partnership, unit_rate=Decimal("20.00")))
    recorder = s.once("approvals_recorder", UserFactory)
    for _ in range(k):
        package = _package(s)
        brokerage_services.price_change_propose(
            package=package,
            effective_from=package.start + timedelta(days=60),
            unit_rate=Decimal("30.00"),
            units_per_week=Decimal("10"),
            unit="hour",
            reason="Uplift",
            by=s.user,
        )
        referral = _referral(s, offers=1)
        OfferFactory(
            referral=referral,
            unit="night",
            unit_rate=Decimal("150.00"),
            units_per_week=Decimal("7"),
            recorded_by=recorder,
        )


def market(s: Scene, k: int) -> None:
    rate_cards(s, k)
    packages(s, k)


def package_detail(s: Scene, k: int) -> None:
    package = s.once("package", lambda: _package(s, start=date(2022, 4, 1)))
    for _ in range(k):
        n = s.next()
        change_price(
            package=package,
            effective_from=date(2022, 8, 1) + timedelta(days=10 * n),
            unit_rate=Decimal("22.00") + n,
            units_per_week=Decimal("10"),
            unit="hour",
            by=s.user,
        )
        brokerage_services.package_change_funding(
            package=package,
            effective_from=date(2022, 8, 1) + timedelta(days=10 * n + 5),
            shares=_shares(s, 50 + n),
            basis="panel_decision",
            decision_reference=PanelDecisionFactory(client=package.client).reference,
            by=s.user,
        )


def panel_decisions(s: Scene, k: int) -> None:
    for _ in range(k):
        package = _package(s)
        n = s.next()
        decision = brokerage_services.panel_decision_record(
            client=package.client,
            reference=f"JFP-2024-{n:03d}",
            meeting_date=date(2024, 5, 1),
            effective_from=date(2024, 5, 1),
            shares=_shares(s, 30),
            by=s.user,
        )
        PanelDecision.objects.filter(pk=decision.pk).update(package=package)


# Finance ------------------------------------------------------------------------------------------


def _finance_packages(s: Scene, k: int) -> None:
    pool = s.objects.setdefault("finance-packages", [])
    for _ in range(k):
        pool.append(_package(s, start=date(2022, 4, 1)))


def _run(s: Scene):
    """The recharge run of the next month, its invoice issued, part paid and one line disputed."""
    months = s.objects.setdefault("months", itertools.count(0))
    m = next(months)
    period = date(2022 + (3 + m) // 12, (3 + m) % 12 + 1, 1)
    with TestCase.captureOnCommitCallbacks(execute=False):
        run = finance_services.recharge_run_request(
            partnership=s.partnership, issuer=s.council, period=period, by=s.user
        )
    run = finance_services.recharge_run_execute(run_id=run.pk)
    s.objects["run"] = run
    for invoice in run.invoices.all():
        invoice = finance_services.invoice_issue(
            invoice=invoice, by=s.user, today=period + timedelta(days=40)
        )
        finance_services.invoice_record_payment(
            invoice=invoice, amount=Decimal("10.00"), paid_on=period + timedelta(days=50), by=s.user
        )
        finance_services.dispute_raise(
            invoice=invoice, lines=list(invoice.lines.all()[:1]), reason="wrong_rate", note="Check", by=s.user
        )
        s.objects["invoice"] = invoice
    return run


def invoices(s: Scene, k: int) -> None:
    """k monthly runs over three packages: k invoices with lines, payments and disputes."""
    if "finance-packages" not in s.objects:
        _finance_packages(s, 3)
    for _ in range(k):
        _run(s)


def run_detail(s: Scene, k: int) -> None:
    """A run (and its invoice) billing k more packages than the last one."""
    _finance_packages(s, k)
    _run(s)


def region_members(s: Scene, k: int) -> None:
    """A region run with k more members, each with its finished run (issuers of their own, all in
    the scene's partnership, so the finance officer reading it may see every member)."""
    region = s.once(
        "region_run",
        lambda: RegionRun.objects.create(period=date(2022, 5, 1), status="done", requested_by=s.user),
    )
    for _ in range(k):
        issuer = OrganisationFactory()
        run = RechargeRunFactory(partnership=s.partnership, issuer=issuer, status="done")
        RegionRunMember.objects.create(region_run=region, partnership=s.partnership, issuer=issuer, run=run)
    s.objects["region_run"] = region


# Governance ---------------------------------------------------------------------------------------


def _board(s: Scene, members: int = 4, **kwargs):
    board = BoardFactory(partnership=s.partnership, **kwargs)
    for n in range(members):
        MembershipFactory(board=board, representing=s.council if n % 2 else s.nhs)
    return board


def _meeting(s: Scene, board):
    n = s.next()
    return governance_services.meeting_create(
        board=board, starts_at=london(2021, 1, 1) + timedelta(days=7 * n), venue="Civic Centre", by=None
    )


def _paper(s: Scene, board, appendices: int = 2):
    paper = governance_services.paper_create(
        board=board, title=f"Paper {s.next()}", authors="Director", executive_summary="Summary.", by=None
    )
    for n in range(appendices):
        PaperAppendix.objects.create(
            paper=paper, order=n + 1, title=f"Appendix {n + 1}", file="x.pdf", page_count=2
        )
    return paper


def _item(s: Scene, meeting, **kwargs):
    paper = _paper(s, meeting.board)
    return governance_services.agenda_item_add(
        meeting=meeting, title=f"Item {s.next()}", purpose="decision", paper=paper, by=None, **kwargs
    )


def _decision(s: Scene, item, votes: int = 2):
    n = s.next()
    decision = DecisionFactory(
        agenda_item=item,
        reference=f"{item.meeting.board.code}/{n}",
        minute_number=f"{n}",
        quorate=True,
        resolution="Agreed.",
        published_on=date(2021, 9, 3),
    )
    for _ in range(votes):
        Vote.objects.create(decision=decision, person=PersonFactory(), representing=s.council, choice="for")
    return decision


def boards(s: Scene, k: int) -> None:
    for _ in range(k):
        board = _board(s)
        meeting = _meeting(s, board)
        _item(s, meeting)
        ForwardPlanEntryFactory(board=board, expected_meeting=meeting)


def board_detail(s: Scene, k: int) -> None:
    board = s.once("board", lambda: _board(s))
    for _ in range(k):
        MembershipFactory(board=board, representing=s.council)
        meeting = _meeting(s, board)
        _paper(s, board)
        ForwardPlanEntryFactory(board=board, expected_meeting=meeting)
        DeclarationFactory(board=board, meeting=meeting)


def memberships(s: Scene, k: int) -> None:
    board = s.once("board", lambda: _board(s, members=0))
    for n in range(k):
        MembershipFactory(board=board, representing=s.council if n % 2 else s.nhs)


def meetings(s: Scene, k: int) -> None:
    board = s.once("board", lambda: _board(s))
    for _ in range(k):
        _item(s, _meeting(s, board))


def meeting_detail(s: Scene, k: int) -> None:
    """One meeting gaining members present, items with papers, decisions, actions, declarations."""
    meeting = s.once("meeting", lambda: _meeting(s, _board(s)))
    for _ in range(k):
        membership = MembershipFactory(board=meeting.board, representing=s.council)
        Attendance.objects.create(meeting=meeting, person=membership.person, status=AttendanceStatus.PRESENT)
        item = _item(s, meeting)
        decision = _decision(s, item)
        Action.objects.create(
            meeting=meeting, decision=decision, agenda_item=item, description="Do it", owner=PersonFactory()
        )
        DeclarationFactory(board=meeting.board, meeting=meeting, agenda_item=item, person=membership.person)
        BoardPack.objects.create(
            meeting=meeting, audience="members", version=s.next(), status="ready", requested_by=s.user
        )


def agenda_items(s: Scene, k: int) -> None:
    meeting = s.once("meeting", lambda: _meeting(s, _board(s)))
    for _ in range(k):
        _item(s, meeting)


def item_detail(s: Scene, k: int) -> None:
    item = s.once("item", lambda: _item(s, _meeting(s, _board(s))))
    for _ in range(k):
        DeclarationFactory(board=item.meeting.board, meeting=item.meeting, agenda_item=item)
        _decision(s, item)
        Action.objects.create(
            meeting=item.meeting, agenda_item=item, description="Follow up", owner=PersonFactory()
        )


def papers(s: Scene, k: int) -> None:
    board = s.once("board", lambda: _board(s))
    for _ in range(k):
        _paper(s, board)


def paper_detail(s: Scene, k: int) -> None:
    paper = s.once("paper", lambda: _paper(s, _board(s), appendices=0))
    for _ in range(k):
        n = s.next()
        PaperAppendix.objects.create(paper=paper, order=n, title=f"Appendix {n}", file="x.pdf", page_count=2)
        governance_services.paper_link_add(paper=paper, target=_schedule(s, _agreement(s), lines=1), by=None)


def attendance(s: Scene, k: int) -> None:
    meeting = s.once("meeting", lambda: _meeting(s, _board(s)))
    for _ in range(k):
        Attendance.objects.create(meeting=meeting, person=PersonFactory(), status=AttendanceStatus.PRESENT)


def declarations(s: Scene, k: int) -> None:
    meeting = s.once("meeting", lambda: _meeting(s, _board(s)))
    for _ in range(k):
        DeclarationFactory(board=meeting.board, meeting=meeting)


def decisions(s: Scene, k: int) -> None:
    meeting = s.once("meeting", lambda: _meeting(s, _board(s)))
    for _ in range(k):
        _decision(s, _item(s, meeting))


def decision_detail(s: Scene, k: int) -> None:
    decision = s.once("decision", lambda: _decision(s, _item(s, _meeting(s, _board(s))), votes=0))
    for _ in range(k):
        Vote.objects.create(decision=decision, person=PersonFactory(), representing=s.nhs, choice="for")
        governance_services.decision_link_add(
            decision=decision, target=ContractFactory(partnership=s.partnership), by=None
        )


def actions(s: Scene, k: int) -> None:
    meeting = s.once("meeting", lambda: _meeting(s, _board(s)))
    for _ in range(k):
        Action.objects.create(
            meeting=meeting, description="Report back", owner=PersonFactory(), due=date(2021, 12, 1)
        )


def minutes(s: Scene, k: int) -> None:
    board = s.once("board", lambda: _board(s))
    for _ in range(k):
        meeting = _meeting(s, board)
        item = _item(s, meeting)
        entries = {i.pk: f"Minute of {i.title}" for i in meeting.agenda_items.all()}
        governance_services.minutes_write(meeting=meeting, entries=entries, part2_summary="", by=None)
        assert item.pk in entries


def packs(s: Scene, k: int) -> None:
    meeting = s.once("meeting", lambda: _meeting(s, _board(s)))
    for n in range(k):
        BoardPack.objects.create(
            meeting=meeting,
            audience="public" if n % 2 else "members",
            version=s.next(),
            status="ready",
            page_count=10,
            requested_by=s.user,
        )


def forward_plan(s: Scene, k: int) -> None:
    board = s.once("board", lambda: _board(s))
    for _ in range(k):
        ForwardPlanEntryFactory(board=board, expected_meeting=_meeting(s, board))


def register(s: Scene, k: int) -> None:
    board = s.once("board", lambda: _board(s, members=0))
    for n in range(k):
        membership = MembershipFactory(board=board, representing=s.council if n % 2 else s.nhs)
        RegisterEntry.objects.create(
            person=membership.person, partnership=s.partnership, year=YEAR, interests="None"
        )
        DeclarationFactory(board=board, person=membership.person)


def register_person(s: Scene, k: int) -> None:
    """One member's register: a membership and an annual entry a year, declarations at meetings."""
    person = s.once("person", PersonFactory)
    for _ in range(k):
        n = s.next()
        board = _board(s, members=0)
        MembershipFactory(board=board, person=person, representing=s.council)
        RegisterEntry.objects.create(
            person=person, partnership=s.partnership, year=2000 + n, interests="Shares"
        )
        meeting = _meeting(s, board)
        DeclarationFactory(board=board, person=person, meeting=meeting, agenda_item=_item(s, meeting))


def public_board(s: Scene, k: int) -> None:
    board = s.once("board", lambda: _board(s, meets_in_public=True))
    for _n in range(k):
        meeting = _meeting(s, board)
        _decision(s, _item(s, meeting))
        BoardPack.objects.create(
            meeting=meeting, audience="public", version=1, status="ready", page_count=10, requested_by=s.user
        )
        ForwardPlanEntryFactory(board=board, expected_meeting=meeting)


def public_index(s: Scene, k: int) -> None:
    for _ in range(k):
        _board(s, members=0, meets_in_public=True)


def public_meeting(s: Scene, k: int) -> None:
    meeting = s.once("meeting", lambda: _meeting(s, _board(s, meets_in_public=True)))
    for _ in range(k):
        _decision(s, _item(s, meeting))
        BoardPack.objects.create(
            meeting=meeting,
            audience="public",
            version=s.next(),
            status="ready",
            page_count=10,
            requested_by=s.user,
        )


# --- The tables ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    build: Callable[[Scene, int], None]
    kwargs: Callable[[Scene], dict] = lambda s: {}
    query: str = ""
    role: str = roles.ADMINISTRATOR
    bound: int | None = None


def _pk(key: str) -> Callable[[Scene], dict]:
    return lambda s: {"pk": s.objects[key].pk}


def _code(key: str) -> Callable[[Scene], dict]:
    return lambda s: {"code": s.objects[key].code}


REPORT_YEAR = "?period_from=2022-04&period_to=2023-03"

WEB_LISTS: dict[str, Route] = {
    "dashboard": Route(contracts, role=roles.COMMISSIONER),
    "contracts:list": Route(contracts, role=roles.COMMISSIONER),
    "contracts:export": Route(contracts, kwargs=lambda s: {"fmt": "csv"}, role=roles.COMMISSIONER),
    "contracts:detail": Route(contract_history, kwargs=_pk("contract"), role=roles.COMMISSIONER),
    "audit:index": Route(history, role=roles.AUDITOR),
    "audit:history-export": Route(history, role=roles.AUDITOR),
    "audit:access-log": Route(access_log, role=roles.AUDITOR),
    "audit:access-log-export": Route(access_log, role=roles.AUDITOR),
    "accounts:profile": Route(api_tokens),
    "budgets:index": Route(agreements),
    "budgets:agreement-detail": Route(agreement_schedules, kwargs=_pk("agreement")),
    "budgets:agreement-timeline": Route(agreement_records, kwargs=_pk("agreement")),
    "budgets:schedule-detail": Route(schedule_lines, kwargs=_pk("schedule")),
    "budgets:schedule-history": Route(schedule_lines, kwargs=_pk("schedule")),
    "budgets:schedule-years": Route(schedule_lines, kwargs=_pk("schedule")),
    "budgets:schedule-export": Route(
        schedule_lines, kwargs=lambda s: {"pk": s.objects["schedule"].pk, "fmt": "csv"}
    ),
    "budgets:positions": Route(schedule_lines, kwargs=_pk("schedule"), query=f"?period={YEAR}-04"),
    "budgets:positions-report": Route(schedule_lines, kwargs=_pk("schedule"), query=f"?year={YEAR}"),
    "budgets:summary": Route(agreements, kwargs=lambda s: {"pk": s.partnership.pk}),
    "brokerage:index": Route(referrals),
    "brokerage:referral": Route(referral_detail, kwargs=_pk("referral")),
    "brokerage:packages": Route(packages),
    "brokerage:approvals": Route(approvals),
    # Built, 20: the layout, the package, its costs, suspensions, splits and shares, price changes,
    # one query of both change histories and one of their users, panel decisions (18), the versions
    # of what it reads, and the package read again after them (commissioning.versions: a row read
    # before the versions may be older than the key it would be kept under). Kept: 7 (bench).
    "brokerage:package": Route(package_detail, kwargs=_pk("package"), bound=20),
    "brokerage:panel-decisions": Route(panel_decisions),
    "brokerage:clients": Route(clients),
    "brokerage:client": Route(client_detail, kwargs=_pk("client")),
    "brokerage:rate-cards": Route(rate_cards),
    "brokerage:market": Route(market),
    "brokerage:timeliness": Route(referrals),
    "finance:index": Route(invoices),
    "finance:run": Route(run_detail, kwargs=_pk("run")),
    "finance:region-run": Route(region_members, kwargs=_pk("region_run"), role=roles.FINANCE_OFFICER),
    "finance:invoices": Route(invoices),
    "finance:invoice": Route(run_detail, kwargs=_pk("invoice")),
    "finance:disputes": Route(invoices),
    "finance:report": Route(invoices, query=REPORT_YEAR),
    "finance:aged-debt": Route(invoices),
    "finance:balances": Route(invoices),
    "governance:index": Route(boards),
    "governance:board": Route(board_detail, kwargs=_pk("board")),
    "governance:meeting": Route(meeting_detail, kwargs=_pk("meeting")),
    "governance:meeting-packs": Route(packs, kwargs=_pk("meeting")),
    "governance:item": Route(item_detail, kwargs=_pk("item")),
    "governance:paper": Route(paper_detail, kwargs=_pk("paper")),
    "governance:decisions": Route(decisions),
    "governance:decisions-export": Route(decisions, kwargs=lambda s: {"fmt": "csv"}),
    "governance:decision": Route(decision_detail, kwargs=_pk("decision")),
    "governance:register": Route(register),
    "governance:register-person": Route(register_person, kwargs=_pk("person")),
    "governance:public-board": Route(public_board, kwargs=_code("board")),
    "governance:public-index": Route(public_index),
    "governance:public-feed": Route(public_board, kwargs=_code("board")),
    "governance:public-meeting": Route(
        public_meeting,
        kwargs=lambda s: {"code": s.objects["meeting"].board.code, "pk": s.objects["meeting"].pk},
    ),
}

FORM = "a form: a fixed number of fields and choices"
WEB_NOT_LISTS: dict[str, str] = {
    "accounts:login": FORM,
    "accounts:logout-confirm": "a confirmation page",
    "governance:decision-publish": "a confirmation page (are you sure?)",
    "governance:agenda-publish": "a confirmation page (are you sure?)",
    "governance:minutes-approve": "a confirmation page (are you sure?)",
    "governance:appendix-remove": "a confirmation page (are you sure?)",
    "governance:decision-correct": FORM,
    "accounts:password-change": FORM,
    "accounts:password-change-done": "a confirmation page",
    "accounts:mfa-enrol": FORM,
    "accounts:mfa-verify": FORM,
    "contracts:create": FORM,
    "contracts:edit": FORM,
    "budgets:agreement-create": FORM,
    "budgets:agreement-edit": FORM,
    "budgets:schedule-create": FORM,
    "budgets:schedule-edit": FORM,
    "budgets:stream-create": FORM,
    "budgets:stream-edit": FORM,
    "budgets:line-create": FORM,
    "budgets:line-edit": FORM,
    "budgets:import": FORM,
    "budgets:import-template": "a file of the import's header row only, no rows",
    "budgets:virement-create": FORM,
    "budgets:virement-approve": "a form: the decisions it offers are one query",
    "budgets:contract-schedule": FORM,
    "budgets:contributions-raise": "a confirmation page (are you sure?)",
    "governance:decision-link-remove": "a confirmation page (are you sure?)",
    "governance:paper-link-remove": "a confirmation page (are you sure?)",
    "budgets:line-feed": FORM,
    "budgets:contribution-plan-create": FORM,
    "budgets:contribution-plan-edit": FORM,
    "budgets:line-packages": "a fed figure's packages: constant in them (tests/budgets/test_fed_lines.py)",
    "budgets:statement": "one agreement's statement (tests/budgets/test_statement.py)",
    "budgets:statement-csv": "one agreement's statement as CSV (tests/budgets/test_statement.py)",
    "budgets:statement-pdf": "a PDF file download",
    "budgets:statement-settle": FORM,
    "governance:decision-link-add": FORM,
    "governance:paper-link-add": FORM,
    "budgets:variation-create": FORM,
    "budgets:review-create": FORM,
    "budgets:review-edit": FORM,
    "budgets:agreement-document": "a PDF file download",
    "budgets:variation-deed": "a PDF file download",
    "brokerage:referral-create": FORM,
    "brokerage:offer-create": FORM,
    "brokerage:offer-accept": FORM,
    "brokerage:package-change-cost": FORM,
    "brokerage:offer-rate-card": "the rate card hint of one offer form",
    "brokerage:price-change-approve": "a confirmation page (are you sure?)",
    "brokerage:price-change-decline": FORM,
    "brokerage:offer-approve": "a confirmation page (are you sure?) about one offer",
    "brokerage:offer-decline": FORM,
    "brokerage:package-change-funding": FORM,
    "brokerage:package-end": FORM,
    "brokerage:package-suspend": FORM,
    "brokerage:panel-decision": "one panel decision and its apply form",
    "brokerage:panel-decision-create": FORM,
    "brokerage:client-create": FORM,
    "brokerage:client-edit": FORM,
    "brokerage:rate-card-create": FORM,
    "brokerage:rate-card-edit": FORM,
    "finance:run-create": FORM,
    "finance:region-run-create": FORM,
    "finance:invoice-pdf": "a PDF file download",
    "finance:payment-create": FORM,
    "finance:dispute-create": FORM,
    "finance:dispute-resolve": FORM,
    "finance:invoice-issue": "a confirmation step for one invoice",
    "finance:invoice-delete": "a confirmation step for one invoice",
    "governance:paper-create": FORM,
    "governance:board-create": FORM,
    "governance:board-edit": FORM,
    "governance:forward-plan-create": FORM,
    "governance:forward-plan-edit": FORM,
    "governance:membership-create": FORM,
    "governance:membership-edit": FORM,
    "governance:register-change": FORM,
    "governance:register-declare": FORM,
    "governance:pack-pdf": "a PDF file download",
    "governance:appendix-download": "a PDF file download",
    "governance:public-pack": "a PDF file download",
}

API_LISTS: dict[str, Route] = {
    "api:organisation-list": Route(organisations),
    "api:partnership-list": Route(partnerships),
    "api:provider-list": Route(providers),
    "api:contract-list": Route(contracts, role=roles.COMMISSIONER),
    "agreement-list": Route(agreements),
    "schedule-list": Route(agreements),
    "schedule-summary": Route(schedule_lines, kwargs=_pk("schedule")),
    "funding-stream-list": Route(funding_streams),
    "budget-line-list": Route(schedule_lines),
    "variation-list": Route(agreement_records),
    "review-list": Route(agreement_records),
    "monthly-position-list": Route(schedule_lines),
    "client-list": Route(clients),
    "referral-list": Route(referrals),
    "offer-list": Route(offers),
    "rate-card-list": Route(rate_cards),
    "package-list": Route(packages),
    "package-cost-list": Route(packages),
    "price-change-list": Route(packages),
    "funding-split-list": Route(packages),
    "panel-decision-list": Route(panel_decisions),
    "contribution-plan-list": Route(contribution_plans),
    "recharge-run-list": Route(invoices),
    "invoice-list": Route(invoices),
    "invoice-lines": Route(run_detail, kwargs=_pk("invoice")),
    "dispute-list": Route(invoices),
    "recharge-report": Route(invoices, query=REPORT_YEAR),
    "aged-debt": Route(invoices, query="?as_at=2023-06-30"),
    "governance-api:board-list": Route(boards),
    "governance-api:membership-list": Route(memberships),
    "governance-api:forward-plan-list": Route(forward_plan),
    "governance-api:meeting-list": Route(meetings),
    "governance-api:agenda-item-list": Route(agenda_items),
    "governance-api:paper-list": Route(papers),
    "governance-api:attendance-list": Route(attendance),
    "governance-api:declaration-list": Route(declarations),
    "governance-api:decision-list": Route(decisions),
    "governance-api:action-list": Route(actions),
    "governance-api:minutes-list": Route(minutes),
    "governance-api:pack-list": Route(packs),
    "governance-api:meeting-packs": Route(packs, kwargs=lambda s: {"meeting_pk": s.objects["meeting"].pk}),
    "governance-api:public-board": Route(public_board, kwargs=_code("board")),
    "governance-api:public-index": Route(public_index),
}

API_NOT_LISTS: dict[str, str] = {
    "package-suspensions": "one package's suspensions, a handful, unpaginated",
    "api:api-root": "the index of links",
    "invoice-pdf": "a PDF file download",
    "agreement-statement": "one agreement's statement (tests/budgets/test_statement.py)",
    "agreement-statement-pdf": "a PDF file download",
    "governance-api:pack-pdf": "a PDF file download",
    "governance-api:public-pack-pdf": "a PDF file download",
}


# --- Route discovery -----------------------------------------------------------------------------


def _walk(patterns, prefix: str = "", namespace: str | None = None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield prefix + str(pattern.pattern), name, pattern.callback


def _answers_get(callback) -> bool:
    actions = getattr(callback, "actions", None)
    if actions is not None:  # a DRF viewset route
        return "get" in actions
    view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view is None:
        return True
    return "get" in view.http_method_names and hasattr(view, "get")


def discovered_routes() -> tuple[set[str], set[str]]:
    """(API routes answering GET other than one object's detail, web pages answering GET)."""
    api, web = set(), set()
    for route, name, callback in _walk(get_resolver().url_patterns):
        if route.startswith("api/v1/"):
            actions = getattr(callback, "actions", None) or {}
            if actions.get("get") == "retrieve":
                continue  # one object: constant by construction
            if _answers_get(callback):
                api.add(name)
        elif route.startswith(("api/", "admin/")):
            continue  # the schema, Swagger UI and Django's admin are not the product's pages
        elif _answers_get(callback):
            web.add(name)
    return api, web


def test_every_list_route_has_an_entry():
    api, web = discovered_routes()
    api_known = set(API_LISTS) | set(API_NOT_LISTS)
    web_known = set(WEB_LISTS) | set(WEB_NOT_LISTS)
    assert not set(API_LISTS) & set(API_NOT_LISTS)
    assert not set(WEB_LISTS) & set(WEB_NOT_LISTS)
    assert sorted(api - api_known) == [], "API routes with no entry in API_LISTS or API_NOT_LISTS"
    assert sorted(web - web_known) == [], "pages with no entry in WEB_LISTS or WEB_NOT_LISTS"
    assert sorted(api_known - api) == [], "entries for API routes that no longer exist"
    assert sorted(web_known - web) == [], "entries for pages that no longer exist"


def test_discovery_sees_the_routers_list_actions():
    """The discovery itself works: each router's list route is found under its URL name."""
    api, web = discovered_routes()
    assert {"api:contract-list", "package-list", "invoice-list", "governance-api:decision-list"} <= api
    assert {"contracts:list", "brokerage:packages", "finance:invoices", "governance:decisions"} <= web
    assert "api:contract-detail" not in api and "brokerage:referral-claim" not in web


# --- Measuring -----------------------------------------------------------------------------------
# Routes sharing a builder are measured on the same rows: one build of 2 rows, one of 10 more.

GROUPS: dict[str, list[tuple[str, str]]] = {}
for _kind, _table in (("web", WEB_LISTS), ("api", API_LISTS)):
    for _name, _route in _table.items():
        GROUPS.setdefault(_route.build.__name__, []).append((_kind, _name))


def _normalise(sql: str) -> str:
    return re.sub(r"'[^']*'|\b\d+\b", "?", sql)[:150]


def _explain(few_sql: list[str], many_sql: list[str]) -> str:
    extra = Counter(map(_normalise, many_sql)) - Counter(map(_normalise, few_sql))
    return "\n".join(f"    +{count} x {shape}" for shape, count in extra.most_common(4))


@dataclass
class Measured:
    kind: str
    name: str
    url: str = ""
    few: int = 0
    many: int = 0
    few_sql: list = field(default_factory=list)
    many_sql: list = field(default_factory=list)

    def problem(self) -> str | None:
        bound = (WEB_LISTS if self.kind == "web" else API_LISTS)[self.name].bound
        bound = bound or (WEB_BOUND if self.kind == "web" else API_BOUND)
        if self.few != self.many:
            return f"{self.name}: {self.few} queries with {FEW} rows, {self.many} with {MANY}\n" + _explain(
                self.few_sql, self.many_sql
            )
        if self.many > bound:
            return f"{self.name}: {self.many} queries, over the bound of {bound}"
        return None


def _queries(client, url: str) -> list[str]:
    # Each request runs in a savepoint rolled back afterwards, as if in its own transaction: what it
    # writes (the session, the history context pghistory sets for the rest of the transaction)
    # must not leak into the rows built next.
    with transaction.atomic():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
            if getattr(response, "streaming", False):
                b"".join(response.streaming_content)
        transaction.set_rollback(True)
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    return [q["sql"] for q in ctx.captured_queries]


def _url(kind: str, name: str, scene: Scene) -> str:
    route = (WEB_LISTS if kind == "web" else API_LISTS)[name]
    return reverse(name, kwargs=route.kwargs(scene)) + route.query


@pytest.mark.parametrize("builder", sorted(GROUPS))
def test_queries_per_request_are_constant_in_the_rows(builder, client, make_user, partnership):
    from commissioning.services import api_token_create as token

    user = make_user(roles.ADMINISTRATOR, [partnership])
    members = GROUPS[builder]
    routes = {**WEB_LISTS, **API_LISTS}
    clients = {}
    for role in {routes[name].role for _, name in members}:
        reader = user if role == roles.ADMINISTRATOR else make_user(role, [partnership])
        web = Client()
        web.force_login(reader)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {token(user=reader, name='query counts')[1]}")
        clients[role] = {"web": web, "api": api}

    scene = Scene(partnership=partnership, user=user)
    build = routes[members[0][1]].build
    build(scene, FEW)
    results = [Measured(kind, name) for kind, name in members]
    for m in results:
        m.url = _url(m.kind, m.name, scene)
        http = clients[routes[m.name].role][m.kind]
        _queries(http, m.url)  # warm the per-process caches (content types, permissions)
        m.few_sql = _queries(http, m.url)
        m.few = len(m.few_sql)
    build(scene, MANY - FEW)
    for m in results:
        m.many_sql = _queries(clients[routes[m.name].role][m.kind], _url(m.kind, m.name, scene))
        m.many = len(m.many_sql)
        print(f"{m.kind} {m.name}: {m.few} queries with {FEW} rows, {m.many} with {MANY}")
    problems = [p for p in (m.problem() for m in results) if p]
    assert not problems, "\n".join(problems)
