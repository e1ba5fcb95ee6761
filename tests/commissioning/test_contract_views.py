"""The contract register's web pages: list, export, detail, reviews, create, edit and the dashboard."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from commissioning import choices, roles, services
from commissioning.models import Contract, ContractReview
from tests.commissioning.factories import (
    ContractFactory,
    ContractReviewFactory,
    NHSCommissionerFactory,
    ProviderFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LIST = reverse("contracts:list")
CREATE = reverse("contracts:create")


def detail_url(contract):
    return reverse("contracts:detail", args=[contract.pk])


def edit_url(contract):
    return reverse("contracts:edit", args=[contract.pk])


def review_url(contract):
    return reverse("contracts:review-add", args=[contract.pk])


def export_url(fmt):
    return reverse("contracts:export", args=[fmt])


def ending_in(months=0, days=0):
    return timezone.localdate() + relativedelta(months=months, days=days)


@pytest.fixture
def as_user(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def auditor(make_user, partnership):
    return make_user(roles.AUDITOR, [partnership])


@pytest.fixture
def broker(make_user, partnership):
    return make_user(roles.BROKER, [partnership])


def date_parts(name, value):
    return {f"{name}_day": str(value.day), f"{name}_month": str(value.month), f"{name}_year": str(value.year)}


@pytest.fixture
def form_data(partnership):
    provider = ProviderFactory(organisation__name="Bromley Home Care Ltd")

    def _data(**changes):
        data = {
            "partnership": str(partnership.pk),
            "reference": "LBB-HC-2025-01",
            "service": "Home care framework (north)",
            "service_type": choices.ServiceType.DOMICILIARY,
            "provider": str(provider.pk),
            "lead_commissioner": str(partnership.council.pk),
            "annual_value": "1,250,000.50",
            "extension_options": "Two further periods of 12 months",
            "procurement_route": choices.ProcurementRoute.OPEN,
            "contract_manager": "",
            "status": choices.ContractStatus.LIVE,
            "notes": "",
            **date_parts("start", date(2025, 4, 1)),
            **date_parts("end", date(2028, 3, 31)),
        }
        data.update(changes)
        return data

    _data.provider = provider
    return _data


def error_summary(response) -> str:
    html = response.content.decode()
    start = html.index('class="govuk-error-summary"')
    return html[start : html.index("</ul>", start)]


# --- Who may open the pages ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["list", "create"])
def test_anonymous_visitors_are_sent_to_sign_in(client, name):
    response = client.get(reverse(f"contracts:{name}"))

    assert response.status_code == 302
    assert "login" in response["Location"]


def test_anonymous_visitors_cannot_open_a_contract(client, partnership):
    contract = ContractFactory(partnership=partnership)

    response = client.get(detail_url(contract))

    assert response.status_code == 302
    assert "login" in response["Location"]


@pytest.mark.parametrize("url", [LIST, CREATE, export_url("csv")])
def test_a_role_without_contract_permission_is_forbidden(as_user, broker, url):
    assert as_user(broker).get(url).status_code == 403


def test_a_user_with_no_role_is_forbidden_the_register(as_user, make_user, partnership):
    nobody = make_user(None, [partnership])

    assert as_user(nobody).get(LIST).status_code == 403


def test_a_contract_of_another_partnership_is_not_found(as_user, commissioner, other_partnership):
    theirs = ContractFactory(partnership=other_partnership)
    client = as_user(commissioner)

    assert client.get(detail_url(theirs)).status_code == 404
    assert client.get(edit_url(theirs)).status_code == 404
    assert client.post(review_url(theirs), {}).status_code == 404


def test_a_superuser_opens_any_partnerships_contract(as_user, make_user, other_partnership):
    theirs = ContractFactory(partnership=other_partnership)
    admin = make_user(is_superuser=True)

    assert as_user(admin).get(detail_url(theirs)).status_code == 200


# --- List ---------------------------------------------------------------------------------------


def test_the_register_lists_only_the_users_partnerships(
    as_user, commissioner, partnership, other_partnership
):
    ContractFactory(partnership=partnership, reference="MINE-1")
    ContractFactory(partnership=other_partnership, reference="THEIRS-1")

    response = as_user(commissioner).get(LIST)

    assert response.status_code == 200
    assert [c.reference for c in response.context["contracts"]] == ["MINE-1"]
    assert b"THEIRS-1" not in response.content
    assert response.context["page_title"] == "Contract register"


def test_the_register_follows_the_partnership_chosen_in_the_header(
    as_user, make_user, partnership, other_partnership
):
    user = make_user(roles.COMMISSIONER, [partnership, other_partnership])
    ContractFactory(partnership=partnership, reference="BROMLEY-1")
    ContractFactory(partnership=other_partnership, reference="ELSEWHERE-1")
    client = as_user(user)
    client.post(reverse("switch-partnership"), {"partnership": other_partnership.pk})

    response = client.get(LIST)

    assert [c.reference for c in response.context["contracts"]] == ["ELSEWHERE-1"]


def test_filtering_by_ending_within_six_months(as_user, commissioner, partnership):
    ContractFactory(partnership=partnership, reference="SOON", end=ending_in(months=3))
    ContractFactory(partnership=partnership, reference="LATER", end=ending_in(months=9))
    ContractFactory(partnership=partnership, reference="ENDED", end=ending_in(days=-1))
    ContractFactory(
        partnership=partnership,
        reference="PIPELINE",
        end=ending_in(months=2),
        status=choices.ContractStatus.PIPELINE,
    )
    client = as_user(commissioner)

    six = client.get(LIST, {"ending": "6"})
    twelve = client.get(LIST, {"ending": "12"})

    assert [c.reference for c in six.context["contracts"]] == ["SOON"]
    assert [c.reference for c in twelve.context["contracts"]] == ["SOON", "LATER"]
    assert six.context["filtered"] is True
    assert b"1 contract match your filters" in six.content


def test_searching_matches_reference_service_and_provider_name(as_user, commissioner, partnership):
    ContractFactory(partnership=partnership, reference="A-1", service="Day opportunities")
    ContractFactory(partnership=partnership, reference="B-2", provider__organisation__name="Sunrise Care")
    ContractFactory(partnership=partnership, reference="C-3", service="Home care")
    client = as_user(commissioner)

    assert [c.reference for c in client.get(LIST, {"q": "day opp"}).context["contracts"]] == ["A-1"]
    assert [c.reference for c in client.get(LIST, {"q": "sunrise"}).context["contracts"]] == ["B-2"]
    assert [c.reference for c in client.get(LIST, {"q": "c-3"}).context["contracts"]] == ["C-3"]


def test_filtering_by_several_statuses_and_a_service_type(as_user, commissioner, partnership):
    ContractFactory(partnership=partnership, reference="LIVE", status=choices.ContractStatus.LIVE)
    ContractFactory(partnership=partnership, reference="EXT", status=choices.ContractStatus.EXTENDED)
    ContractFactory(partnership=partnership, reference="GONE", status=choices.ContractStatus.ENDED)
    ContractFactory(
        partnership=partnership,
        reference="NURSING",
        status=choices.ContractStatus.LIVE,
        service_type=choices.ServiceType.NURSING,
    )
    client = as_user(commissioner)

    statuses = client.get(LIST, {"status": ["live", "extended"], "sort": "reference"})
    nursing = client.get(LIST, {"service_type": "nursing"})

    assert [c.reference for c in statuses.context["contracts"]] == ["EXT", "LIVE", "NURSING"]
    assert [c.reference for c in nursing.context["contracts"]] == ["NURSING"]
    assert b'value="extended" class="govuk-checkboxes__input" id="id_status_2" checked' in statuses.content


def test_filtering_by_provider_and_lead_commissioner(as_user, commissioner, partnership):
    provider = ProviderFactory()
    ContractFactory(partnership=partnership, reference="THIS-PROVIDER", provider=provider)
    ContractFactory(
        partnership=partnership, reference="NHS-LED", lead_commissioner=partnership.nhs_commissioner
    )
    client = as_user(commissioner)

    by_provider = client.get(LIST, {"provider": provider.pk})
    by_lead = client.get(LIST, {"lead_commissioner": partnership.nhs_commissioner.code})

    assert [c.reference for c in by_provider.context["contracts"]] == ["THIS-PROVIDER"]
    assert [c.reference for c in by_lead.context["contracts"]] == ["NHS-LED"]


def test_the_filter_lists_offer_any_as_their_empty_choice(as_user, commissioner, partnership):
    ContractFactory(partnership=partnership)

    form = as_user(commissioner).get(LIST).context["filter_form"]

    for name in ("provider", "service_type", "lead_commissioner", "ending"):
        assert list(form[name].subwidgets)[0].data["label"] == "Any", name
    assert [c[0] for c in form.fields["ending"].widget.choices] == ["", "6", "12"]


def test_an_invalid_filter_value_is_reported_not_a_crash(as_user, commissioner, partnership):
    ContractFactory(partnership=partnership)

    response = as_user(commissioner).get(LIST, {"ending": "99"})

    assert response.status_code == 200
    assert "ending" in response.context["filter_form"].errors
    assert b"govuk-error-summary" in response.content


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("value", ["SMALL", "MIDDLE", "LARGE"]),
        ("-value", ["LARGE", "MIDDLE", "SMALL"]),
        ("reference", ["LARGE", "MIDDLE", "SMALL"]),
        ("end", ["MIDDLE", "SMALL", "LARGE"]),
        ("-end", ["LARGE", "SMALL", "MIDDLE"]),
        ("provider", ["SMALL", "LARGE", "MIDDLE"]),
    ],
)
def test_sorting_by_a_column(as_user, commissioner, partnership, sort, expected):
    ContractFactory(
        partnership=partnership,
        reference="SMALL",
        annual_value=Decimal("10"),
        end=date(2027, 1, 1),
        provider__organisation__name="Acorn",
    )
    ContractFactory(
        partnership=partnership,
        reference="MIDDLE",
        annual_value=Decimal("200"),
        end=date(2026, 1, 1),
        provider__organisation__name="Zenith",
    )
    ContractFactory(
        partnership=partnership,
        reference="LARGE",
        annual_value=Decimal("3000"),
        end=date(2028, 1, 1),
        provider__organisation__name="Beech",
    )

    response = as_user(commissioner).get(LIST, {"sort": sort})

    assert [c.reference for c in response.context["contracts"]] == expected
    assert response.context["sort"] == sort


def test_an_unknown_sort_key_falls_back_to_the_end_date(as_user, commissioner, partnership):
    ContractFactory(partnership=partnership, reference="LATE", end=date(2029, 1, 1))
    ContractFactory(partnership=partnership, reference="EARLY", end=date(2026, 1, 1))

    response = as_user(commissioner).get(LIST, {"sort": "partnership__council__address"})

    assert response.status_code == 200
    assert response.context["sort"] == "end"
    assert [c.reference for c in response.context["contracts"]] == ["EARLY", "LATE"]


def test_a_sorted_column_header_says_its_order_and_links_to_the_reverse(as_user, commissioner, partnership):
    ContractFactory(partnership=partnership)

    html = as_user(commissioner).get(LIST, {"sort": "value", "ending": "12", "page": "2"}).content.decode()

    assert 'aria-sort="ascending"' in html
    assert 'href="?sort=-value&amp;ending=12"' in html or 'href="?ending=12&amp;sort=-value"' in html


def test_the_register_shows_25_contracts_a_page(as_user, commissioner, partnership):
    for n in range(30):
        ContractFactory(
            partnership=partnership, reference=f"R-{n:02d}", end=date(2027, 1, 1) + relativedelta(days=n)
        )
    client = as_user(commissioner)

    first = client.get(LIST)
    second = client.get(LIST, {"page": "2"})
    beyond = client.get(LIST, {"page": "99"})

    assert len(first.context["contracts"]) == 25
    assert [c.reference for c in second.context["contracts"]] == [f"R-{n:02d}" for n in range(25, 30)]
    assert beyond.context["page_obj"].number == 2
    assert b"Page 1 of 2 (30 in all)" in first.content
    assert b'rel="next"' in first.content


def test_the_add_button_shows_only_to_roles_that_may_add(as_user, commissioner, auditor):
    assert b"Add a contract" in as_user(commissioner).get(LIST).content
    assert b"Add a contract" not in as_user(auditor).get(LIST).content


def _contracts_with_everything(partnership, count, manager):
    for _ in range(count):
        contract = ContractFactory(partnership=partnership, contract_manager=manager)
        contract.associate_commissioners.add(NHSCommissionerFactory())


def test_the_register_runs_the_same_number_of_queries_for_3_or_30_contracts(
    as_user, commissioner, partnership, django_assert_max_num_queries
):
    client = as_user(commissioner)
    _contracts_with_everything(partnership, 3, commissioner)
    client.get(LIST)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST).status_code == 200

    _contracts_with_everything(partnership, 27, commissioner)
    with django_assert_max_num_queries(len(few)):
        response = client.get(LIST)

    assert len(response.context["contracts"]) == 25


def test_the_export_runs_the_same_number_of_queries_for_3_or_30_contracts(
    as_user, commissioner, partnership, django_assert_max_num_queries
):
    client = as_user(commissioner)
    _contracts_with_everything(partnership, 3, commissioner)
    client.get(export_url("csv"))
    with CaptureQueriesContext(connection) as few:
        client.get(export_url("csv"))

    _contracts_with_everything(partnership, 27, commissioner)
    with django_assert_max_num_queries(len(few)):
        response = client.get(export_url("xlsx"))

    assert response.status_code == 200


# --- Export -------------------------------------------------------------------------------------


def _csv_rows(response):
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_csv_export_holds_every_filtered_row_not_just_one_page(as_user, commissioner, partnership):
    for n in range(30):
        ContractFactory(partnership=partnership, reference=f"SOON-{n:02d}", end=ending_in(months=2, days=n))
    ContractFactory(partnership=partnership, reference="LATER", end=ending_in(months=20))

    response = as_user(commissioner).get(export_url("csv"), {"ending": "6", "page": "2"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="contracts-')
    rows = _csv_rows(response)
    assert rows[0][:3] == ["Reference", "Partnership", "Service"]
    assert [row[0] for row in rows[1:]] == [f"SOON-{n:02d}" for n in range(30)]


def test_the_csv_export_writes_plain_values(as_user, commissioner, partnership):
    contract = ContractFactory(
        partnership=partnership,
        reference="LBB-1",
        annual_value=Decimal("1234567.80"),
        start=date(2024, 4, 1),
        end=date(2027, 3, 31),
        contract_manager=commissioner,
    )
    contract.associate_commissioners.add(partnership.nhs_commissioner)

    rows = _csv_rows(as_user(commissioner).get(export_url("csv")))
    record = dict(zip(rows[0], rows[1], strict=True))

    assert record["Annual value"] == "1234567.80"
    assert record["Start"] == "2024-04-01"
    assert record["End"] == "2027-03-31"
    assert record["Service type"] == "Domiciliary care"
    assert record["Associate commissioners"] == partnership.nhs_commissioner.name
    assert record["Contract manager"] == str(commissioner)
    assert record["Lead commissioner"] == partnership.council.name


def test_the_csv_export_neutralises_spreadsheet_formulas(as_user, commissioner, partnership):
    ContractFactory(partnership=partnership, reference="X-1", service='=HYPERLINK("http://evil.example","x")')

    rows = _csv_rows(as_user(commissioner).get(export_url("csv")))

    assert rows[1][2] == '\'=HYPERLINK("http://evil.example","x")'


def test_the_xlsx_export_holds_the_filtered_rows_with_real_types(
    as_user, commissioner, partnership, other_partnership
):
    ContractFactory(
        partnership=partnership, reference="LIVE-1", annual_value=Decimal("99.50"), end=date(2027, 3, 31)
    )
    ContractFactory(partnership=partnership, reference="GONE-1", status=choices.ContractStatus.ENDED)
    ContractFactory(partnership=other_partnership, reference="THEIRS-1")

    response = as_user(commissioner).get(export_url("xlsx"), {"status": "live"})

    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert len(rows) == 2
    record = dict(zip(header, rows[1], strict=True))
    assert record["Reference"] == "LIVE-1"
    assert record["Annual value"] == 99.5
    assert record["End"].date() == date(2027, 3, 31)


def test_an_unknown_export_format_is_not_found(as_user, commissioner):
    assert as_user(commissioner).get(export_url("pdf")).status_code == 404


def test_the_register_links_to_exports_of_the_current_filters(as_user, commissioner, partnership):
    ContractFactory(partnership=partnership)

    html = as_user(commissioner).get(LIST, {"ending": "12", "page": "1"}).content.decode()

    assert f'href="{export_url("csv")}?ending=12"' in html
    assert f'href="{export_url("xlsx")}?ending=12"' in html


# --- Detail -------------------------------------------------------------------------------------


def test_the_contract_page_shows_every_field(as_user, commissioner, partnership):
    contract = ContractFactory(
        partnership=partnership,
        reference="LBB-DP-7",
        service="Day opportunities",
        provider__organisation__name="Oak Tree Services",
        annual_value=Decimal("482500.00"),
        start=date(2024, 4, 1),
        end=ending_in(months=7, days=3),
        extension_options="One further year",
        procurement_route=choices.ProcurementRoute.FRAMEWORK,
        contract_manager=commissioner,
        notes="Break clause at month 18",
    )
    contract.associate_commissioners.add(partnership.nhs_commissioner)

    response = as_user(commissioner).get(detail_url(contract))
    html = response.content.decode()

    assert response.status_code == 200
    assert response.context["page_title"] == "LBB-DP-7: Day opportunities"
    assert response.context["months_remaining"] == 7
    for text in [
        "Oak Tree Services",
        "£482,500.00",
        "1 April 2024",
        "One further year",
        "Framework call-off",
        str(commissioner),
        "Break clause at month 18",
        partnership.council.name,
        partnership.nhs_commissioner.name,
        "govuk-summary-list",
        "7 months left",
    ]:
        assert text in html, text


def test_the_contract_page_lists_reviews_with_rag_tags(as_user, commissioner, partnership):
    contract = ContractFactory(partnership=partnership)
    ContractReviewFactory(
        contract=contract, review_date=date(2024, 6, 1), rag_rating="green", notes="All fine"
    )
    ContractReviewFactory(
        contract=contract, review_date=date(2024, 9, 1), rag_rating="red", notes="Missed visits"
    )

    response = as_user(commissioner).get(detail_url(contract))
    html = response.content.decode()

    assert [r.review_date for r in response.context["reviews"]] == [date(2024, 9, 1), date(2024, 6, 1)]
    assert '<strong class="govuk-tag govuk-tag--red app-rag">Red</strong>' in html
    assert '<strong class="govuk-tag govuk-tag--green app-rag">Green</strong>' in html
    assert html.index("Missed visits") < html.index("All fine")


def test_a_read_only_role_sees_no_change_button_and_no_review_form(as_user, auditor, partnership):
    contract = ContractFactory(partnership=partnership)

    response = as_user(auditor).get(detail_url(contract))

    assert response.status_code == 200
    assert response.context["can_change"] is False
    assert response.context["review_form"] is None
    assert edit_url(contract).encode() not in response.content
    assert b"Add a review" not in response.content


def test_a_commissioner_sees_the_change_button_and_review_form(as_user, commissioner, partnership):
    contract = ContractFactory(partnership=partnership)

    response = as_user(commissioner).get(detail_url(contract))

    assert edit_url(contract).encode() in response.content
    assert b"Add a review" in response.content


def test_the_change_history_shows_who_changed_what_from_and_to(as_user, commissioner, partnership):
    editor = UserFactory(
        first_name="Amira", last_name="Khan", role=roles.COMMISSIONER, partnerships=[partnership]
    )
    contract = services.contract_create(
        by=editor,
        partnership=partnership,
        reference="HIST-1",
        service="Home care",
        provider=ProviderFactory(),
        lead_commissioner=partnership.council,
        annual_value=Decimal("100000.00"),
        start=date(2024, 4, 1),
        end=date(2027, 3, 31),
        procurement_route=choices.ProcurementRoute.OPEN,
    )
    new_provider = ProviderFactory(organisation__name="Willow Care")
    services.contract_update(
        contract=contract,
        by=editor,
        version=1,
        annual_value=Decimal("125000.00"),
        end=date(2028, 3, 31),
        provider=new_provider,
        status=choices.ContractStatus.EXTENDED,
    )
    services.contract_review_add(
        contract=contract, by=editor, review_date=date(2024, 7, 1), rag_rating="amber"
    )

    response = as_user(commissioner).get(detail_url(contract))
    history = response.context["history"]
    html = response.content.decode()

    # Newest first. (The three writes share this test's transaction, hence one timestamp, so only
    # the order within each table is defined here.)
    assert [entry.summary for entry in history if entry.summary.startswith("Contract")] == [
        "Contract changed",
        "Contract added",
    ]
    assert "Review of 1 July 2024 added, rated Amber" in [entry.summary for entry in history]
    assert all(entry.who == editor for entry in history)
    update = next(entry for entry in history if entry.summary == "Contract changed")
    changed = {change.label: (change.before, change.after) for change in update.changes}
    assert changed == {
        "Annual value": ("£100,000.00", "£125,000.00"),
        "End": ("31 March 2027", "31 March 2028"),
        "Provider": (contract.provider, new_provider),
        "Status": ("Live", "Extended"),
    }
    assert "Amira Khan" in html
    assert '£100,000.00</span> <span aria-hidden="true">→</span>' in html
    assert "Willow Care" in html


def test_the_contract_page_runs_the_same_number_of_queries_for_few_or_many_reviews_and_changes(
    as_user, commissioner, partnership, django_assert_max_num_queries
):
    contract = ContractFactory(partnership=partnership)
    client = as_user(commissioner)

    def review_and_change(times):
        for _ in range(times):
            services.contract_review_add(
                contract=contract, by=commissioner, review_date=date(2025, 1, 1), rag_rating="red"
            )
            current = Contract.objects.get(pk=contract.pk)
            services.contract_update(
                contract=current, by=commissioner, version=current.version, provider=ProviderFactory()
            )

    review_and_change(2)
    client.get(detail_url(contract))
    with CaptureQueriesContext(connection) as few:
        client.get(detail_url(contract))

    review_and_change(10)
    with django_assert_max_num_queries(len(few)):
        response = client.get(detail_url(contract))

    assert len(response.context["reviews"]) == 12
    assert len(response.context["history"]) == 25


def test_a_role_that_cannot_see_reviews_does_not_see_them_in_the_history(as_user, make_user, partnership):
    # A role with the contract permission but not the review one: reviews stay hidden everywhere.
    from django.contrib.auth.models import Permission

    user = make_user(None, [partnership])
    user.user_permissions.add(Permission.objects.get(codename="view_contract"))
    contract = ContractFactory(partnership=partnership)
    ContractReviewFactory(contract=contract, notes="Confidential performance note")

    response = as_user(user).get(detail_url(contract))

    assert response.status_code == 200
    assert b"Confidential performance note" not in response.content
    assert not any(entry.summary.startswith("Review") for entry in response.context["history"])


# --- Reviews ------------------------------------------------------------------------------------


def test_a_commissioner_adds_a_review(as_user, commissioner, partnership):
    contract = ContractFactory(partnership=partnership)

    response = as_user(commissioner).post(
        review_url(contract),
        {**date_parts("review_date", date(2025, 1, 15)), "rag_rating": "amber", "notes": "Staffing gaps"},
        follow=True,
    )

    review = ContractReview.objects.get(contract=contract)
    assert (review.review_date, review.rag_rating, review.notes, review.reviewed_by) == (
        date(2025, 1, 15),
        "amber",
        "Staffing gaps",
        commissioner,
    )
    assert response.redirect_chain == [(detail_url(contract) + "#reviews", 302)]
    assert b"Review of 15 January 2025 added to" in response.content


def test_an_incomplete_review_is_refused_with_messages_naming_the_fields(as_user, commissioner, partnership):
    contract = ContractFactory(partnership=partnership)

    response = as_user(commissioner).post(
        review_url(contract), {"review_date_day": "31", "review_date_month": "2", "review_date_year": "2025"}
    )

    assert response.status_code == 200
    form = response.context["review_form"]
    assert form.errors == {
        "review_date": ["Review date must be a real date"],
        "rag_rating": ["Select the RAG rating"],
    }
    assert response.context["page_title"].startswith("Error: ")
    assert 'href="#id_review_date_day"' in error_summary(response)
    assert 'href="#id_rag_rating_0"' in error_summary(response)
    assert not ContractReview.objects.exists()


def test_a_read_only_role_cannot_add_a_review(as_user, auditor, partnership):
    contract = ContractFactory(partnership=partnership)

    response = as_user(auditor).post(
        review_url(contract), {**date_parts("review_date", date(2025, 1, 15)), "rag_rating": "green"}
    )

    assert response.status_code == 403
    assert not ContractReview.objects.exists()


def test_reviews_are_added_only_by_post(as_user, commissioner, partnership):
    contract = ContractFactory(partnership=partnership)

    assert as_user(commissioner).get(review_url(contract)).status_code == 405


# --- Create -------------------------------------------------------------------------------------


def test_the_add_form_offers_only_what_the_user_may_see(
    as_user, commissioner, partnership, other_partnership
):
    ContractFactory(partnership=other_partnership)  # creates the other partnership's organisations
    outsider = UserFactory(role=roles.COMMISSIONER, partnerships=[other_partnership])

    response = as_user(commissioner).get(CREATE)
    form = response.context["form"]

    assert response.status_code == 200
    assert list(form.fields["partnership"].queryset) == [partnership]
    assert set(form.fields["lead_commissioner"].queryset) == {
        partnership.council,
        partnership.nhs_commissioner,
    }
    assert commissioner in form.fields["contract_manager"].queryset
    assert outsider not in form.fields["contract_manager"].queryset
    assert form.initial["partnership"] == partnership.pk
    assert b'id="id_start_day"' in response.content
    assert b'name="start_year"' in response.content


def test_the_add_form_starts_in_the_partnership_chosen_in_the_header(
    as_user, make_user, partnership, other_partnership
):
    user = make_user(roles.COMMISSIONER, [partnership, other_partnership])
    client = as_user(user)

    before = client.get(CREATE).context["form"]
    client.post(reverse("switch-partnership"), {"partnership": other_partnership.pk})
    after = client.get(CREATE).context["form"]

    assert before.initial["partnership"] is None
    assert set(before.fields["partnership"].queryset) == {partnership, other_partnership}
    assert after.initial["partnership"] == other_partnership.pk


def test_a_read_only_role_cannot_open_the_add_form(as_user, auditor):
    assert as_user(auditor).get(CREATE).status_code == 403
    assert as_user(auditor).post(CREATE, {}).status_code == 403


def test_a_commissioner_adds_a_contract(as_user, commissioner, partnership, form_data):
    response = as_user(commissioner).post(
        CREATE,
        form_data(
            associate_commissioners=[str(partnership.nhs_commissioner.pk)],
            contract_manager=str(commissioner.pk),
        ),
        follow=True,
    )

    contract = Contract.objects.get(reference="LBB-HC-2025-01")
    assert response.redirect_chain == [(detail_url(contract), 302)]
    assert b"Contract LBB-HC-2025-01 added" in response.content
    assert contract.partnership == partnership
    assert contract.provider == form_data.provider
    assert contract.annual_value == Decimal("1250000.50")
    assert (contract.start, contract.end) == (date(2025, 4, 1), date(2028, 3, 31))
    assert contract.contract_manager == commissioner
    assert list(contract.associate_commissioners.all()) == [partnership.nhs_commissioner]
    assert response.context["history"][0].who == commissioner


def test_an_end_before_the_start_is_refused_on_the_end_field(as_user, commissioner, form_data):
    response = as_user(commissioner).post(CREATE, form_data(**date_parts("end", date(2025, 3, 1))))

    assert response.status_code == 200
    assert response.context["form"].errors == {"end": ["The end date must be after the start date."]}
    assert 'href="#id_end_day"' in error_summary(response)
    assert "The end date must be after the start date." in error_summary(response)
    assert response.context["page_title"] == "Error: Add a contract"
    assert b"govuk-input--error" in response.content
    assert not Contract.objects.exists()


def test_a_negative_value_is_refused_naming_the_field(as_user, commissioner, form_data):
    response = as_user(commissioner).post(CREATE, form_data(annual_value="-5"))

    assert response.context["form"].errors == {"annual_value": ["Annual value cannot be negative"]}
    assert not Contract.objects.exists()


def test_a_missing_or_malformed_entry_is_refused_naming_each_field(as_user, commissioner, form_data):
    response = as_user(commissioner).post(
        CREATE,
        form_data(
            reference="",
            provider="",
            annual_value="lots",
            start_day="",
            start_month="",
            start_year="",
            end_day="",
            end_year="2028",
        ),
    )

    assert response.context["form"].errors == {
        "reference": ["Enter the contract reference"],
        "provider": ["Select the provider"],
        "annual_value": ["Annual value must be an amount of money, like 250000 or 250000.50"],
        "start": ["Enter the start date"],
        "end": ["End date must include a day"],
    }
    assert not Contract.objects.exists()


def test_a_lead_commissioner_outside_the_partnership_is_refused(as_user, commissioner, form_data):
    stranger = NHSCommissionerFactory()

    response = as_user(commissioner).post(CREATE, form_data(lead_commissioner=str(stranger.pk)))

    assert response.context["form"].errors == {
        "lead_commissioner": ["Choose a lead commissioner from the list"]
    }
    assert not Contract.objects.exists()


def test_a_lead_commissioner_from_the_other_granted_partnership_is_refused_by_the_service(
    as_user, make_user, partnership, other_partnership, form_data
):
    user = make_user(roles.COMMISSIONER, [partnership, other_partnership])

    response = as_user(user).post(CREATE, form_data(lead_commissioner=str(other_partnership.council.pk)))

    assert response.context["form"].errors == {
        "lead_commissioner": ["The lead commissioner must be one of the partners of Bromley."]
    }
    assert not Contract.objects.exists()


def test_a_partnership_the_user_is_not_granted_is_refused(
    as_user, commissioner, other_partnership, form_data
):
    response = as_user(commissioner).post(
        CREATE,
        form_data(partnership=str(other_partnership.pk), lead_commissioner=str(other_partnership.council.pk)),
    )

    assert response.context["form"].errors["partnership"] == ["Choose a partnership from the list"]
    assert not Contract.objects.exists()


def test_a_duplicate_reference_is_refused_on_the_reference_field(
    as_user, commissioner, partnership, form_data
):
    ContractFactory(partnership=partnership, reference="LBB-HC-2025-01")

    response = as_user(commissioner).post(CREATE, form_data())

    assert response.context["form"].errors == {
        "reference": [
            "A contract with this reference already exists in this partnership: enter a different reference"
        ]
    }
    assert Contract.objects.count() == 1


# --- Edit ---------------------------------------------------------------------------------------


def test_the_edit_form_shows_the_current_values_and_version(as_user, commissioner, partnership):
    contract = ContractFactory(partnership=partnership, reference="EDIT-1", start=date(2023, 4, 1))

    response = as_user(commissioner).get(edit_url(contract))
    html = response.content.decode()

    assert response.status_code == 200
    assert response.context["page_title"] == "Change contract EDIT-1"
    assert 'name="version" value="1"' in html
    assert 'name="reference" value="EDIT-1"' in html
    assert 'id="id_start_year" name="start_year" type="text" inputmode="numeric" value="2023"' in html


def test_a_commissioner_changes_a_contract(as_user, commissioner, partnership, form_data):
    contract = ContractFactory(partnership=partnership, reference="EDIT-2", provider=form_data.provider)

    response = as_user(commissioner).post(
        edit_url(contract), form_data(reference="EDIT-2", annual_value="300000", version="1"), follow=True
    )

    contract.refresh_from_db()
    assert response.redirect_chain == [(detail_url(contract), 302)]
    assert b"Contract EDIT-2 updated" in response.content
    assert contract.annual_value == Decimal("300000.00")
    assert contract.version == 2
    assert response.context["history"][0].summary == "Contract changed"


def test_a_stale_edit_is_refused_and_changes_nothing(as_user, commissioner, partnership, form_data):
    contract = ContractFactory(partnership=partnership, reference="EDIT-3", provider=form_data.provider)
    services.contract_update(contract=contract, by=commissioner, version=1, notes="Someone else's change")

    response = as_user(commissioner).post(
        edit_url(contract), form_data(reference="EDIT-3", annual_value="1", version="1")
    )

    contract.refresh_from_db()
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Someone else changed this contract since you opened it. "
        "Your changes have not been saved: reload the page to see theirs."
    ]
    assert "Someone else changed this contract" in error_summary(response)
    assert contract.annual_value == Decimal("250000.00")
    assert contract.version == 2


def test_a_read_only_role_cannot_change_a_contract(as_user, auditor, partnership, form_data):
    contract = ContractFactory(partnership=partnership, reference="EDIT-4")

    assert as_user(auditor).get(edit_url(contract)).status_code == 403
    response = as_user(auditor).post(edit_url(contract), form_data(reference="CHANGED", version="1"))

    contract.refresh_from_db()
    assert response.status_code == 403
    assert contract.reference == "EDIT-4"


def test_a_contract_of_another_partnership_cannot_be_changed(
    as_user, commissioner, other_partnership, form_data
):
    theirs = ContractFactory(partnership=other_partnership, reference="THEIRS-9")

    response = as_user(commissioner).post(edit_url(theirs), form_data(reference="MINE-NOW", version="1"))

    theirs.refresh_from_db()
    assert response.status_code == 404
    assert theirs.reference == "THEIRS-9"


def test_a_guardian_view_grant_does_not_allow_changes(as_user, commissioner, other_partnership):
    from guardian.shortcuts import assign_perm

    theirs = ContractFactory(partnership=other_partnership)
    assign_perm("commissioning.view_contract", commissioner, theirs)
    client = as_user(commissioner)

    page = client.get(detail_url(theirs))

    assert page.status_code == 200
    assert page.context["can_change"] is False
    assert client.get(edit_url(theirs)).status_code == 404


# --- Dashboard ----------------------------------------------------------------------------------


def test_the_dashboard_lists_contracts_ending_within_six_months(
    as_user, commissioner, partnership, other_partnership
):
    soon = ContractFactory(partnership=partnership, reference="SOON-1", end=ending_in(months=2))
    ContractFactory(partnership=partnership, reference="LATER-1", end=ending_in(months=10))
    ContractFactory(partnership=other_partnership, reference="THEIRS-1", end=ending_in(months=1))

    response = as_user(commissioner).get(reverse("dashboard"))
    html = response.content.decode()

    assert response.status_code == 200
    assert "What needs attention" in html
    assert "Contracts ending soon" in html
    assert f'<a class="govuk-link" href="{detail_url(soon)}">SOON-1</a>' in html
    assert "LATER-1" not in html
    assert "THEIRS-1" not in html
    assert f'href="{LIST}?ending=6"' in html
    assert "View all 1 ending within 6 months (2 within 12)" in html
    assert "app-panel--attention" in html


def test_the_dashboard_has_no_contract_panel_for_roles_without_contracts(as_user, broker, partnership):
    ContractFactory(partnership=partnership, end=ending_in(months=2))

    response = as_user(broker).get(reverse("dashboard"))

    assert response.status_code == 200
    assert "Contracts ending soon" not in response.content.decode()


# --- Only the user's partnerships' organisations (issue 18) ----------------------------------------


def _checkbox_values(html: str, name: str) -> set[str]:
    import re

    return set(re.findall(rf'type="checkbox" name="{name}" value="(\d+)"', html))


def _option_values(html: str, select_id: str) -> set[str]:
    import re

    start = html.index(f'id="{select_id}"')
    return set(re.findall(r'<option value="([^"]+)"', html[start : html.index("</select>", start)])) - {""}


def test_the_contract_form_offers_only_the_organisations_of_the_users_partnerships(
    as_user, commissioner, partnership, other_partnership
):
    NHSCommissionerFactory()  # a commissioner of no partnership at all

    html = as_user(commissioner).get(CREATE).content.decode()

    ours = {str(partnership.council.pk), str(partnership.nhs_commissioner.pk)}
    assert _checkbox_values(html, "associate_commissioners") == ours
    assert _option_values(html, "id_lead_commissioner") == ours
    assert other_partnership.council.name not in html


def test_an_associate_of_another_partnership_is_refused(as_user, commissioner, other_partnership, form_data):
    response = as_user(commissioner).post(
        CREATE, form_data(associate_commissioners=[str(other_partnership.nhs_commissioner.pk)])
    )

    assert "associate_commissioners" in response.context["form"].errors
    assert not Contract.objects.exists()


def test_editing_keeps_an_associate_the_contract_already_has(as_user, commissioner, partnership):
    contract = ContractFactory(partnership=partnership)
    outsider = NHSCommissionerFactory()
    contract.associate_commissioners.add(outsider)

    html = as_user(commissioner).get(edit_url(contract)).content.decode()

    assert str(outsider.pk) in _checkbox_values(html, "associate_commissioners")


def test_the_registers_lead_commissioner_filter_offers_only_the_users_partners(
    as_user, commissioner, partnership, other_partnership
):
    client = as_user(commissioner)

    html = client.get(LIST).content.decode()
    refused = client.get(LIST, {"lead_commissioner": other_partnership.council.code})

    assert _option_values(html, "id_lead_commissioner") == {
        partnership.council.code,
        partnership.nhs_commissioner.code,
    }
    assert f"There is no council or NHS commissioner with the code {other_partnership.council.code}" in (
        refused.content.decode()
    )
