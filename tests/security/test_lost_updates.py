"""Lost updates (security.md; issue 8): two edits of the same budget line, package or paper made
from the same version. The first wins; the second is refused with a clear message (a form error
in the page, 409 in the API) and changes nothing. Edits in the pages must carry the version they
were made from. Finally, two edits racing in two database connections: exactly one wins.

Every refusal is commissioning.services.StaleEdit raised by the object's service under a row
lock; the pages put it on the form, the API's exception handler answers 409."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from brokerage import services as brokerage_services
from brokerage.models import Package, PackageCost
from budgets import services as budget_services
from budgets.models import BudgetLine
from commissioning import roles
from commissioning.services import StaleEdit
from governance import services as governance_services
from governance.models import Paper

# The package scene of the brokerage tests: a package from 1 April 2024 at £20/hour x 10.
from tests.brokerage.conftest import broker, client_record, package  # noqa: F401
from tests.brokerage.factories import RateCardFactory, change_price

D = Decimal
STALE = "Someone else changed this"


# --- Scenes -------------------------------------------------------------------------------------


@pytest.fixture
def line(db, partnership):
    from tests.budgets.factories import (
        AgreementFactory,
        BudgetLineFactory,
        FundingStreamFactory,
        ScheduleFactory,
    )

    agreement = AgreementFactory(
        partnership=partnership, host=partnership.council, start=date(2021, 4, 1), end=date(2024, 3, 31)
    )
    stream = FundingStreamFactory(partnership=partnership, name="LBB core", organisation=partnership.council)
    return BudgetLineFactory(
        schedule=ScheduleFactory(agreement=agreement),
        name="Support team",
        year=2022,
        funding_stream=stream,
        amount=D("43713.00"),
        status="approved",
    )


@pytest.fixture
def paper(db, partnership):
    from tests.governance.factories import BoardFactory, PaperFactory

    return PaperFactory(board=BoardFactory(partnership=partnership), title="Original title")


@pytest.fixture
def secretary(make_user, partnership):
    return make_user(roles.BOARD_SECRETARY, [partnership])


def signed_in(client, user):
    client.force_login(user)
    return client


def form_errors(response) -> str:
    form = response.context["form"]
    return " ".join(str(message) for messages in form.errors.values() for message in messages)


# --- Budget lines ------------------------------------------------------------------------------


def line_form(line: BudgetLine, version: int, **changes) -> dict:
    data = {
        "name": line.name,
        "year": line.year,
        "funding_stream": line.funding_stream_id,
        "amount": str(line.amount),
        "status": line.status,
        "decision": "",
        "version": version,
    }
    return {**data, **changes}


def test_budget_line_page_two_edits_from_one_version(client, commissioner, line):
    url = reverse("budgets:line-edit", args=[line.schedule_id, line.pk])
    web = signed_in(client, commissioner)
    loaded = web.get(url).context["form"]["version"].value()
    assert loaded == 1

    first = web.post(url, line_form(line, loaded, amount="50000.00"))
    second = web.post(url, line_form(line, loaded, amount="60000.00"))

    assert first.status_code == 302
    assert second.status_code == 200
    assert f"{STALE} budget line" in form_errors(second)
    assert f"{STALE} budget line" in second.content.decode()
    saved = BudgetLine.objects.get(pk=line.pk)
    assert (saved.amount, saved.version) == (D("50000.00"), 2)


def test_budget_line_page_refuses_an_edit_without_a_version(client, commissioner, line):
    url = reverse("budgets:line-edit", args=[line.schedule_id, line.pk])
    data = line_form(line, 1, amount="1.00")
    del data["version"]

    response = signed_in(client, commissioner).post(url, data)

    assert response.status_code == 200
    assert "version" in response.context["form"].errors
    assert BudgetLine.objects.get(pk=line.pk).amount == D("43713.00")


def test_budget_line_api_two_edits_from_one_version(api_as, commissioner, line):
    api = api_as(commissioner)
    url = f"/api/v1/budget-lines/{line.pk}/"
    loaded = api.get(url).json()["version"]

    first = api.patch(url, {"amount": "50000.00", "version": loaded}, format="json")
    second = api.patch(url, {"name": "Renamed", "version": loaded}, format="json")

    assert first.status_code == 200 and first.json()["version"] == loaded + 1
    assert second.status_code == 409
    assert STALE in second.json()["detail"]
    saved = BudgetLine.objects.get(pk=line.pk)
    assert (saved.name, saved.amount) == ("Support team", D("50000.00"))


# --- Packages ----------------------------------------------------------------------------------


def cost_form(version: int, rate: str) -> dict:
    return {
        "effective_from_day": "1",
        "effective_from_month": "7",
        "effective_from_year": "2024",
        "unit_rate": rate,
        "unit": "hour",
        "units_per_week": "10",
        "reason": "Uplift",
        "version": version,
        "step": "confirm",
    }


def end_form(version: int) -> dict:
    return {"end_day": "30", "end_month": "9", "end_year": "2030", "version": version}


def test_package_pages_two_edits_from_one_version(client, broker, package):  # noqa: F811
    """A price change and an end date, both from the version the broker loaded: the end is refused."""
    RateCardFactory(partnership=package.client.partnership, year=2024)  # £24.50: the price applies
    web = signed_in(client, broker)
    loaded = (
        web.get(reverse("brokerage:package-change-cost", args=[package.pk]))
        .context["form"]["version"]
        .value()
    )

    first = web.post(reverse("brokerage:package-change-cost", args=[package.pk]), cost_form(loaded, "21"))
    second = web.post(reverse("brokerage:package-end", args=[package.pk]), end_form(loaded))

    assert first.status_code == 302
    assert second.status_code == 200
    assert f"{STALE} package" in form_errors(second)
    saved = Package.objects.get(pk=package.pk)
    assert saved.end is None
    assert saved.version == loaded + 1
    assert list(
        PackageCost.objects.filter(package=package)
        .order_by("effective_from")
        .values_list("unit_rate", flat=True)
    ) == [
        D("20.00"),
        D("21.00"),
    ]


def test_package_status_button_is_refused_when_stale_or_without_a_version(client, broker, package):  # noqa: F811
    web = signed_in(client, broker)
    url = reverse("brokerage:package-status", args=[package.pk])
    loaded = package.version
    change_price(
        package=package,
        effective_from=date(2024, 7, 1),
        unit_rate=D("21"),
        units_per_week=D("10"),
        unit="hour",
        by=broker,
        version=loaded,
    )

    stale = web.post(url, {"status": "suspended", "version": loaded}, follow=True)
    missing = web.post(url, {"status": "suspended"}, follow=True)

    assert f"{STALE} package" in stale.content.decode()
    assert "did not say which version" in missing.content.decode()
    assert Package.objects.get(pk=package.pk).status == "active"


def test_package_api_two_edits_from_one_version(api_as, broker, package):  # noqa: F811
    from tests.commissioning.factories import ProviderFactory

    api = api_as(broker)
    url = f"/api/v1/packages/{package.pk}/"
    loaded = api.get(url).json()["version"]
    first_provider, second_provider = ProviderFactory(), ProviderFactory()

    first = api.patch(url, {"provider": first_provider.pk, "version": loaded}, format="json")
    second = api.patch(url, {"provider": second_provider.pk, "version": loaded}, format="json")

    assert first.status_code == 200, first.json()
    assert first.json()["version"] == loaded + 1
    assert second.status_code == 409
    assert STALE in second.json()["detail"]
    assert Package.objects.get(pk=package.pk).provider_id == first_provider.pk


def test_package_api_price_change_from_a_stale_version_is_409(api_as, broker, package):  # noqa: F811
    RateCardFactory(partnership=package.client.partnership, year=2024)  # £24.50: the price applies
    api = api_as(broker)
    loaded = package.version
    body = {
        "effective_from": "2024-07-01",
        "unit_rate": "21.00",
        "units_per_week": "10",
        "unit": "hour",
        "reason": "Uplift",
    }

    first = api.post(
        f"/api/v1/packages/{package.pk}/change-cost/", {**body, "version": loaded}, format="json"
    )
    second = api.post(
        f"/api/v1/packages/{package.pk}/change-cost/",
        {**body, "unit_rate": "30.00", "version": loaded},
        format="json",
    )

    assert first.status_code == 201
    assert second.status_code == 409
    assert PackageCost.objects.filter(package=package, unit_rate=D("30.00")).count() == 0


# --- Papers ------------------------------------------------------------------------------------


def paper_form(paper: Paper, version, **changes) -> dict:
    data = {
        "title": paper.title,
        "session": paper.session,
        "executive_summary": paper.executive_summary or "Summary",
        "recommendations": "\n".join(paper.recommendations),
        "body": paper.body,
        "authors": paper.authors or "Author",
        "executive_sponsor": paper.executive_sponsor,
        "version": version,
    }
    data = {**data, **changes}
    return {k: v for k, v in data.items() if v is not None}


def test_paper_page_two_edits_from_one_version(client, secretary, paper):
    url = reverse("governance:paper", args=[paper.pk])
    web = signed_in(client, secretary)
    loaded = web.get(url).context["form"]["version"].value()
    assert loaded == paper.version

    first = web.post(url, paper_form(paper, loaded, title="First edit"))
    second = web.post(url, paper_form(paper, loaded, title="Second edit"))

    assert first.status_code == 302
    assert second.status_code == 200
    assert f"{STALE} paper" in form_errors(second)
    assert f"{STALE} paper" in second.content.decode()
    saved = Paper.objects.get(pk=paper.pk)
    assert (saved.title, saved.version) == ("First edit", loaded + 1)


def test_paper_page_refuses_an_edit_without_a_version(client, secretary, paper):
    url = reverse("governance:paper", args=[paper.pk])

    response = signed_in(client, secretary).post(url, paper_form(paper, None, title="Blind edit"))

    assert response.status_code == 200
    assert "did not say which version" in " ".join(response.context["form"].errors["version"])
    assert Paper.objects.get(pk=paper.pk).title == "Original title"


def test_paper_api_two_edits_from_one_version(api_as, secretary, paper):
    api = api_as(secretary)
    url = f"/api/v1/papers/{paper.pk}/"
    loaded = api.get(url).json()["version"]

    first = api.patch(url, {"title": "First edit", "version": loaded}, format="json")
    second = api.patch(url, {"body": "Second edit", "version": loaded}, format="json")

    assert first.status_code == 200
    assert second.status_code == 409
    assert STALE in second.json()["detail"]
    saved = Paper.objects.get(pk=paper.pk)
    assert (saved.title, saved.body) == ("First edit", paper.body)


# --- Two connections racing -----------------------------------------------------------------------


def race(edit_a, edit_b) -> list[str]:
    """Run two edits in two threads (two database connections) released together."""
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(edit):
        try:
            barrier.wait(timeout=10)
            edit()
            outcomes.append("saved")
        except StaleEdit:
            outcomes.append("stale")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(edit,)) for edit in (edit_a, edit_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(outcomes)


@pytest.mark.django_db(transaction=True)
def test_racing_edits_of_one_budget_line_paper_and_package(partnership, commissioner, secretary, make_user):
    from tests.brokerage.factories import ClientFactory, PackageFactory
    from tests.budgets.factories import (
        AgreementFactory,
        BudgetLineFactory,
        FundingStreamFactory,
        ScheduleFactory,
    )
    from tests.commissioning.factories import ProviderFactory
    from tests.governance.factories import BoardFactory, PaperFactory

    agreement = AgreementFactory(
        partnership=partnership, host=partnership.council, start=date(2021, 4, 1), end=date(2024, 3, 31)
    )
    stream = FundingStreamFactory(partnership=partnership, organisation=partnership.council)
    budget_line = BudgetLineFactory(
        schedule=ScheduleFactory(agreement=agreement), year=2022, funding_stream=stream, amount=D("10.00")
    )
    the_paper = PaperFactory(board=BoardFactory(partnership=partnership), title="Original title")
    the_package = PackageFactory(client=ClientFactory(partnership=partnership))
    providers = ProviderFactory(), ProviderFactory()
    broker_user = make_user(roles.BROKER, [partnership])

    def line_edit(amount):
        return lambda: budget_services.budget_line_update(
            line=BudgetLine.objects.get(pk=budget_line.pk), by=commissioner, version=1, amount=D(amount)
        )

    def paper_edit(title):
        return lambda: governance_services.paper_update(
            paper=Paper.objects.get(pk=the_paper.pk), by=secretary, version=1, title=title
        )

    def package_edit(provider):
        return lambda: brokerage_services.package_update(
            package=Package.objects.get(pk=the_package.pk), by=broker_user, version=1, provider=provider
        )

    assert race(line_edit("20.00"), line_edit("30.00")) == ["saved", "stale"]
    assert race(paper_edit("A"), paper_edit("B")) == ["saved", "stale"]
    assert race(package_edit(providers[0]), package_edit(providers[1])) == ["saved", "stale"]

    assert BudgetLine.objects.get(pk=budget_line.pk).version == 2
    assert Paper.objects.get(pk=the_paper.pk).version == 2
    assert Package.objects.get(pk=the_package.pk).version == 2
