from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from ocpp.messages import unpack

from evdms.charging import services


class RecordingMixin:
    """Keeps every frame we cannot route (not JSON, not OCPP) as a ProtocolIssue, and
    answers a frame that is OCPP but breaks its schema with a CallError (the ocpp
    package does that), so the connection stays up for the next message."""

    charger_id: int

    async def route_message(self, raw_msg: Any) -> None:
        try:
            unpack(raw_msg)
        except Exception as exc:
            await sync_to_async(services.protocol_issue)(
                self.charger_id, "Unreadable frame", str(exc), str(raw_msg)
            )
            return
        try:
            await super().route_message(raw_msg)  # type: ignore[misc]
        except Exception as exc:
            await sync_to_async(services.protocol_issue)(
                self.charger_id, "Handler failed", repr(exc), str(raw_msg)
            )
