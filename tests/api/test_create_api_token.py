import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from commissioning.management.commands.create_api_token import DEFAULT_NAME
from commissioning.models import ApiToken

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_prints_a_working_key_once_and_stores_only_its_digest(commissioner, partnership):
    out, err = run(commissioner.username, "--name", "Ledger import")

    key = out.strip()
    assert out == key + "\n"  # the key alone, for scripts
    token = ApiToken.objects.get(user=commissioner)
    assert token.name == "Ledger import"
    assert token.digest == ApiToken.hash_key(key)
    assert key not in err
    assert "cannot be shown again" in err
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/partnerships/").status_code == 200


def test_the_command_names_the_token_when_no_name_is_given(commissioner):
    run(commissioner.username)

    assert ApiToken.objects.get(user=commissioner).name == DEFAULT_NAME


def test_each_run_makes_a_new_key(commissioner):
    first, _ = run(commissioner.username)
    second, _ = run(commissioner.username)

    assert first != second
    assert ApiToken.objects.filter(user=commissioner).count() == 2


def test_an_unknown_user_is_refused_and_nothing_is_created(db):
    with pytest.raises(CommandError, match="no user called 'ghost'"):
        run("ghost")

    assert ApiToken.objects.count() == 0


def test_an_inactive_user_is_refused(make_user):
    leaver = make_user(is_active=False)

    with pytest.raises(CommandError, match="not active"):
        run(leaver.username)

    assert ApiToken.objects.count() == 0


def test_a_blank_name_is_refused(commissioner):
    with pytest.raises(CommandError, match="Enter what the key is for"):
        run(commissioner.username, "--name", "  ")

    assert ApiToken.objects.count() == 0
