"""Group commit for the gateway: handlers hand their writes to one flusher that runs a
batch in a single database transaction and answers each handler after the commit.

So a charger is acknowledged only once its message is stored (nothing acknowledged is
lost), while the database commits once per batch instead of once per message: with
thousands of chargers the commit, not the statement, is what costs.

Meter readings, nearly all of the traffic (OCPP 1.6 MeterValues, 2.0.1 TransactionEvent
``Updated``), have a cheaper path still: the plain ones of a batch are written together
(see ``evdms.charging.ocpp.meter_batch``); the others go to the session core
(``meter_values_v16``, ``transaction_event_v201``), as do 2.0.1's other events.

Several gateway processes may share one PostgreSQL database, and a charger may connect
to another while its old socket is still open on the first. Each write carries the
epoch of the connection it came from (``Charger.connection_epoch``); a batch locks its
chargers' rows and stores nothing of a connection a newer one replaced (``Superseded``).
A new connection's epoch increment waits for that lock, so one connection at a time
writes for a charger, and the next reads what the previous one stored. The increment is
itself an item of a batch (``Connect``), checked in queue order with the writes.
"""

from __future__ import annotations

import asyncio
import traceback
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.db import connection, transaction

from evdms.charging import bounds, services
from evdms.charging.models import Charger
from evdms.charging.ocpp.common import Superseded, without_tracebacks
from evdms.charging.ocpp.events_v201 import check_transaction_event, transaction_event_v201
from evdms.charging.ocpp.meter import parse_meter_values
from evdms.charging.ocpp.meter_batch import (
    PlainWrite,
    SessionKey,
    SessionState,
    StaleState,
    load_states,
    plan_plain,
    write_plain,
)
from evdms.charging.services import sessions
from evdms.charging.services.protocol_issues import protocol_issue

FLUSH_AFTER = 0.005  # seconds a first write waits for others to join its batch
# Messages per transaction. A batch is what queued while the last one committed, so
# when commits slow down (a disk's flush taking 0.3-1 s now and then, seen on
# PostgreSQL here) batches grow and the gateway keeps up with one commit each; at 500
# it could not: 10,000 chargers' 1,000 msg/s fell to ~600/s with p50 16 s. 2,000 keeps
# every statement of a batch far within both databases' parameter limits (the
# sessions' UPDATE takes three a session; readings are inserted in Django's chunks).
MAX_BATCH = 2000
MAX_REMEMBERED = 50_000  # sessions; forgetting costs one query per batch, not correctness
NOTED_FRAMES = 12  # of a failure's traceback in the database thread, innermost


@dataclass(frozen=True)
class Call:
    """Any service call; its first argument is the charger's id."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    epoch: int | None = None  # of the connection it came from; None: not checked


# Not frozen, the two made for every reading: a frozen dataclass sets each field through
# ``object.__setattr__``, which for TransactionEvent201's nine fields cost more than its
# check in the batch. Nothing changes them once queued.
@dataclass(slots=True)
class MeterValues16:
    charger_id: int
    transaction_id: int | None
    meter_value: list[dict[str, Any]]
    epoch: int | None = None


@dataclass(slots=True)
class TransactionEvent201:
    """``transaction_event_v201``'s arguments; only a plain ``Updated`` takes the fast path."""

    charger_id: int
    event_type: str
    timestamp: datetime
    seq_no: int
    transaction_info: dict[str, Any]
    meter_value: list[dict[str, Any]] | None
    id_token: dict[str, Any] | None
    evse: dict[str, Any] | None
    epoch: int | None = None

    def as_call(self) -> Call:
        return Call(
            transaction_event_v201,
            (
                self.charger_id,
                self.event_type,
                self.timestamp,
                self.seq_no,
                self.transaction_info,
                self.meter_value,
                self.id_token,
                self.evse,
            ),
        )


@dataclass(frozen=True)
class Connect:
    """A new connection: its charger's epoch goes up (``services.charger_connected``)."""

    charger_id: int
    protocol: str
    epoch: None = None  # it makes the epoch, no earlier one is checked


Readings = MeterValues16 | TransactionEvent201
Item = Call | Readings | Connect
Result = tuple[bool, Any]


def check_transaction_id_v16(value: object) -> int:
    """Our 1.6 transaction ids are the sessions' keys the core handed out at the start."""
    return bounds.check_int("transactionId", value, 0, bounds.TRANSACTION_ID_MAX)


def meter_values_v16(
    charger_id: int, transaction_id: int | None, meter_value: list[dict[str, Any]]
) -> None:
    """A 1.6 MeterValues with every rule (the session core), one message at a time:
    readings for no known transaction are kept as a protocol issue."""
    if transaction_id is not None:
        check_transaction_id_v16(transaction_id)
    report = parse_meter_values(meter_value)
    if transaction_id is not None and sessions.session_add_readings(
        charger_id=charger_id, key=str(transaction_id), report=report
    ):
        return
    if report.readings:
        protocol_issue(
            charger_id,
            "MeterValues for unknown transaction",
            f"transaction {transaction_id}: {len(report.readings)} reading(s)",
        )


