"""Every write about chargers and their sessions. The gateway calls these (through
``sync_to_async``); each is atomic and safe to call twice with the same message."""

from __future__ import annotations

import itertools
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from evdms.accounts.models import Organisation, User
from evdms.accounts.permissions import Actor, Permission, require
from evdms.audit.services import audit_record
from evdms.charging.meter import ParsedMeterValues, Reading, parse_meter_values
from evdms.charging.models import (
    Charger,
    ChargingSession,
    MeterReading,
    SessionStatus,
)
from evdms.charging.protocol_issues import protocol_issue
from evdms.enrolment.models import Membership

# Timestamps further from now than this are "absurd": the session is kept, but flagged.
PLAUSIBLE_PAST = timedelta(days=366)
PLAUSIBLE_FUTURE = timedelta(hours=1)


# --- registry -----------------------------------------------------------------------


@transaction.atomic
def charger_register(
    *,
    actor: Actor | None,
    organisation: Organisation,
    identity: str,
    serial: str,
    password: str | None = None,
    vendor: str = "",
    model: str = "",
    driver: User | None = None,
) -> tuple[Charger, str]:
    """Register a charger; returns it and its password (shown once, stored hashed)."""
    if actor is not None:
        require(actor, Permission.MANAGE_DRIVERS)
    identity = identity.strip()
    errors: dict[str, list[str]] = {}
    if not identity or len(identity) > 48 or not all(c.isalnum() or c in "-_." for c in identity):
        errors["identity"] = ["Use 1 to 48 letters, digits, - _ or . (the charger's OCPP id)."]
    elif Charger.objects.filter(identity=identity).exists():
        errors["identity"] = ["A charger with this identity is registered already."]
    if not serial.strip():
        errors["serial"] = ["This field is required."]
    password = password or secrets.token_urlsafe(18)
    if len(password) < 16:
        errors["password"] = ["Use at least 16 characters (OCPP security profile 1)."]
    if errors:
        raise ValidationError(errors)
    charger = Charger.objects.create(
        organisation=organisation,
        identity=identity,
        serial=serial.strip(),
        vendor=vendor.strip(),
        model=model.strip(),
        password_hash=make_password(password),
        driver=driver,
    )
    audit_record(
        actor=actor,
        action="charger.register",
        target=charger,
        organisation=organisation,
        changes={"identity": [None, identity], "driver": [None, driver.email if driver else None]},
    )
    return charger, password


@transaction.atomic
def charger_link(*, actor: Actor, charger: Charger, driver: User | None) -> Charger:
    require(actor, Permission.MANAGE_DRIVERS)
    old = charger.driver.email if charger.driver else None
    charger.driver = driver
    charger.save(update_fields=["driver"])
    audit_record(
        actor=actor,
        action="charger.link" if driver else "charger.unlink",
        target=charger,
        changes={"driver": [old, driver.email if driver else None]},
    )
    return charger


def charger_authenticate(identity: str, password: str) -> Charger | None:
    charger = charger_by_identity(identity)
    if charger is None or not charger_password_ok(charger, password):
        return None
    return charger


def charger_by_identity(identity: str) -> Charger | None:
    return Charger.objects.filter(identity=identity).first()


def charger_password_ok(charger: Charger, password: str) -> bool:
    """Checks the password only (no database): the gateway runs it off the database
    thread, as each check costs about 0.2 s of CPU (argon2) and a restarted gateway
    has every charger reconnecting at once."""
    return check_password(password, charger.password_hash)


# --- what chargers report -----------------------------------------------------------


def charger_seen(charger_id: int, **fields: Any) -> None:
    Charger.objects.filter(pk=charger_id).update(last_seen_at=timezone.now(), **fields)


def charger_connector_status(charger_id: int, connector_id: int, status: str) -> None:
    with transaction.atomic():
        charger = Charger.objects.select_for_update().get(pk=charger_id)
        charger.connector_status = {**charger.connector_status, str(connector_id): status}
        charger.last_seen_at = timezone.now()
        charger.save(update_fields=["connector_status", "last_seen_at"])


def _membership_at(charger: Charger, at: datetime | None) -> Membership | None:
    """The driver's connection of the charger's organisations at the session's start."""
    if charger.driver_id is None:
        return None
    at = at or timezone.now()
    return (
        Membership.objects.filter(driver_id=charger.driver_id, connected_at__lte=at)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=at))
        .exclude(status__in=["pending", "denied", "withdrawn"])
        .select_related("connection")
        .order_by("-connected_at")
        .first()
    )


