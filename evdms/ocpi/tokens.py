"""The Tokens module, our side (we are the Sender): the OCPI Token object of one of our
drivers' tokens, and real-time authorisation.

Outcomes of ``authorize`` (the spec's AllowedType):

- ``ALLOWED``: the token is valid (the driver's membership is connected under an
  enabled connection that pays for public charging, and the token is not blocked). We
  allow every location: the spec says an eMSP SHALL NOT judge by a location's opening
  hours or EVSE status, and our organisations pay for public charging anywhere;
- ``BLOCKED``: the token is blocked, reported lost by its driver or by an admin;
- ``NOT_ALLOWED``: the token is known but not valid otherwise (membership removed or
  left, connection disabled or not paying for public charging);
- ``EXPIRED`` is never answered: our tokens carry no expiry date, and a token that
  stopped being valid because of its membership is ``NOT_ALLOWED`` (the CPO's driver
  screen says the same: not allowed to charge on this contract);
- ``NO_CREDIT`` is never answered: there is no prepaid balance, the organisation is
  invoiced after the fact.

A request without LocationReferences is answered all the same (the spec's 2002 "not
enough information" is for an eMSP that needs the location; we do not).

A uid we do not know, or of another type than asked (``type`` defaults to RFID), is HTTP
404 with status 2004 and no ``data``.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings

from evdms.ocpi import schema
from evdms.ocpi.transport import OcpiError, Status, timestamp
from evdms.public_charging.models import Token, TokenBlock, TokenType

# The spec's ``type`` parameter defaults to RFID when omitted.
DEFAULT_TYPE = TokenType.RFID
# A CPO names one location; a location with more EVSEs than this in one request is not
# a real one (the body limit would allow tens of thousands).
MAX_EVSE_UIDS = 1000
INFO_LANGUAGE = "en"
INFO = {
    "ALLOWED": "",
    TokenBlock.LOST: "This card was reported lost and is blocked.",
    TokenBlock.BLOCKED: "This card is blocked by the driver's organisation.",
    "NOT_ALLOWED": "This token is not valid for public charging at the moment.",
}


def token_object(token: Token) -> dict[str, Any]:
    """The OCPI Token object of one of ours, as the list, authorize and pushes send it.

    ``whitelist`` is ALLOWED: a CPO may cache our tokens (we push every change) and may
    ask us in real time; ``NEVER`` would make every start of charge depend on us being
    reachable."""
    data: dict[str, Any] = {
        "country_code": settings.OCPI_COUNTRY_CODE,
        "party_id": settings.OCPI_PARTY_ID,
        "uid": token.uid,
        "type": token.type,
        "contract_id": token.contract_id,
    }
    if token.visual_number:
        data["visual_number"] = token.visual_number
    data["issuer"] = settings.OCPI_BUSINESS_NAME[:64]
    data["valid"] = bool(token.valid) and not token.blocked
    data["whitelist"] = "ALLOWED"
    data["last_updated"] = timestamp(token.last_updated)
    return data


def parse_type(raw: str | None) -> str:
    """The ``type`` URL parameter: one of the spec's TokenTypes, RFID when absent."""
    if raw is None or raw == "":
        return DEFAULT_TYPE
    if raw not in schema.TOKEN_TYPES:
        raise OcpiError(
            Status.INVALID_PARAMETERS,
            f"type must be one of {', '.join(schema.TOKEN_TYPES)}",
            http_status=400,
        )
    return raw


def parse_location(body: Any) -> dict[str, Any] | None:
    """The optional LocationReferences body, checked (CiString(36) location id and EVSE
    uids, at most ``MAX_EVSE_UIDS``); 2001 with the field that is wrong otherwise."""
    if body is None or body == {}:
        # No body, JSON null or an empty object: peers write all three for "none".
        return None
    problems = schema.check(schema.LOCATION_REFERENCES, body)
    if not problems and len(body.get("evse_uids") or []) > MAX_EVSE_UIDS:
        problems = [f"evse_uids: at most {MAX_EVSE_UIDS} items"]
    if problems:
        raise OcpiError(Status.INVALID_PARAMETERS, "LocationReferences: " + "; ".join(problems))
    location: dict[str, Any] = {"location_id": body["location_id"]}
    if body.get("evse_uids"):
        location["evse_uids"] = list(body["evse_uids"])
    return location


def unknown_token() -> OcpiError:
    return OcpiError(Status.UNKNOWN_TOKEN, "Unknown token", http_status=404)


def find_token(uid: str, token_type: str) -> Token:
    """Our token of this uid and type (one query), or the spec's 404 / 2004."""
    # A uid longer than a CiString(36) or with characters outside printable ASCII cannot
    # be one of ours: unknown, without a query.
    if not uid or len(uid) > 36 or not all(0x20 <= ord(c) <= 0x7E for c in uid):
        raise unknown_token()
    # uid is unique: no ORDER BY (``first()`` would add the model's ordering to sort).
    found = list(Token.objects.filter(uid=uid, type=token_type).order_by()[:1])
    if not found:
        raise unknown_token()
    return found[0]


def authorization_info(token: Token, location: dict[str, Any] | None) -> dict[str, Any]:
    """The AuthorizationInfo answering a real-time request for ``token``."""
    if token.blocked:
        allowed, text = "BLOCKED", INFO[token.blocked]
    elif token.valid:
        allowed, text = "ALLOWED", ""
    else:
        allowed, text = "NOT_ALLOWED", INFO["NOT_ALLOWED"]
    info: dict[str, Any] = {
        "allowed": allowed,
        "token": token_object(token),
        # Unique per answer (a UUID's 32 hex digits fit CiString(36)); the CPO repeats it
        # in the session and CDR. Not stored: authorisation stays one read, and sessions
        # and CDRs are matched by their token, not by this reference.
        "authorization_reference": uuid.uuid4().hex,
    }
    if allowed == "ALLOWED" and location is not None:
        # Only on ALLOWED: the spec returns the location when the driver may charge there.
        info["location"] = location
    if text:
        info["info"] = {"language": INFO_LANGUAGE, "text": text}
    return info


def authorize(uid: str, raw_type: str | None, body: Any) -> dict[str, Any]:
    token_type = parse_type(raw_type)
    location = parse_location(body)
    return authorization_info(find_token(uid, token_type), location)
