"""Services: derived risk share per schedule rule, and every kind of bad input refused with an
error naming the field while nothing changes."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from budgets import selectors, services
from budgets.models import BudgetLine, MonthlyPosition, Schedule, ScheduleFixedShare, Virement
from commissioning import roles
from commissioning.services import StaleEdit
from tests.budgets.factories import AgreementFactory, BudgetLineFactory, FundingStreamFactory, ScheduleFactory
from tests.commissioning.factories import UserFactory
from tests.governance.factories import BoardFactory, DecisionFactory, MeetingFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def setup(bromley, bromley_users):
    """The IPB schedule of rule 2's worked example: CCG £118,340; iBCF £29,799 + LBB core £13,914."""
    agreement = AgreementFactory(
        partnership=bromley, host=bromley.council, start=date(2021, 4, 1), end=date(2024, 3, 31)
    )
    schedule = ScheduleFactory(
        agreement=agreement, overspend_rule="proportional", underspend_rule="proportional"
    )
    ccg = FundingStreamFactory(partnership=bromley, name="CCG", organisation=bromley.nhs_commissioner)
    ibcf = FundingStreamFactory(partnership=bromley, name="iBCF", organisation=bromley.council)
    core = FundingStreamFactory(partnership=bromley, name="LBB core", organisation=bromley.council)
    lines = {
        "pb": BudgetLineFactory(
            schedule=schedule,
            name="Placements and Brokerage",
            year=2021,
            funding_stream=ccg,
            amount=D("110340"),
        ),
        "fin": BudgetLineFactory(
            schedule=schedule,
            name="Additional finance costs",
            year=2021,
            funding_stream=ccg,
            amount=D("8000"),
        ),
        "ibcf": BudgetLineFactory(
            schedule=schedule, name="Support team", year=2021, funding_stream=ibcf, amount=D("29799")
        ),
        "core": BudgetLineFactory(
            schedule=schedule, name="Support team", year=2021, funding_stream=core, amount=D("13914")
        ),
    }
    return {
        "schedule": schedule,
        "agreement": agreement,
        "lines": lines,
        "streams": {"ccg": ccg, "ibcf": ibcf, "core": core},
        "by": bromley_users["commissioner"],
        "partnership": bromley,
    }


ZERO = D("0")


def enter(setup, line_key, forecast, period=date(2021, 9, 1), actual=ZERO):
    return services.monthly_position_save(
        budget_line=setup["lines"][line_key],
        period=period,
        actual_to_date=actual,
        forecast_outturn=forecast,
        by=setup["by"],
    )


def shares(setup, year=2021, period=None):
    schedule = selectors.with_related(Schedule.objects.filter(pk=setup["schedule"].pk)).get()
    monitoring = selectors.monitor(schedule, year, period)
    return monitoring, {s.organisation.code: s.amount for s in monitoring.shares}


# --- Risk share through the schedule's rule (rule 2) ----------------------------------------------


def test_a_10000_overspend_is_shared_in_proportion_to_contributions_to_the_penny(setup):
    enter(setup, "pb", D("120340"))  # £10,000 over

    monitoring, amounts = shares(setup)

    assert monitoring.budget == D("162053") and monitoring.variance == D("10000")
    assert amounts == {"SELCCG-BR": D("7302.55"), "LBB": D("2697.45")}


def test_own_lines_puts_each_lines_variance_on_its_funder(setup):
    Schedule.objects.filter(pk=setup["schedule"].pk).update(overspend_rule="own_lines")
    enter(setup, "pb", D("111340"))  # CCG line £1,000 over
    enter(setup, "core", D("14414"))  # LBB line £500 over

    _, amounts = shares(setup)

    assert amounts == {"SELCCG-BR": D("1000.00"), "LBB": D("500.00")}


