"""Many OCPP 1.6 MeterValues and 2.0.1 TransactionEvent ``Updated`` written at once: the
gateway's hot path.

A charging session sends a reading every few seconds to minutes, and nearly every one is
the plain case: the session is active, the readings are later than everything stored,
and the register did not go down. For those, the gateway remembers each session's last
reading (``SessionState``), so a batch of plain messages costs one ``UPDATE … CASE`` for
the sessions' energy and one multi-row ``INSERT`` for the readings, whatever its size.

Everything else (an unknown transaction, a retransmission or late reading, a register
going down, bad or signed values, an energy beyond the bounds, a completed session) is
not "plain" and goes through ``persist.meter_values_v16`` or ``transaction_event_v201``
(the session core) one message at a time, which has every rule. So the fast path only
ever does what the session core would have done in the plain case.

A 2.0.1 session's energy is recomputed by the core from its first and highest readings
(``session_event``), and its start is its first reading; an event is plain only while
the stored session is exactly what that recomputation gives, so adding later, not lower
readings changes it the way the fast path does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Max, OuterRef, Q, Subquery

from evdms.bulk import insert_rows
from evdms.charging.bounds import REGISTER_WH_PLAUSIBLE, max_session_wh
from evdms.charging.models import ChargingSession, MeterReading, SessionStatus
from evdms.charging.services.sessions import MeterReport, Reading

SessionKey = tuple[int, str]  # (charger id, OCPP transaction id)
READING_FIELDS = ("session", "at", "measurand", "value_wh")


@dataclass
class SessionState:
    """What the fast path needs to know about an active session, as committed."""

    pk: int
    meter_start_wh: int | None  # None: an events session with no reading yet
    energy_wh: int
    last_at: datetime | None
    last_wh: int | None
    first_wh: int | None = None  # the earliest reading's, by time
    peak_wh: int | None = None  # the highest reading's
    has_token: bool = False


def _as_events_make_it(state: SessionState) -> bool:
    """What ``session_event`` would store for this session from its readings alone."""
    if state.first_wh is None and state.peak_wh is None:  # no reading yet: no start
        return state.meter_start_wh is None and state.energy_wh == 0
    if state.first_wh is None or state.peak_wh is None:
        return False
    return state.meter_start_wh == state.first_wh and state.energy_wh == max(
        0, state.peak_wh - state.first_wh
    )


@dataclass(frozen=True)
class PlainWrite:
    session_pk: int
    readings: list[Reading]
    energy_wh: int
    sequence: int | None = None  # a 2.0.1 event's seqNo: the session's last is the highest
    meter_start_wh: int | None = None  # set when these are an events session's first readings


class StaleState(Exception):
    """A remembered session changed under us (completed, deleted): use the full service."""


def load_states(keys: set[SessionKey]) -> dict[SessionKey, SessionState]:
    """The active sessions among ``keys`` with their latest reading, in one query.

    An events session with no reading yet has no meter start (its first reading will
    be it); it is read too, so its first ``Updated`` is plain like the rest: at 10,000
    chargers, one session in six had only had a few readings when measured, and the
    first of each through the core cost 2.0.1 a third more than 1.6."""
    if not keys:
        return {}
    latest = MeterReading.objects.filter(session=OuterRef("pk")).order_by("-at")
    earliest = MeterReading.objects.filter(session=OuterRef("pk")).order_by("at")
    peak = (
        MeterReading.objects.filter(session=OuterRef("pk"))
        .values("session")
        .annotate(peak=Max("value_wh"))
        .values("peak")
    )
    rows = (
        ChargingSession.objects.filter(
            Q(meter_start_wh__isnull=False) | Q(last_seq_no__isnull=False),
            charger_id__in={charger for charger, _ in keys},
            transaction_id__in={transaction for _, transaction in keys},
            status=SessionStatus.ACTIVE,
            meter_stop_wh__isnull=True,
        )
        .annotate(
            last_at=Subquery(latest.values("at")[:1]),
            last_wh=Subquery(latest.values("value_wh")[:1]),
            first_wh=Subquery(earliest.values("value_wh")[:1]),
            peak_wh=Subquery(peak[:1]),
        )
        .values_list(
            "pk",
            "charger_id",
            "transaction_id",
            "meter_start_wh",
            "energy_wh",
            "last_at",
            "last_wh",
            "first_wh",
            "peak_wh",
            "id_tag",
        )
    )
    states: dict[SessionKey, SessionState] = {}
    for pk, charger_id, transaction_id, start, energy, last_at, last_wh, first, top, tag in rows:
        if (charger_id, transaction_id) in keys:  # the IN × IN query may match more
            states[(charger_id, transaction_id)] = SessionState(
                pk, start, energy, last_at, last_wh, first, top, bool(tag)
            )
    return states


def plan_plain(
    state: SessionState, parsed: MeterReport, *, sequence: int | None = None, token: str = ""
) -> PlainWrite | None:
    """The write for a plain message, and ``state`` moved past it; ``None`` if the
    message is not plain (the caller then uses the full service).

    With ``sequence``, the message is a 2.0.1 event's (``session_event``): plain also
    only if it brings no token the session lacks, and the session is as events make it.
    """
    if parsed.problems or parsed.signed_data or not parsed.readings:
        return None
    if state.meter_start_wh is None and sequence is None:
        return None  # a start only events give (1.6 sessions always have theirs)
    if sequence is not None and ((token and not state.has_token) or not _as_events_make_it(state)):
        return None
    last_at, last_wh = state.last_at, state.last_wh
    for reading in parsed.readings:  # strictly later and never lower, in arrival order
        if last_at is not None and reading.at <= last_at:
            return None
        if last_wh is not None and reading.value_wh < last_wh:
            return None
        last_at, last_wh = reading.at, reading.value_wh
    highest = max(r.value_wh for r in parsed.readings)
    # The first readings of an events session: the earliest (they are in time order) is
    # its start, as ``session_event`` makes it.
    start, new_start = state.meter_start_wh, None
    if start is None:
        start = new_start = parsed.readings[0].value_wh
    energy = max(state.energy_wh, highest - start)
    if highest > REGISTER_WH_PLAUSIBLE or energy > max_session_wh():
        return None  # the full service flags and holds the session
    state.meter_start_wh = start
    state.last_at, state.last_wh = last_at, last_wh
    if state.first_wh is None:
        state.first_wh = parsed.readings[0].value_wh  # all later than anything stored
    state.peak_wh = highest if state.peak_wh is None else max(state.peak_wh, highest)
    state.energy_wh = energy
    return PlainWrite(state.pk, list(parsed.readings), state.energy_wh, sequence, new_start)


def write_plain(writes: list[PlainWrite]) -> None:
    """Store plain messages: one UPDATE for the sessions, one INSERT for the readings.

    The UPDATE only touches sessions still active; if one is not (someone else completed
    it since we remembered it), nothing here may be trusted: ``StaleState``.
    """
    if not writes:
        return
    energy: dict[int, int] = {}
    sequences: dict[int, int] = {}
    starts: dict[int, int] = {}
    for write in writes:  # a later message of the same session has the higher energy
        energy[write.session_pk] = max(energy.get(write.session_pk, 0), write.energy_wh)
        if write.sequence is not None:
            sequences[write.session_pk] = max(sequences.get(write.session_pk, 0), write.sequence)
        if write.meter_start_wh is not None:  # only ever the session's first write
            starts[write.session_pk] = write.meter_start_wh
    updated = _raise_energy(energy, sequences, starts)
    if updated != len(energy):
        raise StaleState(f"{len(energy) - updated} remembered session(s) changed")
    # Plain rows, not model instances: building a MeterReading for each reading (its
    # init signals, the ORM's insert compiler) was a quarter of the database thread.
    insert_rows(
        MeterReading,
        READING_FIELDS,
        (
            (write.session_pk, r.at, r.measurand, r.value_wh)
            for write in writes
            for r in write.readings
        ),
        ignore_conflicts=True,  # as the full service: a repeat adds nothing
    )


def _raise_energy(
    energy: dict[int, int], sequences: dict[int, int], starts: dict[int, int] | None = None
) -> int:
    """``UPDATE … FROM (VALUES …)`` for active sessions; the rows updated.

    Written as SQL because building the same with ``Case(When(…))`` for a batch of
    hundreds of sessions cost more than the database's work. Joined to a ``VALUES``
    list by id, not ``CASE id WHEN …`` per column: that ``CASE`` is read for every row
    updated, so a batch cost the database its size squared, once per column set (a
    2.0.1 event sets two). GREATEST (MAX on SQLite): energy never goes down, even if
    our memory of a session were behind; nor does the last sequence number of a session
    reported in events (``session_event``'s rule); a session without one keeps its own.
    ``starts``: the meter start of events sessions given their first readings, set only
    where none is stored (else the row is not updated: ``StaleState``).
    """
    starts = starts or {}
    greatest = "MAX" if connection.vendor == "sqlite" else "GREATEST"
    sessions = ChargingSession._meta.db_table
    # VALUES columns are column1, column2 … on both SQLite and PostgreSQL. Cast, so
    # that PostgreSQL types a column of mostly NULL sequence numbers as a number.
    row = "(%s, %s, CAST(%s AS BIGINT), CAST(%s AS BIGINT))" if sequences else "(%s, %s)"
    values = ", ".join(row for _ in energy)
    params: list[Any] = []
    for pk, wh in energy.items():
        params += [pk, wh, sequences.get(pk), starts.get(pk)] if sequences else [pk, wh]
    assignments = f"energy_wh = {greatest}(energy_wh, v.column2)"
    if sequences:
        assignments += (
            ", last_seq_no = CASE WHEN v.column3 IS NULL THEN last_seq_no "
            f"ELSE {greatest}(COALESCE(last_seq_no, v.column3), v.column3) END"
            ", meter_start_wh = COALESCE(meter_start_wh, v.column4)"
        )
    # A start to set only where none is: one set since we remembered the session means
    # our memory is behind.
    start_unset = " AND (v.column4 IS NULL OR meter_start_wh IS NULL)" if sequences else ""
    postgresql = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgresql:
            # After a fleet has just started its sessions the statistics still say
            # "almost no active session": PostgreSQL then loops over the active
            # sessions and scans the whole VALUES list for each (10,000 × 2,000 rows,
            # 4-5 s a batch, measured), and slow batches grow until the gateway stalls.
            # A hash join costs the same whatever the statistics say. Only for this
            # statement, inside the batch's transaction.
            cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute(
            f"UPDATE {sessions} SET {assignments} "  # noqa: S608 (only placeholders)
            f"FROM (VALUES {values}) AS v "
            f"WHERE {sessions}.id = v.column1 AND status = %s AND meter_stop_wh IS NULL"
            f"{start_unset}",
            [*params, SessionStatus.ACTIVE.value],
        )
        updated = int(cursor.rowcount)
        if postgresql:
            cursor.execute("SET LOCAL enable_nestloop = on")
        return updated
