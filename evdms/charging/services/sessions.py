"""The session core: every write about charging sessions, whatever carried the news.

A home charger's protocol adapter and, next, public charging's records from roaming
partners translate their messages into these calls, with plain values: the charger, the
connector, the session's key, times, meter registers in integer Wh, readings as
``Reading``. So every rule lives here once: plausibility flags, a register going down,
energy a home charger cannot deliver (held for review, ``bounds``), attribution to a
membership of the charger's organisation only, and a repeated message changing nothing.

Each call is atomic and safe to call twice with the same values. A value no column can
hold raises ``bounds.Unstorable`` before anything is stored; adapters check their own
fields first, so their refusals name the field as their partner knows it.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from evdms.audit.models import AuditAction
from evdms.audit.services import audit_record
from evdms.charging import bounds
from evdms.charging.models import (
    ENERGY_REGISTER,
    Charger,
    ChargingSession,
    MeterReading,
    SessionKind,
    SessionPurpose,
    SessionReview,
    SessionStatus,
)
from evdms.enrolment.models import Membership

# Timestamps inside the accepted window (bounds.window) but this far from now are
# unusual: the session is kept and flagged, not held.
PLAUSIBLE_PAST = timedelta(days=366)
PLAUSIBLE_FUTURE = timedelta(hours=1)
# The beginning of every flag about a session's energy: a later, larger energy replaces
# the earlier flag instead of adding one per meter reading.
ENERGY_FLAG = "energy "
# Signed meter data (an OCMF document is one to two thousand characters) is kept per
# session in bounded space, so a charger cannot grow one row without end.
SIGNED_SESSION_MAX = 200_000

_KEY_MAX = ChargingSession._meta.get_field("transaction_id").max_length or 0
_TOKEN_MAX = ChargingSession._meta.get_field("id_tag").max_length or 0


@dataclass(frozen=True)
class Reading:
    """An energy register reading at the meter's time (already inside ``bounds.window``)."""

    at: datetime
    value_wh: int
    measurand: str = ENERGY_REGISTER


@dataclass
class MeterReport:
    """What one message said about a session's meter: register readings, signed meter
    data (kept verbatim, as evidence) and what could not be read (each kept as a flag)."""

    readings: list[Reading] = field(default_factory=list)
    signed_data: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class SessionEvent(Enum):
    """Where a session reported in events stands (``session_event``)."""

    STARTED = "started"
    UPDATED = "updated"
    ENDED = "ended"


# --- what every call checks first -----------------------------------------------------


def _check_register(field_name: str, value_wh: object) -> int:
    return bounds.check_int(
        field_name, value_wh, -bounds.REGISTER_WH_STORABLE, bounds.REGISTER_WH_STORABLE
    )


def _check_connector(connector: object) -> int:
    return bounds.check_int("connector", connector, 0, bounds.CONNECTOR_ID_MAX)


def _check_token(token: object) -> str:
    return bounds.check_text("token", token, _TOKEN_MAX)


def _check_key(key: object) -> str:
    return bounds.check_text("key", key, _KEY_MAX)


# --- the rules ------------------------------------------------------------------------


def membership_at(charger: Charger, at: datetime | None) -> Membership | None:
    """The driver's connection in the charger's organisation at the session's start.

    Only that organisation's: a driver may also be a driver of other organisations, and
    a session on this charger is never theirs. A driver without one (not yet approved,
    or removed) leaves the session unattributed: no connection, no statement.
    """
    if charger.driver_id is None:
        return None
    return membership_of(charger.driver_id, charger.organisation_id, at)


