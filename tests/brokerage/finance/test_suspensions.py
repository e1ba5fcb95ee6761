"""Suspensions (rules.md rule 1): the worked example to the penny, in the engine and through a run;
backdating trued up by the next run; the service's rules; the package page and the API."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from brokerage import recharges, services
from brokerage.models import Package, Suspension
from brokerage.recharges import CostRow, PackageFacts, SplitRow, SuspensionRow

D = Decimal
JUNE, JULY = date(2026, 6, 1), date(2026, 7, 1)


def _facts(suspensions=()):
    """£700.00 a week, CCG 50%, all of June 2026."""
    return PackageFacts(
        1,
        JUNE,
        None,
        "LBB",
        (CostRow(JUNE, None, D("700.00")),),
        (SplitRow(JUNE, None, (("LBB", D("50")), ("CCG", D("50")))),),
        tuple(suspensions),
    )


def test_worked_example_suspended_11_to_20_june_at_80_percent_bills_1400():
    facts = _facts([SuspensionRow(date(2026, 6, 11), date(2026, 6, 20), D("80"))])

    result = recharges.true_up([facts], period=JUNE, billed={})

    (document,) = result.documents
    assert [(li.start.day, li.end.day, li.paid_percent, li.amount) for li in document.lines] == [
        (1, 10, None, D("500.00")),
        (11, 20, D("80"), D("400.00")),
        (21, 30, None, D("500.00")),
    ]
    assert document.total == D("1400.00")


def test_a_suspension_is_one_expression_never_rounding_the_paid_share_first():
    # 100 * 1 * 40 * 75 / 70000 = 4.2857... -> 4.29; rounding the share first (5.71) then 75% gives 4.28
    assert recharges.amount(D("100"), 1, D("40"), D("75")) == D("4.29")
    assert recharges.amount(D("700"), 10, D("50"), D("80")) == D("400.00")


def test_a_stopped_suspension_of_a_whole_month_bills_nothing_for_it():
    facts = _facts([SuspensionRow(JUNE, date(2026, 6, 30), D("0"))])

    assert recharges.true_up([facts], period=JUNE, billed={}).documents == []


@pytest.fixture
def june_package(make_package, council, ccg):
    return make_package(JUNE, rate=D("700.00"), shares=[(council, 50), (ccg, 50)], reference="LAS000700")


def test_the_worked_example_through_a_run(june_package, broker, run_month):
    services.suspension_add(
        package=june_package,
        effective_from=date(2026, 6, 11),
        effective_to=date(2026, 6, 20),
        treatment="reduced",
        paid_percent=D("80"),
        reason="Hospital stay",
        by=broker,
    )

    invoice = run_month(JUNE).invoices.get()

    assert invoice.total == D("1400.00")
    assert [(li.amount, li.paid_percent) for li in invoice.lines.order_by("position")] == [
        (D("500.00"), None),
        (D("400.00"), D("80.00")),
        (D("500.00"), None),
    ]


def test_a_backdated_suspension_is_trued_up_by_the_next_run(june_package, broker, run_month):
    assert run_month(JUNE).invoices.get().total == D("1500.00")  # 700 * 30 * 50 / 700
    services.suspension_add(
        package=june_package,
        effective_from=date(2026, 6, 11),
        effective_to=date(2026, 6, 20),
        treatment="reduced",
        paid_percent=D("80"),
        reason="Hospital stay",
        by=broker,
    )

    invoice = run_month(JULY).invoices.get()

    june = [li for li in invoice.lines.all() if li.month == JUNE]
    assert all(li.adjustment and li.corrects_month == JUNE for li in june)
    assert sum(li.amount for li in june) == D("-100.00")  # 1,400.00 owed less 1,500.00 billed
    assert invoice.total == D("1450.00")  # July 700 * 31 * 50 / 700 = 1,550.00, less 100.00
    assert not run_month(JULY).invoices.exists()  # idempotent


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"treatment": "reduced"}, "paid_percent"),
        ({"treatment": "reduced", "paid_percent": D("100")}, "paid_percent"),
        ({"treatment": "retained", "paid_percent": D("80")}, "paid_percent"),
        ({"treatment": "paused"}, "treatment"),
        ({"treatment": "stopped", "reason": " "}, "reason"),
        ({"treatment": "stopped", "effective_to": date(2026, 6, 10)}, "effective_to"),
        ({"treatment": "stopped", "effective_from": date(2026, 5, 31)}, "effective_from"),
    ],
)
def test_a_bad_suspension_is_refused_naming_the_field(june_package, broker, fields, field):
    values = {
        "effective_from": date(2026, 6, 11),
        "effective_to": date(2026, 6, 20),
        "reason": "Hospital stay",
    } | fields
    with pytest.raises(ValidationError) as caught:
        services.suspension_add(package=june_package, by=broker, **values)
    assert field in caught.value.message_dict
    assert not Suspension.objects.exists()


def test_overlapping_suspensions_are_refused(june_package, broker):
    common = {"package": june_package, "treatment": "stopped", "reason": "Respite", "by": broker}
    services.suspension_add(effective_from=date(2026, 6, 11), effective_to=date(2026, 6, 20), **common)
    with pytest.raises(ValidationError) as caught:
        services.suspension_add(effective_from=date(2026, 6, 20), effective_to=date(2026, 6, 25), **common)
    assert "already suspended from 11 June 2026" in str(caught.value.message_dict["effective_from"])
    assert Suspension.objects.count() == 1


def test_a_suspension_is_history_and_moves_the_package_version_on(june_package, broker):
    version = june_package.version
    suspension = services.suspension_add(
        package=june_package,
        effective_from=date(2026, 6, 11),
        effective_to=date(2026, 6, 20),
        treatment="retained",
        reason="Hospital stay",
        by=broker,
        version=version,
    )
    june_package.refresh_from_db()
    assert june_package.version == version + 1
    assert suspension.paid_percent == D("100")
    assert suspension.events.count() == 1
    updated = services.suspension_update(
        suspension=suspension, by=broker, version=1, treatment="reduced", paid_percent=D("75")
    )
    assert (updated.version, updated.paid_percent) == (2, D("75"))
    from commissioning.services import StaleEdit

    with pytest.raises(StaleEdit):
        services.suspension_update(suspension=suspension, by=broker, version=1, reason="Respite")


def test_the_package_page_records_and_lists_suspensions(client, broker, june_package):
    client.force_login(broker)
    url = reverse("brokerage:package-suspend", args=[june_package.pk])
    assert client.get(url).status_code == 200
    data = {
        "effective_from_day": "11",
        "effective_from_month": "6",
        "effective_from_year": "2026",
        "effective_to_day": "20",
        "effective_to_month": "6",
        "effective_to_year": "2026",
        "treatment": "reduced",
        "paid_percent": "",
        "reason": "Hospital stay",
        "version": june_package.version,
    }
    refused = client.post(url, data)
    assert refused.status_code == 200 and "Enter the percentage the provider is still paid" in refused.text
    assert not Suspension.objects.exists()

    response = client.post(url, data | {"paid_percent": "80"})

    assert response.status_code == 302
    page = client.get(june_package.get_absolute_url())
    assert "Hospital stay" in page.text and "80% (reduced)" in page.text


def test_the_api_posts_and_lists_suspensions(api_as, broker, june_package, make_user, other_partnership):
    api = api_as(broker)
    url = f"/api/v1/packages/{june_package.pk}/suspensions/"
    body = {
        "from": "2026-06-11",
        "to": "2026-06-20",
        "treatment": "reduced",
        "paid_percent": "80",
        "reason": "Hospital",
    }

    def version() -> int:  # the package's version as it stands (api.md: versions required)
        return Package.objects.get(pk=june_package.pk).version

    stale_version = version()
    created = api.post(url, body | {"version": version()}, format="json")

    assert created.status_code == 201, created.json()
    assert created.json() | {"id": 0} == {
        "id": 0,
        "package": june_package.pk,
        "package_reference": june_package.reference,
        "from": "2026-06-11",
        "to": "2026-06-20",
        "treatment": "reduced",
        "paid_percent": "80.00",
        "reason": "Hospital",
        "version": 1,
    }
    assert [row["from"] for row in api.get(url).json()] == ["2026-06-11"]
    bad = api.post(
        url,
        body | {"paid_percent": None, "from": "2026-06-21", "to": "2026-06-22", "version": version()},
        format="json",
    )
    assert bad.status_code == 400 and "paid_percent" in bad.json()
    stale = api.post(
        url, body | {"from": "2026-06-25", "to": "2026-06-26", "version": stale_version}, format="json"
    )
    assert stale.status_code == 409
    from commissioning import roles

    outsider = api_as(make_user(roles.BROKER, [other_partnership]))
    assert outsider.get(url).status_code == 404


def test_the_invoice_page_shows_what_the_provider_was_paid(june_package, broker, finance, run_month, client):
    services.suspension_add(
        package=june_package,
        effective_from=date(2026, 6, 11),
        effective_to=date(2026, 6, 20),
        treatment="reduced",
        paid_percent=D("80"),
        reason="Hospital stay",
        by=broker,
    )
    invoice = run_month(JUNE).invoices.get()
    client.force_login(finance)
    page = client.get(invoice.get_absolute_url()).text
    assert "50% × 80% paid" in page and "£400.00" in page
