"""Every database constraint has a message in words, mapped in one place
(``commissioning/constraints.py``), and that message is what a user sees: on the form's field with
the error summary, and in the API's 400 naming the field. "Constraint "x" is violated" never shows."""

from datetime import date

import pytest
from django.apps import apps
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction
from django.urls import reverse

from brokerage.models import Package, PanelDecision
from commissioning import constraints
from tests.brokerage.factories import ClientFactory, PackageFactory
from tests.commissioning.factories import ProviderFactory


def every_constraint():
    for model in apps.get_models(include_auto_created=True):
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.CheckConstraint | models.UniqueConstraint):
                yield model, constraint


def test_every_constraint_of_every_app_has_a_message_in_words():
    missing = [
        f"{model._meta.label}: {constraint.name}"
        for model, constraint in every_constraint()
        if constraint.name not in constraints.CONSTRAINT_MESSAGES
    ]

    assert missing == [], "add these to commissioning/constraints.py"


def test_the_table_names_only_constraints_that_exist():
    names = {constraint.name for _model, constraint in every_constraint()}

    assert sorted(set(constraints.CONSTRAINT_MESSAGES) - names) == []


@pytest.mark.parametrize("name", sorted(constraints.CONSTRAINT_MESSAGES))
def test_each_message_is_a_sentence_that_does_not_name_the_constraint(name):
    entry = constraints.CONSTRAINT_MESSAGES[name]

    assert entry.message[:1].isupper()
    assert name not in entry.message
    assert "violated" not in entry.message.lower()
    assert "constraint" not in entry.message.lower()


def test_each_mapped_field_is_a_field_of_its_model_or_the_name_forms_and_the_api_give_it():
    # Shares are posted as one list ("shares"); a payment as its "amount"; a dispute's correction as
    # its "change" (api.md).
    posted_as = {"shares", "amount", "change"}
    wrong = [
        f"{model._meta.label}: {constraint.name} -> {entry.field}"
        for model, constraint in every_constraint()
        if (entry := constraints.CONSTRAINT_MESSAGES.get(constraint.name)) is not None
        and entry.field is not None
        and entry.field not in posted_as
        and entry.field not in {field.name for field in model._meta.get_fields()}
    ]

    assert wrong == []


# --- full_clean (services, serializers, admin) ----------------------------------------------------


@pytest.mark.django_db
def test_full_clean_puts_the_words_on_the_field(partnership):
    decision = PanelDecision(
        client=ClientFactory(partnership=partnership),
        reference="JFP-1",
        meeting_date=date(2025, 4, 1),
        effective_from=date(2025, 4, 1),
        effective_to=date(2025, 3, 31),
    )

    with pytest.raises(ValidationError) as caught:
        decision.full_clean()

    assert caught.value.message_dict == {"effective_to": ["The end date must be on or after the start date."]}


@pytest.mark.django_db
def test_a_unique_constraint_is_refused_in_words_on_its_field(partnership):
    ClientFactory(partnership=partnership, case_reference="LBB-42")
    duplicate = ClientFactory.build(partnership=partnership, case_reference="LBB-42")

    with pytest.raises(ValidationError) as caught:
        duplicate.full_clean()

    assert caught.value.message_dict["case_reference"] == [
        "Another client in this partnership has this case reference."
    ]
    assert NON_FIELD_ERRORS not in caught.value.message_dict


# --- the database's own refusal -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_write_the_database_refuses_becomes_the_message_on_its_field(partnership):
    package = PackageFactory(client=ClientFactory(partnership=partnership), start=date(2025, 4, 1))

    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        Package.objects.filter(pk=package.pk).update(end=date(2025, 3, 1))

    assert constraints.constraint_name(caught.value) == "package_end_not_before_start"
    error = constraints.integrity_error_as_validation(caught.value)
    assert error.message_dict == {"end": ["The end date must be on or after the start date."]}
    package.refresh_from_db()
    assert package.end is None


def test_a_refusal_that_names_no_constraint_of_ours_gets_general_words():
    error = constraints.integrity_error_as_validation(IntegrityError('violates trigger "something_else"'))

    assert error.messages == [constraints.GENERIC]


# --- what users see -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_form_post_that_breaks_a_constraint_shows_the_words_on_the_field(client, make_user, partnership):
    from commissioning import roles

    manager = make_user(roles.BROKERAGE_MANAGER, [partnership])
    person = ClientFactory(partnership=partnership)
    client.force_login(manager)

    def day(name, value: date):
        return {f"{name}_day": value.day, f"{name}_month": value.month, f"{name}_year": value.year}

    response = client.post(
        reverse("brokerage:panel-decision-create") + f"?client={person.pk}",
        {
            "reference": "JFP-2025-001",
            **day("meeting_date", date(2025, 4, 1)),
            **day("effective_from", date(2025, 4, 1)),
            **day("effective_to", date(2025, 3, 31)),
            "council_percent": "50",
            "nhs_percent": "50",
            "basis": "panel_decision",
        },
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {"effective_to": ["The end date must be on or after the start date."]}
    page = response.content.decode()
    assert "govuk-error-summary" in page
    assert 'href="#id_effective_to_day"' in page
    assert "violated" not in page
    assert not PanelDecision.objects.exists()


@pytest.mark.django_db
def test_an_api_request_that_breaks_a_constraint_answers_400_naming_the_field(api_as, make_user, partnership):
    from commissioning import roles

    broker = make_user(roles.BROKER, [partnership])
    person = ClientFactory(partnership=partnership)

    response = api_as(broker).post(
        "/api/v1/packages/",
        {
            "client": person.pk,
            "provider": ProviderFactory().pk,
            "service_type": "nursing",
            "start": "2025-04-01",
            "end": "2025-03-01",
            "paying_organisation": partnership.council.code,
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"end": ["The end date must be on or after the start date."]}
    assert not Package.objects.exists()
