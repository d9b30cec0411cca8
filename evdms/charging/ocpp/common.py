from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from ocpp.exceptions import (
    FormatViolationError,
    OCPPError,
    PropertyConstraintViolationError,
    TypeConstraintViolationError,
)
from ocpp.messages import unpack
from websockets.exceptions import ConnectionClosed

from evdms.charging import bounds
from evdms.charging.ocpp import hot_calls
from evdms.charging.services.protocol_issues import excerpt, protocol_issue

if TYPE_CHECKING:
    # What the mixin is mixed into, for its calls up to the ocpp package's methods.
    from ocpp.charge_point import ChargePoint as _MixedInto
else:
    _MixedInto = object

Central = TypeVar("Central", bound="RecordingMixin")
Params = ParamSpec("Params")
Result = TypeVar("Result")

LOGGED_CHARS = 200  # of a frame, or of what was wrong with it, in a log line
SUPERSEDED_CODE = 4000  # the close code for a connection a newer one replaced
SUPERSEDED_REASON = "superseded by a newer connection"


class Superseded(Exception):
    """The charger connected again (to this gateway process or another) since this
    connection was accepted: what it sends is not stored, and it is closed."""

    def __init__(self) -> None:
        super().__init__(SUPERSEDED_REASON)


def describe(exc: BaseException) -> str:
    """One short line about what was wrong. An OCPPError's ``str`` would repeat the
    whole frame it complains about (its details carry it)."""
    if isinstance(exc, OCPPError):
        details = exc.details if isinstance(exc.details, dict) else {}
        cause = details.get("cause")
        because = f" ({cause})" if cause else ""
        return excerpt(f"{type(exc).__name__}: {exc.description}{because}")
    return excerpt(f"{type(exc).__name__}: {exc}")


def without_tracebacks(error: BaseException) -> BaseException:
    """``error``, and the exceptions it was raised from, without their tracebacks.

    A traceback holds its frames, and each frame its caller's, with their locals: an
    exception kept after it was caught (a result handed on, a re-raise) holds every
    local up the stack. When one of them holds the exception (``raise error`` from a
    local, as jsonschema does; a list of results; a future), that is a reference cycle
    with the message's data in it, left to a garbage collector tuned to come round
    rarely (``gateway._tune_garbage_collector``).
    """
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        exc = pending.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        exc.__traceback__ = None
        pending += [exc.__cause__, exc.__context__]
    return error


def _described(exc: BaseException) -> str:
    """What went wrong, in a line; the exception (done with) let go at once."""
    without_tracebacks(exc)
    return describe(exc)


class ShortFrameLog(logging.LoggerAdapter[logging.Logger]):
    """The ``ocpp`` package's logger, keeping what it writes about a frame short.

    It logs frames whole ("receive message …" at INFO; "Error while handling request
    …" at ERROR with a traceback whose last line repeats the frame), so a charger
    sending junk would write up to a maximum-size message per frame. Each argument is
    cut to an excerpt, and a protocol error (the charger's fault, answered with a
    CallError) to its one-line cause, without the traceback.
    """

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if not self.isEnabledFor(level):  # the common case: formats nothing
            return
        args = tuple(excerpt(str(arg), LOGGED_CHARS) for arg in args)
        exc_info = kwargs.get("exc_info")
        if exc_info is True:
            exc_info = sys.exc_info()
        error = exc_info[1] if isinstance(exc_info, tuple) else exc_info
        if isinstance(error, Superseded):  # routine: a charger moved on
            level, kwargs["exc_info"] = logging.DEBUG, None
            if not self.isEnabledFor(level):
                return
        elif isinstance(error, OCPPError):
            kwargs["exc_info"] = None
            msg, args = f"{msg}: %s", (*args, excerpt(describe(error), LOGGED_CHARS))
        self.logger.log(level, msg, *args, **kwargs)


FRAME_LOG = ShortFrameLog(logging.getLogger("ocpp"))


