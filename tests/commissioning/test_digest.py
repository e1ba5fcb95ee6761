import json
import smtplib
from datetime import date, timedelta

import pytest
from celery.exceptions import Retry
from django.conf import settings as django_settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from commissioning import choices, demo, digest, roles
from commissioning.celery import app as celery_app
from commissioning.models import Contract, DigestDelivery
from commissioning.tasks import send_contracts_ending_digest
from tests.commissioning.factories import ContractFactory

pytestmark = pytest.mark.django_db

TODAY = date(2025, 1, 15)  # a Wednesday
MONDAY = date(2025, 1, 13)
SOON_HEADING = "ENDING WITHIN 6 MONTHS"
LATER_HEADING = "ENDING IN 6 TO 12 MONTHS"


def sections(message) -> tuple[str, str]:
    body = message.body
    assert SOON_HEADING in body and LATER_HEADING in body
    soon, later = body.split(LATER_HEADING)
    return soon.split(SOON_HEADING)[1], later


@pytest.fixture
def office(partnership, make_user):
    """Two managers with contracts ending soon, one whose contracts end later, and noise."""
    alice = make_user(roles.COMMISSIONER, [partnership], username="alice", email="alice@example.org")
    bob = make_user(roles.BROKERAGE_MANAGER, [partnership], username="bob", email="bob@example.org")
    carol = make_user(roles.COMMISSIONER, [partnership], username="carol", email="carol@example.org")

    def contract(reference, end, manager, **kwargs):
        return ContractFactory(
            partnership=partnership, reference=reference, end=end, contract_manager=manager, **kwargs
        )

    contract("BR-SOON", date(2025, 3, 31), alice, service="Home care framework (north)")
    contract("BR-EDGE-6", date(2025, 7, 15), alice)  # exactly 6 months: still "within 6"
    contract("BR-LATER", date(2025, 10, 31), alice)
    contract("BR-EDGE-12", date(2026, 1, 15), alice)  # exactly 12 months: still "within 12"
    contract("BR-BEYOND", date(2026, 1, 16), alice)
    contract("BR-ENDED", date(2025, 2, 28), alice, status=choices.ContractStatus.ENDED)
    contract("BR-PIPE", date(2025, 4, 30), alice, status=choices.ContractStatus.PIPELINE)
    contract("BR-EXT", date(2025, 12, 31), bob, status=choices.ContractStatus.EXTENDED)
    contract("BR-CAROL", date(2027, 3, 31), carol)
    contract("BR-NOBODY", date(2025, 2, 28), None)
    return {"alice": alice, "bob": bob, "carol": carol}


def test_each_manager_gets_one_email_with_their_contracts_by_horizon(office, mailoutbox):
    digest.send_contracts_ending_digest(today=TODAY)

    assert sorted(m.to[0] for m in mailoutbox) == ["alice@example.org", "bob@example.org"]
    to_alice = next(m for m in mailoutbox if m.to == ["alice@example.org"])
    soon, later = sections(to_alice)
    assert "BR-SOON" in soon and "BR-EDGE-6" in soon
    assert "BR-LATER" not in soon and "BR-EDGE-12" not in soon
    assert "BR-LATER" in later and "BR-EDGE-12" in later
    for absent in ("BR-BEYOND", "BR-ENDED", "BR-PIPE", "BR-EXT", "BR-CAROL", "BR-NOBODY"):
        assert absent not in to_alice.body
    assert (
        to_alice.subject == "Contracts ending: 2 within 6 months, 2 more within 12 (week of 13 January 2025)"
    )
    assert to_alice.from_email == django_settings.DEFAULT_FROM_EMAIL
    assert to_alice.extra_headers["Auto-Submitted"] == "auto-generated"
    to_bob = next(m for m in mailoutbox if m.to == ["bob@example.org"])
    soon, later = sections(to_bob)
    assert "None." in soon and "BR-EXT" in later


def test_the_rows_say_what_ends_when_and_for_how_much(office, mailoutbox):
    digest.send_contracts_ending_digest(today=TODAY)

    to_alice = next(m for m in mailoutbox if m.to == ["alice@example.org"])
    assert "BR-SOON  Home care framework (north)" in to_alice.body
    assert "Ends 31 March 2025 (2 months left) · £250,000.00 a year" in to_alice.body
    assert "Bromley · " in to_alice.body


