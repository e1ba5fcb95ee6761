"""The budget endpoints of api.md: happy path, 400 naming the field, 401, 403, 404 for hidden
objects, 409 for stale versions, and a bounded number of queries whatever the rows."""

from datetime import date
from decimal import Decimal

import pytest

from budgets.models import BudgetLine, MonthlyPosition, Schedule
from commissioning import roles
from tests.budgets.factories import (
    AgreementFactory,
    BudgetLineFactory,
    FundingStreamFactory,
    MonthlyPositionFactory,
    ScheduleFactory,
)
from tests.governance.factories import MeetingFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def ipb(bromley):
    agreement = AgreementFactory(
        partnership=bromley,
        reference="BR-S75",
        host=bromley.council,
        start=date(2021, 4, 1),
        end=date(2024, 3, 31),
    )
    schedule = ScheduleFactory(agreement=agreement, number=2)
    ccg = FundingStreamFactory(partnership=bromley, name="CCG", organisation=bromley.nhs_commissioner)
    lbb = FundingStreamFactory(partnership=bromley, name="LBB core", organisation=bromley.council)
    BudgetLineFactory(
        schedule=schedule, name="Placements and Brokerage", year=2021, funding_stream=ccg, amount=D("118340")
    )
    line = BudgetLineFactory(
        schedule=schedule, name="Support team", year=2021, funding_stream=lbb, amount=D("43713")
    )
    return {"schedule": schedule, "agreement": agreement, "ccg": ccg, "lbb": lbb, "line": line}


@pytest.fixture
def hidden(other_partnership):
    schedule = ScheduleFactory(agreement=AgreementFactory(partnership=other_partnership))
    line = BudgetLineFactory(schedule=schedule)
    return {
        "schedule": schedule,
        "agreement": schedule.agreement,
        "line": line,
        "stream": line.funding_stream,
        "position": MonthlyPositionFactory(budget_line=line),
    }


@pytest.fixture
def commissioner(bromley_users):
    return bromley_users["commissioner"]


@pytest.fixture
def board_member(make_user, bromley):
    return make_user(roles.BOARD_MEMBER, [bromley])


def test_the_summary_gives_contributions_variance_and_risk_share(api_as, commissioner, ipb):
    MonthlyPositionFactory(
        budget_line=BudgetLine.objects.get(name="Placements and Brokerage"),
        period=date(2021, 9, 1),
        forecast_outturn=D("128340"),
        actual_to_date=D("50000"),
    )

    response = api_as(commissioner).get(f"/api/v1/schedules/{ipb['schedule'].pk}/summary/?year=2021")

    assert response.status_code == 200
    assert response.json() == {
        "year": 2021,
        "period": "2021-09",
        "total": "162053.00",
        "by_partner": [
            {"organisation": "SELCCG-BR", "amount": "118340.00"},
            {"organisation": "LBB", "amount": "43713.00"},
        ],
        "by_stream": [
            {"funding_stream": "CCG", "organisation": "SELCCG-BR", "amount": "118340.00"},
            {"funding_stream": "LBB core", "organisation": "LBB", "amount": "43713.00"},
        ],
        "forecast_outturn": "172053.00",
        "variance": "10000.00",
        "rule": "proportional",
        "risk_share": [
            {"organisation": "SELCCG-BR", "amount": "7302.55"},
            {"organisation": "LBB", "amount": "2697.45"},
        ],
        # Only one of the two lines has a September position: the other is at budget.
        "complete": False,
        "lines_carried_forward": 0,
        "lines_without_position": 1,
    }


