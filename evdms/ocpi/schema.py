"""The field rules of the OCPI 2.2.1 objects the handshake exchanges (lengths, enums,
required fields), as small declarative schemas.

``check(schema, value)`` returns the list of problems (empty when the value conforms);
the views use it on what partners send, the tests on what we send. Later modules add
their objects here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

ROLES = ("CPO", "EMSP", "HUB", "NAP", "NSP", "OTHER", "SCSP")
INTERFACE_ROLES = ("SENDER", "RECEIVER")
VERSION_NUMBERS = ("2.0", "2.1", "2.1.1", "2.2", "2.2.1")
MODULE_IDS = (
    "cdrs",
    "chargingprofiles",
    "commands",
    "credentials",
    "hubclientinfo",
    "locations",
    "sessions",
    "tariffs",
    "tokens",
)
IMAGE_CATEGORIES = ("CHARGER", "ENTRANCE", "LOCATION", "NETWORK", "OPERATOR", "OTHER", "OWNER")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?$")
_URL = re.compile(r"^https?://[^\s]+$")


@dataclass(frozen=True)
class Field:
    """One property: its kind, whether it must be present, and its limits."""

    kind: str  # string, cistring, url, datetime, int, bool, enum, object, list
    required: bool = True
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    schema: dict[str, Field] | None = None  # object, or the items of a list of objects
    item: Field | None = None  # the items of a list of scalars
    min_items: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _printable(text: str, *, ascii_only: bool) -> bool:
    if ascii_only:
        return all(0x20 <= ord(c) <= 0x7E for c in text)
    return text.isprintable()


def check(schema: dict[str, Field], value: Any, path: str = "") -> list[str]:
    if not isinstance(value, dict):
        return [f"{path or 'body'}: must be an object"]
    problems: list[str] = []
    for name, rule in schema.items():
        where = f"{path}.{name}" if path else name
        if name not in value or value[name] is None:
            if rule.required:
                problems.append(f"{where}: required")
            continue
        problems += check_value(rule, value[name], where)
    return problems


def check_value(rule: Field, value: Any, where: str) -> list[str]:
    kind = rule.kind
    if kind in {"string", "cistring", "url", "datetime", "enum"}:
        if not isinstance(value, str):
            return [f"{where}: must be a string"]
        if rule.max_length is not None and len(value) > rule.max_length:
            return [f"{where}: at most {rule.max_length} characters"]
        if kind == "cistring" and not _printable(value, ascii_only=True):
            return [f"{where}: only printable ASCII"]
        if kind == "string" and not _printable(value, ascii_only=False):
            return [f"{where}: only printable characters"]
        if kind == "url" and (len(value) > 255 or not _URL.match(value)):
            return [f"{where}: must be an http(s) URL of at most 255 characters"]
        if kind == "datetime" and (len(value) > 25 or not DATETIME.match(value)):
            return [f"{where}: must be an RFC 3339 UTC timestamp"]
        if kind == "enum" and value not in rule.choices:
            return [f"{where}: must be one of {', '.join(rule.choices)}"]
        return []
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{where}: must be a whole number"]
    if kind == "bool":
        return [] if isinstance(value, bool) else [f"{where}: must be true or false"]
    if kind == "object":
        assert rule.schema is not None
        return check(rule.schema, value, where)
    if kind == "list":
        if not isinstance(value, list):
            return [f"{where}: must be a list"]
        if len(value) < rule.min_items:
            return [f"{where}: at least {rule.min_items} item(s)"]
        problems: list[str] = []
        for index, item in enumerate(value):
            if rule.schema is not None:
                problems += check(rule.schema, item, f"{where}[{index}]")
            elif rule.item is not None:
                problems += check_value(rule.item, item, f"{where}[{index}]")
        return problems
    raise ValueError(f"unknown field kind {kind!r}")


IMAGE = {
    "url": Field("url"),
    "thumbnail": Field("url", required=False),
    "category": Field("enum", choices=IMAGE_CATEGORIES),
    "type": Field("cistring", max_length=4),
    "width": Field("int", required=False),
    "height": Field("int", required=False),
}
BUSINESS_DETAILS = {
    "name": Field("string", max_length=100),
    "website": Field("url", required=False),
    "logo": Field("object", required=False, schema=IMAGE),
}
CREDENTIALS_ROLE = {
    "role": Field("enum", choices=ROLES),
    "business_details": Field("object", schema=BUSINESS_DETAILS),
    "party_id": Field("cistring", max_length=3),
    "country_code": Field("cistring", max_length=2),
}
CREDENTIALS = {
    "token": Field("cistring", max_length=64),
    "url": Field("url"),
    "roles": Field("list", schema=CREDENTIALS_ROLE, min_items=1),
}
VERSION = {
    "version": Field("enum", choices=VERSION_NUMBERS),
    "url": Field("url"),
}
ENDPOINT = {
    # Custom modules may extend ModuleID (agreed outside OCPI): any short identifier.
    "identifier": Field("cistring", max_length=255),
    "role": Field("enum", choices=INTERFACE_ROLES),
    "url": Field("url"),
}
VERSION_DETAILS = {
    "version": Field("enum", choices=VERSION_NUMBERS),
    "endpoints": Field("list", schema=ENDPOINT, min_items=1),
}
RESPONSE = {
    "status_code": Field("int"),
    "status_message": Field("string", required=False),
    "timestamp": Field("datetime"),
}


def check_versions(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        return ["data: must be a non-empty list of versions"]
    problems: list[str] = []
    for index, item in enumerate(value):
        problems += check(VERSION, item, f"data[{index}]")
    return problems


def check_token(token: Any) -> bool:
    """A credentials token: 1-64 printable non-whitespace ASCII characters."""
    return (
        isinstance(token, str)
        and 0 < len(token) <= 64
        and all(0x21 <= ord(c) <= 0x7E for c in token)
    )


# --- Tokens module (we are the Sender) -------------------------------------------------

TOKEN_TYPES = ("AD_HOC_USER", "APP_USER", "OTHER", "RFID")
WHITELIST_TYPES = ("ALWAYS", "ALLOWED", "ALLOWED_OFFLINE", "NEVER")
PROFILE_TYPES = ("CHEAP", "FAST", "GREEN", "REGULAR")
ALLOWED_TYPES = ("ALLOWED", "BLOCKED", "EXPIRED", "NO_CREDIT", "NOT_ALLOWED")
DISPLAY_TEXT = {
    "language": Field("string", max_length=2),
    "text": Field("string", max_length=512),
}
ENERGY_CONTRACT = {
    "supplier_name": Field("string", max_length=64),
    "contract_id": Field("string", required=False, max_length=64),
}
TOKEN = {
    "country_code": Field("cistring", max_length=2),
    "party_id": Field("cistring", max_length=3),
    "uid": Field("cistring", max_length=36),
    "type": Field("enum", choices=TOKEN_TYPES),
    "contract_id": Field("cistring", max_length=36),
    "visual_number": Field("string", required=False, max_length=64),
    "issuer": Field("string", max_length=64),
    "group_id": Field("cistring", required=False, max_length=36),
    "valid": Field("bool"),
    "whitelist": Field("enum", choices=WHITELIST_TYPES),
    "language": Field("string", required=False, max_length=2),
    "default_profile_type": Field("enum", required=False, choices=PROFILE_TYPES),
    "energy_contract": Field("object", required=False, schema=ENERGY_CONTRACT),
    "last_updated": Field("datetime"),
}
LOCATION_REFERENCES = {
    "location_id": Field("cistring", max_length=36),
    "evse_uids": Field("list", required=False, item=Field("cistring", max_length=36)),
}
AUTHORIZATION_INFO = {
    "allowed": Field("enum", choices=ALLOWED_TYPES),
    "token": Field("object", schema=TOKEN),
    "location": Field("object", required=False, schema=LOCATION_REFERENCES),
    "authorization_reference": Field("cistring", required=False, max_length=36),
    "info": Field("object", required=False, schema=DISPLAY_TEXT),
}