def _plausibility_flags(at: datetime | None) -> list[str]:
    if at is None:
        return []
    now = timezone.now()
    if at > now + PLAUSIBLE_FUTURE:
        return [f"timestamp in the future: {at.isoformat()}"]
    if at < now - PLAUSIBLE_PAST:
        return [f"timestamp more than a year old: {at.isoformat()}"]
    return []


def _new_session(
    charger: Charger, transaction_id: str, started_at: datetime | None, **fields: Any
) -> ChargingSession:
    membership = _membership_at(charger, started_at)
    return ChargingSession(
        charger=charger,
        driver_id=charger.driver_id,
        connection=membership.connection if membership else None,
        transaction_id=transaction_id,
        started_at=started_at,
        flags=_plausibility_flags(started_at),
        **fields,
    )


def _add_readings(session: ChargingSession, parsed: ParsedMeterValues) -> None:
    """Store new readings (repeats are ignored) and follow the energy register."""
    if parsed.signed_data:
        session.signed_meter_data = "\n".join(
            [session.signed_meter_data, *parsed.signed_data]
        ).strip()
    for problem in parsed.problems:
        session.flags = [*session.flags, problem]
    if not parsed.readings:
        return
    MeterReading.objects.bulk_create(
        [
            MeterReading(session=session, at=r.at, measurand=r.measurand, value_wh=r.value_wh)
            for r in parsed.readings
        ],
        ignore_conflicts=True,
    )
    _check_order(session, list(parsed.readings))
    if session.meter_stop_wh is None and session.meter_start_wh is not None:
        highest = max(r.value_wh for r in parsed.readings)
        session.energy_wh = max(session.energy_wh, highest - session.meter_start_wh)


def _stored_values(session: ChargingSession) -> list[int]:
    return list(
        MeterReading.objects.filter(session=session)
        .order_by("at")
        .values_list("value_wh", flat=True)
    )


def _check_order(session: ChargingSession, new: list[Reading] | None = None) -> None:
    """Flag a register that goes down between readings, in time order (not arrival).

    Readings that come after everything stored (the usual case) are compared with the
    latest stored one only; anything arriving out of order gets the full check.
    """
    if new:
        ordered = sorted(new, key=lambda r: r.at)
        before = (
            MeterReading.objects.filter(session=session, at__lt=ordered[0].at)
            .order_by("-at")
            .values_list("value_wh", flat=True)
            .first()
        )
        later_exists = MeterReading.objects.filter(session=session, at__gt=ordered[-1].at).exists()
        if not later_exists:
            values = ([before] if before is not None else []) + [r.value_wh for r in ordered]
            for a, b in itertools.pairwise(values):
                if b < a:
                    session.flags = [*session.flags, f"meter went down: {a} → {b} Wh"]
            return
    values = _stored_values(session)
    session.flags = [f for f in session.flags if not f.startswith("meter went down")]
    for a, b in itertools.pairwise(values):
        if b < a:
            session.flags = [*session.flags, f"meter went down: {a} → {b} Wh"]


def _finish(
    session: ChargingSession, ended_at: datetime, meter_stop: int | None, reason: str
) -> None:
    session.ended_at = ended_at
    session.status = SessionStatus.COMPLETED
    session.stop_reason = reason[:30]
    if meter_stop is not None:
        session.meter_stop_wh = meter_stop
        start = session.meter_start_wh if session.meter_start_wh is not None else meter_stop
        if meter_stop < start:
            session.flags = [*session.flags, f"meter stop {meter_stop} Wh below start {start} Wh"]
        session.energy_wh = max(0, meter_stop - start)
    if session.started_at and ended_at < session.started_at:
        session.flags = [*session.flags, "ended before it started"]
    session.flags = [*session.flags, *_plausibility_flags(ended_at)]


# OCPP 1.6 ----------------------------------------------------------------------------


def start_transaction_v16(
    charger_id: int, connector_id: int, id_tag: str, meter_start: int, timestamp: datetime
) -> int:
    """The transaction id for this start: a repeated StartTransaction gets the same one."""
    start_key = f"{connector_id}|{timestamp.isoformat()}|{meter_start}"
    for _ in range(2):
        existing = ChargingSession.objects.filter(
            charger_id=charger_id, start_key=start_key
        ).first()
        if existing is not None:
            return int(existing.transaction_id)
        try:
            with transaction.atomic():
                charger = Charger.objects.get(pk=charger_id)
                session = _new_session(
                    charger,
                    uuid.uuid4().hex,
                    timestamp,
                    start_key=start_key,
                    connector_id=connector_id,
                    id_tag=id_tag,
                    meter_start_wh=meter_start,
                )
                if meter_start < 0:
                    session.flags = [*session.flags, f"negative meter start {meter_start} Wh"]
                    session.meter_start_wh = 0
                session.save()
                session.transaction_id = str(session.pk)
                session.save(update_fields=["transaction_id"])
                return session.pk
        except IntegrityError:  # the same start arrived twice at once: read the winner
            continue
    raise RuntimeError("could not record StartTransaction")