def test_host_rule_puts_the_variance_on_the_host(setup):
    Schedule.objects.filter(pk=setup["schedule"].pk).update(overspend_rule="host")
    enter(setup, "pb", D("111340"))

    _, amounts = shares(setup)

    assert amounts == {"SELCCG-BR": D("0.00"), "LBB": D("1000.00")}


def test_fixed_rule_uses_the_schedules_fixed_shares(setup):
    p = setup["partnership"]
    services.schedule_update(
        schedule=setup["schedule"],
        by=setup["by"],
        overspend_rule="fixed",
        fixed_shares=[
            services.FixedShare(p.nhs_commissioner, D("33.33")),
            services.FixedShare(p.council, D("66.67")),
        ],
    )
    enter(setup, "pb", D("110440.01"))  # £100.01 over

    _, amounts = shares(setup)

    assert amounts == {"SELCCG-BR": D("33.33"), "LBB": D("66.68")}


def test_an_underspend_follows_the_underspend_rule(setup):
    Schedule.objects.filter(pk=setup["schedule"].pk).update(
        overspend_rule="proportional", underspend_rule="host"
    )
    enter(setup, "pb", D("109340"))  # £1,000 under

    monitoring, amounts = shares(setup)

    assert monitoring.rule == "host"
    assert amounts == {"SELCCG-BR": D("0.00"), "LBB": D("-1000.00")}


def test_the_latest_position_at_or_before_the_period_counts_and_unreported_lines_stay_at_budget(setup):
    enter(setup, "pb", D("115340"), period=date(2021, 6, 1))
    enter(setup, "pb", D("120340"), period=date(2021, 9, 1))

    at_july, _ = shares(setup, period=date(2021, 7, 1))
    latest, _ = shares(setup)

    assert at_july.variance == D("5000") and at_july.period == date(2021, 7, 1)
    assert latest.variance == D("10000") and latest.period == date(2021, 9, 1)


# --- Bad input changes nothing ----------------------------------------------------------------------


def line_count():
    return BudgetLine.objects.count()


def test_a_negative_amount_is_refused_naming_the_field(setup):
    before = line_count()
    with pytest.raises(ValidationError) as error:
        services.budget_line_create(
            by=setup["by"],
            schedule=setup["schedule"],
            name="X",
            year=2021,
            funding_stream=setup["streams"]["ccg"],
            amount=D("-1"),
            status="approved",
        )
    assert "amount" in error.value.message_dict
    assert line_count() == before


def test_a_year_outside_the_agreement_is_refused(setup):
    before = line_count()
    with pytest.raises(ValidationError) as error:
        services.budget_line_create(
            by=setup["by"],
            schedule=setup["schedule"],
            name="X",
            year=2030,
            funding_stream=setup["streams"]["ccg"],
            amount=D("1"),
            status="approved",
        )
    assert error.value.message_dict["year"] == [
        "2030/31 is outside the agreement "
        + setup["agreement"].reference
        + ", which covers 2021/22 to 2023/24."
    ]
    assert line_count() == before


def test_a_duplicate_line_is_refused(setup):
    before = line_count()
    with pytest.raises(ValidationError) as error:
        services.budget_line_create(
            by=setup["by"],
            schedule=setup["schedule"],
            name="Placements and Brokerage",
            year=2021,
            funding_stream=setup["streams"]["ccg"],
            amount=D("5"),
            status="approved",
        )
    assert "already has a line" in error.value.message_dict["name"][0]
    assert line_count() == before


def test_fixed_shares_not_summing_to_100_are_refused_and_nothing_changes(setup):
    p = setup["partnership"]
    with pytest.raises(ValidationError) as error:
        services.schedule_update(
            schedule=setup["schedule"],
            by=setup["by"],
            overspend_rule="fixed",
            fixed_shares=[
                services.FixedShare(p.nhs_commissioner, D("40")),
                services.FixedShare(p.council, D("50")),
            ],
        )
    assert "add up to exactly 100" in error.value.message_dict["fixed_shares"][0]
    setup["schedule"].refresh_from_db()
    assert setup["schedule"].overspend_rule == "proportional" and setup["schedule"].version == 1
    assert not ScheduleFixedShare.objects.exists()