def test_the_html_alternative_lists_the_same_contracts_escaped(partnership, commissioner, mailoutbox):
    ContractFactory(
        partnership=partnership,
        reference="BR-HTML",
        service="Care & support <north>",
        end=date(2025, 4, 30),
        contract_manager=commissioner,
    )

    digest.send_contracts_ending_digest(today=TODAY)

    (message,) = mailoutbox
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "BR-HTML" in html
    assert "Care &amp; support &lt;north&gt;" in html
    assert "Care & support <north>" in message.body


def test_a_manager_whose_contracts_all_end_later_gets_nothing(office, mailoutbox):
    digest.send_contracts_ending_digest(today=TODAY)

    assert "carol@example.org" not in [m.to[0] for m in mailoutbox]
    assert not DigestDelivery.objects.filter(user=office["carol"]).exists()


def test_a_manager_who_lost_the_partnership_is_not_sent_its_contracts(partnership, make_user, mailoutbox):
    moved_on = make_user(roles.COMMISSIONER, [], email="moved@example.org")
    ContractFactory(partnership=partnership, end=date(2025, 3, 31), contract_manager=moved_on)

    summary = digest.send_contracts_ending_digest(today=TODAY)

    assert mailoutbox == []
    assert summary["managers"] == 0


def test_the_summary_counts_what_this_run_sent(office, mailoutbox):
    summary = digest.send_contracts_ending_digest(today=TODAY)

    assert summary == {
        "managers": 2,
        "emails": 2,
        "already_sent": 0,
        "no_email": 0,
        "failed": 0,
        "contracts_6": 2,
        "contracts_12": 5,
        "reminders": 0,
    }
    assert sorted(DigestDelivery.objects.values_list("user__username", "week_start", "contracts_count")) == [
        ("alice", MONDAY, 4),
        ("bob", MONDAY, 1),
    ]


def test_a_second_run_in_the_same_week_sends_nothing(office, mailoutbox):
    digest.send_contracts_ending_digest(today=TODAY)
    mailoutbox.clear()

    summary = digest.send_contracts_ending_digest(today=TODAY + timedelta(days=4))  # Sunday

    assert mailoutbox == []
    assert summary["emails"] == 0 and summary["already_sent"] == 2
    assert DigestDelivery.objects.count() == 2


def test_next_week_the_digest_is_sent_again(office, mailoutbox):
    digest.send_contracts_ending_digest(today=TODAY)
    mailoutbox.clear()

    summary = digest.send_contracts_ending_digest(today=TODAY + timedelta(days=5))  # next Monday

    assert sorted(m.to[0] for m in mailoutbox) == ["alice@example.org", "bob@example.org"]
    assert summary["emails"] == 2
    assert sorted(DigestDelivery.objects.values_list("week_start", flat=True)) == [
        MONDAY,
        MONDAY,
        MONDAY + timedelta(days=7),
        MONDAY + timedelta(days=7),
    ]


def test_a_manager_without_an_email_address_is_counted_not_sent(partnership, make_user, mailoutbox):
    nameless = make_user(roles.COMMISSIONER, [partnership], email="")
    ContractFactory(partnership=partnership, end=date(2025, 3, 31), contract_manager=nameless)

    summary = digest.send_contracts_ending_digest(today=TODAY)

    assert mailoutbox == []
    assert summary["managers"] == 1 and summary["no_email"] == 1 and summary["emails"] == 0
    assert not DigestDelivery.objects.exists()


def test_a_failed_send_is_not_recorded_so_the_next_run_sends_it(office, mailoutbox, monkeypatch):
    real_send = EmailMultiAlternatives.send
    refused = []

    def send_refusing_alice(message, fail_silently=False):
        if message.to == ["alice@example.org"]:
            refused.append(message)
            raise smtplib.SMTPServerDisconnected("connection lost")
        return real_send(message, fail_silently)

    monkeypatch.setattr(EmailMultiAlternatives, "send", send_refusing_alice)

    first = digest.send_contracts_ending_digest(today=TODAY)

    assert len(refused) == 1
    assert [m.to for m in mailoutbox] == [["bob@example.org"]]
    assert first["failed"] == 1 and first["emails"] == 1
    assert list(DigestDelivery.objects.values_list("user__username", flat=True)) == ["bob"]

    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    second = digest.send_contracts_ending_digest(today=TODAY)

    assert [m.to for m in mailoutbox] == [["bob@example.org"], ["alice@example.org"]]
    assert second["emails"] == 1 and second["already_sent"] == 1 and second["failed"] == 0


