"""OCPP 2.0.1: the CSMS side of each message a home charger sends, and its transaction
events translated into the session core's calls."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.utils import timezone
from ocpp.routing import on
from ocpp.v201 import ChargePoint, call_result
from ocpp.v201.enums import Action, AuthorizationStatusEnumType, RegistrationStatusEnumType

from evdms.charging import bounds, services
from evdms.charging.models import ChargingSession
from evdms.charging.ocpp.common import RecordingMixin, Superseded, charger_time, refusing
from evdms.charging.ocpp.handlers_v16 import HEARTBEAT_INTERVAL
from evdms.charging.ocpp.meter import parse_meter_values
from evdms.charging.ocpp.persist import group_commit
from evdms.charging.services import sessions

EVENTS = {
    "Started": sessions.SessionEvent.STARTED,
    "Updated": sessions.SessionEvent.UPDATED,
    "Ended": sessions.SessionEvent.ENDED,
}


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
    """Started / Updated / Ended, in any order and any number of times: one session.

    The fields are checked under their OCPP names first (the schemas leave ranges and
    sizes open), so a refusal names what the charger sent."""
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
    sessions.session_event(
        charger_id=charger_id,
        key=transaction_id,
        event=EVENTS[event_type],
        at=timestamp,
        sequence=seq_no,
        connector=connector_id,
        token=id_tag,
        report=parse_meter_values(meter_value),
        stop_reason=str(transaction_info.get("stopped_reason") or "Local"),
        early_flag=f"{event_type} arrived before Started",
    )


class CentralSystem201(RecordingMixin, ChargePoint):
    @on(Action.boot_notification)
    @refusing
    async def on_boot(self, charging_station: dict[str, Any], reason: str, **kw: Any) -> Any:
        # With the other writes of the moment (see ``persist``): a restarted gateway has
        # the whole fleet booting within seconds.
        seen = await group_commit().run(
            functools.partial(
                services.charger_seen,
                vendor=str(charging_station.get("vendor_name", ""))[:50],
                model=str(charging_station.get("model", ""))[:50],
                firmware=str(charging_station.get("firmware_version", ""))[:50],
            ),
            self.charger_id,
            self.epoch,
        )
        if not seen:
            raise Superseded  # closed by ``refusing``
        return call_result.BootNotification(
            current_time=timezone.now().isoformat(),
            interval=HEARTBEAT_INTERVAL,
            status=RegistrationStatusEnumType.accepted,
        )

    @on(Action.heartbeat)
    @refusing
    async def on_heartbeat(self) -> Any:
        if not await sync_to_async(services.charger_seen)(
            self.charger_id, self.epoch, last_heartbeat_at=timezone.now()
        ):
            raise Superseded  # closed by ``refusing``
        return call_result.Heartbeat(current_time=timezone.now().isoformat())

    @on(Action.status_notification)
    @refusing
    async def on_status(
        self, timestamp: str, connector_status: str, evse_id: int, connector_id: int, **kw: Any
    ) -> Any:
        if not await sync_to_async(services.charger_connector_status)(
            self.charger_id, connector_id, connector_status, self.epoch
        ):
            raise Superseded  # closed by ``refusing``
        return call_result.StatusNotification()

    @on(Action.authorize)
    @refusing
    async def on_authorize(self, id_token: dict[str, Any], **kw: Any) -> Any:
        return call_result.Authorize(id_token_info={"status": AuthorizationStatusEnumType.accepted})

    @on(Action.transaction_event)
    @refusing
    async def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        trigger_reason: str,
        seq_no: int,
        transaction_info: dict[str, Any],
        **kw: Any,
    ) -> Any:
        await group_commit().run(
            transaction_event_v201,
            self.charger_id,
            event_type,
            charger_time("timestamp", timestamp),
            seq_no,
            transaction_info,
            kw.get("meter_value"),
            kw.get("id_token"),
            kw.get("evse"),
            epoch=self.epoch,
        )
        if kw.get("id_token"):
            return call_result.TransactionEvent(
                id_token_info={"status": AuthorizationStatusEnumType.accepted}
            )
        return call_result.TransactionEvent()

    @on(Action.meter_values)
    @refusing
    async def on_meter_values(self, evse_id: int, meter_value: list[Any], **kw: Any) -> Any:
        # 2.0.1 sends transaction energy in TransactionEvent; these are station readings.
        return call_result.MeterValues()