def test_a_period_outside_the_lines_year_is_refused(setup):
    with pytest.raises(ValidationError) as error:
        enter(setup, "pb", D("1"), period=date(2022, 4, 1))
    assert "outside 2021/22" in error.value.message_dict["period"][0]
    assert not MonthlyPosition.objects.exists()


def test_a_stale_line_edit_is_refused(setup):
    line = setup["lines"]["pb"]
    services.budget_line_update(line=line, by=setup["by"], version=1, amount=D("1"))
    with pytest.raises(StaleEdit):
        services.budget_line_update(line=line, by=setup["by"], version=1, amount=D("2"))
    line.refresh_from_db()
    assert line.amount == D("1.00") and line.version == 2


def test_a_position_reported_to_a_held_meeting_is_locked(setup):

    position = enter(setup, "pb", D("120340"))
    meeting = MeetingFactory(board__partnership=setup["partnership"], status="scheduled")
    services.positions_report(
        schedule=setup["schedule"], period=date(2021, 9, 1), meeting=meeting, by=setup["by"]
    )
    enter(setup, "pb", D("120000"))  # not held yet: still open
    meeting.status = "held"
    meeting.save()

    with pytest.raises(ValidationError, match="can no longer be changed"):
        enter(setup, "pb", D("100"))
    position.refresh_from_db()
    assert position.forecast_outturn == D("120000.00")


def test_a_host_outside_the_partnership_is_refused(setup, other_partnership):
    with pytest.raises(ValidationError) as error:
        services.agreement_create(
            by=setup["by"],
            partnership=setup["partnership"],
            reference="X",
            title="X",
            host=other_partnership.council,
            start=date(2022, 4, 1),
            end=date(2023, 3, 31),
            status="draft",
        )
    assert "host" in error.value.message_dict


def test_the_whole_schedule_form_saves_nothing_when_one_line_is_wrong(setup):
    lines = setup["lines"]
    entries = [
        services.PositionEntry(budget_line=lines["pb"], actual_to_date=D("10"), forecast_outturn=D("110340")),
        services.PositionEntry(budget_line=lines["fin"], actual_to_date=D("-5"), forecast_outturn=D("8000")),
    ]
    with pytest.raises(services.PositionErrors) as error:
        services.monthly_positions_save_period(
            schedule=setup["schedule"], period=date(2021, 9, 1), entries=entries, by=setup["by"]
        )
    assert list(error.value.by_line) == [lines["fin"].pk]
    assert not MonthlyPosition.objects.exists()


# --- Virements ----------------------------------------------------------------------------------------


def propose(setup, amount):
    lines = setup["lines"]
    return services.virement_propose(
        schedule=setup["schedule"],
        year=2021,
        from_line=lines["pb"],
        to_line=lines["fin"],
        amount=amount,
        reason="Finance team costs",
        by=setup["by"],
    )


def test_a_virement_within_the_boards_limit_applies_without_a_decision(setup):

    Schedule.objects.filter(pk=setup["schedule"].pk).update(
        board=BoardFactory(partnership=setup["partnership"], delegated_limit=D("5000"))
    )
    virement = propose(setup, D("2000"))
    approver = UserFactory(role=roles.COMMISSIONER, partnerships=[setup["partnership"]])

    services.virement_approve(virement=virement, by=approver)
    services.virement_apply(virement=virement, by=setup["by"])

    lines = setup["lines"]
    lines["pb"].refresh_from_db()
    lines["fin"].refresh_from_db()
    assert (lines["pb"].amount, lines["fin"].amount) == (D("108340.00"), D("10000.00"))
    assert Virement.objects.get().status == "applied"
    # Totals are unchanged: the money only moved.
    assert selectors.schedule_table(setup["schedule"]).year_totals[2021] == D("162053.00")


