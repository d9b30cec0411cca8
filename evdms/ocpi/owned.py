"""Client Owned Objects: what the Sessions, Locations and Tariffs Receivers share.

A CPO owns the objects it pushes to us; their URL names the owner
(``/{country_code}/{party_id}/{id}``), which must be one of the partner's roles from the
credentials handshake (``Partner.parties()``). Objects are keyed by that party, so a
partner reads and writes only what its own parties pushed; an object of someone else's
party answers exactly like a missing one.

The answers (``transport_and_format`` "Client Owned Object Push", ``status_codes``):
- a URL party that is not the caller's: HTTP 404 (the spec allows it), status 2001 on a
  write, the object's "unknown" answer on a read;
- the URL's country code, party id or id different from the body's: 2001;
- any field rule broken: 2001 naming the field(s), HTTP 200 (valid JSON that reached the
  OCPI layer), nothing stored;
- a PATCH without ``last_updated``: 2001 (the spec's own example of 2001);
- an unknown object (GET, PATCH, DELETE): HTTP 404 with 2000 (2003 for locations);
- stored: 1000, HTTP 201 when the object is new, 200 when it replaced one.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.http import JsonResponse

from evdms.ocpi.models import Partner
from evdms.ocpi.schema import _printable
from evdms.ocpi.transport import OcpiError, Status, ocpi_response, parse_timestamp

# The longest lists of problems an answer names: enough to fix a body, not a novel.
MAX_PROBLEMS = 5


def invalid(problems: list[str]) -> OcpiError:
    shown = problems[:MAX_PROBLEMS]
    more = len(problems) - len(shown)
    return OcpiError(
        Status.INVALID_PARAMETERS, "; ".join(shown) + (f" (and {more} more)" if more else "")
    )


def segment(value: str, name: str, max_length: int) -> str:
    """A URL segment as the CiString it must be (printable ASCII, within its length)."""
    if not value or len(value) > max_length or not _printable(value, ascii_only=True):
        raise invalid([f"{name} in the URL: 1 to {max_length} printable ASCII characters"])
    return value


def own_party(
    partner: Partner, country_code: str, party_id: str, *, unknown: OcpiError | None = None
) -> tuple[str, str]:
    """The URL's (country code, party id), upper-cased, if it is one of the partner's
    roles. Otherwise ``unknown`` (reads: the same answer as a missing object) or a 404
    with 2001 (writes)."""
    party = (
        segment(country_code, "country_code", 2).upper(),
        segment(party_id, "party_id", 3).upper(),
    )
    if party not in partner.parties():
        raise unknown or OcpiError(
            Status.INVALID_PARAMETERS,
            f"{party[0]}*{party[1]} is not one of your parties (credentials roles)",
            http_status=404,
        )
    return party


def unknown(what: str, *, status: Status = Status.CLIENT_ERROR) -> OcpiError:
    return OcpiError(status, f"Unknown {what}", http_status=404)


def check_identity(body: dict[str, Any], expected: dict[str, str]) -> list[str]:
    """The body's ids against the URL's (country codes and party ids case-insensitive,
    as the CiStrings they are; object ids exactly)."""
    problems = []
    for name, value in expected.items():
        got = body.get(name)
        if not isinstance(got, str):
            continue  # the field rules name a missing or mistyped id
        same = (
            got.upper() == value.upper() if name in {"country_code", "party_id"} else got == value
        )
        if not same:
            problems.append(f"{name}: {got!r} is not the URL's {value!r}")
    return problems


def require_last_updated(patch: Any) -> None:
    if not isinstance(patch, dict):
        raise invalid(["body: must be an object"])
    if patch.get("last_updated") is None:
        raise invalid(["last_updated: required in a PATCH"])


def merge(
    stored: dict[str, Any], patch: dict[str, Any], *, append: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``stored`` with the PATCH's fields replacing its own; a field in ``append`` (a
    session's ``charging_periods``) is added to instead, and an empty one changes
    nothing, as the spec says."""
    merged = dict(stored)
    for name, value in patch.items():
        if name in append:
            if isinstance(value, list) and not value:
                continue
            if isinstance(value, list) and isinstance(merged.get(name), list):
                merged[name] = [*merged[name], *value]
                continue
        merged[name] = value
    return merged


def timestamp_of(body: dict[str, Any], name: str = "last_updated") -> datetime | None:
    """A timestamp the field rules have already checked the form of (None if absent)."""
    value = body.get(name)
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        raise invalid([f"{name}: must be an RFC 3339 UTC timestamp"]) from None


def decimal_of(value: int | float) -> Decimal:
    """A JSON number as the Decimal it was written as: through its shortest text
    (``repr``), so 41.12 is 41.12 and not the binary float nearest to it."""
    try:
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise invalid([f"{value!r}: not a number"]) from None


def kwh_to_wh(kwh: int | float) -> int:
    """kWh to integer Wh with Decimal: exact to the Wh; a fraction of a Wh is rounded
    half-up (OCPI numbers carry 4 decimals of kWh, 0.1 Wh)."""
    return int((decimal_of(kwh) * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def stored(created: bool) -> JsonResponse:
    """The answer to a PUT that stored the object (the spec leaves ``data`` out)."""
    return ocpi_response(None, http_status=201 if created else 200)
