"""One shared scene for the permission matrix: built once per test module inside a transaction
that is rolled back when the module ends, so every test sees the same objects and leaves nothing
behind (each test also runs in its own savepoint through pytest-django's ``db``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from commissioning import roles

D = Decimal


def _build(tmp):  # noqa: PLR0915 - one scene, read top to bottom
    from brokerage import services as brokerage_services
    from brokerage.finance import services as finance_services
    from brokerage.models import Dispute, FundingSplit, Invoice, InvoiceKind, PackageCost
    from brokerage.services import Share
    from budgets import services as budget_services
    from commissioning.models import ContractReview, Organisation
    from commissioning.services import api_token_create
    from governance import packs
    from governance import services as gov
    from governance.models import (
        Action,
        Attendance,
        AttendanceStatus,
        BoardPack,
        Decision,
        ExemptionRegime,
        InterestDeclaration,
        Membership,
        PackAudience,
        PackStatus,
        Session,
    )
    from tests.brokerage.factories import (
        ClientFactory,
        OfferFactory,
        PackageFactory,
        RateCardFactory,
        ReferralFactory,
    )
    from tests.budgets.factories import AgreementFactory, FundingStreamFactory, ScheduleFactory
    from tests.commissioning.factories import ContractFactory, PartnershipFactory, PersonFactory, UserFactory
    from tests.governance.factories import (
        BoardFactory,
        ForwardPlanEntryFactory,
        PaperFactory,
        london,
        pdf_bytes,
    )

    w: dict = {"pdf_root": tmp / "pdfs", "media_root": tmp / "media"}
    home = PartnershipFactory(name="Bromley")
    away = PartnershipFactory(name="Elsewhere")
    w["partnership"] = home
    w["other_partnership"] = away
    council, ccg = home.council, home.nhs_commissioner
    w["organisation"] = council

    # --- who ------------------------------------------------------------------------------------
    profile_roles = {
        "commissioner": roles.COMMISSIONER,
        "broker": roles.BROKER,
        "brokerage_manager": roles.BROKERAGE_MANAGER,
        "finance_officer": roles.FINANCE_OFFICER,
        "board_secretary": roles.BOARD_SECRETARY,
        "board_member": roles.BOARD_MEMBER,
        "auditor": roles.AUDITOR,
    }
    users = {
        name: UserFactory(username=name, role=role, partnerships=[home])
        for name, role in profile_roles.items()
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
    w["tokens"] = {name: api_token_create(user=u, name="matrix")[1] for name, u in users.items()}
    by = users["administrator"]

    # --- core -----------------------------------------------------------------------------------
    contract = ContractFactory(partnership=home)
    ContractReview.objects.create(
        contract=contract, review_date=date(2024, 6, 1), rag_rating="green", notes="ok"
    )
    w["contract"] = contract
    w["provider"] = contract.provider
    w["own_token"] = users["commissioner"].api_tokens.get()
    assert isinstance(council, Organisation)

    # --- budgets --------------------------------------------------------------------------------
    agreement = AgreementFactory(partnership=home)
    schedule = ScheduleFactory(agreement=agreement)
    stream = FundingStreamFactory(partnership=home, organisation=ccg)
    line_a = budget_services.budget_line_create(
        by=by,
        schedule=schedule,
        name="Placements",
        year=2022,
        funding_stream=stream,
        amount=D("1000.00"),
        status="approved",
    )
    line_b = budget_services.budget_line_create(
        by=by,
        schedule=schedule,
        name="Brokerage team",
        year=2022,
        funding_stream=stream,
        amount=D("500.00"),
        status="approved",
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
    w.update(
        agreement=agreement,
        schedule=schedule,
        funding_stream=stream,
        budget_line=line_a,
        monthly_position=position,
        virement=virement,
    )

    # --- brokerage ------------------------------------------------------------------------------
    client = ClientFactory(partnership=home)
    rate_card = RateCardFactory(partnership=home, year=2024)
    referral = ReferralFactory(client=client)
    offer = OfferFactory(referral=referral, unit_rate=D("30.00"))  # above the rate card
    package = PackageFactory(client=client, start=date(2022, 4, 1), paying_organisation=council)
    brokerage_services.package_cost_add(
        package=package,
        effective_from=date(2022, 4, 1),
        unit_rate=D("700.00"),
        units_per_week=D("1"),
        unit="week",
        by=by,
    )
    brokerage_services.funding_split_add(
        package=package,
        effective_from=date(2022, 4, 1),
        shares=[Share(council, D(50)), Share(ccg, D(50))],
        basis="panel_decision",
        by=by,
    )
    second = PackageFactory(
        client=ClientFactory(partnership=home), start=date(2022, 4, 1), paying_organisation=council
    )
    brokerage_services.package_cost_add(
        package=second,
        effective_from=date(2022, 4, 1),
        unit_rate=D("350.00"),
        units_per_week=D("1"),
        unit="week",
        by=by,
    )
    brokerage_services.funding_split_add(
        package=second,
        effective_from=date(2022, 4, 1),
        shares=[Share(council, D(50)), Share(ccg, D(50))],
        basis="panel_decision",
        by=by,
    )
    panel = brokerage_services.panel_decision_record(
        client=client,
        reference="PANEL-1",
        meeting_date=date(2022, 4, 1),
        effective_from=date(2022, 4, 1),
        shares=[Share(council, D(50)), Share(ccg, D(50))],
        by=by,
    )
    package.refresh_from_db()
    w.update(
        client=client,
        rate_card=rate_card,
        referral=referral,
        offer=offer,
        package=package,
        package_cost=PackageCost.objects.filter(package=package).first(),
        funding_split=FundingSplit.objects.filter(package=package).first(),
        panel_decision=panel,
    )

    # --- finance: May issued (one line credited, one in dispute), June a draft -------------------
    finance = users["finance_officer"]

    def run(period):
        r = finance_services.recharge_run_request(partnership=home, issuer=council, period=period, by=finance)
        return finance_services.recharge_run_execute(run_id=r.pk)

    may = run(date(2022, 5, 1))
    invoice = finance_services.invoice_issue(invoice=may.invoices.get(), by=finance, today=date(2022, 6, 1))
    lines = list(invoice.lines.order_by("pk"))
    credited = finance_services.dispute_raise(
        invoice=invoice,
        lines=[lines[0]],
        reason=Dispute._meta.get_field("reason").choices[0][0],
        note="",
        by=finance,
    )
    finance_services.dispute_resolve(
        dispute=credited, outcome="credited", by=finance, today=date(2022, 6, 10)
    )
    dispute = finance_services.dispute_raise(
        invoice=invoice,
        lines=[lines[1]],
        reason=Dispute._meta.get_field("reason").choices[0][0],
        note="",
        by=finance,
    )
    credit_note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    finance_services.invoice_pdf_ensure(invoice_id=invoice.pk)
    finance_services.invoice_pdf_ensure(invoice_id=credit_note.pk)
    june = run(date(2022, 6, 1))
    w.update(
        recharge_run=may,
        invoice=Invoice.objects.get(pk=invoice.pk),
        credit_note=credit_note,
        draft_invoice=june.invoices.get(),
        dispute=dispute,
    )

    # --- governance: board A (members: board_member), board B (member_of_other_board) -------------
    board = BoardFactory(partnership=home, code="BBB", name="Borough Based Board")
    other_board = BoardFactory(partnership=home, code="PBB", name="Place Based Board")
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
    exempt_item = gov.agenda_item_add(
        meeting=meeting,
        title="Exempt item",
        purpose="decision",
        paper=private_paper,
        exemption_regime=ExemptionRegime.SCHEDULE_12A,
        exemption_paragraph=3,
        exemption_reason="Commercial",
        by=by,
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
        exemption_regime=ExemptionRegime.SCHEDULE_12A,
        exemption_paragraph=3,
        exemption_reason="Prices",
        by=by,
    )
    today = timezone.localdate()
    decision = Decision.objects.create(
        agenda_item=item,
        reference="BBB/2021/001",
        resolution="Approved",
        outcome="approved",
        decided_on=date(2021, 9, 2),
        published_on=date(2021, 9, 3),
    )
    exempt_decision = Decision.objects.create(
        agenda_item=exempt_item,
        reference="BBB/2021/002",
        resolution="Approved",
        outcome="approved",
        decided_on=date(2021, 9, 2),
        published_on=date(2021, 9, 3),
    )
    unpublished = Decision.objects.create(
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
        declared_on=today,
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
    return w


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The scene (a dict of named objects), committed to nothing: rolled back after the module."""
    tmp = tmp_path_factory.mktemp("matrix")
    with override_settings(PDF_ROOT=tmp / "pdfs", MEDIA_ROOT=tmp / "media"), django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build(tmp)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
