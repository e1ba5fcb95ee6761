"""Budget lines fed by packages (rules.md, rule 2): a line's actual is what its packages cost the
paying partner under rule 1's segments (every funder's share, before recharges), to the penny, and
its committed forecast adds what every live package will cost to the year's end under the same
segments (a future price change or suspension counts from its day). Shown beside the
typed lines on the schedule page, with a drill-down to the packages behind the figure."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from brokerage import recharges
from brokerage import services as brokerage
from brokerage.services import Share
from budgets import selectors, services
from commissioning import roles
from tests.brokerage.factories import ClientFactory, PackageFactory
from tests.budgets.factories import AgreementFactory, BudgetLineFactory, FundingStreamFactory, ScheduleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(partnership, make_user):
    agreement = AgreementFactory(partnership=partnership, start=date(2021, 4, 1), end=date(2024, 3, 31))
    schedule = ScheduleFactory(agreement=agreement, number=2, title="Integrated Placements")
    stream = FundingStreamFactory(
        partnership=partnership, name="CCG", organisation=partnership.nhs_commissioner
    )
    line = BudgetLineFactory(
        schedule=schedule, name="Placements", year=2022, funding_stream=stream, amount=D("50000")
    )
    typed = BudgetLineFactory(
        schedule=schedule, name="Support team", year=2022, funding_stream=stream, amount=D("8000")
    )
    return {
        "schedule": schedule,
        "line": line,
        "typed": typed,
        "commissioner": make_user(roles.COMMISSIONER, [partnership]),
        "broker": make_user(roles.BROKER, [partnership]),
    }


def make_package(partnership, broker, start, *, rate, shares, end=None, service_type="residential"):
    package = PackageFactory(
        client=ClientFactory(partnership=partnership),
        start=start,
        end=end,
        service_type=service_type,
        paying_organisation=partnership.council,
    )
    brokerage.package_cost_add(
        package=package, effective_from=start, unit_rate=rate, units_per_week=D("1"), unit="week", by=broker
    )
    brokerage.funding_split_add(
        package=package,
        effective_from=start,
        shares=[Share(org, D(p)) for org, p in shares],
        basis="chc_eligibility",
        by=broker,
    )
    return package


@pytest.fixture
def example_two(scene, partnership):
    """Rule 1, example 2: £900 a week, 1 to 30 June 2022, 50/50 to 14 June, then the CCG pays all."""
    council, ccg = partnership.council, partnership.nhs_commissioner
    package = make_package(
        partnership,
        scene["broker"],
        date(2022, 6, 1),
        end=date(2022, 6, 30),
        rate=D("900.00"),
        shares=[(council, 50), (ccg, 50)],
    )
    brokerage.package_change_funding(
        package=package,
        effective_from=date(2022, 6, 15),
        shares=[Share(council, D(0)), Share(ccg, D(100))],
        basis="chc_eligibility",
        by=scene["broker"],
    )
    return package


def fed(scene, period):
    return selectors.fed_lines(scene["schedule"], [scene["line"], scene["typed"]], 2022, period)


def test_a_fed_lines_actual_is_its_packages_segments_to_the_penny(scene, example_two):
    services.budget_line_feed_set(
        line=scene["line"], service_types=["residential"], package_ids=[], by=scene["commissioner"]
    )

    figures = fed(scene, date(2022, 6, 1))
    assert list(figures) == [scene["line"].pk]  # the typed line is not fed
    line = figures[scene["line"].pk]
    # 1 to 14 June: 900 * 14 * 50 / 700 = £900.00 to each partner; 15 to 30 June: 900 * 16 * 100 /
    # 700 = £2,057.14 to the CCG (and £0.00 to the council): £3,857.14 in all.
    assert line.month == line.actual == D("3857.14")
    # The same as rule 1's segments, share by share.
    result = recharges.month_segments(_facts(example_two), date(2022, 6, 1))
    assert sum(
        (
            recharges.amount(s.weekly_cost, s.days, p, s.paid_percent)
            for s in result.segments
            for _f, p in s.shares
        ),
        D(0),
    ) == D("3857.14")
    assert line.committed == D("0.00")  # ended 30 June: nothing committed after it
    assert line.forecast == D("3857.14") and line.variance == D("3857.14") - D("50000")


def _facts(package):
    from brokerage.models import FundingSplit, PackageCost

    return recharges.PackageFacts(
        package=package.pk,
        start=package.start,
        end=package.end,
        payer=package.paying_organisation_id,
        costs=tuple(
            recharges.CostRow.of(c.effective_from, c.effective_to, c.unit_rate, c.units_per_week)
            for c in PackageCost.objects.filter(package=package).order_by("effective_from")
        ),
        splits=tuple(
            recharges.SplitRow(
                s.effective_from,
                s.effective_to,
                tuple((sh.organisation_id, sh.percent) for sh in s.shares.all()),
            )
            for s in FundingSplit.objects.filter(package=package).order_by("effective_from")
        ),
    )


def test_the_committed_forecast_runs_each_live_packages_weekly_cost_to_the_years_end(scene, partnership):
    council, ccg = partnership.council, partnership.nhs_commissioner
    package = make_package(
        partnership, scene["broker"], date(2022, 5, 10), rate=D("1234.56"), shares=[(council, 60), (ccg, 40)]
    )
    services.budget_line_feed_set(
        line=scene["line"], service_types=[], package_ids=[package.pk], by=scene["commissioner"]
    )

    line = fed(scene, date(2022, 5, 1))[scene["line"].pk]
    # May: 22 days, 60% and 40% shares: 1234.56*22*60/700 = 2328.03 and 1234.56*22*40/700 = 1552.02.
    assert line.actual == D("2328.03") + D("1552.02")
    # June 2022 to March 2023, month by month under rule 1, each share rounded: a 30-day month
    # 1234.56*30*60/700 = 3174.58 + 1234.56*30*40/700 = 2116.39 = 5,290.97 (June, September,
    # November); a 31-day month 3280.40 + 2186.93 = 5,467.33 (six of them); February 2962.94 +
    # 1975.30 = 4,938.24: 3 x 5290.97 + 6 x 5467.33 + 4938.24 = £53,615.13.
    assert line.committed == D("53615.13")
    assert line.forecast == D("3880.05") + D("53615.13")


def test_the_committed_forecast_honours_a_future_price_change_and_a_suspension(scene, partnership):
    """£700 a week from 1 April 2022, 50/50; £840 a week from 1 February 2023; suspended 11 to 20
    January 2023 with 80% retained. At December 2022 the committed cost of January to March is
    rule 1's segments of those months, not £700 a week for 90 days (£9,000.00)."""
    council, ccg = partnership.council, partnership.nhs_commissioner
    broker = scene["broker"]
    package = PackageFactory(
        client=ClientFactory(partnership=partnership),
        start=date(2022, 4, 1),
        service_type="residential",
        paying_organisation=council,
    )
    for start, end, rate in (
        (date(2022, 4, 1), date(2023, 1, 31), "700.00"),
        (date(2023, 2, 1), None, "840.00"),
    ):
        brokerage.package_cost_add(
            package=package,
            effective_from=start,
            effective_to=end,
            unit_rate=D(rate),
            units_per_week=D("1"),
            unit="week",
            by=broker,
        )
    brokerage.funding_split_add(
        package=package,
        effective_from=date(2022, 4, 1),
        shares=[Share(council, D(50)), Share(ccg, D(50))],
        basis="chc_eligibility",
        by=broker,
    )
    brokerage.suspension_add(
        package=package,
        effective_from=date(2023, 1, 11),
        effective_to=date(2023, 1, 20),
        treatment="reduced",
        paid_percent=D("80"),
        reason="Hospital stay",
        by=broker,
    )
    services.budget_line_feed_set(
        line=scene["line"], service_types=[], package_ids=[package.pk], by=scene["commissioner"]
    )

    line = fed(scene, date(2022, 12, 1))[scene["line"].pk]

    # April to December 2022, 275 days at £700 a week: 700 * 275 * 50 / 700 = £13,750.00 a share.
    assert line.actual == D("27500.00")
    # January 2023: 1-10 Jan 700*10*50/700 = 500.00, 11-20 Jan 700*10*50*80/70000 = 400.00,
    # 21-31 Jan 700*11*50/700 = 550.00, a share each: £2,900.00; February 840*28*50/700 = 1,680.00
    # a share: £3,360.00; March 840*31*50/700 = 1,860.00 a share: £3,720.00. Committed £9,980.00.
    assert line.committed == D("9980.00")
    assert line.forecast == D("37480.00")
    # The same as rule 1's segments of those months, share by share.
    facts = recharges.PackageFacts(
        package=package.pk,
        start=package.start,
        end=None,
        payer=council.pk,
        costs=(
            recharges.CostRow.of(date(2022, 4, 1), date(2023, 1, 31), D("700"), D("1")),
            recharges.CostRow.of(date(2023, 2, 1), None, D("840"), D("1")),
        ),
        splits=(recharges.SplitRow(date(2022, 4, 1), None, ((council.pk, D(50)), (ccg.pk, D(50)))),),
        suspensions=(recharges.SuspensionRow(date(2023, 1, 11), date(2023, 1, 20), D("80")),),
    )
    months = recharges.segments_by_month(facts, date(2023, 1, 1), date(2023, 3, 31))
    assert [len(m.segments) for m in months.values()] == [3, 1, 1]
    assert sum(
        (
            recharges.amount(s.weekly_cost, s.days, p, s.paid_percent)
            for m in months.values()
            for s in m.segments
            for _f, p in s.shares
        ),
        D(0),
    ) == D("9980.00")


