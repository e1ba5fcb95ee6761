"""Price and funding changes of a package through the services (domain.md, brokerage)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from hypothesis import given
from hypothesis import strategies as st

from brokerage import services
from brokerage.histories import Row, overlaps
from brokerage.models import FundingShare, FundingSplit, PackageCost
from brokerage.services import Share
from commissioning.services import StaleEdit
from tests.brokerage.factories import RateCardFactory, change_price

pytestmark = pytest.mark.django_db


def costs(package):
    return [
        (c.effective_from, c.effective_to, c.unit_rate, c.units_per_week)
        for c in PackageCost.objects.filter(package=package).order_by("effective_from")
    ]


def splits(package):
    return [
        (s.effective_from, s.effective_to, {sh.organisation.code: sh.percent for sh in s.shares.all()})
        for s in FundingSplit.objects.filter(package=package).order_by("effective_from")
    ]


def test_a_price_change_ends_the_current_cost_the_day_before_and_opens_the_next(package, broker):
    loaded = package.version
    cost = change_price(
        package=package,
        effective_from=date(2024, 7, 1),
        unit_rate=Decimal("22.50"),
        units_per_week=Decimal("12"),
        unit="hour",
        by=broker,
    )

    assert cost.weekly_cost == Decimal("270.00")
    assert costs(package) == [
        (date(2024, 4, 1), date(2024, 6, 30), Decimal("20.00"), Decimal("10.00")),
        (date(2024, 7, 1), None, Decimal("22.50"), Decimal("12.00")),
    ]
    package.refresh_from_db()
    assert package.version == loaded + 1


def test_a_backdated_price_change_drops_the_later_rows(package, broker):
    for day, rate in ((date(2024, 7, 1), "22.00"), (date(2024, 9, 1), "23.00"), (date(2024, 6, 15), "21.00")):
        change_price(
            package=package,
            effective_from=day,
            unit_rate=Decimal(rate),
            units_per_week=Decimal("10"),
            unit="hour",
            by=broker,
        )

    assert costs(package) == [
        (date(2024, 4, 1), date(2024, 6, 14), Decimal("20.00"), Decimal("10.00")),
        (date(2024, 6, 15), None, Decimal("21.00"), Decimal("10.00")),
    ]


def test_a_price_change_before_the_package_starts_is_refused_and_changes_nothing(package, broker):
    before = costs(package)

    with pytest.raises(ValidationError) as error:
        change_price(
            package=package,
            effective_from=date(2024, 3, 31),
            unit_rate=Decimal("1"),
            units_per_week=Decimal("1"),
            unit="hour",
            by=broker,
        )

    assert "before the package does (1 April 2024)" in error.value.message_dict["effective_from"][0]
    assert costs(package) == before


def test_a_backdated_funding_change_to_the_nhs_keeps_the_package_running(package, broker, partnership):
    council, nhs = partnership.council, partnership.nhs_commissioner

    services.package_change_funding(
        package=package,
        effective_from=date(2024, 5, 15),
        shares=[Share(council, Decimal("0")), Share(nhs, Decimal("100"))],
        basis="chc_eligibility",
        by=broker,
    )

    assert splits(package) == [
        (date(2024, 4, 1), date(2024, 5, 14), {council.code: Decimal("100.00")}),
        (date(2024, 5, 15), None, {council.code: Decimal("0.00"), nhs.code: Decimal("100.00")}),
    ]
    package.refresh_from_db()
    assert package.end is None and package.status == "active"


def test_a_funding_change_with_an_end_date_then_resumes_the_earlier_split(package, broker, partnership):
    council, nhs = partnership.council, partnership.nhs_commissioner

    services.package_change_funding(
        package=package,
        effective_from=date(2024, 6, 1),
        effective_to=date(2024, 8, 31),
        shares=[Share(council, Decimal("50")), Share(nhs, Decimal("50"))],
        basis="s117",
        decision_reference="JFP-7",
        by=broker,
    )

    assert splits(package) == [
        (date(2024, 4, 1), date(2024, 5, 31), {council.code: Decimal("100.00")}),
        (date(2024, 6, 1), date(2024, 8, 31), {council.code: Decimal("50.00"), nhs.code: Decimal("50.00")}),
        (date(2024, 9, 1), None, {council.code: Decimal("100.00")}),
    ]
    assert list(FundingSplit.objects.filter(package=package).values_list("basis", flat=True)) == [
        "single_funder",
        "s117",
        "single_funder",
    ]


@pytest.mark.parametrize(
    ("shares", "message"),
    [
        ([("council", "60"), ("nhs", "30")], "add up to exactly 100%; they add up to 90%"),
        ([("council", "60.5"), ("nhs", "40")], "add up to exactly 100%; they add up to 100.5%"),
        ([("council", "120"), ("nhs", "-20")], "must be between 0 and 100"),
        ([("council", "50"), ("council", "50")], "is listed twice"),
        ([("council", "33.333"), ("nhs", "66.667")], "at most 2 decimal places"),
        ([], "at least one funder"),
    ],
)
def test_bad_shares_are_refused_naming_the_shares_and_nothing_changes(
    package, broker, partnership, shares, message
):
    orgs = {"council": partnership.council, "nhs": partnership.nhs_commissioner}
    before = splits(package)

    with pytest.raises(ValidationError) as error:
        services.package_change_funding(
            package=package,
            effective_from=date(2024, 6, 1),
            shares=[Share(orgs[k], Decimal(v)) for k, v in shares],
            basis="panel_decision",
            by=broker,
        )

    assert message in error.value.message_dict["shares"][0]
    assert splits(package) == before


def test_a_funder_outside_the_partnership_is_refused(package, broker, other_partnership):
    with pytest.raises(ValidationError) as error:
        services.package_change_funding(
            package=package,
            effective_from=date(2024, 6, 1),
            shares=[Share(other_partnership.council, Decimal("100"))],
            basis="single_funder",
            by=broker,
        )
    assert "is not a partner of Bromley" in error.value.message_dict["shares"][0]


def test_a_stale_version_is_refused_and_changes_nothing(package, broker):
    loaded = package.version
    change_price(
        package=package,
        effective_from=date(2024, 7, 1),
        unit_rate=Decimal("21"),
        units_per_week=Decimal("10"),
        unit="hour",
        by=broker,
        version=loaded,
    )
    before = costs(package)

    with pytest.raises(StaleEdit):
        change_price(
            package=package,
            effective_from=date(2024, 8, 1),
            unit_rate=Decimal("25"),
            units_per_week=Decimal("10"),
            unit="hour",
            by=broker,
            version=loaded,
        )

    assert costs(package) == before


def test_an_overlapping_cost_row_is_refused_naming_the_dates(package, broker):
    with pytest.raises(ValidationError) as error:
        services.package_cost_add(
            package=package,
            effective_from=date(2024, 5, 1),
            effective_to=date(2024, 5, 31),
            unit_rate=Decimal("1"),
            units_per_week=Decimal("1"),
            unit="hour",
            by=broker,
        )
    assert error.value.message_dict["effective_from"] == [
        "The cost for 1 May 2024 to 31 May 2024 overlaps the existing cost for 1 April 2024 onwards"
    ]


def test_a_cost_row_that_leaves_a_gap_is_refused_naming_the_gap(client_record, broker):
    from tests.brokerage.factories import PackageFactory

    package = PackageFactory(client=client_record, start=date(2024, 4, 1))
    with pytest.raises(ValidationError) as error:
        services.package_cost_add(
            package=package,
            effective_from=date(2024, 4, 10),
            unit_rate=Decimal("1"),
            units_per_week=Decimal("1"),
            unit="hour",
            by=broker,
        )
    assert error.value.message_dict["effective_from"] == [
        "This would leave the package without a cost for 1 April 2024 to 9 April 2024"
    ]


def test_the_database_itself_refuses_overlapping_costs(package):
    with pytest.raises(IntegrityError), transaction.atomic():
        PackageCost.objects.create(
            package=package,
            effective_from=date(2024, 5, 1),
            effective_to=date(2024, 5, 2),
            unit_rate=Decimal("1"),
            units_per_week=Decimal("1"),
            unit="hour",
        )


def test_the_database_itself_refuses_overlapping_splits(package):
    with pytest.raises(IntegrityError), transaction.atomic():
        FundingSplit.objects.create(package=package, effective_from=date(2025, 1, 1), basis="s117")


def test_ending_a_package_ends_its_open_rows_and_drops_later_ones(package, broker):
    change_price(
        package=package,
        effective_from=date(2024, 9, 1),
        unit_rate=Decimal("21"),
        units_per_week=Decimal("10"),
        unit="hour",
        by=broker,
    )

    services.package_end(package=package, end=date(2024, 8, 15), by=broker)

    assert costs(package) == [(date(2024, 4, 1), date(2024, 8, 15), Decimal("20.00"), Decimal("10.00"))]
    assert [(s[0], s[1]) for s in splits(package)] == [(date(2024, 4, 1), date(2024, 8, 15))]
    package.refresh_from_db()
    assert package.end == date(2024, 8, 15)
    assert package.status == "ended"


def test_changes_are_kept_in_history_with_who_made_them(package, broker):
    RateCardFactory(partnership=package.client.partnership, year=2024)  # £24.50: applies at once
    change_price(
        package=package,
        effective_from=date(2024, 7, 1),
        unit_rate=Decimal("22"),
        units_per_week=Decimal("10"),
        unit="hour",
        by=broker,
    )
    events = PackageCost.pgh_event_model.objects.filter(pgh_obj__package=package).order_by("pgh_id")
    assert [e.pgh_label for e in events] == ["insert", "update", "insert"]
    assert all(e.pgh_context and e.pgh_context.metadata["user"] == broker.pk for e in events)


# --- Property: any sequence of price and split changes ------------------------------------------

START = date(2024, 4, 1)
price_change = st.tuples(
    st.just("cost"), st.integers(0, 500), st.none(), st.integers(1, 5000).map(lambda p: Decimal(p) / 100)
)
split_change = st.tuples(
    st.just("split"),
    st.integers(0, 500),
    st.one_of(st.none(), st.integers(0, 200)),
    st.integers(0, 10000).map(lambda p: Decimal(p) / 100),
)


@given(st.lists(st.one_of(price_change, split_change), min_size=1, max_size=8))
def test_any_sequence_of_price_and_split_changes_leaves_non_overlapping_histories_summing_to_100(
    package, broker, partnership, changes
):
    council, nhs = partnership.council, partnership.nhs_commissioner
    with transaction.atomic():
        sid = transaction.savepoint()
        for kind, offset, length, amount in changes:
            start = START + timedelta(days=offset)
            if kind == "cost":
                change_price(
                    package=package,
                    effective_from=start,
                    unit_rate=amount,
                    units_per_week=Decimal("7"),
                    unit="hour",
                    by=broker,
                )
            else:
                end = None if length is None else start + timedelta(days=length)
                services.package_change_funding(
                    package=package,
                    effective_from=start,
                    effective_to=end,
                    shares=[Share(council, amount), Share(nhs, Decimal(100) - amount)],
                    basis="s117",
                    by=broker,
                )
        cost_rows = [
            Row(c.effective_from, c.effective_to) for c in PackageCost.objects.filter(package=package)
        ]
        split_rows = [
            Row(s.effective_from, s.effective_to) for s in FundingSplit.objects.filter(package=package)
        ]
        assert overlaps(cost_rows) == []
        assert overlaps(split_rows) == []
        # Costs cover the package from its start with no gap; so do splits (the first one did).
        assert min(r.start for r in cost_rows) == START
        assert min(r.start for r in split_rows) == START
        assert sum(1 for r in cost_rows if r.end is None) == 1
        assert sum(1 for r in split_rows if r.end is None) == 1
        for split in FundingSplit.objects.filter(package=package):
            total = sum(FundingShare.objects.filter(split=split).values_list("percent", flat=True))
            assert total == Decimal("100")
        transaction.savepoint_rollback(sid)