class SessionMemory:
    """The committed state of active sessions, touched only by the database thread.

    Any other write for a charger (start, stop, a message that needed the full service)
    makes us forget that charger's sessions, so they are read again when next needed.
    """

    def __init__(self) -> None:
        self._by_charger: dict[int, dict[str, SessionState]] = {}
        self._count = 0

    def get(self, key: SessionKey) -> SessionState | None:
        return self._by_charger.get(key[0], {}).get(key[1])

    def forget_charger(self, charger_id: int) -> None:
        self._count -= len(self._by_charger.pop(charger_id, {}))

    def forget_all(self) -> None:
        self._by_charger.clear()
        self._count = 0

    def remember(self, states: dict[SessionKey, SessionState]) -> None:
        if self._count + len(states) > MAX_REMEMBERED:
            self.forget_all()
        for (charger_id, transaction_id), state in states.items():
            sessions = self._by_charger.setdefault(charger_id, {})
            self._count += transaction_id not in sessions
            sessions[transaction_id] = state


def _keep_connection() -> None:
    """One connection for the gateway's life: opening one per batch (what
    ``close_old_connections`` does without CONN_MAX_AGE) cost more than the batch's
    writes. Dropped only when an error left it unusable, so the next batch reconnects."""
    if connection.connection is not None and connection.errors_occurred:
        if not connection.is_usable():
            connection.close()
        connection.errors_occurred = False


def _key(item: Item) -> SessionKey | None:
    """The session a message may add plain readings to; ``None``: the full service."""
    if isinstance(item, MeterValues16) and item.transaction_id is not None:
        return (item.charger_id, str(item.transaction_id))
    if isinstance(item, TransactionEvent201) and item.event_type == "Updated":
        key = item.transaction_info.get("transaction_id")
        return (item.charger_id, key) if isinstance(key, str) else None
    return None


def _plan(
    item: Readings, state: SessionState, limits: tuple[datetime, datetime]
) -> PlainWrite | None:
    """The fast path's write, or ``None``: anything unusual (a bad field included) is
    the full service's, which refuses or flags it as it always does."""
    try:
        report = parse_meter_values(item.meter_value, limits=limits)
        if isinstance(item, MeterValues16):
            return plan_plain(state, report)
        checked = check_transaction_event(
            item.seq_no, item.transaction_info, item.id_token, item.evse
        )
        return plan_plain(state, report, sequence=checked.sequence, token=checked.token)
    except Exception:
        return None


def _detached(error: Exception) -> Exception:
    """A failure to hand to the event loop, without its traceback: that holds the frames
    of this thread, ``_run_batch``'s with the batch's results, this failure among them (a
    reference cycle with the batch's messages, see ``without_tracebacks``). The frames
    it names are kept as a note, printed with it where it is logged."""
    frames = traceback.format_tb(error.__traceback__)[-NOTED_FRAMES:]
    error.add_note("In the gateway's database thread:\n" + "".join(frames).rstrip())
    without_tracebacks(error)
    return error


def _charger_of(item: Item) -> int:
    return int(item.args[0]) if isinstance(item, Call) else item.charger_id


def _lock_epochs(items: Sequence[Item]) -> dict[int, int]:
    """The connection epochs of the chargers whose epoch the batch checks or changes.

    The chargers' rows stay locked to the batch's commit (FOR NO KEY UPDATE: a new
    connection's epoch increment in another process waits, inserts referring to the
    charger do not), in one order, so two processes' batches never deadlock on them."""
    checked = {
        _charger_of(item) for item in items if item.epoch is not None or isinstance(item, Connect)
    }
    if not checked:
        return {}
    return dict(
        Charger.objects.select_for_update(no_key=True)
        .filter(pk__in=checked)
        .order_by("pk")
        .values_list("pk", "connection_epoch")
    )


