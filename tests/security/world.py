"""The one scene the security tests share: the permission matrix, the form fuzz and schemathesis.

Rows of every kind the pages, the API and the forms touch, in our partnership (Bromley) and, for
budgets, brokerage, contracts and boards, in another one (``away_*``), so that whatever a user of
one partnership asks of the other is seen to be hidden. One user per role, an administrator, an
outsider granted only the other partnership and a board member of another board, each with an API
token.

``world_fixture`` builds it once per test module inside a transaction that is rolled back when the
module ends, so every test sees the same objects and leaves nothing behind (each test also runs in
its own savepoint through pytest-django's ``db``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from commissioning import roles
from tests.db import module_transaction

D = Decimal

IDENTITIES = {
    "commissioner": roles.COMMISSIONER,
    "broker": roles.BROKER,
    "brokerage_manager": roles.BROKERAGE_MANAGER,
    "finance_officer": roles.FINANCE_OFFICER,
    "board_secretary": roles.BOARD_SECRETARY,
    "board_member": roles.BOARD_MEMBER,
    "auditor": roles.AUDITOR,
}


def _people(w: dict, home, away) -> dict:
    from commissioning.services import api_token_create
    from tests.commissioning.factories import UserFactory

    users = {
        name: UserFactory(username=name, role=role, partnerships=[home]) for name, role in IDENTITIES.items()
    }
    users["administrator"] = UserFactory(
        username="administrator",
        role=roles.ADMINISTRATOR,
        partnerships=[home],
        is_superuser=True,
        is_staff=True,
    )
    # Every role but administrator, granted only the other partnership: whatever it asks of ours is 404.
    users["other_partnership"] = UserFactory(
        username="outsider", role=[r for r in roles.ROLES if r != roles.ADMINISTRATOR], partnerships=[away]
    )
    # A board member of this partnership, but of another board: exempt content of ours is 404.
    users["member_of_other_board"] = UserFactory(
        username="member_elsewhere", role=roles.BOARD_MEMBER, partnerships=[home]
    )
    # A board secretary of this partnership who is the secretary of another board: only the public
    # content of ours (rules.md, rule 3).
    users["secretary_of_other_board"] = UserFactory(
        username="secretary_elsewhere", role=roles.BOARD_SECRETARY, partnerships=[home]
    )
    w["users"] = users
    w["tokens"] = {name: api_token_create(user=u, name="world")[1] for name, u in users.items()}
    w["own_token"] = users["commissioner"].api_tokens.get()
    return users


def _core(w: dict, home, away) -> None:
    from commissioning.models import ContractReview
    from tests.commissioning.factories import ContractFactory

    contract = ContractFactory(partnership=home)
    ContractReview.objects.create(
        contract=contract, review_date=date(2024, 6, 1), rag_rating="green", notes="ok"
    )
    w["contract"] = contract
    w["provider"] = contract.provider
    w["away_contract"] = ContractFactory(partnership=away)


def _budgets(w: dict, partnership, by, *, commissioner, prefix: str = "") -> None:
    from budgets import services as budget_services
    from tests.budgets.factories import AgreementFactory, FundingStreamFactory, ScheduleFactory

    agreement = AgreementFactory(partnership=partnership)
    schedule = ScheduleFactory(agreement=agreement)
    stream = FundingStreamFactory(partnership=partnership, organisation=partnership.nhs_commissioner)
    line_a, line_b = (
        budget_services.budget_line_create(
            by=by,
            schedule=schedule,
            name=name,
            year=2022,
            funding_stream=stream,
            amount=amount,
            status="approved",
        )
        for name, amount in (("Placements", D("1000.00")), ("Brokerage team", D("500.00")))
    )
    position = budget_services.monthly_position_save(
        budget_line=line_a,
        period=date(2022, 5, 1),
        actual_to_date=D("100.00"),
        forecast_outturn=D("900.00"),
        by=by,
    )
    virement = budget_services.virement_propose(
        schedule=schedule,
        year=2022,
        from_line=line_a,
        to_line=line_b,
        amount=D("10.00"),
        reason="Move",
        by=by,
    )
    # Proposed by the commissioner: theirs to see, another officer's to approve (separation of duties).
    own_virement = budget_services.virement_propose(
        schedule=schedule,
        year=2022,
        from_line=line_a,
        to_line=line_b,
        amount=D("20.00"),
        reason="Move",
        by=commissioner,
    )
    for key, value in {
        "agreement": agreement,
        "schedule": schedule,
        "funding_stream": stream,
        "budget_line": line_a,
        "monthly_position": position,
        "virement": virement,
        "commissioners_virement": own_virement,
    }.items():
        w[prefix + key] = value


def _costed_package(client, paying, by, weekly: str, shares):
    from brokerage import services as brokerage_services
    from tests.brokerage.factories import PackageFactory, PanelDecisionFactory

    package = PackageFactory(client=client, start=date(2022, 4, 1), paying_organisation=paying)
    brokerage_services.package_cost_add(
        package=package,
        effective_from=date(2022, 4, 1),
        unit_rate=D(weekly),
        units_per_week=D("1"),
        unit="week",
        by=by,
    )
    brokerage_services.funding_split_add(
        package=package,
        effective_from=date(2022, 4, 1),
        shares=shares,
        basis="panel_decision",
        decision_reference=PanelDecisionFactory(client=client).reference,
        by=by,
    )
    return package


def _brokerage(w: dict, partnership, by, *, prefix: str = "") -> None:
    from brokerage import services as brokerage_services
    from brokerage.models import FundingSplit, PackageCost
    from brokerage.services import Share
    from tests.brokerage.factories import ClientFactory, OfferFactory, RateCardFactory, ReferralFactory

    council, ccg = partnership.council, partnership.nhs_commissioner
    halves = [Share(council, D(50)), Share(ccg, D(50))]
    client = ClientFactory(partnership=partnership)
    rate_card = RateCardFactory(partnership=partnership, year=2024)
    referral = ReferralFactory(client=client)
    offer = OfferFactory(referral=referral, unit_rate=D("30.00"))  # above the rate card
    package = _costed_package(client, council, by, "700.00", halves)
    _costed_package(ClientFactory(partnership=partnership), council, by, "350.00", halves)
    panel = brokerage_services.panel_decision_record(
        client=client,
        reference=f"{prefix.upper()}PANEL-1",
        meeting_date=date(2022, 4, 1),
        effective_from=date(2022, 4, 1),
        shares=halves,
        by=by,
    )
    package.refresh_from_db()
    for key, value in {
        "client": client,
        "rate_card": rate_card,
        "referral": referral,
        "offer": offer,
        "package": package,
        "package_cost": PackageCost.objects.filter(package=package).first(),
        "funding_split": FundingSplit.objects.filter(package=package).first(),
        "panel_decision": panel,
    }.items():
        w[prefix + key] = value


def _pending_price(w: dict, broker) -> None:
    """A price change of our package waiting for a brokerage manager (no rate card for its unit),
    proposed by the broker: any manager but the broker may approve it."""
    from brokerage import services as brokerage_services

    w["price_change"] = brokerage_services.price_change_propose(
        package=w["package"],
        effective_from=date(2022, 9, 1),
        unit_rate=D("750.00"),
        units_per_week=D("1"),
        unit="week",
        reason="Provider's uplift",
        by=broker,
    )
    w["package"].refresh_from_db()


def _managers_offer(w: dict, manager) -> None:
    """An offer above the rate card recorded by the brokerage manager: awaiting another manager's
    approval, which its recorder neither gives nor refuses (separation of duties)."""
    from tests.brokerage.factories import OfferFactory

    w["managers_offer"] = OfferFactory(referral=w["referral"], unit_rate=D("31.00"), recorded_by=manager)


def _finance(w: dict, home, finance) -> None:
    """May issued (one line credited, one in dispute), June a draft."""
    from brokerage.finance import services as finance_services
    from brokerage.models import Dispute, Invoice, InvoiceKind, RegionRun, RegionRunMember

    council = home.council

    def run(period):
        r = finance_services.recharge_run_request(partnership=home, issuer=council, period=period, by=finance)
        return finance_services.recharge_run_execute(run_id=r.pk)

    may = run(date(2022, 5, 1))
    invoice = finance_services.invoice_issue(invoice=may.invoices.get(), by=finance, today=date(2022, 6, 1))
    lines = list(invoice.lines.order_by("pk"))
    reason = Dispute._meta.get_field("reason").choices[0][0]
    credited = finance_services.dispute_raise(
        invoice=invoice, lines=[lines[0]], reason=reason, note="", by=finance
    )
    finance_services.dispute_resolve(dispute=credited, outcome="waived", by=finance, today=date(2022, 6, 10))
    dispute = finance_services.dispute_raise(
        invoice=invoice, lines=[lines[1]], reason=reason, note="", by=finance
    )
    credit_note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    finance_services.invoice_pdf_ensure(invoice_id=invoice.pk)
    finance_services.invoice_pdf_ensure(invoice_id=credit_note.pk)
    june = run(date(2022, 6, 1))
    region_run = RegionRun.objects.create(
        period=date(2022, 5, 1), status="done", requested_by=finance, run_count=1
    )
    RegionRunMember.objects.create(region_run=region_run, partnership=home, issuer=council, run=may)
    w.update(
        recharge_run=may,
        region_run=region_run,
        invoice=Invoice.objects.get(pk=invoice.pk),
        credit_note=credit_note,
        draft_invoice=june.invoices.get(),
        dispute=dispute,
    )


def _governance(w: dict, home, away, by, users) -> None:  # noqa: PLR0915 - one scene, read top to bottom
    """Board A (members: board_member) with public and exempt business; board B of the same
    partnership (member_of_other_board); a board of the other partnership."""
    from governance import packs
    from governance import services as gov
    from governance.models import (
        Action,
        Attendance,
        AttendanceStatus,
        BoardPack,
        ExemptionRegime,
        InterestDeclaration,
        Membership,
        PackAudience,
        PackStatus,
        Session,
    )
    from tests.commissioning.factories import PersonFactory
    from tests.governance.factories import (
        BoardFactory,
        DecisionFactory,
        ForwardPlanEntryFactory,
        PaperFactory,
        london,
        pdf_bytes,
    )

    council = home.council
    board = BoardFactory(partnership=home, code="BBB", name="Borough Based Board")
    other_board = BoardFactory(partnership=home, code="PBB", name="Place Based Board")
    BoardFactory(partnership=away, code="ELS", name="Elsewhere Board")
    member_person = PersonFactory(name="Member", user=users["board_member"])
    Membership.objects.create(
        board=board, person=member_person, role="member", representing=council, start=date(2020, 1, 1)
    )
    Membership.objects.create(
        board=other_board,
        person=PersonFactory(name="Elsewhere", user=users["member_of_other_board"]),
        role="member",
        representing=council,
        start=date(2020, 1, 1),
    )
    # Board secretaries see exempt content of the boards they are the secretary of.
    Membership.objects.create(
        board=board,
        person=PersonFactory(name="Secretary", user=users["board_secretary"]),
        role="secretary",
        voting=False,
        start=date(2020, 1, 1),
    )
    Membership.objects.create(
        board=other_board,
        person=PersonFactory(name="Secretary elsewhere", user=users["secretary_of_other_board"]),
        role="secretary",
        voting=False,
        start=date(2020, 1, 1),
    )
    meeting = gov.meeting_create(board=board, starts_at=london(2021, 9, 2), venue="Civic Centre", by=by)
    later = gov.meeting_create(board=board, starts_at=london(2021, 12, 2), venue="Civic Centre", by=by)
    public_paper = PaperFactory(board=board, title="Public paper")
    private_paper = PaperFactory(board=board, title="Private paper", session=Session.PRIVATE)
    item = gov.agenda_item_add(
        meeting=meeting, title="Public item", purpose="decision", paper=public_paper, by=by
    )
    exempt = {
        "exemption_regime": ExemptionRegime.SCHEDULE_12A,
        "exemption_paragraph": 3,
    }
    exempt_item = gov.agenda_item_add(
        meeting=meeting,
        title="Exempt item",
        purpose="decision",
        paper=private_paper,
        exemption_reason="Commercial",
        by=by,
        **exempt,
    )
    data = pdf_bytes(1)
    appendix = gov.appendix_add(
        paper=public_paper, title="Public appendix", filename="a.pdf", data=data, by=by
    )
    exempt_appendix = gov.appendix_add(
        paper=public_paper,
        title="Exempt appendix",
        filename="b.pdf",
        data=data,
        exemption_reason="Prices",
        by=by,
        **exempt,
    )
    decided = {"outcome": "approved", "resolution": "Approved", "decided_on": date(2021, 9, 2)}
    decision = DecisionFactory(
        agenda_item=item, reference="BBB/2021/001", published_on=date(2021, 9, 3), **decided
    )
    exempt_decision = DecisionFactory(
        agenda_item=exempt_item, reference="BBB/2021/002", published_on=date(2021, 9, 3), **decided
    )
    unpublished = DecisionFactory(
        agenda_item=item,
        reference="BBB/2021/003",
        resolution="Noted",
        outcome="noted",
        decided_on=date(2021, 9, 2),
    )
    action = Action.objects.create(
        meeting=meeting, description="Report back", owner=member_person, agenda_item=item
    )
    minutes = gov.minutes_write(meeting=meeting, entries={item.pk: "Agreed."}, by=by)
    attendance = Attendance.objects.create(
        meeting=meeting, person=member_person, status=AttendanceStatus.PRESENT
    )
    declaration = InterestDeclaration.objects.create(
        person=member_person,
        board=board,
        meeting=meeting,
        agenda_item=item,
        nature="financial",
        description="Shares",
        action="withdrew",
        declared_on=timezone.localdate(),
    )
    forward = ForwardPlanEntryFactory(board=board)
    pack_pdf = pdf_bytes(1, "Pack")
    made = {}
    for audience in (PackAudience.PUBLIC, PackAudience.MEMBERS):
        pack = BoardPack.objects.create(meeting=meeting, audience=audience, version=1, requested_by=by)
        path, checksum = packs.write_pack_file(pack, pack_pdf)
        pack.file, pack.checksum, pack.status, pack.page_count = path, checksum, PackStatus.READY, 1
        pack.save()
        made[audience] = pack
    w.update(
        board=board,
        other_board=other_board,
        membership=board.memberships.get(person=member_person),
        meeting=meeting,
        later_meeting=later,
        item=item,
        exempt_item=exempt_item,
        paper=public_paper,
        private_paper=private_paper,
        appendix=appendix,
        exempt_appendix=exempt_appendix,
        decision=decision,
        exempt_decision=exempt_decision,
        unpublished_decision=unpublished,
        action=action,
        minutes=minutes,
        attendance=attendance,
        declaration=declaration,
        forward_plan=forward,
        public_pack=made[PackAudience.PUBLIC],
        members_pack=made[PackAudience.MEMBERS],
        member_person=member_person,
    )


def build_world(tmp) -> dict:
    from tests.commissioning.factories import PartnershipFactory

    w: dict = {"pdf_root": tmp / "pdfs", "media_root": tmp / "media"}
    home = PartnershipFactory(name="Bromley")
    away = PartnershipFactory(name="Elsewhere")
    w.update(partnership=home, other_partnership=away, organisation=home.council)
    users = _people(w, home, away)
    by = users["administrator"]
    _core(w, home, away)
    _budgets(w, home, by, commissioner=users["commissioner"])
    _budgets(w, away, by, commissioner=by, prefix="away_")
    _brokerage(w, home, by)
    _brokerage(w, away, by, prefix="away_")
    _pending_price(w, users["broker"])
    _managers_offer(w, users["brokerage_manager"])
    _finance(w, home, users["finance_officer"])
    _governance(w, home, away, by, users)
    _agreement_records(w, by)
    return w


def _agreement_records(w: dict, by) -> None:
    """The home agreement's signed document, a variation (approved by the home board's decision)
    with its deed, and a review."""
    import io

    from budgets import services as budget_services
    from commissioning import uploads
    from tests.governance.factories import pdf_bytes

    def signed(name: str) -> uploads.CheckedUpload:
        upload = io.BytesIO(pdf_bytes(1, name))
        upload.name = f"{name}.pdf"
        return uploads.check_pdf_upload(upload)

    agreement = budget_services.agreement_update(
        agreement=w["agreement"], by=by, signed_document=signed("Agreement")
    )
    w["agreement"] = agreement
    w["variation"] = budget_services.variation_record(
        agreement=agreement,
        by=by,
        effective_from=agreement.start,
        changes="Schedule added",
        decision=w["decision"],
        signed_deed=signed("Deed"),
    )
    w["review"] = budget_services.review_create(agreement=agreement, by=by, due=agreement.start)
    from django.utils import timezone

    from budgets.models import FundStatement, financial_year_of

    # A statement queued for this year (the worker has not rendered it): its PDF is not there yet.
    year = min(max(financial_year_of(timezone.localdate()), agreement.years[0]), agreement.years[-1])
    w["fund_statement"] = FundStatement.objects.create(agreement=agreement, year=year, requested_by=by)
    from governance import services as gov

    # A decision and a paper linked to the home schedule (the links' remove pages ask for them).
    w["decision_link"] = gov.decision_link_add(decision=w["decision"], target=w["schedule"], by=by)
    w["paper_link"] = gov.paper_link_add(paper=w["paper"], target=w["schedule"], by=by)
    w["contribution_plan"] = budget_services.contribution_plan_save(
        schedule=w["schedule"],
        year=2022,
        partner=agreement.partnership.nhs_commissioner,
        frequency="quarterly",
        by=by,
    )


def world_fixture(name: str = "world"):
    """A module-scoped fixture (named ``name``) holding the world, rolled back when the module ends."""

    @pytest.fixture(scope="module", name=name)
    def _world(django_db_setup, django_db_blocker, tmp_path_factory):
        tmp = tmp_path_factory.mktemp("world")
        with module_transaction(django_db_blocker, PDF_ROOT=tmp / "pdfs", MEDIA_ROOT=tmp / "media"):
            yield build_world(tmp)

    return _world
