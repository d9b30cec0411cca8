"""Configuration fails loudly on a bad value, and production mode passes check --deploy."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from evdms.env import ConfigurationError, env_bool, env_int, env_list, env_str


def test_typed_helpers_read_and_refuse(monkeypatch, tmp_path):
    monkeypatch.setenv("X_BOOL", "yes")
    assert env_bool("X_BOOL", False) is True
    monkeypatch.setenv("X_BOOL", "perhaps")
    with pytest.raises(ConfigurationError, match="X_BOOL='perhaps' is not a boolean"):
        env_bool("X_BOOL", False)
    monkeypatch.setenv("X_INT", "12a")
    with pytest.raises(ConfigurationError, match="not a whole number"):
        env_int("X_INT", 1)
    monkeypatch.setenv("X_INT", "0")
    with pytest.raises(ConfigurationError, match="below the minimum"):
        env_int("X_INT", 1, minimum=1)
    monkeypatch.setenv("X_LIST", "a, b,,c")
    assert env_list("X_LIST", []) == ["a", "b", "c"]
    with pytest.raises(ConfigurationError, match="X_MISSING must be set"):
        env_str("X_MISSING")


def test_secrets_can_come_from_files(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("X_SECRET_FILE", str(secret))
    assert env_str("X_SECRET") == "s3cret"
    monkeypatch.setenv("X_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigurationError, match="cannot be read"):
        env_str("X_SECRET")


def _manage(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("EVDMS_", "DATABASE_URL", "DJANGO_"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_mode_passes_check_deploy(tmp_path):
    result = _manage(
        ["check", "--deploy", "--fail-level", "WARNING"],
        EVDMS_ENV="production",
        EVDMS_SECRET_KEY="x" * 30 + "-production-secret-for-the-check-only-" + "y" * 20,
        EVDMS_ALLOWED_HOSTS="evdms.example.org",
        EVDMS_VAR_DIR=str(tmp_path),
        EVDMS_FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_mode_refuses_to_start_without_an_encryption_key(tmp_path):
    result = _manage(
        ["check"],
        EVDMS_ENV="production",
        EVDMS_SECRET_KEY="s" * 60,
        EVDMS_ALLOWED_HOSTS="x.example",
        EVDMS_VAR_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "EVDMS_FIELD_ENCRYPTION_KEYS must be set in production" in result.stderr


def test_production_mode_refuses_to_start_without_a_secret_key(tmp_path):
    result = _manage(
        ["check"],
        EVDMS_ENV="production",
        EVDMS_ALLOWED_HOSTS="x.example",
        EVDMS_VAR_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "EVDMS_SECRET_KEY must be set" in result.stderr


def test_a_bad_value_stops_start_up_with_the_variables_name(tmp_path):
    result = _manage(["check"], EVDMS_DEBUG="maybe", EVDMS_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "EVDMS_DEBUG='maybe' is not a boolean" in result.stderr


def test_argon2_hashes_passwords():
    from django.conf import settings

    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_in_production_operators_always_need_two_factor(tmp_path):
    production = {
        "EVDMS_ENV": "production",
        "EVDMS_SECRET_KEY": "s" * 60,
        "EVDMS_ALLOWED_HOSTS": "x.example",
        "EVDMS_VAR_DIR": str(tmp_path),
        "EVDMS_FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }
    show = [
        "shell",
        "-c",
        "from django.conf import settings; print(settings.OPERATORS_NEED_TWO_FACTOR)",
    ]
    for env in (production, {**production, "EVDMS_OPERATOR_TWO_FACTOR": "false"}):
        result = _manage(show, **env)
        assert result.stdout.split()[-1:] == ["True"], result.stderr
    development = _manage(show, EVDMS_VAR_DIR=str(tmp_path))
    assert development.stdout.split()[-1:] == ["False"], development.stderr
