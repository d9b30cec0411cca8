"""Every write about chargers and their sessions. The gateway calls these (through
``sync_to_async``); each is atomic and safe to call twice with the same message."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from evdms.accounts.access import organisations_acting_for
from evdms.accounts.models import Organisation, User
from evdms.accounts.permissions import Actor, Permission, require
from evdms.audit.services import audit_record
from evdms.charging import bounds
from evdms.charging.credentials import (
    charger_password_hash,
    charger_password_problem,
    generate_charger_password,
)
from evdms.charging.meter import (
    SIGNED_SESSION_MAX,
    ParsedMeterValues,
    Reading,
    parse_meter_values,
)
from evdms.charging.models import (
    Charger,
    ChargingSession,
    MeterReading,
    SessionReview,
    SessionStatus,
)
from evdms.charging.protocol_issues import protocol_issue
from evdms.enrolment.models import LIVE_STATUSES, Membership

# Timestamps inside the accepted window (bounds.window) but this far from now are
# unusual: the session is kept and flagged, not held.
PLAUSIBLE_PAST = timedelta(days=366)
PLAUSIBLE_FUTURE = timedelta(hours=1)
# The beginning of every flag about a session's energy: a later, larger energy replaces
# the earlier flag instead of adding one per meter reading.
ENERGY_FLAG = "energy "

# The same words for an unknown address and for another organisation's driver.
NOT_YOUR_DRIVER = "None of your drivers has this e-mail address."


# --- registry -----------------------------------------------------------------------


def _check_driver(driver: User | None, organisation: Organisation) -> None:
    """A charger's driver is a driver of the charger's organisation: its sessions are
    attributed to that membership, so a charger never feeds another organisation."""
    if driver is None:
        return
    live = Membership.objects.filter(
        driver=driver, organisation=organisation, status__in=LIVE_STATUSES
    )
    if not live.exists():
        raise ValidationError({"driver": [NOT_YOUR_DRIVER]})


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
    """Register a charger; returns it and its password (shown once, stored hashed).
    Without ``password`` one is generated: what chargers should have (see ``credentials``).

    ``driver`` must have a live membership in ``organisation`` (find them with
    ``enrolment.access.find_driver_for``, which also says which organisation).
    """
    if actor is not None:
        require(actor, Permission.MANAGE_DRIVERS)
        if not organisations_acting_for(actor).filter(pk=organisation.pk).exists():
            raise ValidationError("A charger can only be registered for your organisation.")
    _check_driver(driver, organisation)
    identity = identity.strip()
    errors: dict[str, list[str]] = {}
    if not identity or len(identity) > 48 or not all(c.isalnum() or c in "-_." for c in identity):
        errors["identity"] = ["Use 1 to 48 letters, digits, - _ or . (the charger's OCPP id)."]
    elif Charger.objects.filter(identity=identity).exists():
        errors["identity"] = ["A charger with this identity is registered already."]
    if not serial.strip():
        errors["serial"] = ["This field is required."]
    if password:
        problem = charger_password_problem(password)
        if problem:
            errors["password"] = [problem]
    else:
        password = generate_charger_password()
    if errors:
        raise ValidationError(errors)
    charger = Charger.objects.create(
        organisation=organisation,
        identity=identity,
        serial=serial.strip(),
        vendor=vendor.strip(),
        model=model.strip(),
        password_hash=charger_password_hash(password),
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
    _check_driver(driver, charger.organisation)
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


def charger_password_rehash(*, charger_id: int, old_hash: str, password: str) -> bool:
    """Store the keyed hash of a password the charger just proved (its stored hash was a
    legacy argon2 one, or made with an old secret key). Only over the hash it was checked
    against: a password an admin set meanwhile is kept. True if replaced."""
    return bool(
        Charger.objects.filter(pk=charger_id, password_hash=old_hash).update(
            password_hash=charger_password_hash(password)
        )
    )


# --- what chargers report -----------------------------------------------------------


def charger_seen(charger_id: int, **fields: Any) -> None:
    Charger.objects.filter(pk=charger_id).update(last_seen_at=timezone.now(), **fields)


def charger_connector_status(charger_id: int, connector_id: int, status: str) -> None:
    bounds.check_int("connectorId", connector_id, 0, bounds.CONNECTOR_ID_MAX)
    bounds.check_text("status", status, 50)
    with transaction.atomic():
        charger = Charger.objects.select_for_update().get(pk=charger_id)
        charger.connector_status = {**charger.connector_status, str(connector_id): status}
        charger.last_seen_at = timezone.now()
        charger.save(update_fields=["connector_status", "last_seen_at"])


def _membership_at(charger: Charger, at: datetime | None) -> Membership | None:
    """The driver's connection in the charger's organisation at the session's start.

    Only that organisation's: a driver may also be a driver of other organisations, and
    a session on this charger is never theirs. A driver without one (not yet approved,
    or removed) leaves the session unattributed: no connection, no statement.
    """
    if charger.driver_id is None:
        return None
    at = at or timezone.now()
    return (
        Membership.objects.filter(
            driver_id=charger.driver_id,
            organisation_id=charger.organisation_id,
            connected_at__lte=at,
        )
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


def flag_and_hold(session: ChargingSession, reason: str) -> None:
    """A flag that also keeps the session out of reimbursement until an admin reviews
    it: the one way a session is held. A reason seen before changes nothing (an accepted
    session stays accepted); a rejected session stays rejected."""
    if reason in session.flags:
        return
    session.flags = [*session.flags, reason]
    if session.review != SessionReview.REJECTED:
        session.review = SessionReview.PENDING


def _received_time(session: ChargingSession, at: datetime, received: datetime) -> datetime:
    """The charger's time, or the time the message arrived (held) if it is not believable."""
    kept, problem = bounds.time_or_received(at, received)
    if problem:
        flag_and_hold(session, problem)
    return kept


