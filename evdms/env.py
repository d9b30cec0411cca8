"""Typed readers for the environment that fail loudly on a bad value.

Every setting the platform reads from outside comes through here, so a typo in a
deployment stops the process at start-up with the variable's name, instead of
running with a silently wrong default.
"""

from __future__ import annotations

import os
from decimal import Decimal, InvalidOperation
from pathlib import Path


class ConfigurationError(RuntimeError):
    """A variable of the environment has a value the platform cannot use."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    """The value of NAME, or of the file named by NAME_FILE (for container secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigurationError(f"{name}_FILE={file_name!r} cannot be read: {exc}") from exc
    return os.environ.get(name)


def env_str(name: str, default: str | None = None) -> str:
    value = _raw(name)
    if value is None:
        if default is None:
            raise ConfigurationError(f"{name} must be set")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigurationError(f"{name}={value!r} is not a boolean (use true or false)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise ConfigurationError(f"{name}={value!r} is not a whole number") from exc
    if minimum is not None and number < minimum:
        raise ConfigurationError(f"{name}={number} is below the minimum {minimum}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise ConfigurationError(f"{name}={value!r} must be one of {', '.join(sorted(choices))}")
    return value


def checked_bank_account(iban_name: str, iban: str, bic_name: str, bic: str) -> tuple[str, str]:
    """An IBAN (national checksums too) and an optional BIC, compacted; a wrong one stops
    start-up instead of the first payout file the bank refuses."""
    from schwifty import BIC, IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        account = IBAN(iban)
    except SchwiftyException as exc:
        raise ConfigurationError(f"{iban_name}={iban!r} is not a valid IBAN: {exc}") from exc
    if not bic:
        return account.compact, ""
    try:
        bank = BIC(bic)
    except SchwiftyException as exc:
        raise ConfigurationError(f"{bic_name}={bic!r} is not a valid BIC: {exc}") from exc
    return account.compact, bank.compact


def checked_ocpi_party(
    country_name: str, country_code: str, party_name: str, party_id: str
) -> tuple[str, str]:
    """An OCPI party: a two-letter country code and a three-character party id (letters
    and digits), upper-cased; anything else would be refused by every partner."""
    country, party = country_code.strip().upper(), party_id.strip().upper()
    if len(country) != 2 or not (country.isascii() and country.isalpha()):
        raise ConfigurationError(
            f"{country_name}={country_code!r} is not an ISO 3166 alpha-2 country code"
        )
    if len(party) != 3 or not (party.isascii() and party.isalnum()):
        raise ConfigurationError(f"{party_name}={party_id!r} must be 3 letters or digits")
    return country, party


def env_decimal(name: str, default: str) -> Decimal:
    """A decimal number, e.g. a VAT rate in percent (0 to 100)."""
    raw = env_str(name, default)
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise ConfigurationError(f"{name}={raw!r} is not a number") from exc
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(100):
        raise ConfigurationError(f"{name}={raw!r} must be between 0 and 100")
    return value


def checked_vat_number(name: str, vat_number: str, country: str) -> str:
    """An EU VAT number with its country prefix and checksum (python-stdnum), compacted;
    its country must be the seller's, or the invoices would name the wrong state."""
    from stdnum.eu import vat

    try:
        compact = vat.validate(vat_number)
    except Exception as exc:  # stdnum's ValidationError family
        raise ConfigurationError(f"{name}={vat_number!r} is not a valid VAT number") from exc
    prefix = "GR" if compact[:2] == "EL" else compact[:2]
    if prefix != country:
        raise ConfigurationError(f"{name}={vat_number!r} is not a VAT number of {country}")
    return compact
