"""Configuration fails loudly on a bad value, and production mode passes check --deploy."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from schwifty import IBAN

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


# An account of the platform's own, made up for these tests but valid (checksums and all).
PLATFORM_IBAN = str(IBAN.generate("NL", bank_code="RABO", account_code="3118172026"))


def _production(tmp_path, **env: str) -> dict[str, str]:
    """Everything production needs, with ``env`` changing or (as "") leaving out some."""
    full = {
        "EVDMS_ENV": "production",
        "EVDMS_SECRET_KEY": "x" * 30 + "-production-secret-for-the-check-only-" + "y" * 20,
        "EVDMS_ALLOWED_HOSTS": "evdms.example.org",
        "EVDMS_VAR_DIR": str(tmp_path),
        "EVDMS_FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "EVDMS_SEPA_DEBTOR_IBAN": PLATFORM_IBAN,
        "EVDMS_OCPI_COUNTRY_CODE": "NL",
        "EVDMS_OCPI_PARTY_ID": "EVX",
        "EVDMS_INVOICE_SELLER_NAME": "Platform Operator B.V.",
        "EVDMS_INVOICE_SELLER_VAT_NUMBER": "NL004495445B01",
        "EVDMS_INVOICE_SELLER_IBAN": PLATFORM_IBAN,
        **env,
    }
    return {name: value for name, value in full.items() if value}


def test_production_mode_passes_check_deploy(tmp_path):
    result = _manage(["check", "--deploy", "--fail-level", "WARNING"], **_production(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


PRINT_PAYOUT_ACCOUNT = [
    "shell",
    "--no-imports",
    "-c",
    "from django.conf import settings; print(settings.SEPA_DEBTOR_IBAN, settings.SEPA_DEBTOR_BIC)",
]


def test_production_pays_from_the_account_it_is_given_and_no_sample_bank(tmp_path):
    spaced = " ".join(PLATFORM_IBAN[i : i + 4] for i in range(0, len(PLATFORM_IBAN), 4))
    result = _manage(PRINT_PAYOUT_ACCOUNT, **_production(tmp_path, EVDMS_SEPA_DEBTOR_IBAN=spaced))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [PLATFORM_IBAN]  # no BIC: the bank finds it by the IBAN


@pytest.mark.parametrize(
    ("iban", "message"),
    [
        ("", "EVDMS_SEPA_DEBTOR_IBAN must be set"),
        ("NL91 ABNA 0417 1643 00", "NL91ABNA0417164300 is a well-known sample account"),
        ("DE89370400440532013000", "DE89370400440532013000 is a well-known sample account"),
    ],
    ids=["missing", "the development default", "the German example"],
)
def test_production_mode_refuses_to_start_without_a_real_payout_account(tmp_path, iban, message):
    result = _manage(["check"], **_production(tmp_path, EVDMS_SEPA_DEBTOR_IBAN=iban))
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EVDMS_OCPI_COUNTRY_CODE": ""}, "EVDMS_OCPI_COUNTRY_CODE must be set"),
        ({"EVDMS_OCPI_PARTY_ID": ""}, "EVDMS_OCPI_PARTY_ID must be set"),
        ({"EVDMS_OCPI_COUNTRY_CODE": "NLD"}, "is not an ISO 3166 alpha-2 country code"),
        ({"EVDMS_OCPI_PARTY_ID": "E-V"}, "EVDMS_OCPI_PARTY_ID='E-V' must be 3 letters or digits"),
    ],
    ids=["no country code", "no party id", "three-letter country", "a dash in the party id"],
)
def test_production_mode_refuses_to_start_without_our_ocpi_party(tmp_path, env, message):
    result = _manage(["check"], **_production(tmp_path, **env))
    assert result.returncode != 0
    assert message in result.stderr


def test_a_wrong_payout_account_stops_start_up_in_any_mode(tmp_path):
    iban = _manage(
        ["check"], EVDMS_SEPA_DEBTOR_IBAN="NL91ABNA0417164301", EVDMS_VAR_DIR=str(tmp_path)
    )
    bic = _manage(["check"], EVDMS_SEPA_DEBTOR_BIC="ABN", EVDMS_VAR_DIR=str(tmp_path))
    assert iban.returncode != 0 and bic.returncode != 0
    assert "EVDMS_SEPA_DEBTOR_IBAN='NL91ABNA0417164301' is not a valid IBAN" in iban.stderr
    assert "EVDMS_SEPA_DEBTOR_BIC='ABN' is not a valid BIC" in bic.stderr


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
    production = _production(tmp_path)
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


@pytest.mark.django_db
def test_database_connections_are_set_for_the_monthly_runs():
    """SQLite: a page cache that holds the runs' index pages (64 MiB, not SQLite's
    2 MB); PostgreSQL: no JIT compilation of queries (it cost more than the runs'
    chunk queries themselves)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA cache_size")
            assert cursor.fetchone()[0] == -64 * 1024
        else:
            cursor.execute("SHOW jit")
            assert cursor.fetchone()[0] == "off"