def _run_batch(items: Sequence[Item], memory: SessionMemory) -> list[Result]:
    """Each message stands alone: one bad message never undoes the others.

    Epochs are checked in queue order: a new connection's increment (``Connect``) in the
    batch refuses what its old connection queued after it, as a batch of its own would
    have, and keeps what was queued before it."""
    _keep_connection()
    limits = bounds.window()  # one clock for the batch's readings (hours of skew allowed)
    results: list[Result | None] = [None] * len(items)
    plain: list[tuple[int, Readings, PlainWrite]] = []

    def full(index: int, item: Call | Readings) -> None:
        if isinstance(item, MeterValues16):
            item = Call(meter_values_v16, (item.charger_id, item.transaction_id, item.meter_value))
        elif isinstance(item, TransactionEvent201):
            item = item.as_call()
        try:
            with transaction.atomic():
                results[index] = (True, item.fn(*item.args))
        except Exception as exc:
            results[index] = (False, _detached(exc))
        memory.forget_charger(item.args[0])

    def write_pending() -> None:
        # Before any other write, so it sees (and the memory matches) what came first.
        if not plain:
            return
        try:
            with transaction.atomic():
                write_plain([write for _, _, write in plain])
            for index, _, _ in plain:
                results[index] = (True, None)
        except Exception:  # StaleState or worse: the full service, one at a time
            for index, item, _ in plain:
                memory.forget_charger(item.charger_id)
                full(index, item)
        plain.clear()

    def connect(index: int, item: Connect) -> None:
        try:
            with transaction.atomic():
                epoch = services.charger_connected(item.charger_id, item.protocol)
            epochs[item.charger_id] = epoch
            results[index] = (True, epoch)
        except Exception as exc:
            results[index] = (False, _detached(exc))
        # Another process may have stored readings since we remembered them.
        memory.forget_charger(item.charger_id)

    def superseded(item: Item) -> bool:
        return item.epoch is not None and epochs.get(_charger_of(item)) != item.epoch

    try:
        with transaction.atomic():
            epochs = _lock_epochs(items)
            # Sessions not in memory are read once for the whole batch; one forgotten
            # during the batch is left to the full service for the rest of it.
            cold = {
                key
                for item in items
                if not superseded(item)
                and (key := _key(item)) is not None
                and memory.get(key) is None
            }
            memory.remember(load_states(cold))
            for index, item in enumerate(items):
                if isinstance(item, Connect):  # no session write: pending ones may wait
                    connect(index, item)
                    continue
                if superseded(item):
                    results[index] = (False, Superseded())
                    continue
                key = _key(item)
                state = memory.get(key) if key is not None else None
                if state is not None and not isinstance(item, Call):
                    write = _plan(item, state, limits)
                    if write is not None:
                        plain.append((index, item, write))
                        continue
                write_pending()
                full(index, item)
            write_pending()
    except Exception:
        # The commit itself failed: nothing of the batch is stored, and what we remember
        # may be ahead of the database.
        memory.forget_all()
        raise
    return [r if r is not None else (False, StaleState("not written")) for r in results]


class GroupCommit:
    def __init__(self) -> None:
        self._queue: list[tuple[Item, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._memory = SessionMemory()

    async def connected(self, charger_id: int, protocol: str) -> int:
        """A new connection's epoch. What this process remembers of the charger's
        sessions is forgotten (in the database thread, which alone touches it): another
        process may have stored readings since."""

        # In the batch: in a reconnect storm one hand-off to the database thread per
        # connection cost more than the increments (2,000 chargers: 18.6 s against 12.4 s).
        return int(await self._submit(Connect(charger_id, protocol)))

    async def run(
        self, fn: Callable[..., Any], charger_id: int, *args: Any, epoch: int | None = None
    ) -> Any:
        """``fn(charger_id, *args)`` in the next batch; its result once committed;
        ``Superseded`` if ``epoch`` is no longer the charger's newest connection's."""
        return await self._submit(Call(fn, (charger_id, *args), epoch))

    async def meter_values_16(
        self,
        charger_id: int,
        transaction_id: int | None,
        meter_value: list[dict[str, Any]],
        epoch: int | None = None,
    ) -> None:
        await self._submit(MeterValues16(charger_id, transaction_id, meter_value, epoch))

    async def transaction_event_201(
        self,
        charger_id: int,
        event_type: str,
        timestamp: datetime,
        seq_no: int,
        transaction_info: dict[str, Any],
        meter_value: list[dict[str, Any]] | None,
        id_token: dict[str, Any] | None,
        evse: dict[str, Any] | None,
        epoch: int | None = None,
    ) -> None:
        await self._submit(
            TransactionEvent201(
                charger_id,
                event_type,
                timestamp,
                seq_no,
                transaction_info,
                meter_value,
                id_token,
                evse,
                epoch,
            )
        )

    async def _submit(self, item: Item) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        try:
            return await future
        finally:
            del future  # a failure raised here holds this frame: it must not hold the failure

    async def _flush(self) -> None:
        await asyncio.sleep(FLUSH_AFTER)
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                results = await sync_to_async(_run_batch)([item for item, _ in batch], self._memory)
            except Exception as exc:
                results = [(False, _detached(exc))] * len(batch)
            for (_, future), (ok, value) in zip(batch, results, strict=True):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)


# One per event loop (tests run a gateway per loop); weak, so a closed loop's memory of
# sessions can never be picked up by a later loop that happens to get the same id.
_per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, GroupCommit] = (
    weakref.WeakKeyDictionary()
)


def group_commit() -> GroupCommit:
    loop = asyncio.get_running_loop()
    commit = _per_loop.get(loop)
    if commit is None:
        commit = _per_loop[loop] = GroupCommit()
    return commit
