"""One public charge as a CPO reports it, for the simulator (``simulate_cpo --charge``):
the location it happens at, the live session (started, then updated), and the CDR that
closes it — the objects the spec describes, with the simulator's party.

Kept apart from ``simulator.py`` (which speaks the protocol) because this is the story a
CPO tells, not the protocol: the demo and the tests use it to show a driver's public
session arrive the way it would from a real network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from evdms.ocpi.transport import timestamp

if TYPE_CHECKING:
    from evdms.ocpi.simulator import SimulatedCpo

PRICE_PER_KWH = Decimal("0.39")  # excl. VAT
VAT = Decimal("0.21")


@dataclass(frozen=True)
class Charge:
    """What one charge was: its ids, and what the platform answered at each step."""

    session_id: str
    cdr_id: str
    cdr_location: str  # where the platform keeps the CDR (its Location header)
    answers: dict[str, int]  # step → the platform's OCPI status code


def location_object(cpo: SimulatedCpo, location_id: str, now: datetime) -> dict[str, Any]:
    return {
        "country_code": cpo.country_code,
        "party_id": cpo.party_id,
        "id": location_id,
        "publish": True,
        "name": f"{cpo.name} Stationsplein",
        "address": "Stationsplein 1",
        "city": "Utrecht",
        "postal_code": "3511 ED",
        "country": "NLD",
        "coordinates": {"latitude": "52.089444", "longitude": "5.110278"},
        "evses": [
            {
                "uid": "E1",
                "evse_id": f"{cpo.country_code}*{cpo.party_id}*E1",
                "status": "AVAILABLE",
                "connectors": [
                    {
                        "id": "1",
                        "standard": "IEC_62196_T2",
                        "format": "SOCKET",
                        "power_type": "AC_3_PHASE",
                        "max_voltage": 400,
                        "max_amperage": 32,
                        "last_updated": timestamp(now),
                    }
                ],
                "last_updated": timestamp(now),
            }
        ],
        "operator": {"name": cpo.name},
        "time_zone": "Europe/Amsterdam",
        "last_updated": timestamp(now),
    }


def _cdr_token(token: dict[str, Any]) -> dict[str, Any]:
    return {
        "country_code": token["country_code"],
        "party_id": token["party_id"],
        "uid": token["uid"],
        "type": token["type"],
        "contract_id": token["contract_id"],
    }


def _price(kwh: Decimal) -> dict[str, float]:
    cent = Decimal("0.01")
    excl = (kwh * PRICE_PER_KWH).quantize(cent, rounding=ROUND_HALF_UP)
    incl = (excl * (1 + VAT)).quantize(cent, rounding=ROUND_HALF_UP)
    return {"excl_vat": float(excl), "incl_vat": float(incl)}


def session_object(
    cpo: SimulatedCpo,
    session_id: str,
    token: dict[str, Any],
    location_id: str,
    start: datetime,
    kwh: Decimal,
    status: str,
    now: datetime,
    end: datetime | None = None,
) -> dict[str, Any]:
    session: dict[str, Any] = {
        "country_code": cpo.country_code,
        "party_id": cpo.party_id,
        "id": session_id,
        "start_date_time": timestamp(start),
        "kwh": float(kwh),
        "cdr_token": _cdr_token(token),
        "auth_method": "AUTH_REQUEST",
        "location_id": location_id,
        "evse_uid": "E1",
        "connector_id": "1",
        "currency": "EUR",
        "total_cost": _price(kwh),
        "status": status,
        "last_updated": timestamp(now),
    }
    if end is not None:
        session["end_date_time"] = timestamp(end)
    return session


def cdr_object(
    cpo: SimulatedCpo,
    cdr_id: str,
    session_id: str,
    token: dict[str, Any],
    location: dict[str, Any],
    start: datetime,
    end: datetime,
    kwh: Decimal,
) -> dict[str, Any]:
    hours = Decimal((end - start).total_seconds()) / 3600
    return {
        "country_code": cpo.country_code,
        "party_id": cpo.party_id,
        "id": cdr_id,
        "start_date_time": timestamp(start),
        "end_date_time": timestamp(end),
        "session_id": session_id,
        "cdr_token": _cdr_token(token),
        "auth_method": "AUTH_REQUEST",
        "cdr_location": {
            "id": location["id"],
            "name": location["name"],
            "address": location["address"],
            "city": location["city"],
            "postal_code": location["postal_code"],
            "country": location["country"],
            "coordinates": location["coordinates"],
            "evse_uid": "E1",
            "evse_id": location["evses"][0]["evse_id"],
            "connector_id": "1",
            "connector_standard": "IEC_62196_T2",
            "connector_format": "SOCKET",
            "connector_power_type": "AC_3_PHASE",
        },
        "currency": "EUR",
        "charging_periods": [
            {
                "start_date_time": timestamp(start),
                "dimensions": [{"type": "ENERGY", "volume": float(kwh)}],
            }
        ],
        "total_cost": _price(kwh),
        "total_energy": float(kwh),
        "total_time": float(hours.quantize(Decimal("0.001"))),
        "last_updated": timestamp(end),
    }


def charge(cpo: SimulatedCpo, uid: str, *, kind: str = "APP_USER", kwh: str = "21.5") -> Charge:
    """Authorise ``uid``, then report a charge of ``kwh`` with it: the location, the
    session started and then completed, and its CDR. ``PeerError`` if the token is
    refused (no charge happens) or the platform refuses an object."""
    from evdms.ocpi.client import PeerError

    info = cpo.authorize(uid, kind)
    if info.get("allowed") != "ALLOWED":
        raise PeerError(f"token {uid} not allowed to charge: {info.get('allowed')}")
    token = info["token"]
    energy = Decimal(kwh)
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    start = end - timedelta(hours=2)
    stamp = f"{end:%Y%m%d%H%M%S}-{uid}"[:30]
    session_id, cdr_id, location_id = f"S-{stamp}", f"C-{stamp}", "SIM-LOC-1"
    answers: dict[str, int] = {}

    def sent(step: str, envelope: dict[str, Any]) -> None:
        answers[step] = int(envelope.get("status_code", 0))
        if answers[step] != 1000:
            raise PeerError(
                f"{step}: {envelope.get('status_code')} {envelope.get('status_message')}"
            )

    location = location_object(cpo, location_id, start)
    sent("location", cpo.push_location(location))
    half = (energy / 2).quantize(Decimal("0.001"))
    sent(
        "session started",
        cpo.push_session(
            session_object(cpo, session_id, token, location_id, start, half, "ACTIVE", start)
        ),
    )
    sent(
        "session completed",
        cpo.push_session(
            session_object(
                cpo, session_id, token, location_id, start, energy, "COMPLETED", end, end
            )
        ),
    )
    where = cpo.push_cdr(cdr_object(cpo, cdr_id, session_id, token, location, start, end, energy))
    answers["cdr"] = 1000
    return Charge(session_id=session_id, cdr_id=cdr_id, cdr_location=where, answers=answers)
