import os
import subprocess
import sys

import pytest
from django.conf import settings

from commissioning.env import ConfigurationError, env_bool, env_int, env_list, env_secret


def _manage(*args, **env):
    full_env = {**os.environ, **env}
    full_env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests' conftest
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_bad_boolean_is_refused_with_the_variable_named(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")

    with pytest.raises(ConfigurationError, match="DEBUG must be true or false"):
        env_bool("DEBUG", False)


def test_a_bad_number_is_refused_with_the_variable_named(monkeypatch):
    monkeypatch.setenv("EMAIL_PORT", "twenty-five")

    with pytest.raises(ConfigurationError, match="EMAIL_PORT must be a whole number"):
        env_int("EMAIL_PORT", 25)


def test_lists_are_comma_separated(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", "a.example, b.example,,")

    assert env_list("ALLOWED_HOSTS", []) == ["a.example", "b.example"]


def test_a_secret_is_read_from_its_file(monkeypatch, tmp_path):
    secret = tmp_path / "key"
    secret.write_text("s3cret-from-file\n")
    monkeypatch.setenv("SECRET_KEY_FILE", str(secret))

    assert env_secret("SECRET_KEY", None) == "s3cret-from-file"


def test_production_refuses_to_start_without_a_secret_key():
    env = {"PRODUCTION": "true", "SECRET_KEY": "", "DATABASE_URL": settings.DATABASE_URL}

    result = _manage("check", **env)

    assert result.returncode != 0
    assert "SECRET_KEY (or SECRET_KEY_FILE) must be set" in result.stderr


def test_production_settings_pass_check_deploy():
    env = {
        "PRODUCTION": "true",
        "SECRET_KEY": "x7" * 30 + "-production-like-secret-key-for-the-deploy-check",
        "ALLOWED_HOSTS": "commissioning.example.org",
        "DATABASE_URL": settings.DATABASE_URL,
    }

    result = _manage("check", "--deploy", "--fail-level", "WARNING", **env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_database_must_be_postgresql():
    result = _manage("check", DATABASE_URL="sqlite:///tmp/nope.db")

    assert result.returncode != 0
    assert "DATABASE_URL must point at PostgreSQL" in result.stderr
