"""An agreement's terms as data: the functions delegated, review, notice and the earliest exit it
gives, exit, disputes, VAT, population, and the signed document kept as a checked PDF; on the form,
the page, the API and in the history, with names, never ids."""

import io
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from budgets import selectors, services
from budgets.models import Section75Agreement
from commissioning import uploads
from tests.budgets.factories import AgreementFactory
from tests.governance.factories import pdf_bytes

pytestmark = pytest.mark.django_db


def checked_pdf(name="Signed agreement.pdf"):
    upload = io.BytesIO(pdf_bytes(1, "Signed"))
    upload.name = name
    return uploads.check_pdf_upload(upload)


def form_data(agreement, **changes) -> dict:
    """What the agreement's edit form posts for ``agreement`` (1 April 2021 to 31 March 2024, hosted
    by the council), with ``changes``."""
    partnership = agreement.partnership
    return {
        "partnership": partnership.pk,
        "reference": agreement.reference,
        "title": agreement.title,
        "host": partnership.council.pk,
        "start_day": "1",
        "start_month": "4",
        "start_year": "2021",
        "end_day": "31",
        "end_month": "3",
        "end_year": "2024",
        "status": "signed",
        "review_frequency_months": "12",
        "version": agreement.version,
        **changes,
    }


@pytest.mark.parametrize(
    ("notice", "given", "expected"),
    [
        (6, date(2022, 1, 31), date(2022, 7, 31)),
        (6, date(2021, 8, 31), date(2022, 2, 28)),  # month end clamps
        (12, date(2023, 6, 1), date(2024, 3, 31)),  # never after the agreement's own end
        (3, date(2020, 1, 1), date(2021, 7, 1)),  # notice before the start runs from the start
        (None, date(2022, 1, 1), None),
    ],
)
def test_the_earliest_exit_is_the_notice_period_after_notice_capped_at_the_end(notice, given, expected):
    agreement = Section75Agreement(start=date(2021, 4, 1), end=date(2024, 3, 31), notice_months=notice)
    assert agreement.earliest_exit(given) == expected


def test_earliest_exit_date_is_from_today(monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda: date(2022, 1, 31))
    agreement = Section75Agreement(start=date(2021, 4, 1), end=date(2024, 3, 31), notice_months=6)
    assert agreement.earliest_exit_date == date(2022, 7, 31)


def test_the_service_keeps_the_terms_and_the_signed_pdf(bromley, bromley_users):
    agreement = services.agreement_create(
        by=bromley_users["commissioner"],
        partnership=bromley,
        reference="BR-S75",
        title="Integrated commissioning",
        host=bromley.council,
        start=date(2021, 4, 1),
        end=date(2024, 3, 31),
        status="signed",
        nhs_functions=["  Arranging placements ", "", "arranging placements", "Brokerage"],
        council_functions=["Adult social care functions"],
        review_frequency_months=12,
        next_review_due=date(2022, 3, 1),
        notice_months=6,
        exit_provisions="Six months' notice; the CCG funds any extra costs falling to the council.",
        population="gp_registered",
        signed_document=checked_pdf("../../etc/Signed agreement.pdf"),
    )
    agreement.refresh_from_db()
    assert agreement.nhs_functions == ["Arranging placements", "Brokerage"]
    assert agreement.signed_document_name == "Signed agreement.pdf"
    assert agreement.signed_document.name.startswith("agreements/")
    assert "Signed" not in agreement.signed_document.name
    assert agreement.signed_document.read().startswith(b"%PDF-")


def test_a_review_due_outside_the_term_is_refused_naming_the_field(bromley, bromley_users):
    agreement = AgreementFactory(partnership=bromley, start=date(2021, 4, 1), end=date(2024, 3, 31))
    with pytest.raises(ValidationError) as error:
        services.agreement_update(
            agreement=agreement, by=bromley_users["commissioner"], next_review_due=date(2025, 1, 1)
        )
    assert "next_review_due" in error.value.message_dict
    agreement.refresh_from_db()
    assert agreement.next_review_due is None and agreement.version == 1


def test_the_form_saves_the_terms_and_the_page_shows_them(client, bromley, bromley_users):
    agreement = AgreementFactory(partnership=bromley, start=date(2021, 4, 1), end=date(2024, 3, 31))
    client.force_login(bromley_users["commissioner"])
    data = form_data(
        agreement,
        nhs_functions="Arranging placements\r\nBrokerage",
        council_functions="Adult social care placements",
        next_review_due_day="1",
        next_review_due_month="3",
        next_review_due_year="2023",
        notice_months="6",
        exit_provisions="Either partner may end it on six months' notice.",
        dispute_resolution="Escalation to the chief executives.",
        vat_position="The council hosts; VAT recovered under section 33.",
        population="resident",
        signed_document=SimpleUploadedFile("deed.pdf", pdf_bytes(1), "application/pdf"),
    )
    response = client.post(f"/budgets/agreements/{agreement.pk}/edit/", data)
    assert response.status_code == 302, response.context["form"].errors
    agreement.refresh_from_db()
    assert agreement.council_functions == ["Adult social care placements"]
    assert agreement.signed_document_name == "deed.pdf"
    page = client.get(f"/budgets/agreements/{agreement.pk}/").content.decode()
    for text in ("Brokerage", "Every 12 months; next due 1 March 2023", "Resident population", "section 33"):
        assert text in page
    assert "deed.pdf" in page
    download = client.get(f"/budgets/agreements/{agreement.pk}/document/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF-")


