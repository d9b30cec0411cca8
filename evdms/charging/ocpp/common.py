from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from ocpp.exceptions import (
    FormatViolationError,
    PropertyConstraintViolationError,
    TypeConstraintViolationError,
)
from ocpp.messages import unpack

from evdms.charging import bounds, services

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])


class RecordingMixin:
    """Keeps every frame we cannot route (not JSON, not OCPP) as a ProtocolIssue, and
    answers a frame that is OCPP but breaks its schema with a CallError (the ocpp
    package does that), so the connection stays up for the next message."""

    charger_id: int
    # The frame being handled (a connection's messages are handled one at a time), kept
    # with the ProtocolIssue when a handler refuses it.
    current_frame: str = ""

    async def route_message(self, raw_msg: Any) -> None:
        try:
            unpack(raw_msg)
        except Exception as exc:
            await sync_to_async(services.protocol_issue)(
                self.charger_id, "Unreadable frame", str(exc), str(raw_msg)
            )
            return
        self.current_frame = str(raw_msg)
        try:
            await super().route_message(raw_msg)  # type: ignore[misc]
        except Exception as exc:
            await sync_to_async(services.protocol_issue)(
                self.charger_id, "Handler failed", repr(exc), str(raw_msg)
            )


def charger_time(field: str, value: object) -> datetime:
    """A timestamp a charger sent; a FormatViolation if it is not RFC 3339. Whether it is
    believable (the window) is the services' part: they store the arrival time instead."""
    try:
        return bounds.parse_time(value)
    except ValueError as exc:
        raise FormatViolationError(description=f"{field}: {exc}") from exc


def refusing(handler: Handler) -> Handler:
    """Answers a value the services refuse (``bounds.Unstorable``: wrong type or beyond
    what its column holds) with the matching CallError instead of an InternalError,
    and keeps the frame as a ProtocolIssue. A FormatViolation is kept the same way."""

    @functools.wraps(handler)
    async def wrapper(self: RecordingMixin, *args: Any, **kwargs: Any) -> Any:
        try:
            return await handler(self, *args, **kwargs)
        except bounds.Unstorable as exc:
            await _record(self, "Refused value", f"{exc.field}: {exc}")
            error = (
                TypeConstraintViolationError if exc.wrong_type else PropertyConstraintViolationError
            )
            raise error(description=str(exc), details={"field": exc.field}) from exc
        except FormatViolationError as exc:
            await _record(self, "Refused value", str(exc.description))
            raise

    return wrapper  # type: ignore[return-value]


async def _record(central: RecordingMixin, kind: str, detail: str) -> None:
    await sync_to_async(services.protocol_issue)(
        central.charger_id, kind, detail, central.current_frame
    )
