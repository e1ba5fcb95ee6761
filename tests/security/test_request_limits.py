"""Issue 19 point 6: malformed and oversized requests answer a clear 400 (JSON on the API), and
the sign-in lockout counts an account's failures from every address."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client

from commissioning import roles
from commissioning.models import Contract
from tests.commissioning.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def commissioner_api(api_as, make_user, partnership):
    return api_as(make_user(roles.COMMISSIONER, [partnership]))


@pytest.mark.parametrize(
    "body",
    [DEEP, '{"title": ' + DEEP + "}", '{"title": ' + "[" * 900 + "]" * 900 + "}"],
    ids=["top", "in", "mid"],
)
def test_deeply_nested_json_is_a_json_400_and_writes_nothing(commissioner_api, body):
    response = commissioner_api.post("/api/v1/contracts/", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "nested too deeply" in response.json()["detail"]
    assert not Contract.objects.exists()


def test_a_body_over_the_upload_limit_is_a_json_400_on_the_api(commissioner_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # the rule, not the 10 MB default: less to send
    big = '{"title": "' + "x" * (3 * 1024 * 1024) + '"}'
    response = commissioner_api.post("/api/v1/contracts/", data=big, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "too large" in response.json()["detail"]
    assert not Contract.objects.exists()


def test_a_30_mb_body_is_a_json_400_on_the_api(commissioner_api):
    big = '{"title": "' + "x" * (30 * 1024 * 1024) + '"}'
    response = commissioner_api.post("/api/v1/contracts/", data=big, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"] == "The request body is too large: this service reads at most 10 MB."


def test_the_400_handler_answers_json_on_the_api_and_a_page_elsewhere(rf):
    from django.core.exceptions import RequestDataTooBig

    from commissioning.errors import bad_request

    api = bad_request(rf.post("/api/v1/contracts/"), RequestDataTooBig("too big"))
    assert api.status_code == 400 and api["Content-Type"] == "application/json"
    page = bad_request(rf.post("/contracts/new/"), RequestDataTooBig("too big"))
    assert page.status_code == 400 and not page["Content-Type"].startswith("application/json")


def test_a_json_body_posted_to_a_page_is_not_a_server_error(client, make_user, partnership):
    client.force_login(make_user(roles.COMMISSIONER, [partnership]))
    response = client.post("/contracts/new/", data=DEEP, content_type="application/json")
    assert response.status_code < 500


def test_guesses_from_many_addresses_lock_the_account(settings, make_user, partnership):
    settings.AXES_FAILURE_LIMIT = 5
    user = make_user(roles.COMMISSIONER, [partnership])
    for n in range(5):
        response = Client(REMOTE_ADDR=f"203.0.113.{n + 1}").post(
            LOGIN, {"username": user.username, "password": "wrong guess"}
        )
        assert response.status_code == (429 if n == 4 else 200), n  # the fifth failure locks
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    refused = elsewhere.post(LOGIN, {"username": user.username, "password": TEST_PASSWORD})
    assert refused.status_code == 429
    assert "_auth_user_id" not in elsewhere.session
    assert AccessAttempt.objects.filter(username=user.username).values("ip_address").distinct().count() > 1


def test_failures_of_one_account_do_not_lock_another(settings, make_user, partnership):
    settings.AXES_FAILURE_LIMIT = 3
    target = make_user(roles.COMMISSIONER, [partnership])
    colleague = make_user(roles.COMMISSIONER, [partnership])
    for n in range(3):
        Client(REMOTE_ADDR=f"203.0.113.{n + 1}").post(LOGIN, {"username": target.username, "password": "x"})
    ok = Client(REMOTE_ADDR="203.0.113.1").post(
        LOGIN, {"username": colleague.username, "password": TEST_PASSWORD}
    )
    assert ok.status_code == 302


@pytest.mark.parametrize("kind", ["form", "multipart"])
def test_form_and_multipart_bodies_over_the_limit_are_json_400s_too(commissioner_api, settings, kind):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    title = "x" * (3 * 1024 * 1024)
    if kind == "form":
        response = commissioner_api.post(
            "/api/v1/contracts/", data=f"title={title}", content_type="application/x-www-form-urlencoded"
        )
    else:
        response = commissioner_api.post("/api/v1/contracts/", data={"title": title}, format="multipart")
    assert response.status_code == 400
    assert response.json()["detail"] == "The request body is too large: this service reads at most 1 MB."
    assert not Contract.objects.exists()