def test_a_fake_pdf_is_refused_on_the_form_and_nothing_changes(client, bromley, bromley_users):
    agreement = AgreementFactory(partnership=bromley, start=date(2021, 4, 1), end=date(2024, 3, 31))
    client.force_login(bromley_users["commissioner"])
    data = form_data(
        agreement,
        title="Changed",
        signed_document=SimpleUploadedFile("deed.pdf", b"MZ not a pdf", "application/pdf"),
    )
    response = client.post(f"/budgets/agreements/{agreement.pk}/edit/", data)
    assert response.status_code == 200
    assert "signed agreement" in response.content.decode().lower()
    agreement.refresh_from_db()
    assert agreement.title != "Changed" and not agreement.signed_document


def test_the_document_of_another_partnership_is_404(client, bromley_users, other_partnership):
    theirs = AgreementFactory(partnership=other_partnership)
    client.force_login(bromley_users["commissioner"])
    assert client.get(f"/budgets/agreements/{theirs.pk}/document/").status_code == 404


def test_the_api_reads_and_writes_the_terms(api_as, bromley, bromley_users):
    agreement = AgreementFactory(partnership=bromley, start=date(2021, 4, 1), end=date(2024, 3, 31))
    api = api_as(bromley_users["commissioner"])
    response = api.patch(
        f"/api/v1/agreements/{agreement.pk}/",
        {
            "version": 1,
            "nhs_functions": ["Arranging placements"],
            "notice_months": 6,
            "population": "gp_registered",
            "vat_position": "Host recovers VAT",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["nhs_functions"] == ["Arranging placements"]
    assert body["earliest_exit_date"] is not None
    assert body["signed_document"] is None
    bad = api.patch(
        f"/api/v1/agreements/{agreement.pk}/", {"version": 2, "population": "everyone"}, format="json"
    )
    assert bad.status_code == 400 and "population" in bad.json()


def test_the_history_names_the_host_and_the_terms(bromley, bromley_users):
    agreement = services.agreement_create(
        by=bromley_users["commissioner"],
        partnership=bromley,
        reference="BR-S75",
        title="Integrated commissioning",
        host=bromley.council,
        start=date(2021, 4, 1),
        end=date(2024, 3, 31),
        nhs_functions=["Brokerage"],
        population="resident",
        signed_document=checked_pdf(),
    )
    entries = selectors.agreement_history(agreement)
    changes = {c.label: c.after for c in entries[0].changes}
    assert str(changes["Host"]) == "London Borough of Bromley (LBB)"
    assert changes["NHS functions delegated"] == "Brokerage"
    assert changes["Population served"] == "Resident population"
    assert changes["Signed document"] == "Signed agreement.pdf"
    assert not any("agreements/" in str(c.after) for c in entries[0].changes)
    assert all("#" not in str(c.after) for c in entries[0].changes)


def test_the_form_and_the_api_refuse_an_overlong_function_alike_and_drop_blank_ones(
    client, api_as, bromley, bromley_users
):
    """One rule for the functions delegated (``services.agreement_validate``): the page and the API
    give the same error on the same field, and both drop blank names."""
    agreement = AgreementFactory(partnership=bromley, start=date(2021, 4, 1), end=date(2024, 3, 31))
    too_long = "A" * 301
    message = "Name each function in 300 characters or fewer."
    client.force_login(bromley_users["commissioner"])
    form = form_data(agreement)
    api = api_as(bromley_users["commissioner"])
    url = f"/api/v1/agreements/{agreement.pk}/"

    page = client.post(f"/budgets/agreements/{agreement.pk}/edit/", {**form, "nhs_functions": too_long})
    refused = api.patch(url, {"version": 1, "nhs_functions": [too_long]}, format="json")

    assert page.status_code == 200 and page.context["form"].errors == {"nhs_functions": [message]}
    assert refused.status_code == 400 and refused.json() == {"nhs_functions": [message]}
    agreement.refresh_from_db()
    assert agreement.nhs_functions == [] and agreement.version == 1

    kept = api.patch(
        url, {"version": 1, "council_functions": [" Brokerage ", "", "brokerage"]}, format="json"
    )
    assert kept.status_code == 200, kept.json()
    assert kept.json()["council_functions"] == ["Brokerage"]
    posted = client.post(
        f"/budgets/agreements/{agreement.pk}/edit/",
        {**form, "version": 2, "council_functions": " Brokerage \r\n\r\nbrokerage\r\nPlacements"},
    )
    assert posted.status_code == 302, posted.context["form"].errors
    agreement.refresh_from_db()
    assert agreement.council_functions == ["Brokerage", "Placements"]
