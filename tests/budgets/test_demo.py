from decimal import Decimal

import pytest

from budgets import selectors
from budgets.models import BudgetLine, MonthlyPosition, Schedule

pytestmark = pytest.mark.django_db


def ipb(partnership):
    return selectors.with_related(
        Schedule.objects.filter(
            agreement__partnership=partnership, title="Integrated Placements and Brokerage"
        )
    ).get()


def test_the_ipb_table_derives_the_totals_of_the_2021_paper(bromley_demo):
    table = selectors.schedule_table(ipb(bromley_demo))

    assert table.year_totals[2021] == Decimal("162053.00")  # the paper misprints £154,553
    assert table.year_totals[2022] == Decimal("220679.00")
    contributions = table.contributions[2021]
    assert contributions[bromley_demo.nhs_commissioner.pk] == Decimal("118340.00")
    assert contributions[bromley_demo.council.pk] == Decimal("43713.00")


def test_the_ipb_table_lists_lines_down_and_years_and_streams_across(bromley_demo):
    table = selectors.schedule_table(ipb(bromley_demo))

    assert [row.label for row in table.rows] == [
        "Placements and Brokerage",
        "Personal Budgets and Direct Payments support team",
        "Additional finance costs",
    ]
    assert [g.label for g in table.years] == ["2021/22", "2022/23"]
    assert [s.name for s in table.years[0].streams] == ["CCG", "iBCF", "LBB core"]
    # Personal budgets row in 2021/22: CCG, iBCF, LBB core, then the year's total.
    assert table.rows[1].groups[0] == [Decimal("8000"), Decimal("29799"), Decimal("13914"), Decimal("51713")]
    assert table.subtotal.groups[0] == [
        Decimal("118340"),
        Decimal("29799"),
        Decimal("13914"),
        Decimal("162053"),
    ]


def test_the_demo_has_positions_for_the_current_year_and_an_overspend_on_ipb_only(
    bromley_demo, bromley_users
):
    overspending = selectors.overspending_schedules(
        bromley_users["commissioner"], bromley_demo, today=selectors_today()
    )

    assert [m.schedule.title for m in overspending] == ["Integrated Placements and Brokerage"]
    periods = sorted(set(MonthlyPosition.objects.values_list("period", flat=True)))
    assert periods[0].isoformat() == "2022-04-01" and periods[-1].isoformat() == "2022-10-01"


def test_the_joint_head_post_costs_131k_of_which_the_ccg_66k(bromley_demo):
    lines = BudgetLine.objects.filter(schedule__title="Joint Head of Integrated Commissioning post")

    assert sum(line.amount for line in lines) == Decimal("131000.00")
    assert lines.get(funding_stream__name="CCG").amount == Decimal("66000.00")


def test_the_demo_enters_seven_months_of_positions_for_every_current_line(bromley_demo):
    first = list(MonthlyPosition.objects.order_by("pk").values_list("forecast_outturn", flat=True))
    assert len(first) == 7 * (4 + 2 + 2)  # seven months of the BCF, IPB and post lines
    assert all(isinstance(value, Decimal) for value in first)


def selectors_today():
    from tests.budgets.conftest import DEMO_TODAY

    return DEMO_TODAY


def test_the_demo_agreement_has_the_2021_papers_terms_and_a_review_coming_due(bromley_demo, bromley_users):
    from budgets.models import Section75Agreement
    from tests.budgets.conftest import DEMO_TODAY

    agreement = Section75Agreement.objects.get(partnership=bromley_demo)
    assert "disadvantaged through the agreement" in agreement.exit_provisions
    assert agreement.exit_provisions.count("Illustrative") == 1
    assert agreement.vat_position.startswith("Illustrative")
    assert agreement.notice_months == 6 and agreement.population == "resident"
    assert len(agreement.nhs_functions) == 2 and len(agreement.council_functions) == 2
    [review] = agreement.reviews.all()
    assert not review.held and 0 < (review.due - DEMO_TODAY).days <= 60
    assert agreement.next_review_due == review.due
    reminders = selectors.review_reminders(bromley_users["commissioner"], today=DEMO_TODAY)
    assert [r.review for r in reminders] == [review]


def test_the_whole_demo_varies_the_agreement_on_the_2021_decision(settings):
    from budgets.models import Section75Agreement
    from commissioning import demo
    from tests.budgets.conftest import DEMO_TODAY

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    demo.load_demo(seed=9, today=DEMO_TODAY)
    agreement = Section75Agreement.objects.get(reference="BR-S75-2021")
    [variation] = agreement.variations.all()
    assert agreement.status == "varied"
    assert variation.decision.decided_on.isoformat() == "2021-09-02"
    assert [s.title for s in variation.schedules.all()] == ["Integrated Placements and Brokerage"]


def test_an_ipb_overspend_falls_wholly_to_the_ccg_as_the_2021_paper_says(bromley_demo):
    """The 2021 paper: the CCG funds any extra costs falling to the council (para 1.12, rec. 4)."""
    schedule = ipb(bromley_demo)
    monitoring = selectors.monitor(schedule, 2022)
    assert monitoring.overspend and monitoring.rule == "fixed"
    shares = {share.organisation.code: share.amount for share in monitoring.shares}
    assert shares == {"SELCCG-BR": monitoring.variance, "LBB": Decimal("0.00")}
    assert schedule.underspend_rule == "proportional"