def test_a_package_of_another_service_type_or_partnership_does_not_feed_the_line(
    scene, partnership, other_partnership, example_two
):
    council = partnership.council
    make_package(
        partnership,
        scene["broker"],
        date(2022, 6, 1),
        rate=D("100"),
        shares=[(council, 100)],
        service_type="domiciliary",
    )
    make_package(
        other_partnership,
        scene["broker"],
        date(2022, 6, 1),
        rate=D("100"),
        shares=[(other_partnership.council, 100)],
    )
    services.budget_line_feed_set(
        line=scene["line"], service_types=["residential"], package_ids=[], by=scene["commissioner"]
    )
    assert fed(scene, date(2022, 6, 1))[scene["line"].pk].actual == D("3857.14")


def test_clearing_the_feed_returns_the_line_to_typed_actuals(scene):
    services.budget_line_feed_set(
        line=scene["line"], service_types=["nursing"], package_ids=[], by=scene["commissioner"]
    )
    assert (
        services.budget_line_feed_set(
            line=scene["line"], service_types=[], package_ids=[], by=scene["commissioner"]
        )
        is None
    )
    assert fed(scene, date(2022, 6, 1)) == {}


def test_an_unknown_service_type_is_refused_naming_the_field(scene):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        services.budget_line_feed_set(
            line=scene["line"], service_types=["spa"], package_ids=[], by=scene["commissioner"]
        )
    assert list(error.value.message_dict) == ["service_types"]


