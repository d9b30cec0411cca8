"""The ocpp package, faster where a gateway spends its time, with the same answers.

Two things it does for every message a charger sends, done here once instead of each
time: checking the payload against its JSON schema, and renaming its keys from OCPP's
camelCase to the handlers' snake_case. ``install()`` puts both in place of the
package's own functions (which the package looks up by name at each call); nothing of
the package is changed otherwise.

**Schema checks, compiled.**
The package checks every payload against its OCPP JSON schema with ``jsonschema``'s
pure-Python Draft 4 validator. Measured in one process: 190 µs a 1.6 MeterValues and
650 µs a 2.0.1 TransactionEvent (its schema is four times the size), most of what a
gateway spends on a message outside the database, and the reason 2.0.1 ran at 0.6 of
1.6. ``jsonschema_rs`` (the Rust implementation, compiled once per schema) says whether
a payload is valid in 1–2 µs.

Only *whether* comes from the compiled validator. A payload it finds invalid, or cannot
read, is checked again by the package's own validator, which raises exactly the error
the package turns into its CallError (FormatViolation, PropertyConstraintViolation…): a
charger gets the same answer as before, and the package's code stays untouched. Formats
are not asserted by either (the package's validator has no format checker), so both
accept the same payloads; the session core checks the values it stores itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import jsonschema_rs
import ocpp.charge_point
import ocpp.messages

_original_get_validator = ocpp.messages.get_validator
_original_camel_to_snake_case = ocpp.charge_point.camel_to_snake_case
_compiled: dict[tuple[Any, ...], CompiledValidator] = {}
_lock = threading.Lock()


class CompiledValidator:
    """Looks like the package's Draft 4 validator where the package uses it."""

    def __init__(self, slow: Any) -> None:
        self._slow = slow
        self.schema = slow.schema
        self._fast = jsonschema_rs.Draft4Validator(slow.schema, validate_formats=False)

    def is_valid(self, payload: Any) -> bool:
        """Whether the package's validator accepts ``payload`` (``False`` when unsure)."""
        try:
            return bool(self._fast.is_valid(payload))
        except Exception:  # a value it cannot take (a Decimal, a huge integer): ask the package
            return False

    def validate(self, payload: Any) -> None:
        if not self.is_valid(payload):
            self._slow.validate(payload)  # raises the package's own error


def get_validator(
    message_type_id: int, action: str, ocpp_version: str, parse_float: Callable[..., Any] = float
) -> Any:
    key = (message_type_id, action, ocpp_version, parse_float)
    validator = _compiled.get(key)
    if validator is None:
        slow = _original_get_validator(message_type_id, action, ocpp_version, parse_float)
        if parse_float is not float:
            # The few 1.6 schedules validated with Decimal floats: left to the package.
            return slow
        with _lock:
            validator = _compiled.setdefault(key, CompiledValidator(slow))
    return validator


def compiled_validator(message_type_id: int, action: str, ocpp_version: str) -> CompiledValidator:
    """The compiled check of a schema whose floats the package reads as ``float`` (all
    but three 1.6 schedules')."""
    validator = get_validator(message_type_id, action, ocpp_version)
    assert isinstance(validator, CompiledValidator)
    return validator


# **Keys renamed once.** The package renames each key of each message with two regular
# expression substitutions (24 for a 2.0.1 TransactionEvent: 40 % of the package's time
# on it). Chargers send the same few dozen keys again and again: each is renamed by the
# package's own function the first time and remembered. Only short keys are
# remembered, and only so many (then all are forgotten and learnt again), so a charger
# sending junk keys cannot fill memory.
CACHED_KEY_MAX = 64
CACHED_KEYS = 2048
_renamed: dict[str, str] = {}


def _renamed_key(key: str) -> str:
    renamed: dict[str, Any] = _original_camel_to_snake_case({key: None})
    return next(iter(renamed))


def _remembered_key(key: str) -> str:
    renamed = _renamed.get(key) if type(key) is str else None
    if renamed is None:
        renamed = _renamed_key(key)
        if type(key) is str and len(key) <= CACHED_KEY_MAX:
            if len(_renamed) >= CACHED_KEYS:
                _renamed.clear()
            _renamed[key] = renamed
    return renamed


def camel_to_snake_case(data: Any) -> Any:
    """What the package's ``camel_to_snake_case`` returns, for the same ``data``."""
    if isinstance(data, dict):
        renamed = _renamed
        result = {}
        for key, value in data.items():
            # A remembered key is looked up in line, and a value that holds no keys is
            # taken as it is: a 2.0.1 TransactionEvent has two dozen of each.
            new_key = renamed.get(key) if type(key) is str else None
            if new_key is None:
                new_key = _remembered_key(key)
            if isinstance(value, dict | list):
                value = camel_to_snake_case(value)
            result[new_key] = value
        return result
    if isinstance(data, list):
        return [camel_to_snake_case(value) for value in data]
    return data


def install() -> None:
    """Put the compiled checks and the remembered renaming in place (idempotent)."""
    ocpp.messages.get_validator = get_validator
    ocpp.charge_point.camel_to_snake_case = camel_to_snake_case
