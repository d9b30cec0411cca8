"""The Locations module, Receiver side: the CPO's charge locations, kept so that reports
and a driver's sessions name the place (``name``, ``address``, ``operator_name``).

A location is stored whole (``body``, with its EVSEs and their connectors inside); a PUT
or PATCH on one EVSE or connector updates that part of the stored body and carries its
``last_updated`` up to the EVSE and the location, as the spec says. Every write checks
the whole of what it stores against the field rules (``schema.LOCATION``), so a PATCH
never leaves a location that breaks them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from evdms.ocpi import owned, schema
from evdms.ocpi.models import Partner, PartnerLocation
from evdms.ocpi.transport import OcpiError, Status, timestamp

UNKNOWN = "location"


def unknown_location(what: str = UNKNOWN) -> OcpiError:
    return owned.unknown(what, status=Status.UNKNOWN_LOCATION)


@dataclass(frozen=True)
class Address:
    """Where a location is: what a stored location keeps for reports."""

    name: str
    address: str
    operator_name: str


# --- validation ----------------------------------------------------------------------


def _normalise_evse(evse: Any) -> None:
    # The spec's "add an EVSE" example sends physical_reference as a number.
    if isinstance(evse, dict):
        reference = evse.get("physical_reference")
        if isinstance(reference, int) and not isinstance(reference, bool):
            evse["physical_reference"] = str(reference)


def _hours_problems(hours: Any, where: str) -> list[str]:
    if not isinstance(hours, dict):
        return []
    problems = []
    regular = hours.get("regular_hours") or []
    if hours.get("twentyfourseven") is False and not regular:
        problems.append(f"{where}.regular_hours: required when twentyfourseven is false")
    for index, period in enumerate(regular if isinstance(regular, list) else []):
        if not isinstance(period, dict):
            continue
        at = f"{where}.regular_hours[{index}]"
        weekday = period.get("weekday")
        if isinstance(weekday, int) and weekday > 7:  # below 1: the field rules say so
            problems.append(f"{at}.weekday: 1 (Monday) to 7 (Sunday)")
        begin, end = period.get("period_begin"), period.get("period_end")
        if isinstance(begin, str) and isinstance(end, str) and end <= begin:
            problems.append(f"{at}.period_end: later than period_begin")
    return problems


def evse_problems(evse: Any, where: str = "") -> list[str]:
    _normalise_evse(evse)
    return schema.check(schema.EVSE, evse, where)


def location_problems(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return schema.check(schema.LOCATION, body)
    evses = body.get("evses") or []
    evses = evses if isinstance(evses, list) else []  # any other type: the rules say so
    for evse in evses:
        _normalise_evse(evse)
    problems = schema.check(schema.LOCATION, body)
    problems += _hours_problems(body.get("opening_times"), "opening_times")
    uids = [e.get("uid") for e in evses if isinstance(e, dict)]
    if len(uids) != len(set(map(str, uids))):
        problems.append("evses: each uid once")
    return problems


def address_of(body: dict[str, Any], partner: Partner) -> Address:
    """Name, one-line address (street, postal code and city, country) and operator."""
    town = " ".join(p for p in (body.get("postal_code") or "", body.get("city") or "") if p)
    parts = [body.get("address") or "", town, body.get("country") or ""]
    operator = body.get("operator") if isinstance(body.get("operator"), dict) else None
    return Address(
        name=(body.get("name") or "")[:255],
        address=", ".join(p for p in parts if p)[:255],
        operator_name=((operator or {}).get("name") or partner.name)[:100],
    )


# --- reads ---------------------------------------------------------------------------


def location_get(
    *,
    partner: Partner,
    country_code: str,
    party_id: str,
    location_id: str,
    evse_uid: str | None = None,
    connector_id: str | None = None,
) -> dict[str, Any]:
    """The stored location, EVSE or connector, only to the party that owns it."""
    cc, pid = owned.own_party(partner, country_code, party_id, unknown=unknown_location())
    location = PartnerLocation.objects.filter(
        country_code=cc, party_id=pid, object_id=location_id
    ).first()
    if location is None:
        raise unknown_location()
    body: dict[str, Any] = location.body
    if evse_uid is None:
        return body
    evse = _find(body.get("evses"), "uid", evse_uid)
    if evse is None:
        raise unknown_location("EVSE")
    if connector_id is None:
        return evse
    connector = _find(evse.get("connectors"), "id", connector_id)
    if connector is None:
        raise unknown_location("connector")
    return connector


def _find(items: Any, key: str, value: str) -> dict[str, Any] | None:
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get(key) == value:
            return item
    return None


# --- writes --------------------------------------------------------------------------


def location_write(
    *,
    partner: Partner,
    country_code: str,
    party_id: str,
    location_id: str,
    body: Any,
    patch: bool,
    evse_uid: str | None = None,
    connector_id: str | None = None,
) -> bool:
    """Store a PUT or PATCH of a location, one of its EVSEs or one of their connectors.
    True when the object the URL names is new (HTTP 201). Atomic: an ``OcpiError``
    leaves the stored location as it was."""
    cc, pid = owned.own_party(partner, country_code, party_id)
    owned.segment(location_id, "location_id", 36)
    if evse_uid is not None:
        owned.segment(evse_uid, "evse_uid", 36)
    if connector_id is not None:
        owned.segment(connector_id, "connector_id", 36)
    if patch:
        owned.require_last_updated(body)
    elif not isinstance(body, dict):
        raise owned.invalid(["body: must be an object"])
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _write(partner, cc, pid, location_id, evse_uid, connector_id, body, patch)
        except IntegrityError:  # the same new location pushed twice at once: go again
            if attempt:
                raise
    raise RuntimeError("could not store a location")


def _write(
    partner: Partner,
    cc: str,
    pid: str,
    location_id: str,
    evse_uid: str | None,
    connector_id: str | None,
    body: dict[str, Any],
    patch: bool,
) -> bool:
    location = (
        PartnerLocation.objects.select_for_update()
        .filter(country_code=cc, party_id=pid, object_id=location_id)
        .first()
    )
    if evse_uid is None:
        if location is None and patch:
            raise unknown_location()
        created = location is None
        new = owned.merge(location.body, body) if patch and location else copy.deepcopy(body)
        identity = {"country_code": cc, "party_id": pid, "id": location_id}
        problems = owned.check_identity(body, identity) + location_problems(new)
        if problems:
            raise owned.invalid(problems)
        return _save(location, partner, cc, pid, location_id, new, created)
    if location is None:
        raise unknown_location()
    new = copy.deepcopy(location.body)
    evses = new.setdefault("evses", [])
    evse = _find(evses, "uid", evse_uid)
    if connector_id is None:
        if evse is None and patch:
            raise unknown_location("EVSE")
        created = evse is None
        part = owned.merge(evse, body) if patch and evse else copy.deepcopy(body)
        problems = owned.check_identity(body, {"uid": evse_uid}) + evse_problems(part)
        if problems:
            raise owned.invalid(problems)
        _replace(evses, "uid", evse_uid, part)
        new["last_updated"] = part["last_updated"]
    else:
        if evse is None:
            raise unknown_location("EVSE")
        connectors = evse.setdefault("connectors", [])
        connector = _find(connectors, "id", connector_id)
        if connector is None and patch:
            raise unknown_location("connector")
        created = connector is None
        part = owned.merge(connector, body) if patch and connector else copy.deepcopy(body)
        problems = owned.check_identity(body, {"id": connector_id})
        problems += schema.check(schema.CONNECTOR, part, "")
        if problems:
            raise owned.invalid(problems)
        _replace(connectors, "id", connector_id, part)
        # A connector's change is its EVSE's and its location's change too.
        moment = part.get("last_updated") or timestamp()
        evse["last_updated"] = new["last_updated"] = moment
    problems = location_problems(new)
    if problems:  # cannot happen for a stored location and a valid part; never stored
        raise owned.invalid(problems)
    _save(location, partner, cc, pid, location_id, new, False)
    return created


def _replace(items: list[Any], key: str, value: str, part: dict[str, Any]) -> None:
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get(key) == value:
            items[index] = part
            return
    items.append(part)


def _save(
    location: PartnerLocation | None,
    partner: Partner,
    cc: str,
    pid: str,
    location_id: str,
    body: dict[str, Any],
    created: bool,
) -> bool:
    where = address_of(body, partner)
    if location is None:
        location = PartnerLocation(country_code=cc, party_id=pid, object_id=location_id)
    location.partner = partner
    location.body = body
    location.last_updated = owned.timestamp_of(body)
    location.received_at = timezone.now()
    location.name = where.name
    location.address = where.address
    location.operator_name = where.operator_name
    location.save()
    return created