def test_a_virement_above_the_limit_needs_an_approving_decision(setup):

    board = BoardFactory(partnership=setup["partnership"], delegated_limit=D("5000"))
    Schedule.objects.filter(pk=setup["schedule"].pk).update(board=board)
    virement = propose(setup, D("6000"))
    approver = UserFactory(role=roles.COMMISSIONER, partnerships=[setup["partnership"]])
    today = timezone.localdate()

    with pytest.raises(ValidationError) as error:
        services.virement_approve(virement=virement, by=approver)
    assert "above the £5,000.00 delegated limit" in error.value.message_dict["decision"][0]
    assert Virement.objects.get().status == "proposed"

    rejected = DecisionFactory(agenda_item__meeting__board=board, outcome="rejected", decided_on=today)
    with pytest.raises(ValidationError, match="not approved"):
        services.virement_approve(virement=virement, by=approver, decision=rejected)

    approved = DecisionFactory(agenda_item__meeting__board=board, outcome="approved", decided_on=today)
    services.virement_approve(virement=virement, by=approver, decision=approved)
    services.virement_apply(virement=virement, by=setup["by"])
    assert approved.links.count() == 2
    setup["lines"]["fin"].refresh_from_db()
    assert setup["lines"]["fin"].amount == D("14000.00")
    stored = Virement.objects.get()
    assert (stored.approved_by, stored.applied_by) == (approver, setup["by"])
    assert stored.approved_at is not None and stored.applied_at is not None


def test_the_proposer_may_not_approve_their_own_virement(setup):
    """Separation of duties: refused (PermissionDenied, a 403) with a decision or without."""
    board = BoardFactory(partnership=setup["partnership"], delegated_limit=D("5000"))
    Schedule.objects.filter(pk=setup["schedule"].pk).update(board=board)
    virement = propose(setup, D("2000"))
    decision = DecisionFactory(agenda_item__meeting__board=board, decided_on=timezone.localdate())

    for chosen in (None, decision):
        with pytest.raises(PermissionDenied, match="another officer must approve it"):
            services.virement_approve(virement=virement, by=setup["by"], decision=chosen)
    stored = Virement.objects.get()
    assert (stored.status, stored.approved_by, stored.approved_at, stored.decision) == (
        "proposed",
        None,
        None,
        None,
    )


def test_a_virements_decision_is_its_boards_approval_taken_on_or_after_the_proposal(setup):
    board = BoardFactory(partnership=setup["partnership"], delegated_limit=D("100"))
    Schedule.objects.filter(pk=setup["schedule"].pk).update(board=board)
    virement = propose(setup, D("2000"))
    approver = UserFactory(role=roles.COMMISSIONER, partnerships=[setup["partnership"]])
    today = timezone.localdate()
    before = DecisionFactory(agenda_item__meeting__board=board, decided_on=today - timedelta(days=1))
    other_board = DecisionFactory(
        agenda_item__meeting__board=BoardFactory(partnership=setup["partnership"]), decided_on=today
    )
    other_partnership = DecisionFactory(decided_on=today)
    same_day = DecisionFactory(agenda_item__meeting__board=board, decided_on=today)

    assert list(services.virement_decisions(Virement.objects.get())) == [same_day]
    messages = {}
    for name, decision in (("before", before), ("board", other_board), ("away", other_partnership)):
        with pytest.raises(ValidationError) as error:
            services.virement_approve(virement=virement, by=approver, decision=decision)
        messages[name] = error.value.message_dict["decision"][0]
    assert messages["before"] == (
        f"Decision {before.reference} was taken on {before.decided_on:%-d %B %Y}, before the virement "
        f"was proposed on {today:%-d %B %Y}."
    )
    assert messages["board"] == (
        f"Decision {other_board.reference} is not a decision of {board.name}, the board that approves "
        "this schedule."
    )
    assert messages["away"] == f"Choose a decision of a {setup['partnership'].name} board."
    assert Virement.objects.get().status == "proposed"
    services.virement_approve(virement=virement, by=approver, decision=same_day)
    assert Virement.objects.get().decision == same_day


