"""The Django admin of the shared core writes through the services: a contract edited there obeys the
register's rules (the error names the field, nothing changes), moves its version on, names the
administrator in its history and refuses a stale edit; reviews, the access log and API keys cannot
be added or edited there, and a key can be revoked."""

from datetime import date
from decimal import Decimal

import pytest
from pghistory.models import Events

from commissioning import choices
from commissioning.models import ApiToken, Contract, ContractReview
from commissioning.services import api_token_create
from tests.commissioning.factories import ContractFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(make_user):
    return make_user(is_superuser=True, is_staff=True, username="root")


@pytest.fixture
def admin_client(client, root):
    client.force_login(root)
    return client


@pytest.fixture
def contract(partnership):
    return ContractFactory(partnership=partnership, reference="ADM-1", annual_value=Decimal("1000.00"))


def form_data(contract: Contract, **changes) -> dict:
    data = {
        "partnership": contract.partnership_id,
        "reference": contract.reference,
        "service": contract.service,
        "service_type": contract.service_type,
        "provider": contract.provider_id,
        "lead_commissioner": contract.lead_commissioner_id,
        "associate_commissioners": [],
        "annual_value": str(contract.annual_value),
        "start": contract.start.isoformat(),
        "end": contract.end.isoformat(),
        "extension_options": contract.extension_options,
        "procurement_route": contract.procurement_route,
        "contract_manager": "",
        "status": contract.status,
        "notes": "",
        "loaded_version": contract.version,
        "reviews-TOTAL_FORMS": "0",
        "reviews-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_an_admin_edit_goes_through_the_service_and_history_names_the_admin(admin_client, contract, root):
    response = admin_client.post(
        f"/admin/commissioning/contract/{contract.pk}/change/", form_data(contract, annual_value="1500.00")
    )

    assert response.status_code == 302
    stored = Contract.objects.get(pk=contract.pk)
    assert (stored.annual_value, stored.version) == (Decimal("1500.00"), contract.version + 1)
    event = Events.objects.tracks(stored).order_by("-pgh_created_at", "-pgh_id").first()
    assert "annual_value" in event.pgh_diff and event.pgh_context["user"] == root.pk


def test_a_bad_contract_edit_in_the_admin_is_refused_naming_the_field(
    admin_client, contract, other_partnership
):
    response = admin_client.post(
        f"/admin/commissioning/contract/{contract.pk}/change/",
        form_data(contract, end=contract.start.isoformat(), lead_commissioner=other_partnership.council_id),
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "The end date must be after the start date." in html
    assert "The lead commissioner must be one of the partners of" in html
    assert Contract.objects.get(pk=contract.pk).version == contract.version


def test_a_stale_admin_edit_is_refused_and_keeps_the_other_change(admin_client, contract, commissioner):
    from commissioning.services import contract_update

    contract_update(contract=contract, by=commissioner, version=contract.version, service="Changed meanwhile")

    response = admin_client.post(
        f"/admin/commissioning/contract/{contract.pk}/change/", form_data(contract, annual_value="9.00")
    )

    assert response.status_code == 200
    assert "Someone else changed this contract" in response.content.decode()
    stored = Contract.objects.get(pk=contract.pk)
    assert (stored.service, stored.annual_value) == ("Changed meanwhile", Decimal("1000.00"))


def test_an_admin_adds_a_contract_through_the_service(admin_client, contract, root):
    data = form_data(contract, reference="ADM-2")
    data.pop("loaded_version")

    response = admin_client.post("/admin/commissioning/contract/add/", data)

    assert response.status_code == 302
    added = Contract.objects.get(reference="ADM-2")
    event = Events.objects.tracks(added).first()
    assert event.pgh_label == "insert" and event.pgh_context["user"] == root.pk


def test_reviews_access_log_and_keys_cannot_be_added_in_the_admin(admin_client, contract, commissioner):
    ContractReview.objects.create(
        contract=contract,
        review_date=date(2024, 7, 1),
        rag_rating=choices.RAG.GREEN,
        reviewed_by=commissioner,
    )

    assert admin_client.get("/admin/commissioning/accesslog/add/").status_code == 403
    assert admin_client.get("/admin/commissioning/apitoken/add/").status_code == 403
    page = admin_client.get(f"/admin/commissioning/contract/{contract.pk}/change/").content.decode()
    assert "reviews-0-rag_rating" not in page  # shown, not editable


def test_an_administrator_revokes_a_key(admin_client, commissioner):
    token, _key = api_token_create(user=commissioner, name="Ledger import")

    response = admin_client.post(
        "/admin/commissioning/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}
    )

    assert response.status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