class RecordingMixin(_MixedInto):
    """Keeps every frame we cannot route (not JSON, not OCPP) as a ProtocolIssue, and
    answers a frame that is OCPP but breaks its schema with a CallError (the ocpp
    package does that), so the connection stays up for the next message.

    A bad frame leaves nothing behind in memory: the issue keeps an excerpt and a one
    line description, and the database is never awaited inside an ``except`` block.
    There ``sync_to_async`` re-raises the exception being handled in its worker thread
    (so the thread sees it in ``sys.exc_info``); the exception's traceback then holds
    that thread's frame, which holds the exception and the call's arguments: a
    reference cycle of the frame's size, left for a garbage collector tuned to come
    round rarely (``gateway._tune_garbage_collector``). 500 junk frames of 1 MB took a
    gateway from 105 MB to 1.1 GB that way.
    """

    charger_id: int
    # This connection's epoch (``Charger.connection_epoch``), stored with each write
    # so that the batch refuses writes of a connection a newer one replaced.
    epoch: int | None = None
    # An excerpt of the frame being handled (a connection's messages are handled one at
    # a time), kept with the ProtocolIssue when a handler refuses it.
    current_frame: str = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("logger", FRAME_LOG)
        super().__init__(*args, **kwargs)

    # The CALLs nearly all of a connection's traffic is: a valid one is handled without
    # the package's generic routing, with the same answer (see ``hot_calls``).
    hot_actions: frozenset[str] = frozenset()

    async def route_message(self, raw_msg: Any) -> None:
        try:
            msg = unpack(raw_msg)  # the package's own parse: a frame it can route, or not
        except Exception as exc:
            problem: tuple[str, str] | None = ("Unreadable frame", _described(exc))
        else:
            self.current_frame = excerpt(raw_msg)
            problem = await self._route(raw_msg, msg)
        if problem is not None:
            await sync_to_async(protocol_issue)(
                self.charger_id, problem[0], problem[1], excerpt(raw_msg)
            )

    async def _handle_call(self, msg: Any) -> Any:
        try:
            return await super()._handle_call(msg)
        except OCPPError as error:
            raise _trimmed(error) from None

    async def _route(self, raw_msg: Any, msg: Any) -> tuple[str, str] | None:
        try:
            handler = hot_calls.handler_for(self, msg, self.hot_actions)
            if handler is None:
                await super().route_message(raw_msg)
            else:
                await self._hot_call(msg, handler)
        except ConnectionClosed:
            raise  # gone before its answer (or closed as superseded): not the frame's fault
        except Exception as exc:
            return "Handler failed", _described(exc)
        return None

    async def _hot_call(self, msg: Any, handler: Any) -> None:
        """What the package's ``route_message`` does with a CALL, and ``_handle_call``
        above, for one ``hot_calls`` handles."""
        try:
            try:
                await hot_calls.handle(self, msg, handler)
            except OCPPError as error:
                raise _trimmed(error) from None
        except OCPPError as error:
            self.logger.exception("Error while handling request '%s'", msg)
            await self._send(msg.create_call_error(error).to_json())


def _trimmed(error: OCPPError) -> OCPPError:
    """A schema violation's details carry the whole frame, and its cause the offending
    value: the CallError echoed a junk frame back twice over. Answered with the cause
    alone, cut short."""
    cause = error.details.get("cause") if isinstance(error.details, dict) else None
    error.details = {"cause": excerpt(str(cause))} if cause else {}
    return without_tracebacks(error)


def charger_time(field: str, value: object) -> datetime:
    """A timestamp a charger sent; a FormatViolation if it is not RFC 3339. Whether it is
    believable (the window) is the session core's part: it stores the arrival time instead."""
    try:
        return bounds.parse_time(value)
    except ValueError as exc:
        raise FormatViolationError(description=f"{field}: {exc}") from exc


def check_register_value(field: str, value: object) -> int:
    """A meter register a charger sent (meterStart, meterStop), refused (a CallError
    naming the field) when no column holds it. What a home charger cannot reach is
    stored and held for review by the session core instead."""
    return bounds.check_int(field, value, -bounds.REGISTER_WH_STORABLE, bounds.REGISTER_WH_STORABLE)


def refusing(
    handler: Callable[Concatenate[Central, Params], Awaitable[Result]],
) -> Callable[Concatenate[Central, Params], Awaitable[Result]]:
    """Answers a value the services or the session core refuse (``bounds.Unstorable``:
    wrong type or beyond what its column holds) with the matching CallError instead of
    an InternalError, and keeps the frame as a ProtocolIssue. A FormatViolation is kept
    the same way. A write refused because a newer connection took the charger over
    (``Superseded``) is not answered at all: the connection is closed.

    The issue is written after the ``except`` block and the refused exception let go of
    its traceback, for the reason ``RecordingMixin`` gives; the CallError is raised
    without a local naming it (see the ``finally``)."""

    @functools.wraps(handler)
    async def wrapper(self: Central, *args: Params.args, **kwargs: Params.kwargs) -> Result:
        superseded = False
        try:
            return await handler(self, *args, **kwargs)
        except Superseded:
            superseded = True
        except bounds.Unstorable as exc:
            detail = f"{exc.field}: {exc}"
            kind = (
                TypeConstraintViolationError if exc.wrong_type else PropertyConstraintViolationError
            )
            error: OCPPError = kind(description=str(exc), details={"field": exc.field})
            without_tracebacks(exc)
        except FormatViolationError as exc:
            detail = str(exc.description)
            error = without_tracebacks(exc)
        if superseded:
            # Closed before anything is answered: the charger must not take a message
            # we did not store for acknowledged. Sending the CallError then fails
            # (ConnectionClosed), which ends this connection's handler.
            await self._connection.close(SUPERSEDED_CODE, SUPERSEDED_REASON)
            raise Superseded
        await _record(self, "Refused value", detail)
        try:
            raise error
        finally:
            # The ocpp package keeps the raised error (its traceback holds this frame)
            # until it has answered; a local naming the error would close a cycle
            # through the frame, holding the whole message for the collector.
            del error

    return wrapper


async def _record(central: RecordingMixin, kind: str, detail: str) -> None:
    await sync_to_async(protocol_issue)(central.charger_id, kind, detail, central.current_frame)