@pytest.mark.parametrize(
    "query,field",
    [
        ("year=abc", "year"),
        ("year=2030", "year"),
        ("period=2021-13", "period"),
        ("year=2021&period=2022-05", "period"),
    ],
)
def test_the_summary_refuses_bad_parameters_naming_them(api_as, commissioner, ipb, query, field):
    response = api_as(commissioner).get(f"/api/v1/schedules/{ipb['schedule'].pk}/summary/?{query}")

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_a_commissioner_adds_a_budget_line_with_money_as_a_string(api_as, commissioner, ipb):
    body = {
        "schedule": ipb["schedule"].pk,
        "name": "Additional finance costs",
        "year": 2021,
        "funding_stream": ipb["ccg"].pk,
        "amount": "7500.00",
        "status": "mobilisation",
    }

    response = api_as(commissioner).post("/api/v1/budget-lines/", body, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["amount"] == "7500.00" and response.json()["version"] == 1
    assert BudgetLine.objects.get(name="Additional finance costs").amount == D("7500.00")


@pytest.mark.parametrize(
    "change,field",
    [
        ({"amount": "-1.00"}, "amount"),
        ({"year": 2030}, "year"),
        ({"name": "Support team", "funding_stream": "lbb"}, "name"),
    ],
)
def test_bad_budget_lines_answer_400_naming_the_field_and_change_nothing(
    api_as, commissioner, ipb, change, field
):
    body = {
        "schedule": ipb["schedule"].pk,
        "name": "New",
        "year": 2021,
        "funding_stream": ipb["ccg"].pk,
        "amount": "1.00",
        "status": "approved",
    }
    body.update({k: (ipb["lbb"].pk if v == "lbb" else v) for k, v in change.items()})
    before = BudgetLine.objects.count()

    response = api_as(commissioner).post("/api/v1/budget-lines/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert BudgetLine.objects.count() == before


def test_a_stale_budget_line_edit_answers_409(api_as, commissioner, ipb):
    client = api_as(commissioner)
    url = f"/api/v1/budget-lines/{ipb['line'].pk}/"
    assert client.patch(url, {"amount": "1.00", "version": 1}, format="json").status_code == 200

    response = client.patch(url, {"amount": "2.00", "version": 1}, format="json")

    assert response.status_code == 409
    assert BudgetLine.objects.get(pk=ipb["line"].pk).amount == D("1.00")


def test_fixed_shares_must_sum_to_100(api_as, commissioner, ipb):
    body = {
        "overspend_rule": "fixed",
        "fixed_shares": [
            {"organisation": "LBB", "percent": "40"},
            {"organisation": "SELCCG-BR", "percent": "50"},
        ],
    }

    body["version"] = ipb["schedule"].version
    response = api_as(commissioner).patch(f"/api/v1/schedules/{ipb['schedule'].pk}/", body, format="json")

    assert response.status_code == 400
    assert "fixed_shares" in response.json()
    assert Schedule.objects.get(pk=ipb["schedule"].pk).overspend_rule == "proportional"


def test_fixed_shares_are_listed_by_organisation_code(api_as, commissioner, ipb):
    body = {
        "overspend_rule": "fixed",
        "fixed_shares": [
            {"organisation": "LBB", "percent": "40"},
            {"organisation": "SELCCG-BR", "percent": "60"},
        ],
    }
    body["version"] = ipb["schedule"].version
    response = api_as(commissioner).patch(f"/api/v1/schedules/{ipb['schedule'].pk}/", body, format="json")

    assert response.status_code == 200, response.json()
    assert sorted((s["organisation"], s["percent"]) for s in response.json()["fixed_shares"]) == [
        ("LBB", "40.00"),
        ("SELCCG-BR", "60.00"),
    ]


def test_a_position_is_recorded_with_a_period_and_refused_outside_the_year(api_as, bromley_users, ipb):
    client = api_as(bromley_users["finance_officer"])
    body = {
        "budget_line": ipb["line"].pk,
        "period": "2021-09",
        "actual_to_date": "100.00",
        "forecast_outturn": "43713.00",
    }

    created = client.post("/api/v1/monthly-positions/", body, format="json")
    outside = client.post("/api/v1/monthly-positions/", {**body, "period": "2022-05"}, format="json")
    malformed = client.post("/api/v1/monthly-positions/", {**body, "period": "Sept"}, format="json")

    assert (
        created.status_code == 201
        and created.json()["period"] == "2021-09"
        and created.json()["locked"] is False
    )
    assert outside.status_code == 400 and "period" in outside.json()
    assert malformed.status_code == 400 and "period" in malformed.json()
    assert MonthlyPosition.objects.count() == 1


ENDPOINTS = ["agreements", "schedules", "funding-streams", "budget-lines", "monthly-positions"]
HIDDEN_KEY = {
    "agreements": "agreement",
    "schedules": "schedule",
    "funding-streams": "stream",
    "budget-lines": "line",
    "monthly-positions": "position",
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_requests_answer_401(api_client, endpoint):
    assert api_client.get(f"/api/v1/{endpoint}/").status_code == 401


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_other_partnerships_records_answer_404(api_as, commissioner, hidden, endpoint):
    obj = hidden[HIDDEN_KEY[endpoint]]
    client = api_as(commissioner)

    assert client.get(f"/api/v1/{endpoint}/{obj.pk}/").status_code == 404
    assert client.patch(f"/api/v1/{endpoint}/{obj.pk}/", {}, format="json").status_code == 404
    assert obj.pk not in [row["id"] for row in client.get(f"/api/v1/{endpoint}/").json()["results"]]


def test_a_hidden_schedules_summary_answers_404(api_as, commissioner, hidden):
    assert api_as(commissioner).get(f"/api/v1/schedules/{hidden['schedule'].pk}/summary/").status_code == 404


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_board_member_reads_but_may_not_write(api_as, board_member, ipb, endpoint):
    client = api_as(board_member)

    assert client.get(f"/api/v1/{endpoint}/").status_code == 200
    assert client.post(f"/api/v1/{endpoint}/", {}, format="json").status_code == 403


def test_a_finance_officer_may_not_change_budget_lines(api_as, bromley_users, ipb):
    response = api_as(bromley_users["finance_officer"]).patch(
        f"/api/v1/budget-lines/{ipb['line'].pk}/", {"amount": "1.00"}, format="json"
    )

    assert response.status_code == 403
    assert BudgetLine.objects.get(pk=ipb["line"].pk).amount == D("43713.00")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_lists_run_a_bounded_number_of_queries(
    api_as, commissioner, ipb, endpoint, django_assert_max_num_queries
):
    client = api_as(commissioner)
    with django_assert_max_num_queries(12) as few:
        assert client.get(f"/api/v1/{endpoint}/").status_code == 200
    partnership = ipb["agreement"].partnership
    for _ in range(8):
        schedule = ScheduleFactory(agreement=AgreementFactory(partnership=partnership), number=1)
        schedule.fixed_shares.create(organisation=partnership.council, percent=D("100"))
        line = BudgetLineFactory(
            schedule=schedule, funding_stream=FundingStreamFactory(partnership=partnership)
        )
        MonthlyPositionFactory(budget_line=line)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(f"/api/v1/{endpoint}/").status_code == 200


def test_the_csv_format_returns_the_same_rows(api_as, commissioner, ipb):
    response = api_as(commissioner).get("/api/v1/budget-lines/?format=csv&year=2021")

    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("id,schedule,name,year,funding_stream,amount")
    assert len(lines) == 3


# --- Each endpoint: happy path, validation, 401, 403 -----------------------------------------------


def test_a_commissioner_records_an_agreement_a_schedule_and_a_stream(api_as, commissioner, bromley):
    client = api_as(commissioner)

    agreement = client.post(
        "/api/v1/agreements/",
        {
            "partnership": bromley.pk,
            "reference": "BR-S75-2025",
            "title": "Integrated commissioning",
            "host": "LBB",
            "start": "2025-04-01",
            "end": "2028-03-31",
            "status": "draft",
        },
        format="json",
    )
    schedule = client.post(
        "/api/v1/schedules/",
        {
            "agreement": agreement.json()["id"],
            "number": 1,
            "title": "Better Care Fund",
            "arrangement": "aligned",
            "integration_level": 2,
            "overspend_rule": "fixed",
            "underspend_rule": "host",
            "fixed_shares": [
                {"organisation": "LBB", "percent": "40.00"},
                {"organisation": "SELCCG-BR", "percent": "60.00"},
            ],
        },
        format="json",
    )
    stream = client.post(
        "/api/v1/funding-streams/",
        {"partnership": bromley.pk, "name": "DFG", "organisation": "LBB"},
        format="json",
    )

    assert agreement.status_code == 201 and agreement.json()["host"] == "LBB"
    assert schedule.status_code == 201 and schedule.json()["overspend_rule"] == "fixed"
    assert stream.status_code == 201 and stream.json()["organisation"] == "LBB"


@pytest.mark.parametrize(
    "change,field",
    [
        ({"end": "2020-01-01"}, "end"),
        ({"host": "NOPE"}, "host"),
        ({"status": "lost"}, "status"),
        ({"reference": ""}, "reference"),
    ],
)
def test_bad_agreements_answer_400_naming_the_field(api_as, commissioner, bromley, change, field):
    body = {
        "partnership": bromley.pk,
        "reference": "BR-1",
        "title": "T",
        "host": "LBB",
        "start": "2021-04-01",
        "end": "2024-03-31",
        "status": "draft",
    }

    response = api_as(commissioner).post("/api/v1/agreements/", {**body, **change}, format="json")

    assert response.status_code == 400 and field in response.json()
    assert not Schedule.objects.exists() and not BudgetLine.objects.exists()
    from budgets.models import Section75Agreement

    assert not Section75Agreement.objects.exists()


def test_bad_funding_streams_answer_400_naming_the_field(
    api_as, commissioner, bromley, ipb, other_partnership
):
    client = api_as(commissioner)
    outsider = other_partnership.council.code

    duplicate = client.post(
        "/api/v1/funding-streams/",
        {"partnership": bromley.pk, "name": "ccg", "organisation": "LBB"},
        format="json",
    )
    not_a_partner = client.post(
        "/api/v1/funding-streams/",
        {"partnership": bromley.pk, "name": "X", "organisation": outsider},
        format="json",
    )
    moved_partner = client.patch(
        f"/api/v1/funding-streams/{ipb['ccg'].pk}/", {"organisation": "LBB"}, format="json"
    )

    assert duplicate.status_code == 400 and "name" in duplicate.json()
    assert not_a_partner.status_code == 400 and "organisation" in not_a_partner.json()
    assert moved_partner.status_code == 400 and "organisation" in moved_partner.json()
    assert ipb["ccg"].__class__.objects.filter(partnership=bromley).count() == 2


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_detail_and_writes_answer_401(api_client, ipb, endpoint):
    obj = {
        "agreements": ipb["agreement"],
        "schedules": ipb["schedule"],
        "funding-streams": ipb["ccg"],
        "budget-lines": ipb["line"],
        "monthly-positions": MonthlyPositionFactory(budget_line=ipb["line"], period=date(2021, 9, 1)),
    }[endpoint]

    assert api_client.get(f"/api/v1/{endpoint}/{obj.pk}/").status_code == 401
    assert api_client.patch(f"/api/v1/{endpoint}/{obj.pk}/", {}, format="json").status_code == 401
    assert api_client.post(f"/api/v1/{endpoint}/", {}, format="json").status_code == 401
    assert api_client.delete(f"/api/v1/{endpoint}/{obj.pk}/").status_code == 401
    assert api_client.get(f"/api/v1/schedules/{ipb['schedule'].pk}/summary/").status_code == 401


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_board_member_may_not_change_or_delete_and_nothing_changes(api_as, board_member, ipb, endpoint):
    obj = {
        "agreements": ipb["agreement"],
        "schedules": ipb["schedule"],
        "funding-streams": ipb["ccg"],
        "budget-lines": ipb["line"],
        "monthly-positions": MonthlyPositionFactory(budget_line=ipb["line"], period=date(2021, 9, 1)),
    }[endpoint]
    client = api_as(board_member)

    assert (
        client.patch(f"/api/v1/{endpoint}/{obj.pk}/", {"name": "Changed"}, format="json").status_code == 403
    )
    assert client.delete(f"/api/v1/{endpoint}/{obj.pk}/").status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_a_commissioner_may_not_delete_an_agreement(api_as, commissioner, ipb):
    response = api_as(commissioner).delete(f"/api/v1/agreements/{ipb['agreement'].pk}/")

    assert response.status_code == 403
    assert type(ipb["agreement"]).objects.filter(pk=ipb["agreement"].pk).exists()


def test_the_summary_runs_a_bounded_number_of_queries(
    api_as, commissioner, ipb, django_assert_max_num_queries
):
    client = api_as(commissioner)
    url = f"/api/v1/schedules/{ipb['schedule'].pk}/summary/?year=2021"
    with django_assert_max_num_queries(20) as few:
        assert client.get(url).status_code == 200
    stream = ipb["ccg"]
    for n in range(10):
        line = BudgetLineFactory(
            schedule=ipb["schedule"], year=2021, funding_stream=stream, name=f"Extra {n}"
        )
        MonthlyPositionFactory(budget_line=line, period=date(2021, 9, 1))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_a_locked_position_cannot_be_deleted_and_an_open_one_can(api_as, make_user, bromley, ipb):

    administrator = make_user(roles.ADMINISTRATOR, [bromley])
    locked = MonthlyPositionFactory(budget_line=ipb["line"], period=date(2021, 9, 1))
    locked.reported_at = MeetingFactory(board__partnership=bromley, status="held")
    locked.save()
    open_ = MonthlyPositionFactory(budget_line=ipb["line"], period=date(2021, 10, 1))
    client = api_as(administrator)

    refused = client.delete(f"/api/v1/monthly-positions/{locked.pk}/")
    deleted = client.delete(f"/api/v1/monthly-positions/{open_.pk}/")

    assert refused.status_code == 400 and "can no longer be changed" in refused.json()["non_field_errors"][0]
    assert deleted.status_code == 204
    assert list(MonthlyPosition.objects.values_list("pk", flat=True)) == [locked.pk]