def test_the_demo_says_what_the_2021_papers_printed_total_leaves_out():
    from governance.demo import IPB_BODY

    assert "omits the £7,500 additional finance costs line" in IPB_BODY
    assert "102,840 + 8,000 + 29,799 + 13,914 = 154,553" in IPB_BODY
    assert Decimal(102840 + 8000 + 29799 + 13914) == Decimal("154553")
    assert "omits the iBCF and LBB" not in IPB_BODY


@pytest.fixture
def whole_demo(settings):
    from commissioning import demo
    from tests.budgets.conftest import DEMO_TODAY

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return demo.load_demo(seed=9, today=DEMO_TODAY)


def test_the_whole_demo_links_the_2021_decision_to_the_agreement_schedule_and_its_lines(whole_demo):
    from django.contrib.auth import get_user_model

    from budgets.models import Section75Agreement
    from governance.models import Decision

    decision = Decision.objects.get(decided_on="2021-09-02")
    agreement = Section75Agreement.objects.get(reference="BR-S75-2021")
    schedule = agreement.schedules.get(number=2)
    paper_lines = list(schedule.lines.filter(year__in=(2021, 2022)))
    assert len(paper_lines) == 7 and all(line.decision_id == decision.pk for line in paper_lines)
    assert not schedule.lines.filter(year=2023, decision__isnull=False).exists()  # later years: no
    commissioner = get_user_model().objects.get(username="commissioner")
    refs = selectors.decision_refs(commissioner, paper_lines)
    assert {
        line.pk: [(r.reference, r.amount_before, r.amount_after) for r in refs[line.pk]]
        for line in paper_lines
    } == {line.pk: [("BBB/2021/001", None, line.amount)] for line in paper_lines}
    assert [r.reference for r in selectors.decision_refs(commissioner, [agreement])[agreement.pk]] == [
        "BBB/2021/001"
    ]
    targets = {link.content_type.model for link in decision.links.all()}
    assert targets == {"section75agreement", "schedule", "budgetline"}


def test_the_city_and_barking_agreements_come_from_their_papers(whole_demo):
    from budgets.models import Section75Agreement

    city = Section75Agreement.objects.get(reference="COL-S75-2017")
    assert (city.partnership.name, city.host.code, city.start.isoformat()) == (
        "City of London",
        "COLC",
        "2017-04-01",
    )
    assert city.population == "gp_registered"  # Neaman Practice patients (para 27)
    assert "Neaman Practice" in city.nhs_functions[0]
    assert "light of experience" in city.reviews.get().notes
    [pool] = city.schedules.all()
    assert (pool.arrangement, pool.board.code) == ("pooled", "CHICB")
    ccg = sum(
        line.amount
        for line in pool.lines.filter(funding_stream__organisation=city.partnership.nhs_commissioner)
    )
    corporation = sum(line.amount for line in pool.lines.filter(funding_stream__organisation=city.host))
    assert ccg > corporation  # the paper: the CCG's funding in the pool is the higher (para 31)
    assert "Illustrative" in city.vat_position and "Illustrative" in city.dispute_resolution

    barking = Section75Agreement.objects.get(reference="BD-S75-2011")
    assert (barking.partnership.name, barking.status, barking.population) == (
        "Barking & Dagenham",
        "ended",
        "resident",
    )
    [aligned] = barking.schedules.all()
    assert (aligned.arrangement, aligned.board.code) == ("aligned", "JC")
    assert set(aligned.lines.values_list("year", flat=True)) == {2011, 2012}
    assert barking.vat_position.startswith("Illustrative")


def test_the_demo_plans_the_ccg_s_contributions_to_the_pooled_schedules(bromley_demo):
    from budgets import selectors
    from budgets.models import Schedule

    schedules = list(selectors.with_related(Schedule.objects.filter(agreement__partnership=bromley_demo)))
    rows = {row.schedule.number: row for row in selectors.plan_rows(schedules, 2022)}

    assert set(rows) == {1, 2}
    assert (rows[2].partner.code, rows[2].frequency, len(rows[2].instalments)) == (
        "SELCCG-BR",
        "quarterly",
        4,
    )
    assert rows[1].frequency == "monthly" and len(rows[1].instalments) == 12
    assert sum(i.amount for i in rows[1].instalments) == rows[1].amount > 0


def test_the_demo_feeds_an_illustrative_placements_line_from_packages_and_no_ipb_line(bromley_demo):
    from budgets.models import LineFeed

    schedule = Schedule.objects.get(agreement__partnership=bromley_demo, number=4)
    (feed,) = LineFeed.objects.filter(budget_line__schedule__agreement__partnership=bromley_demo)

    assert (schedule.title, schedule.arrangement) == ("Jointly funded placements (illustrative)", "aligned")
    assert feed.budget_line.schedule == schedule
    assert (feed.budget_line.name, feed.budget_line.funding_stream.name) == (
        "Residential and supported living placements",
        "LBB core",
    )
    assert sorted(feed.service_types) == ["residential", "supported_living"]
    # Aligned: no contributions, so the pooled schedules' contributions and statements are unchanged.
    assert selectors.plan_rows([schedule], 2022) == []