def test_a_virement_of_zero_or_more_than_the_line_is_refused(setup):
    with pytest.raises(ValidationError) as error:
        propose(setup, D("0"))
    assert "amount" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        propose(setup, D("999999"))
    assert "more than the" in error.value.message_dict["amount"][0]
    assert not Virement.objects.exists()


def test_history_names_who_changed_what(setup):
    services.budget_line_update(line=setup["lines"]["pb"], by=setup["by"], amount=D("1.00"))
    history = selectors.schedule_history(setup["schedule"], setup["by"])

    assert history[0].summary == "Budget line “Placements and Brokerage” 2021/22 changed"
    assert history[0].who == setup["by"]
    assert [(c.label, c.before, c.after) for c in history[0].changes] == [("Amount", "£110,340.00", "£1.00")]


def test_history_names_a_position_by_its_line_and_month(setup):
    enter(setup, "pb", D("120340"))
    history = selectors.schedule_history(setup["schedule"], setup["by"])

    [added] = [e for e in history if e.summary.startswith("Monthly position")]
    assert added.summary == "Monthly position of “Placements and Brokerage” for September 2021 added"
    assert added.who == setup["by"]
    assert [(c.label, c.after) for c in added.changes] == [
        ("Actual to date", "£0.00"),
        ("Forecast outturn", "£120,340.00"),
        ("Period", "September 2021"),
    ]


def test_a_created_agreement_lists_its_values_by_name_never_by_id(bromley, bromley_users):
    agreement = services.agreement_create(
        by=bromley_users["commissioner"],
        partnership=bromley,
        reference="BR-S75-2021",
        title="Bromley section 75",
        host=bromley.council,
        start=date(2021, 4, 1),
        end=date(2024, 3, 31),
        status="signed",
        decision=None,
    )

    [created] = selectors.agreement_history(agreement)

    changes = {c.label: str(c.after) for c in created.changes}
    assert created.summary == "Agreement BR-S75-2021 added"
    assert changes["Host"] == str(bromley.council) and bromley.council.name in changes["Host"]
    assert changes["Partnership"] == "Bromley"
    assert changes["Start"] == "1 April 2021" and changes["Status"] == "Signed"
    assert not any(value.startswith("#") for value in changes.values())


def test_a_position_reported_to_a_held_meeting_cannot_be_deleted(setup):

    position = enter(setup, "pb", D("120340"))
    meeting = MeetingFactory(board__partnership=setup["partnership"], status="held")
    services.positions_report(
        schedule=setup["schedule"], period=date(2021, 9, 1), meeting=meeting, by=setup["by"]
    )

    with pytest.raises(ValidationError, match="can no longer be changed"):
        services.monthly_position_delete(position=position, by=setup["by"])
    assert MonthlyPosition.objects.filter(pk=position.pk).exists()


def test_the_delegated_limit_is_governances_rule(setup):
    """Above the limit (not at it) a virement needs a decision; no board, or a board with no limit,
    delegates nothing: every one needs a decision."""

    virement = Virement(schedule=setup["schedule"], amount=D("5000.00"))
    setup["schedule"].board = BoardFactory(partnership=setup["partnership"], delegated_limit=D("5000.00"))
    assert not services.virement_needs_decision(virement)
    virement.amount = D("5000.01")
    assert services.virement_needs_decision(virement)
    setup["schedule"].board = BoardFactory(partnership=setup["partnership"], delegated_limit=None)
    assert services.virement_needs_decision(virement)
    setup["schedule"].board = None
    assert services.virement_needs_decision(virement)