def membership_of(driver_id: int, organisation_id: int, at: datetime | None) -> Membership | None:
    """The driver's membership in force in that organisation at ``at`` (now if None)."""
    at = at or timezone.now()
    return (
        Membership.objects.filter(
            driver_id=driver_id,
            organisation_id=organisation_id,
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
    session stays accepted); a rejected session stays rejected. Not saved: the caller
    saves the session with its other changes."""
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


def _check_plausible_register(session: ChargingSession, name: str, value_wh: int | None) -> None:
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
    charger: Charger, key: str, started_at: datetime | None, **fields: Any
) -> ChargingSession:
    """``started_at`` must be in the window already (``bounds.time_or_received``)."""
    membership = membership_at(charger, started_at)
    return ChargingSession(
        charger=charger,
        organisation_id=charger.organisation_id,
        driver_id=charger.driver_id,
        connection=membership.connection if membership else None,
        transaction_id=key,
        started_at=started_at,
        flags=_plausibility_flags(started_at),
        **fields,
    )


def _locked(charger_id: int, key: str) -> ChargingSession | None:
    return (
        ChargingSession.objects.select_for_update()
        .filter(charger_id=charger_id, transaction_id=key)
        .first()
    )


def _add_readings(session: ChargingSession, report: MeterReport) -> None:
    """Store new readings (repeats are ignored) and follow the energy register."""
    if report.signed_data:
        signed = "\n".join([session.signed_meter_data, *report.signed_data]).strip()
        if len(signed) > SIGNED_SESSION_MAX:
            session.flags = [*session.flags, "signed meter data beyond what is kept per session"]
        else:
            session.signed_meter_data = signed
    for problem in report.problems:
        session.flags = [*session.flags, problem]
    if not report.readings:
        return
    for reading in report.readings:
        _check_plausible_register(session, "meter reading", reading.value_wh)
    MeterReading.objects.bulk_create(
        [
            MeterReading(session=session, at=r.at, measurand=r.measurand, value_wh=r.value_wh)
            for r in report.readings
        ],
        ignore_conflicts=True,
    )
    _check_order(session, list(report.readings))
    if session.meter_stop_wh is None and session.meter_start_wh is not None:
        highest = max(r.value_wh for r in report.readings)
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
    _check_plausible_register(session, "meter stop", meter_stop)


def _energy_from_readings(session: ChargingSession) -> None:
    """A session reported without a meter start or stop: the first and last register
    readings by time are its start and stop, whatever order they arrived in."""
    values = _stored_values(session)
    if not values:
        return
    session.meter_start_wh = values[0]
    last = values[-1] if session.status == SessionStatus.COMPLETED else max(values)
    if session.status == SessionStatus.COMPLETED:
        session.meter_stop_wh = values[-1]
    session.energy_wh = max(0, last - values[0])


# --- sessions keyed by us: start, readings, finish ------------------------------------


def session_start(
    *,
    charger_id: int,
    connector: int,
    started_at: datetime,
    meter_start_wh: int,
    token: str = "",
) -> str:
    """Start a session on the charger's meter register; its key, handed out here.

    A repeated start (the same connector, time on the charger's clock and meter start)
    gets the key it got the first time. A time outside the window is replaced by the
    time the start arrived, and the session held.
    """
    _check_connector(connector)
    _check_token(token)
    _check_register("meter_start_wh", meter_start_wh)
    # The charger's own time, so a repeat matches even when that time is not believed.
    start_key = f"{connector}|{started_at.isoformat()}|{meter_start_wh}"
    kept_start, clock_problem = bounds.time_or_received(started_at, timezone.now())
    for _ in range(2):
        existing = ChargingSession.objects.filter(
            charger_id=charger_id, start_key=start_key
        ).first()
        if existing is not None:
            return existing.transaction_id
        try:
            with transaction.atomic():
                charger = Charger.objects.get(pk=charger_id)
                session = _new_session(
                    charger,
                    uuid.uuid4().hex,
                    kept_start,
                    start_key=start_key,
                    connector_id=connector,
                    id_tag=token,
                    meter_start_wh=meter_start_wh,
                )
                if clock_problem:
                    flag_and_hold(session, f"start {clock_problem}")
                if meter_start_wh < 0:
                    session.flags = [*session.flags, f"negative meter start {meter_start_wh} Wh"]
                    session.meter_start_wh = 0
                _check_plausible_register(session, "meter start", meter_start_wh)
                session.save()
                # The session's own id: unique without a counter of our own, and a whole
                # number, which some chargers' protocols require of a key.
                session.transaction_id = str(session.pk)
                session.save(update_fields=["transaction_id"])
                return session.transaction_id
        except IntegrityError:  # the same start arrived twice at once: read the winner
            continue
    raise RuntimeError("could not record the start of a session")


def session_add_readings(*, charger_id: int, key: str, report: MeterReport) -> bool:
    """Add a message's readings to the session; ``False`` (nothing stored) if the
    charger has no session of that key. A reading seen before adds nothing."""
    _check_key(key)
    with transaction.atomic():
        session = _locked(charger_id, key)
        if session is None:
            return False
        _add_readings(session, report)
        _check_energy(session)
        session.save()
    return True


def session_finish(
    *,
    charger_id: int,
    key: str,
    ended_at: datetime,
    meter_stop_wh: int,
    reason: str,
    report: MeterReport | None = None,
    unknown_flag: str = "finished without a reported start",
) -> None:
    """Close the session at ``meter_stop_wh``, with the readings that came with it.

    A finish for a session never started is kept, from its earliest reading, with
    ``unknown_flag``; a repeated finish changes nothing.
    """
    _check_key(key)
    _check_register("meter_stop_wh", meter_stop_wh)
    report = report or MeterReport()
    received = timezone.now()
    with transaction.atomic():
        session = _locked(charger_id, key)
        if session is None:
            charger = Charger.objects.get(pk=charger_id)
            started = min((r.at for r in report.readings), default=None)
            session = _new_session(charger, key, started)
            session.flags = [*session.flags, unknown_flag]
            session.save()
        elif session.status == SessionStatus.COMPLETED:
            return
        _add_readings(session, report)
        kept_end = _received_time(session, ended_at, received)
        _finish(session, kept_end, meter_stop_wh, reason)
        _check_energy(session)
        session.save()


# --- sessions keyed by the charger, reported in events --------------------------------


def session_event(
    *,
    charger_id: int,
    key: str,
    event: SessionEvent,
    at: datetime,
    sequence: int,
    connector: int,
    token: str = "",
    report: MeterReport | None = None,
    stop_reason: str = "",
    early_flag: str = "reported before its start",
) -> None:
    """One event of a session the charger keys itself and reports without meter start
    or stop: started, updated, ended, in any order and any number of times, one session.

    Its energy runs from its first to its last register reading by time. A session
    first heard of after its start is kept with ``early_flag``; its start time comes
    with its start event, if that ever arrives.
    """
    _check_key(key)
    bounds.check_int("sequence", sequence, 0, bounds.INT_STORABLE)
    _check_connector(connector)
    _check_token(token)
    report = report or MeterReport()
    kept_at, clock_problem = bounds.time_or_received(at, timezone.now())
    started, ended = event is SessionEvent.STARTED, event is SessionEvent.ENDED
    for attempt in range(2):
        try:
            with transaction.atomic():
                session = _locked(charger_id, key)
                if session is None:
                    charger = Charger.objects.get(pk=charger_id)
                    session = _new_session(
                        charger,
                        key,
                        kept_at if started else None,
                        connector_id=connector,
                        id_tag=token,
                    )
                    if not started:
                        session.flags = [*session.flags, early_flag]
                    session.save()
                if clock_problem and (started or ended):
                    flag_and_hold(session, f"{event.value} {clock_problem}")
                if started and (session.started_at is None or kept_at < session.started_at):
                    session.started_at = kept_at
                    if session.connection_id is None and session.charger is not None:
                        membership = membership_at(session.charger, kept_at)
                        session.connection = membership.connection if membership else None
                if token and not session.id_tag:
                    session.id_tag = token
                session.last_seq_no = max(sequence, session.last_seq_no or sequence)
                _add_readings(session, report)
                if ended and session.status != SessionStatus.COMPLETED:
                    _finish(session, kept_at, None, stop_reason)
                _energy_from_readings(session)
                _check_energy(session)
                session.flags = list(dict.fromkeys(session.flags))  # repeats say nothing new
                session.save()
                return
        except IntegrityError:  # two copies of the first event at once: the other one won
            if attempt:
                raise


# --- flags and holds ------------------------------------------------------------------


def session_flag(*, charger_id: int, key: str, reason: str, hold: bool = False) -> bool:
    """Flag the charger's session of ``key`` for people to look at; with ``hold``, also
    keep it out of reimbursement until an admin reviews it. A flag already on the
    session changes nothing. ``False`` if the charger has no session of that key."""
    with transaction.atomic():
        session = _locked(charger_id, key)
        if session is None:
            return False
        if hold:
            flag_and_hold(session, reason)
        elif reason not in session.flags:
            session.flags = [*session.flags, reason]
        session.save(update_fields=["flags", "review"])
    return True


@transaction.atomic
def sessions_hold(*, session_ids: list[int], reason: str) -> int:
    """Hold sessions out of reimbursement with a reason: what the statement run does with
    a session it cannot put in a statement, so the rest of the run goes on."""
    held = 0
    for session in (
        ChargingSession.objects.select_for_update(of=("self",))
        .filter(pk__in=session_ids)
        .select_related("organisation")
        .order_by("pk")
    ):
        old = session.review
        flag_and_hold(session, reason)
        session.save(update_fields=["flags", "review"])
        held += 1
        audit_record(
            actor=None,
            action=AuditAction.CHARGING_SESSION_HOLD,
            target=session,
            organisation=session.organisation,
            changes={"review": [old, session.review], "reason": [None, reason]},
        )
    return held


# --- sessions a roaming partner reports -----------------------------------------------


@dataclass(frozen=True)
class PartnerRecord:
    """What a roaming partner said about one session, in plain values: public charging,
    or the driver's home charging reported by the partner that runs that charger.

    ``key`` is unique across partners and kinds of record (the adapter builds it from the
    partner's party and its own id); the same key is the same session, however often and
    in whatever order it is reported. ``final`` is the partner's closing record (priced,
    completed): from then on non-final reports of the session change nothing.
    """

    key: str
    organisation_id: int
    driver_id: int
    transaction_id: str  # the partner's own id for the session
    started_at: datetime
    ended_at: datetime | None = None
    energy_wh: int = 0
    completed: bool = False
    final: bool = False
    home: bool = False
    token: str = ""
    operator: str = ""
    location_name: str = ""
    location_address: str = ""
    cost_excl_vat: Decimal | None = None
    cost_incl_vat: Decimal | None = None
    currency: str = ""
    flags: tuple[str, ...] = ()
    hold: str = ""  # a reason to keep the session out of money until a person reviews it


# Not a column: which of a session's values the partner's final record has fixed.
FINAL_FLAG = "final record received"
PUBLIC_KEY_MAX = ChargingSession._meta.get_field("public_key").max_length or 0


def _default_purpose(session: ChargingSession) -> str:
    """Business under a connection that pays for public charging, else personal."""
    if session.kind != SessionKind.PUBLIC:
        return ""
    pays = session.connection is not None and session.connection.pay_for_public_charging
    return SessionPurpose.BUSINESS if pays else SessionPurpose.PERSONAL


def _also_from_own_charger(session: ChargingSession) -> ChargingSession | None:
    """A home session a partner reports that one of our chargers reported too (the same
    driver, overlapping times): counted once, so the partner's copy is held."""
    if session.kind != SessionKind.HOME or session.started_at is None:
        return None
    end = session.ended_at or session.started_at
    return (
        ChargingSession.objects.filter(
            driver_id=session.driver_id,
            charger__isnull=False,
            started_at__lte=end,
        )
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=session.started_at))
        .exclude(review=SessionReview.REJECTED)
        .order_by("started_at")
        .first()
    )