def meter_values_v16(
    charger_id: int, transaction_id: int | None, meter_value: list[dict[str, Any]]
) -> None:
    parsed = parse_meter_values(meter_value)
    with transaction.atomic():
        session = (
            ChargingSession.objects.select_for_update()
            .filter(charger_id=charger_id, transaction_id=str(transaction_id))
            .first()
            if transaction_id is not None
            else None
        )
        if session is None:
            if parsed.readings:
                protocol_issue(
                    charger_id,
                    "MeterValues for unknown transaction",
                    f"transaction {transaction_id}: {len(parsed.readings)} reading(s)",
                )
            return
        _add_readings(session, parsed)
        session.save()


def stop_transaction_v16(
    charger_id: int,
    transaction_id: int,
    meter_stop: int,
    timestamp: datetime,
    reason: str = "",
    transaction_data: list[dict[str, Any]] | None = None,
) -> None:
    """Close the session. A stop for an unknown transaction is kept as a flagged session."""
    parsed = parse_meter_values(transaction_data)
    with transaction.atomic():
        session = (
            ChargingSession.objects.select_for_update()
            .filter(charger_id=charger_id, transaction_id=str(transaction_id))
            .first()
        )
        if session is None:
            charger = Charger.objects.get(pk=charger_id)
            started = min((r.at for r in parsed.readings), default=None)
            session = _new_session(charger, str(transaction_id), started)
            session.flags = [*session.flags, "StopTransaction for an unknown transaction"]
            session.save()
        elif session.status == SessionStatus.COMPLETED:
            return  # a retransmitted stop: nothing changes
        _add_readings(session, parsed)
        _finish(session, timestamp, meter_stop, reason or "Local")
        session.save()


# OCPP 2.0.1 --------------------------------------------------------------------------


def _energy_from_readings(session: ChargingSession) -> None:
    """2.0.1 has no meterStart/meterStop: the first and last register readings by time
    are, whatever order the events arrived in."""
    values = _stored_values(session)
    if not values:
        return
    session.meter_start_wh = values[0]
    last = values[-1] if session.status == SessionStatus.COMPLETED else max(values)
    if session.status == SessionStatus.COMPLETED:
        session.meter_stop_wh = values[-1]
    session.energy_wh = max(0, last - values[0])


def transaction_event_v201(
    charger_id: int,
    event_type: str,
    timestamp: datetime,
    seq_no: int,
    transaction_info: dict[str, Any],
    meter_value: list[dict[str, Any]] | None,
    id_token: dict[str, Any] | None,
    evse: dict[str, Any] | None,
) -> None:
    """Started / Updated / Ended, in any order and any number of times: one session."""
    transaction_id = str(transaction_info["transaction_id"])
    parsed = parse_meter_values(meter_value)
    for attempt in range(2):
        try:
            with transaction.atomic():
                session = (
                    ChargingSession.objects.select_for_update()
                    .filter(charger_id=charger_id, transaction_id=transaction_id)
                    .first()
                )
                if session is None:
                    charger = Charger.objects.get(pk=charger_id)
                    session = _new_session(
                        charger,
                        transaction_id,
                        timestamp if event_type == "Started" else None,
                        connector_id=int(
                            (evse or {}).get("connector_id") or (evse or {}).get("id") or 1
                        ),
                        id_tag=str((id_token or {}).get("id_token", ""))[:36],
                    )
                    if event_type != "Started":
                        session.flags = [*session.flags, f"{event_type} arrived before Started"]
                    session.save()
                if event_type == "Started" and (
                    session.started_at is None or timestamp < session.started_at
                ):
                    session.started_at = timestamp
                    if session.connection_id is None:
                        membership = _membership_at(session.charger, timestamp)
                        session.connection = membership.connection if membership else None
                if id_token and not session.id_tag:
                    session.id_tag = str(id_token.get("id_token", ""))[:36]
                session.last_seq_no = max(seq_no, session.last_seq_no or seq_no)
                _add_readings(session, parsed)
                if event_type == "Ended" and session.status != SessionStatus.COMPLETED:
                    reason = str(transaction_info.get("stopped_reason") or "Local")
                    _finish(session, timestamp, None, reason)
                _energy_from_readings(session)
                session.flags = list(dict.fromkeys(session.flags))  # repeats say nothing new
                session.save()
                return
        except IntegrityError:  # two copies of the first event at once: the other one won
            if attempt:
                raise
