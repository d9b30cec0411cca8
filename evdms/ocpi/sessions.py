"""The Sessions module, Receiver side: a CPO's live sessions, so a driver sees their
public charging while it happens.

Every PUT or PATCH stores the whole session (``PartnerSession.body``; a PATCH merged
into it, its ``charging_periods`` added to the stored ones) and then tells the session
core what the session now says (``public_session_record``), when its token is ours:

- the key is ``session_key(country_code, party_id, id)``, the same the session's CDR
  uses, so the CDR (``final``) lands on the same ``ChargingSession`` and, after it, live
  updates change nothing there (the core's rule);
- PENDING and RESERVATION sessions have not charged yet: kept here, not shown, until
  the CPO says ACTIVE (or COMPLETED);
- INVALID ("will not be billed"): a session already shown is held out of money for a
  person to review (flagged with the reason); one never shown stays unshown;
- a token that is not ours (another eMSP's party, or no token of ours has that uid):
  the session is kept here (``charging_session`` empty, listed for platform operators
  in the admin) and shown to no one.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from evdms.charging import bounds
from evdms.charging.models import ChargingSession
from evdms.charging.services.sessions import PartnerRecord, public_session_record
from evdms.ocpi import owned, schema
from evdms.ocpi.keys import session_key
from evdms.ocpi.matching import token_for
from evdms.ocpi.models import Partner, PartnerLocation, PartnerSession
from evdms.ocpi.transport import OcpiError

INVALID_HOLD = "the charge point operator declared the session invalid (not billed)"
NOT_YET_CHARGING = ("PENDING", "RESERVATION")


def unknown_session() -> OcpiError:
    return owned.unknown("session")


# --- validation ----------------------------------------------------------------------


@dataclass(frozen=True)
class SessionValues:
    """What a valid session says, in our types."""

    started_at: datetime
    ended_at: datetime | None
    energy_wh: int
    cost_excl_vat: Decimal | None
    cost_incl_vat: Decimal | None


def session_problems(body: Any) -> list[str]:
    problems = schema.check(schema.SESSION, body)
    if problems or not isinstance(body, dict):
        return problems
    if not schema.CURRENCY.match(body["currency"]):
        problems.append("currency: an ISO 4217 code, e.g. EUR")
    try:
        started = _in_window(body, "start_date_time")
        ended = _in_window(body, "end_date_time")
    except ValueError as exc:
        return [*problems, str(exc)]
    if started is not None and ended is not None and ended < started:
        problems.append("end_date_time: before start_date_time")
    if owned.kwh_to_wh(body["kwh"]) > bounds.SESSION_WH_STORABLE:
        problems.append(f"kwh: at most {bounds.SESSION_WH_STORABLE // 1000} kWh")
    return problems


def _in_window(body: dict[str, Any], name: str) -> datetime | None:
    moment = owned.timestamp_of(body, name)
    if moment is None:
        return None
    try:
        return bounds.check_time(moment)
    except bounds.OutOfWindow as exc:
        raise ValueError(f"{name}: {exc}") from None


def values_of(body: dict[str, Any]) -> SessionValues:
    started = owned.timestamp_of(body, "start_date_time")
    assert started is not None  # required by the field rules
    cost = body.get("total_cost") or {}
    excl, incl = cost.get("excl_vat"), cost.get("incl_vat")
    return SessionValues(
        started_at=started,
        ended_at=owned.timestamp_of(body, "end_date_time"),
        energy_wh=owned.kwh_to_wh(body["kwh"]),
        cost_excl_vat=_money(excl),
        cost_incl_vat=_money(incl),
    )


def _money(value: int | float | None) -> Decimal | None:
    """The partner's amount as a Decimal, to the 4 decimals our columns keep (half-up;
    OCPI numbers carry 4 decimals, so this rounds only what a CPO sends beyond them)."""
    if value is None:
        return None
    return owned.decimal_of(value).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


# --- reads ---------------------------------------------------------------------------


def session_get(
    *, partner: Partner, country_code: str, party_id: str, session_id: str
) -> dict[str, Any]:
    cc, pid = owned.own_party(partner, country_code, party_id, unknown=unknown_session())
    session = PartnerSession.objects.filter(
        country_code=cc, party_id=pid, object_id=session_id
    ).first()
    if session is None:
        raise unknown_session()
    body: dict[str, Any] = session.body
    return body


# --- writes --------------------------------------------------------------------------


def session_write(
    *,
    partner: Partner,
    country_code: str,
    party_id: str,
    session_id: str,
    body: Any,
    patch: bool,
) -> bool:
    """Store a PUT (the whole session) or a PATCH (merged into the stored one) and show
    it to its driver where it is theirs. True when the session is new (HTTP 201).
    Atomic: an ``OcpiError`` stores nothing, here or in the session core."""
    cc, pid = owned.own_party(partner, country_code, party_id)
    owned.segment(session_id, "session_id", 36)
    if patch:
        owned.require_last_updated(body)
    elif not isinstance(body, dict):
        raise owned.invalid(["body: must be an object"])
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _write(partner, cc, pid, session_id, body, patch)
        except IntegrityError:  # the same new session pushed twice at once: go again
            if attempt:
                raise
    raise RuntimeError("could not store a session")


def _write(
    partner: Partner, cc: str, pid: str, session_id: str, body: dict[str, Any], patch: bool
) -> bool:
    session = (
        PartnerSession.objects.select_for_update()
        .filter(country_code=cc, party_id=pid, object_id=session_id)
        .first()
    )
    if session is None and patch:
        raise unknown_session()
    created = session is None
    if session is not None and patch:
        new = owned.merge(session.body, body, append=("charging_periods",))
    else:
        new = copy.deepcopy(body)
    identity = {"country_code": cc, "party_id": pid, "id": session_id}
    problems = owned.check_identity(body, identity) + session_problems(new)
    if problems:
        raise owned.invalid(problems)
    if session is None:
        session = PartnerSession(country_code=cc, party_id=pid, object_id=session_id)
    session.partner = partner
    session.body = new
    session.status = new["status"]
    session.last_updated = owned.timestamp_of(new)
    session.received_at = timezone.now()
    shown = _show(session, partner, new)
    if shown is not None:
        session.charging_session = shown
    session.save()
    return created


def _show(
    session: PartnerSession, partner: Partner, body: dict[str, Any]
) -> ChargingSession | None:
    """The driver's ``ChargingSession`` for this session, created or brought up to date;
    None when it is not (yet) anyone's to see."""
    status = body["status"]
    already = session.charging_session_id is not None
    if status in NOT_YET_CHARGING and not already:
        return None
    if status == "INVALID" and not already:
        return None
    cdr_token = body["cdr_token"]
    token = token_for(
        cdr_token["uid"],
        country_code=cdr_token["country_code"],
        party_id=cdr_token["party_id"],
    )
    if token is None:
        return None
    location = PartnerLocation.objects.filter(
        country_code=session.country_code,
        party_id=session.party_id,
        object_id=body["location_id"],
    ).first()
    values = values_of(body)
    record = PartnerRecord(
        key=session_key(session.country_code, session.party_id, session.object_id),
        organisation_id=token.organisation_id,
        driver_id=token.driver_id,
        transaction_id=session.object_id,
        started_at=values.started_at,
        ended_at=values.ended_at,
        energy_wh=values.energy_wh,
        completed=status == "COMPLETED",
        final=False,  # only the CDR is the closing, priced record
        token=token.uid,
        operator=location.operator_name if location else partner.name[:100],
        location_name=location.name if location else "",
        location_address=location.address if location else "",
        cost_excl_vat=values.cost_excl_vat,
        cost_incl_vat=values.cost_incl_vat,
        currency=body["currency"],
        hold=INVALID_HOLD if status == "INVALID" else "",
    )
    try:
        return public_session_record(record)
    except bounds.Unstorable as exc:
        raise owned.invalid([f"{exc.field}: {exc}"]) from None