def _check_register(session: ChargingSession, name: str, value_wh: int | None) -> None:
    if value_wh is not None and value_wh > bounds.REGISTER_WH_PLAUSIBLE:
        flag_and_hold(
            session, f"{name} {value_wh} Wh is beyond what a home charger's register reaches"
        )


def _check_energy(session: ChargingSession) -> None:
    """Hold a session whose energy no home charger delivers: above the per-session
    ceiling, or more than the connector's power in the session's duration. An energy
    no statement could hold is not kept at all (0, with the charger's figure in the
    flag; its meter start and stop stay as evidence)."""
    energy = session.energy_wh
    ceiling = bounds.max_session_wh()
    duration = session.duration
    if energy > bounds.SESSION_WH_STORABLE:
        reason = f"{ENERGY_FLAG}{energy} Wh beyond what can be reimbursed"
        session.energy_wh = 0
    elif energy > ceiling:
        reason = f"{ENERGY_FLAG}{energy} Wh above the ceiling of {ceiling} Wh per session"
    elif duration is not None and energy > bounds.max_deliverable_wh(duration):
        reason = (
            f"{ENERGY_FLAG}{energy} Wh in {duration} is more than a "
            f"{settings.MAX_CHARGER_POWER_W / 1000:g} kW connector delivers"
        )
    else:
        return
    if reason not in session.flags:
        session.flags = [f for f in session.flags if not f.startswith(ENERGY_FLAG)]
    flag_and_hold(session, reason)


def _new_session(
    charger: Charger, transaction_id: str, started_at: datetime | None, **fields: Any
) -> ChargingSession:
    """``started_at`` must be in the window already (``bounds.time_or_received``)."""
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
        signed = "\n".join([session.signed_meter_data, *parsed.signed_data]).strip()
        if len(signed) > SIGNED_SESSION_MAX:
            session.flags = [*session.flags, "signed meter data beyond what is kept per session"]
        else:
            session.signed_meter_data = signed
    for problem in parsed.problems:
        session.flags = [*session.flags, problem]
    if not parsed.readings:
        return
    for reading in parsed.readings:
        _check_register(session, "meter reading", reading.value_wh)
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
    _check_register(session, "meter stop", meter_stop)


# OCPP 1.6 ----------------------------------------------------------------------------
#
# The gateway checks the type of each field (the ocpp package's JSON schemas); these
# check what the schemas leave open (ranges, sizes, times) before anything is stored,
# raising ``bounds.Unstorable`` for a value no column can hold.


def _check_register_value(field: str, value: object) -> int:
    return bounds.check_int(field, value, -bounds.REGISTER_WH_STORABLE, bounds.REGISTER_WH_STORABLE)


def _check_transaction_id_v16(value: object) -> int:
    return bounds.check_int("transactionId", value, 0, bounds.TRANSACTION_ID_MAX)


def start_transaction_v16(
    charger_id: int, connector_id: int, id_tag: str, meter_start: int, timestamp: datetime
) -> int:
    """The transaction id for this start: a repeated StartTransaction gets the same one."""
    bounds.check_int("connectorId", connector_id, 0, bounds.CONNECTOR_ID_MAX)
    bounds.check_text("idTag", id_tag, ChargingSession._meta.get_field("id_tag").max_length or 0)
    _check_register_value("meterStart", meter_start)
    # The charger's own time, so a repeat matches even when that time is not believed.
    start_key = f"{connector_id}|{timestamp.isoformat()}|{meter_start}"
    started_at, clock_problem = bounds.time_or_received(timestamp, timezone.now())
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
                    started_at,
                    start_key=start_key,
                    connector_id=connector_id,
                    id_tag=id_tag,
                    meter_start_wh=meter_start,
                )
                if clock_problem:
                    flag_and_hold(session, f"start {clock_problem}")
                if meter_start < 0:
                    session.flags = [*session.flags, f"negative meter start {meter_start} Wh"]
                    session.meter_start_wh = 0
                _check_register(session, "meter start", meter_start)
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
    if transaction_id is not None:
        _check_transaction_id_v16(transaction_id)
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
        _check_energy(session)
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
    _check_transaction_id_v16(transaction_id)
    _check_register_value("meterStop", meter_stop)
    parsed = parse_meter_values(transaction_data)
    received = timezone.now()
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
        ended_at = _received_time(session, timestamp, received)
        _finish(session, ended_at, meter_stop, reason or "Local")
        _check_energy(session)
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


