"""A representative data set for the fuzzing tests (schemathesis and the form fuzz): one or more rows
of every kind the API and the forms touch, in our partnership and in another one, one user per role
(plus an outsider granted only the other partnership) with an API token each.

``world_fixture`` builds it once per test module inside a transaction that is rolled back when the
module ends, so the tests see the same rows and leave nothing behind.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import override_settings

from commissioning import roles

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


def _brokerage(w: dict, partnership, by, *, prefix: str) -> None:
    from brokerage import services as brokerage_services
    from brokerage.services import Share
    from tests.brokerage.factories import (
        ClientFactory,
        OfferFactory,
        PackageFactory,
        RateCardFactory,
        ReferralFactory,
    )

    council, ccg = partnership.council, partnership.nhs_commissioner
    client = ClientFactory(partnership=partnership)
    referral = ReferralFactory(client=client)
    offer = OfferFactory(referral=referral, unit_rate=D("30.00"))
    rate_card = RateCardFactory(partnership=partnership, year=2024)
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
        shares=[Share(council, D(60)), Share(ccg, D(40))],
        basis="panel_decision",
        by=by,
    )
    panel = brokerage_services.panel_decision_record(
        client=client,
        reference=f"{prefix}PANEL-1",
        meeting_date=date(2022, 4, 1),
        effective_from=date(2022, 4, 1),
        shares=[Share(council, D(50)), Share(ccg, D(50))],
        by=by,
    )
    w[f"{prefix}client"] = client
    w[f"{prefix}package"] = package
    w[f"{prefix}referral"] = referral
    w[f"{prefix}offer"] = offer
    w[f"{prefix}rate_card"] = rate_card
    w[f"{prefix}panel_decision"] = panel


def _budgets(w: dict, partnership, by, *, prefix: str) -> None:
    from budgets import services as budget_services
    from tests.budgets.factories import AgreementFactory, FundingStreamFactory, ScheduleFactory

    agreement = AgreementFactory(partnership=partnership)
    schedule = ScheduleFactory(agreement=agreement)
    stream = FundingStreamFactory(partnership=partnership, organisation=partnership.nhs_commissioner)
    line, other_line = (
        budget_services.budget_line_create(
            by=by,
            schedule=schedule,
            name=name,
            year=2022,
            funding_stream=stream,
            amount=D("1000.00"),
            status="approved",
        )
        for name in ("Placements", "Brokerage team")
    )
    budget_services.monthly_position_save(
        budget_line=line,
        period=date(2022, 5, 1),
        actual_to_date=D("100.00"),
        forecast_outturn=D("900.00"),
        by=by,
    )
    w[f"{prefix}virement"] = budget_services.virement_propose(
        schedule=schedule,
        year=2022,
        from_line=line,
        to_line=other_line,
        amount=D("10.00"),
        reason="Move",
        by=by,
    )
    w[f"{prefix}agreement"] = agreement
    w[f"{prefix}funding_stream"] = stream
    w[f"{prefix}schedule"] = schedule
    w[f"{prefix}budget_line"] = line


def _finance(w: dict, partnership, finance) -> None:
    from brokerage.finance import services as finance_services
    from brokerage.models import Dispute

    council = partnership.council

    def run(period):
        requested = finance_services.recharge_run_request(
            partnership=partnership, issuer=council, period=period, by=finance
        )
        return finance_services.recharge_run_execute(run_id=requested.pk)

    may = run(date(2022, 5, 1))
    invoice = finance_services.invoice_issue(invoice=may.invoices.get(), by=finance, today=date(2022, 6, 1))
    # No PDF is rendered here: the download renders it on demand under the PDF_ROOT of the moment.
    reason = Dispute._meta.get_field("reason").choices[0][0]
    w["dispute"] = finance_services.dispute_raise(
        invoice=invoice, lines=[invoice.lines.first()], reason=reason, note="", by=finance
    )
    w["invoice"] = invoice
    w["draft_invoice"] = run(date(2022, 6, 1)).invoices.get()


def _governance(w: dict, partnership, by, users) -> None:
    from governance import packs
    from governance import services as gov
    from governance.models import (
        Action,
        Attendance,
        AttendanceStatus,
        BoardPack,
        Decision,
        InterestDeclaration,
        Membership,
        PackAudience,
        PackStatus,
    )
    from tests.commissioning.factories import PersonFactory
    from tests.governance.factories import (
        BoardFactory,
        ForwardPlanEntryFactory,
        PaperFactory,
        london,
        pdf_bytes,
    )

    council = partnership.council
    board = BoardFactory(partnership=partnership, code="BBB", name="Borough Based Board")
    member = PersonFactory(name="Member", user=users["board_member"])
    Membership.objects.create(
        board=board, person=member, role="member", representing=council, start=date(2020, 1, 1)
    )
    meeting = gov.meeting_create(board=board, starts_at=london(2021, 9, 2), venue="Civic Centre", by=by)
    gov.meeting_create(board=board, starts_at=london(2021, 12, 2), venue="Civic Centre", by=by)
    paper = PaperFactory(board=board, title="Public paper")
    item = gov.agenda_item_add(meeting=meeting, title="Public item", purpose="decision", paper=paper, by=by)
    gov.appendix_add(paper=paper, title="Appendix", filename="a.pdf", data=pdf_bytes(1), by=by)
    decision = Decision.objects.create(
        agenda_item=item,
        reference="BBB/2021/001",
        resolution="Approved",
        outcome="approved",
        decided_on=date(2021, 9, 2),
        published_on=date(2021, 9, 3),
    )
    action = Action.objects.create(meeting=meeting, description="Report back", owner=member, agenda_item=item)
    gov.minutes_write(meeting=meeting, entries={item.pk: "Agreed."}, by=by)
    Attendance.objects.create(meeting=meeting, person=member, status=AttendanceStatus.PRESENT)
    InterestDeclaration.objects.create(
        person=member,
        board=board,
        meeting=meeting,
        agenda_item=item,
        nature="financial",
        description="Shares",
        action="withdrew",
        declared_on=date(2021, 9, 2),
    )
    forward_plan = ForwardPlanEntryFactory(board=board)
    data = pdf_bytes(1, "Pack")
    for audience in (PackAudience.PUBLIC, PackAudience.MEMBERS):
        pack = BoardPack.objects.create(meeting=meeting, audience=audience, version=1, requested_by=by)
        pack.file, pack.checksum = packs.write_pack_file(pack, data)
        pack.status, pack.page_count = PackStatus.READY, 1
        pack.save()
    w.update(
        board=board,
        membership=board.memberships.get(person=member),
        meeting=meeting,
        item=item,
        paper=paper,
        person=member,
        decision=decision,
        action=action,
        forward_plan=forward_plan,
    )


def build_world() -> dict:
    from commissioning.models import ContractReview
    from commissioning.services import api_token_create
    from tests.commissioning.factories import ContractFactory, PartnershipFactory, UserFactory
    from tests.governance.factories import BoardFactory

    w: dict = {}
    home = PartnershipFactory(name="Bromley")
    away = PartnershipFactory(name="Elsewhere")
    users = {
        name: UserFactory(username=f"fuzz_{name}", role=role, partnerships=[home])
        for name, role in IDENTITIES.items()
    }
    users["administrator"] = UserFactory(
        username="fuzz_administrator",
        role=roles.ADMINISTRATOR,
        partnerships=[home],
        is_superuser=True,
        is_staff=True,
    )
    # Every role but administrator, granted only the other partnership: ours is hidden from them.
    users["other_partnership"] = UserFactory(
        username="fuzz_outsider",
        role=[r for r in roles.ROLES if r != roles.ADMINISTRATOR],
        partnerships=[away],
    )
    by = users["administrator"]
    w.update(partnership=home, other_partnership=away, users=users)
    w["tokens"] = {name: api_token_create(user=user, name="fuzz")[1] for name, user in users.items()}

    contract = ContractFactory(partnership=home)
    ContractReview.objects.create(
        contract=contract, review_date=date(2024, 6, 1), rag_rating="green", notes="ok"
    )
    ContractFactory(partnership=away)
    w["contract"] = contract

    _budgets(w, home, by, prefix="")
    _budgets(w, away, by, prefix="away_")
    _brokerage(w, home, by, prefix="")
    _brokerage(w, away, by, prefix="away_")
    _finance(w, home, users["finance_officer"])
    _governance(w, home, by, users)
    BoardFactory(partnership=away, code="ELS", name="Elsewhere Board")
    return w


def world_fixture(name: str = "fuzz_world"):
    """A module-scoped fixture building the world, rolled back when the module ends."""

    @pytest.fixture(scope="module", name=name)
    def _world(django_db_setup, django_db_blocker, tmp_path_factory):
        tmp = tmp_path_factory.mktemp("fuzz")
        with (
            override_settings(
                PDF_ROOT=tmp / "pdfs",
                MEDIA_ROOT=tmp / "media",
                PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            ),
            django_db_blocker.unblock(),
        ):
            outer = transaction.atomic()
            outer.__enter__()
            try:
                yield build_world()
            finally:
                transaction.set_rollback(True)
                outer.__exit__(None, None, None)

    return _world