def test_the_schedule_page_shows_the_fed_figures_and_the_drill_down_lists_the_packages(
    client, scene, example_two, partnership
):
    services.budget_line_feed_set(
        line=scene["line"], service_types=["residential"], package_ids=[], by=scene["commissioner"]
    )
    client.force_login(scene["commissioner"])
    page = client.get(
        scene["schedule"].get_absolute_url(), {"year": 2022, "period": "2022-06"}
    ).content.decode()
    section = page[page.index('id="fed-lines"') :]
    assert "Placements" in section and "£3,857.14" in section
    drill = (
        reverse("budgets:line-packages", args=[scene["schedule"].pk, scene["line"].pk]) + "?period=2022-06"
    )
    assert f'href="{drill}"' in section

    detail = client.get(drill).content.decode()
    assert example_two.reference in detail and "£3,857.14" in detail and "Residential care" in detail


def test_the_drill_down_of_another_partnerships_line_is_not_found(
    client, scene, other_partnership, make_user
):
    outsider = make_user(roles.COMMISSIONER, [other_partnership])
    client.force_login(outsider)
    url = reverse("budgets:line-packages", args=[scene["schedule"].pk, scene["line"].pk])
    assert client.get(url).status_code == 404


def test_fed_figures_take_a_constant_number_of_queries(scene, partnership):
    council, ccg = partnership.council, partnership.nhs_commissioner
    services.budget_line_feed_set(
        line=scene["line"], service_types=["residential"], package_ids=[], by=scene["commissioner"]
    )
    make_package(
        partnership, scene["broker"], date(2022, 4, 1), rate=D("700"), shares=[(council, 50), (ccg, 50)]
    )
    with CaptureQueriesContext(connection) as few:
        assert fed(scene, date(2022, 9, 1))[scene["line"].pk].actual > 0
    for _ in range(6):
        make_package(
            partnership, scene["broker"], date(2022, 4, 1), rate=D("700"), shares=[(council, 50), (ccg, 50)]
        )
    with CaptureQueriesContext(connection) as many:
        assert len(fed(scene, date(2022, 9, 1))[scene["line"].pk].packages) == 7
    assert len(many.captured_queries) == len(few.captured_queries) <= 6


def test_the_commissioner_feeds_a_line_from_its_schedule_page(client, scene, example_two):
    client.force_login(scene["commissioner"])
    url = reverse("budgets:line-feed", args=[scene["schedule"].pk, scene["line"].pk])
    page = client.get(
        scene["schedule"].get_absolute_url(), {"year": 2022, "period": "2022-06"}
    ).content.decode()
    assert f'href="{url}"' in page and "No line of this year is fed by packages" in page

    response = client.post(
        url, {"service_types": ["nursing"], "packages": f"{example_two.reference}, P999999"}
    )
    assert response.status_code == 302
    feed = scene["line"].feed
    assert (feed.service_types, feed.package_ids) == (["nursing"], [example_two.pk, 999999])
    assert fed(scene, date(2022, 6, 1))[scene["line"].pk].actual == D("3857.14")
    assert example_two.reference in client.get(url).content.decode()  # the form shows what feeds it


def test_a_bad_package_reference_is_refused_on_its_field_and_nothing_changes(client, scene):
    client.force_login(scene["commissioner"])
    url = reverse("budgets:line-feed", args=[scene["schedule"].pk, scene["line"].pk])
    response = client.post(url, {"packages": "P000001, banana"})
    assert response.status_code == 200
    assert "“banana” is not a package reference like P000008." in response.content.decode()
    assert not type(scene["line"]).objects.filter(pk=scene["line"].pk, feed__isnull=False).exists()


def test_a_finance_officer_may_not_change_what_feeds_a_line(client, scene, make_user, partnership):
    client.force_login(make_user(roles.FINANCE_OFFICER, [partnership]))
    url = reverse("budgets:line-feed", args=[scene["schedule"].pk, scene["line"].pk])
    assert client.post(url, {"service_types": ["nursing"]}).status_code == 403
