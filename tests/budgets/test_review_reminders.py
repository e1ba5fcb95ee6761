"""A review not held and due within 60 days (to the day) reminds the agreement's pool managers, or,
when no schedule names one, its partnership's commissioners: on the dashboard and in the weekly
digest (through the core's registry, which imports no budgets code)."""

from datetime import date, timedelta

import pytest

from budgets import selectors, services
from commissioning import digest, roles
from tests.budgets.factories import AgreementFactory, ScheduleFactory

pytestmark = pytest.mark.django_db
TODAY = date(2025, 1, 15)  # a Wednesday


@pytest.fixture
def agreement(bromley):
    return AgreementFactory(
        partnership=bromley, reference="BR-S75", start=date(2021, 4, 1), end=date(2028, 3, 31)
    )


@pytest.fixture
def commissioner(bromley_users):
    return bromley_users["commissioner"]


def review(agreement, by, due, **fields):
    return services.review_create(agreement=agreement, by=by, due=due, **fields)


@pytest.mark.parametrize(("days", "reminded"), [(60, True), (61, False), (0, True), (-10, True)])
def test_the_sixty_day_boundary_to_the_day(agreement, commissioner, days, reminded):
    review(agreement, commissioner, TODAY + timedelta(days=days))
    reminders = selectors.review_reminders(commissioner, today=TODAY)
    assert bool(reminders) is reminded


def test_a_held_review_reminds_nobody(agreement, commissioner):
    due = TODAY + timedelta(days=10)
    services.review_create(
        agreement=agreement, by=commissioner, due=due, held_on=TODAY - timedelta(days=1), outcome="continue"
    )
    assert selectors.review_reminders(commissioner, today=TODAY) == []


def test_the_pool_manager_is_reminded_rather_than_the_commissioners(
    agreement, commissioner, make_user, bromley
):
    manager = make_user(roles.COMMISSIONER, [bromley], username="pool_manager")
    ScheduleFactory(agreement=agreement, pool_manager=manager)
    review(agreement, commissioner, TODAY + timedelta(days=30))
    assert selectors.review_reminders(commissioner, today=TODAY) == []
    [reminder] = selectors.review_reminders(manager, today=TODAY)
    assert reminder.text == "BR-S75 Section 75 agreement: 2024/25 review due 14 February 2025 (in 30 days)"


def test_without_a_pool_manager_the_commissioners_are_reminded_not_other_roles(
    agreement, commissioner, bromley_users
):
    review(agreement, commissioner, TODAY + timedelta(days=30))
    assert len(selectors.review_reminders(commissioner, today=TODAY)) == 1
    assert selectors.review_reminders(bromley_users["finance_officer"], today=TODAY) == []


def test_the_dashboard_panel_shows_the_reminder(client, agreement, commissioner, monkeypatch):
    from django.utils import timezone

    review(agreement, commissioner, timezone.localdate() + timedelta(days=20))
    client.force_login(commissioner)
    page = client.get("/").content.decode()
    assert "Agreement reviews due within 60 days" in page
    assert "BR-S75" in page


def test_the_digest_reminds_the_pool_manager_once_a_week(
    agreement, commissioner, make_user, bromley, mailoutbox, django_assert_max_num_queries
):
    manager = make_user(roles.COMMISSIONER, [bromley], username="pool_manager", email="pm@example.org")
    ScheduleFactory(agreement=agreement, pool_manager=manager)
    review(agreement, commissioner, TODAY + timedelta(days=60))
    summary = digest.send_contracts_ending_digest(today=TODAY)
    assert summary["reminders"] == 1 and summary["emails"] == 1
    [message] = mailoutbox
    assert message.to == ["pm@example.org"]
    assert message.subject == "Reminders: 1 (week of 13 January 2025)"
    assert "SECTION 75 AGREEMENT REVIEWS DUE (1)" in message.body
    assert "BR-S75" in message.body and "in 60 days" in message.body
    assert "These contracts you manage" not in message.body
    html = message.alternatives[0][0]
    assert "Section 75 agreement reviews due (1)" in html
    assert digest.send_contracts_ending_digest(today=TODAY)["emails"] == 0


def test_the_digest_says_nothing_of_a_review_61_days_away(agreement, commissioner, mailoutbox):
    review(agreement, commissioner, TODAY + timedelta(days=61))
    assert digest.send_contracts_ending_digest(today=TODAY)["reminders"] == 0
    assert mailoutbox == []
