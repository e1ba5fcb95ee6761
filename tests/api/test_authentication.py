from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from commissioning.models import ApiToken
from commissioning.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db

URL = "/api/v1/partnerships/"


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_valid_token_authenticates(commissioner, partnership):
    _token, key = api_token_create(user=commissioner, name="Ledger import")

    response = token_client(key).get(URL)

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_no_credentials_answer_401_asking_for_a_token(anonymous):
    response = anonymous.get(URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_an_unknown_token_answers_401(commissioner):
    api_token_create(user=commissioner, name="Real")

    response = token_client("not-a-key-anyone-was-given").get(URL)

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or revoked token."}


def test_a_revoked_token_answers_401(commissioner):
    token, key = api_token_create(user=commissioner, name="Old laptop")
    api_token_revoke(token=token, by=commissioner)

    response = token_client(key).get(URL)

    assert response.status_code == 401


def test_an_expired_token_answers_401(commissioner):
    _token, key = api_token_create(
        user=commissioner, name="Short lived", expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert token_client(key).get(URL).status_code == 401


def test_a_token_of_a_deactivated_user_answers_401(commissioner):
    _token, key = api_token_create(user=commissioner, name="Leaver")
    commissioner.is_active = False
    commissioner.save()

    assert token_client(key).get(URL).status_code == 401


def test_a_malformed_authorization_header_answers_401(commissioner):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token two words")

    assert client.get(URL).status_code == 401


def test_using_a_token_records_when_it_was_last_used(commissioner):
    token, key = api_token_create(user=commissioner, name="Ledger import")
    assert token.last_used_at is None
    before = timezone.now()

    token_client(key).get(URL)

    token.refresh_from_db()
    assert token.last_used_at is not None
    assert before <= token.last_used_at <= timezone.now()


def test_last_use_is_written_at_most_once_a_minute(commissioner):
    token, key = api_token_create(user=commissioner, name="Ledger import")
    recent = timezone.now() - timedelta(seconds=10)
    stale = timezone.now() - timedelta(minutes=5)
    client = token_client(key)

    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recent)
    client.get(URL)
    token.refresh_from_db()
    assert token.last_used_at == recent

    ApiToken.objects.filter(pk=token.pk).update(last_used_at=stale)
    client.get(URL)
    token.refresh_from_db()
    assert token.last_used_at > stale + timedelta(minutes=4)


def test_tokens_are_stored_hashed_and_the_key_appears_nowhere_in_the_table(commissioner):
    token, key = api_token_create(user=commissioner, name="Ledger import")

    token.refresh_from_db()
    assert token.digest == ApiToken.hash_key(key)
    assert len(token.digest) == 64 and token.digest != key
    assert token.prefix == key[: ApiToken.PREFIX_LENGTH]
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(t)::text FROM commissioning_apitoken t")
        rows = [row[0] for row in cursor.fetchall()]
    assert len(rows) == 1
    assert key not in rows[0]


def test_a_session_also_authenticates_for_the_browsable_api(commissioner, partnership):
    client = APIClient()
    client.force_login(commissioner)

    response = client.get(URL, HTTP_ACCEPT="text/html")
    contracts = client.get("/api/v1/contracts/", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert b"Bromley" in response.content
    assert contracts.status_code == 200
    assert contracts["Content-Type"].startswith("text/html")


def test_the_api_index_is_open_to_any_signed_in_user_only(api_as, no_role_user, anonymous):
    response = api_as(no_role_user).get("/api/v1/")

    assert response.status_code == 200
    assert set(response.json()) == {"organisations", "partnerships", "providers", "contracts"}
    assert anonymous.get("/api/v1/").status_code == 401
