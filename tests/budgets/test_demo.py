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