def _evse_connector(evse: dict[str, Any] | None) -> int:
    evse = evse or {}
    for field in ("id", "connector_id"):
        if evse.get(field) is not None:
            bounds.check_int(f"evse.{field}", evse[field], 0, bounds.CONNECTOR_ID_MAX)
    return int(evse.get("connector_id") or evse.get("id") or 1)


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
    transaction_id = bounds.check_text(
        "transactionInfo.transactionId",
        transaction_info.get("transaction_id"),
        ChargingSession._meta.get_field("transaction_id").max_length or 0,
    )
    bounds.check_int("seqNo", seq_no, 0, bounds.INT_STORABLE)
    connector_id = _evse_connector(evse)
    id_tag = bounds.check_text(
        "idToken.idToken",
        (id_token or {}).get("id_token", ""),
        ChargingSession._meta.get_field("id_tag").max_length or 0,
    )
    parsed = parse_meter_values(meter_value)
    at, clock_problem = bounds.time_or_received(timestamp, timezone.now())
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
                        at if event_type == "Started" else None,
                        connector_id=connector_id,
                        id_tag=id_tag,
                    )
                    if event_type != "Started":
                        session.flags = [*session.flags, f"{event_type} arrived before Started"]
                    session.save()
                if clock_problem and event_type in ("Started", "Ended"):
                    flag_and_hold(session, f"{event_type.lower()} {clock_problem}")
                if event_type == "Started" and (
                    session.started_at is None or at < session.started_at
                ):
                    session.started_at = at
                    if session.connection_id is None:
                        membership = _membership_at(session.charger, at)
                        session.connection = membership.connection if membership else None
                if id_tag and not session.id_tag:
                    session.id_tag = id_tag
                session.last_seq_no = max(seq_no, session.last_seq_no or seq_no)
                _add_readings(session, parsed)
                if event_type == "Ended" and session.status != SessionStatus.COMPLETED:
                    reason = str(transaction_info.get("stopped_reason") or "Local")
                    _finish(session, at, None, reason)
                _energy_from_readings(session)
                _check_energy(session)
                session.flags = list(dict.fromkeys(session.flags))  # repeats say nothing new
                session.save()
                return
        except IntegrityError:  # two copies of the first event at once: the other one won
            if attempt:
                raise


# --- review of held sessions ----------------------------------------------------------


class AlreadyReviewed(ValidationError):
    """Another admin decided first, or the session is not held (a 4xx, not a 500)."""


@transaction.atomic
def sessions_hold(*, session_ids: list[int], reason: str) -> int:
    """Hold sessions out of reimbursement with a reason: what the statement run does with
    a session it cannot put in a statement, so the rest of the run goes on."""
    held = 0
    for session in (
        ChargingSession.objects.select_for_update(of=("self",))
        .filter(pk__in=session_ids)
        .select_related("charger__organisation")
        .order_by("pk")
    ):
        old = session.review
        flag_and_hold(session, reason)
        session.save(update_fields=["flags", "review"])
        held += 1
        audit_record(
            actor=None,
            action="charging_session.hold",
            target=session,
            organisation=session.charger.organisation,
            changes={"review": [old, session.review], "reason": [None, reason]},
        )
    return held


@transaction.atomic
def session_review(*, actor: Actor, session: ChargingSession, accept: bool) -> ChargingSession:
    """An admin's decision on a held session: accepted, it counts on the next statement
    run; rejected, it is never reimbursed. Decided once (two admins never both win)."""
    require(actor, Permission.MANAGE_DRIVERS)
    if accept:
        start, stop = session.meter_start_wh, session.meter_stop_wh
        if start is not None and stop is not None and stop - start > bounds.SESSION_WH_STORABLE:
            raise ValidationError(
                {
                    "decision": [
                        "The charger's figures are beyond anything a statement can hold; "
                        "reject this session."
                    ]
                }
            )
    decision = SessionReview.ACCEPTED if accept else SessionReview.REJECTED
    now = timezone.now()
    won = ChargingSession.objects.filter(
        pk=session.pk, review=SessionReview.PENDING, statement_line__isnull=True
    ).update(review=decision, reviewed_by=actor.user, reviewed_at=now)
    if not won:
        raise AlreadyReviewed(
            {"decision": ["This session is not awaiting review (another admin decided)."]}
        )
    session.refresh_from_db()
    audit_record(
        actor=actor,
        action=f"charging_session.{'accept' if accept else 'reject'}",
        target=session,
        changes={
            "review": [SessionReview.PENDING, decision],
            "energy_wh": [None, session.energy_wh],
            "flags": [None, "; ".join(session.flags)],
        },
    )
    return session
