"""An agreement's variations (numbered under a lock, approved by a decision of its partnership,
the deed a checked PDF, the agreement becoming ``varied``) and reviews (one a year, an outcome only
once held, the next review moved on); on the pages and the API."""

import io
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from budgets import services
from budgets.models import Review, Variation
from commissioning import roles, uploads
from tests.budgets.factories import AgreementFactory, ScheduleFactory
from tests.governance.factories import DecisionFactory, PaperFactory, pdf_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def agreement(bromley):
    return AgreementFactory(
        partnership=bromley,
        reference="BR-S75",
        start=date(2021, 4, 1),
        end=date(2026, 3, 31),
        status="signed",
    )


@pytest.fixture
def decision(bromley):
    return DecisionFactory(agenda_item__meeting__board__partnership=bromley)


@pytest.fixture
def commissioner(bromley_users):
    return bromley_users["commissioner"]


def deed():
    upload = io.BytesIO(pdf_bytes(1, "Deed"))
    upload.name = "Deed of variation 1.pdf"
    return uploads.check_pdf_upload(upload)


# --- Variations -----------------------------------------------------------------------------------


def test_variations_are_numbered_and_vary_the_agreement(agreement, decision, commissioner):
    schedule = ScheduleFactory(agreement=agreement)
    first = services.variation_record(
        agreement=agreement,
        by=commissioner,
        effective_from=date(2022, 4, 1),
        changes="Schedule 2 added",
        decision=decision,
        schedules=[schedule],
        signed_deed=deed(),
    )
    second = services.variation_record(
        agreement=agreement,
        by=commissioner,
        effective_from=date(2023, 4, 1),
        changes="Notice 6 months",
        decision=decision,
    )
    assert (first.number, second.number) == (1, 2)
    assert list(first.schedules.all()) == [schedule]
    assert first.signed_deed_name == "Deed of variation 1.pdf"
    assert first.signed_deed.read().startswith(b"%PDF-")
    agreement.refresh_from_db()
    assert agreement.status == "varied" and agreement.version == 2  # varied once, not twice


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"effective_from": date(2027, 1, 1)}, "effective_from"),
        ({"effective_from": None}, "effective_from"),
        ({"changes": "  "}, "changes"),
        ({"decision": None}, "decision"),
        ({"decision": "other"}, "decision"),
        ({"schedules": "other"}, "schedules"),
        ({"status": "draft"}, "agreement"),
    ],
)
def test_a_bad_variation_is_refused_naming_the_field_and_nothing_changes(
    agreement, decision, commissioner, other_partnership, change, field
):
    arguments = {"effective_from": date(2022, 4, 1), "changes": "Schedule added", "decision": decision}
    arguments |= change
    if arguments["decision"] == "other":
        arguments["decision"] = DecisionFactory(agenda_item__meeting__board__partnership=other_partnership)
    if arguments.get("schedules") == "other":
        arguments["schedules"] = [
            ScheduleFactory(agreement=AgreementFactory(partnership=agreement.partnership))
        ]
    if arguments.pop("status", None):
        agreement.status = "draft"
        agreement.save()
    with pytest.raises(ValidationError) as error:
        services.variation_record(agreement=agreement, by=commissioner, **arguments)
    assert field in error.value.message_dict
    assert not Variation.objects.exists()
    agreement.refresh_from_db()
    assert agreement.status in ("signed", "draft")


