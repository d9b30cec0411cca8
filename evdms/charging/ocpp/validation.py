"""The ocpp package's schema checks, compiled: the same JSON schemas, the same answers.

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
import ocpp.messages

_original_get_validator = ocpp.messages.get_validator
_compiled: dict[tuple[Any, ...], CompiledValidator] = {}
_lock = threading.Lock()


class CompiledValidator:
    """Looks like the package's Draft 4 validator where the package uses it."""

    def __init__(self, slow: Any) -> None:
        self._slow = slow
        self.schema = slow.schema
        self._fast = jsonschema_rs.Draft4Validator(slow.schema, validate_formats=False)

    def validate(self, payload: Any) -> None:
        try:
            valid = self._fast.is_valid(payload)
        except Exception:  # a value it cannot take (a Decimal, a huge integer): ask the package
            valid = False
        if not valid:
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


def install() -> None:
    """Make the package validate through the compiled validators (idempotent)."""
    ocpp.messages.get_validator = get_validator