def public_session_record(record: PartnerRecord) -> ChargingSession:
    """Create or update the session a partner reports, attributed to the driver's
    membership in force at its start in that organisation (none: kept, flagged, paid by
    no one). Idempotent by ``record.key``; atomic.

    Public sessions keep the partner's energy and price; only what no column holds is
    refused (``bounds.Unstorable``). A home session reported by a partner meets the same
    rules as our chargers' (energy a home charger cannot deliver is held) and is held
    when one of our chargers reported the same charging.
    """
    key = bounds.check_text("key", record.key, PUBLIC_KEY_MAX)
    if not key:
        raise bounds.Unstorable("key", "key must not be empty")
    transaction_id = _check_key(record.transaction_id)
    token = _check_token(record.token)
    energy = bounds.check_int("energy_wh", record.energy_wh, 0, bounds.SESSION_WH_STORABLE)
    kind = SessionKind.HOME if record.home else SessionKind.PUBLIC
    for attempt in range(2):
        try:
            with transaction.atomic():
                session = (
                    ChargingSession.objects.select_for_update(of=("self",))
                    .filter(public_key=key)
                    .select_related("connection")
                    .first()
                )
                created = session is None
                if session is None:
                    membership = membership_of(
                        record.driver_id, record.organisation_id, record.started_at
                    )
                    session = ChargingSession(
                        organisation_id=record.organisation_id,
                        kind=kind,
                        public_key=key,
                        driver_id=record.driver_id,
                        connection=membership.connection if membership else None,
                        flags=_plausibility_flags(record.started_at),
                    )
                    if membership is None:
                        session.flags = [*session.flags, "no membership at the session's start"]
                    session.purpose = _default_purpose(session)
                elif FINAL_FLAG in session.flags and not record.final:
                    return session  # the closing record has spoken
                elif session.status == SessionStatus.CREDITED:
                    return session
                if record.final and session.kind != kind:
                    # Only the closing record says whether the partner's charger was the
                    # driver's home charger: a live report is taken for public.
                    session.kind = kind
                    session.purpose = _default_purpose(session)
                session.transaction_id = transaction_id
                session.id_tag = token or session.id_tag
                session.started_at = record.started_at
                session.ended_at = record.ended_at
                session.energy_wh = energy
                for name in (
                    "operator",
                    "location_name",
                    "location_address",
                    "cost_excl_vat",
                    "cost_incl_vat",
                    "currency",
                ):
                    value = getattr(record, name)
                    if value not in ("", None):
                        setattr(session, name, value)
                if record.completed or record.final:
                    session.status = SessionStatus.COMPLETED
                if record.ended_at and record.ended_at < record.started_at:
                    session.flags = [*session.flags, "ended before it started"]
                session.flags = [*session.flags, *record.flags]
                if record.final:
                    session.flags = [*session.flags, FINAL_FLAG]
                if record.hold:
                    flag_and_hold(session, record.hold)
                if kind == SessionKind.HOME:
                    _check_energy(session)
                    twin = _also_from_own_charger(session)
                    if twin is not None and twin.pk != session.pk:
                        flag_and_hold(
                            session, f"also reported by the driver's charger (session {twin.pk})"
                        )
                session.flags = list(dict.fromkeys(session.flags))
                session.save()
                if created:
                    session.refresh_from_db(fields=["connection"])
                return session
        except IntegrityError:  # the same first report twice at once: read the winner
            if attempt:
                raise
    raise RuntimeError("could not record a partner's session")


def public_session_credit(*, key: str, reason: str) -> bool:
    """The partner cancelled the session (a credit record): kept, shown as credited,
    counted nowhere. ``False`` if no session has that key. Repeating it changes nothing."""
    with transaction.atomic():
        session = ChargingSession.objects.select_for_update().filter(public_key=key).first()
        if session is None:
            return False
        if session.status != SessionStatus.CREDITED:
            session.status = SessionStatus.CREDITED
            session.flags = list(dict.fromkeys([*session.flags, reason]))
            session.save(update_fields=["status", "flags"])
    return True