def test_the_variation_form_records_one_from_a_decision(client, agreement, decision, commissioner):
    client.force_login(commissioner)
    url = f"/budgets/agreements/{agreement.pk}/variations/new/?decision={decision.pk}"
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["form"].initial["decision"] == str(decision.pk)
    response = client.post(
        url,
        {
            "decision": decision.pk,
            "effective_from_day": "1",
            "effective_from_month": "10",
            "effective_from_year": "2022",
            "changes": "The notice period becomes six months.",
            "signed_deed": SimpleUploadedFile("deed.pdf", pdf_bytes(1), "application/pdf"),
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    variation = Variation.objects.get()
    assert variation.number == 1 and variation.signed_deed_name == "deed.pdf"
    detail = client.get(f"/budgets/agreements/{agreement.pk}/").content.decode()
    assert "The notice period becomes six months." in detail
    assert decision.reference in detail
    assert client.get(f"/budgets/variations/{variation.pk}/deed/").status_code == 200


def test_a_board_member_reads_variations_but_may_not_record_one(client, make_user, agreement, bromley):
    client.force_login(make_user(roles.BOARD_MEMBER, [bromley]))
    assert client.get(f"/budgets/agreements/{agreement.pk}/").status_code == 200
    assert "Record a variation" not in client.get(f"/budgets/agreements/{agreement.pk}/").content.decode()
    assert client.get(f"/budgets/agreements/{agreement.pk}/variations/new/").status_code == 403


def test_another_partnerships_agreement_cannot_be_varied(client, commissioner, other_partnership):
    theirs = AgreementFactory(partnership=other_partnership)
    client.force_login(commissioner)
    assert client.get(f"/budgets/agreements/{theirs.pk}/variations/new/").status_code == 404


def test_the_api_records_and_lists_variations(
    api_as, agreement, decision, commissioner, django_assert_max_num_queries
):
    api = api_as(commissioner)
    response = api.post(
        "/api/v1/variations/",
        {
            "agreement": agreement.pk,
            "effective_from": "2022-04-01",
            "changes": "Schedule 2 added",
            "decision": decision.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["number"] == 1
    for n in range(3):
        services.variation_record(
            agreement=agreement,
            by=commissioner,
            effective_from=date(2022, 5, 1),
            changes=f"Change {n}",
            decision=decision,
        )
    with django_assert_max_num_queries(8):
        listed = api.get(f"/api/v1/variations/?agreement={agreement.pk}")
    assert [row["number"] for row in listed.json()["results"]] == [1, 2, 3, 4]
    bad = api.post(
        "/api/v1/variations/",
        {"agreement": agreement.pk, "effective_from": "2030-01-01", "changes": "x", "decision": decision.pk},
        format="json",
    )
    assert bad.status_code == 400 and "effective_from" in bad.json()
    assert api.get("/api/v1/variations/?agreement=1&colour=red").status_code == 400
    assert (
        api.patch(f"/api/v1/variations/{response.json()['id']}/", {"changes": "y"}, format="json").status_code
        == 405
    )


# --- Reviews --------------------------------------------------------------------------------------


def test_a_review_is_added_then_held_and_moves_the_next_review_on(agreement, decision, commissioner):
    agreement.next_review_due = date(2023, 3, 1)
    agreement.review_frequency_months = 12
    agreement.save()
    review = services.review_create(agreement=agreement, by=commissioner, due=date(2023, 3, 1))
    assert review.year == 2022 and not review.held
    paper = PaperFactory(board=decision.agenda_item.meeting.board)
    review = services.review_update(
        review=review,
        by=commissioner,
        version=1,
        held_on=date(2023, 2, 20),
        outcome="continue",
        decision=decision,
        paper=paper,
        notes="Reviewed in the light of experience.",
    )
    agreement.refresh_from_db()
    assert agreement.next_review_due == date(2024, 3, 1)
    assert review.version == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"due": date(2023, 3, 1), "outcome": "continue"}, "held_on"),
        ({"due": date(2030, 3, 1)}, "year"),
        ({"due": date(2023, 3, 1), "held_on": date(2099, 1, 1)}, "held_on"),
        ({"due": None}, "due"),
    ],
)
def test_a_bad_review_is_refused_naming_the_field(agreement, commissioner, fields, field):
    with pytest.raises(ValidationError) as error:
        services.review_create(agreement=agreement, by=commissioner, **fields)
    assert field in error.value.message_dict
    assert not Review.objects.exists()


def test_one_review_a_year(agreement, commissioner):
    services.review_create(agreement=agreement, by=commissioner, due=date(2023, 3, 1))
    with pytest.raises(ValidationError) as error:
        services.review_create(agreement=agreement, by=commissioner, due=date(2023, 2, 1))
    assert "year" in error.value.message_dict


def test_a_paper_of_another_partnership_is_refused(agreement, commissioner, other_partnership):
    review = services.review_create(agreement=agreement, by=commissioner, due=date(2023, 3, 1))
    with pytest.raises(ValidationError) as error:
        services.review_update(
            review=review, by=commissioner, paper=PaperFactory(board__partnership=other_partnership)
        )
    assert "paper" in error.value.message_dict


def test_the_review_pages_add_and_record_a_review(client, agreement, commissioner):
    client.force_login(commissioner)
    response = client.post(
        f"/budgets/agreements/{agreement.pk}/reviews/new/",
        {"due_day": "1", "due_month": "3", "due_year": "2023", "notes": ""},
    )
    assert response.status_code == 302, response.context["form"].errors
    review = Review.objects.get()
    response = client.post(
        f"/budgets/reviews/{review.pk}/edit/",
        {
            "due_day": "1",
            "due_month": "3",
            "due_year": "2023",
            "held_on_day": "2",
            "held_on_month": "3",
            "held_on_year": "2023",
            "outcome": "vary",
            "notes": "A variation to follow.",
            "version": 1,
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    page = client.get(f"/budgets/agreements/{agreement.pk}/").content.decode()
    assert "2 March 2023" in page and "Vary" in page


def test_the_api_adds_and_patches_reviews(api_as, agreement, commissioner):
    api = api_as(commissioner)
    created = api.post("/api/v1/reviews/", {"agreement": agreement.pk, "due": "2023-03-01"}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["year"] == 2022
    pk = created.json()["id"]
    stale = api.patch(f"/api/v1/reviews/{pk}/", {"version": 5, "held_on": "2023-03-02"}, format="json")
    assert stale.status_code == 409
    moved = api.patch(f"/api/v1/reviews/{pk}/", {"version": 1, "year": 2021}, format="json")
    assert moved.status_code == 400 and "year" in moved.json()
    held = api.patch(
        f"/api/v1/reviews/{pk}/",
        {"version": 1, "held_on": "2023-03-02", "outcome": "continue"},
        format="json",
    )
    assert held.status_code == 200, held.json()
    assert api.get(f"/api/v1/reviews/?agreement={agreement.pk}&held=false").json()["count"] == 0