def test_the_task_returns_a_json_summary(office, mailoutbox):
    result = send_contracts_ending_digest.apply(kwargs={"today": TODAY.isoformat()})

    summary = result.get()
    assert json.loads(json.dumps(summary)) == summary
    assert summary["emails"] == 2 and summary["contracts_12"] == 5
    assert len(mailoutbox) == 2


def test_without_a_date_the_task_uses_today_as_beat_does(partnership, commissioner, mailoutbox):
    ContractFactory(
        partnership=partnership, end=timezone.localdate() + timedelta(days=40), contract_manager=commissioner
    )

    summary = send_contracts_ending_digest.apply().get()

    assert summary["emails"] == 1 and summary["contracts_6"] == 1
    assert DigestDelivery.objects.get().week_start.isoweekday() == 1


def test_the_task_retries_failed_sends_with_the_date_pinned(monkeypatch):
    calls = []

    def failing(*, today):
        calls.append(today)
        return {"managers": 1, "emails": 0, "already_sent": 0, "no_email": 0, "failed": 1}

    monkeypatch.setattr(digest, "send_contracts_ending_digest", failing)
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)  # eager retries re-apply with it

    with pytest.raises(Retry):
        send_contracts_ending_digest(today=TODAY.isoformat())  # called directly: the retry is raised
    summary = send_contracts_ending_digest.apply().get()  # eagerly: retried up to max_retries

    assert summary["failed"] == 1
    assert len(calls) == 1 + 1 + send_contracts_ending_digest.max_retries
    assert len(set(calls[1:])) == 1  # every retry of the second run kept its first run's day


def test_the_beat_schedule_names_the_registered_digest_task():
    celery_app.loader.import_default_modules()

    entry = celery_app.conf.beat_schedule["contracts-ending-digest"]

    assert entry["task"] == "commissioning.tasks.send_contracts_ending_digest"
    assert entry["task"] in celery_app.tasks
    assert celery_app.tasks[entry["task"]] is send_contracts_ending_digest._get_current_object()
    schedule = entry["schedule"]
    assert (schedule.day_of_week, schedule.hour, schedule.minute) == ({1}, {7}, {0})  # Mondays at 07:00


def test_the_demo_office_gets_its_digests(settings, mailoutbox):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    demo.load_demo(seed=9, today=TODAY)
    managed = Contract.objects.filter(contract_manager__isnull=False)

    summary = digest.send_contracts_ending_digest(today=TODAY)

    assert summary["contracts_6"] == managed.ending_within(6, today=TODAY).count()
    assert summary["contracts_12"] == managed.ending_within(12, today=TODAY).count()
    recipients = {m.to[0] for m in mailoutbox}
    assert {"commissioner_city@example.org", "commissioner_bd@example.org"} <= recipients
    assert summary["emails"] == len(mailoutbox) == len(recipients)


def test_with_a_site_url_the_references_link_to_the_contracts(
    settings, partnership, commissioner, mailoutbox
):
    settings.SITE_URL = "https://commissioning.example.org/"
    contract = ContractFactory(
        partnership=partnership, reference="BR-LINK", end=date(2025, 4, 30), contract_manager=commissioner
    )

    digest.send_contracts_ending_digest(today=TODAY)

    (message,) = mailoutbox
    url = "https://commissioning.example.org" + contract.get_absolute_url()
    assert f"  {url}\n" in message.body
    assert f'<a href="{url}">BR-LINK</a>' in message.alternatives[0][0]


def test_without_a_site_url_there_are_no_links(partnership, commissioner, mailoutbox):
    ContractFactory(
        partnership=partnership, reference="BR-NOLINK", end=date(2025, 4, 30), contract_manager=commissioner
    )

    digest.send_contracts_ending_digest(today=TODAY)

    (message,) = mailoutbox
    assert "http" not in message.body
    assert "<a href" not in message.alternatives[0][0]
