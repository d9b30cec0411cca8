"""OCPP 2.0.1: the CSMS side of each message a home charger sends, and its transaction
events translated into the session core's calls."""

from __future__ import annotations

import functools
from typing import Any

from asgiref.sync import sync_to_async
from django.utils import timezone
from ocpp.routing import on
from ocpp.v201 import ChargePoint, call_result
from ocpp.v201.enums import Action, AuthorizationStatusEnumType, RegistrationStatusEnumType

from evdms.charging import services
from evdms.charging.ocpp.common import RecordingMixin, Superseded, charger_time, refusing
from evdms.charging.ocpp.events_v201 import transaction_event_v201
from evdms.charging.ocpp.handlers_v16 import HEARTBEAT_INTERVAL
from evdms.charging.ocpp.persist import group_commit

__all__ = ["CentralSystem201", "transaction_event_v201"]


class CentralSystem201(RecordingMixin, ChargePoint):
    hot_actions = frozenset({"TransactionEvent"})  # energy readings: see ``hot_calls``

    @on(Action.boot_notification)
    @refusing
    async def on_boot(self, charging_station: dict[str, Any], reason: str, **kw: Any) -> Any:
        # With the other writes of the moment (see ``persist``): a restarted gateway has
        # the whole fleet booting within seconds.
        seen = await group_commit().run(
            functools.partial(
                services.charger_booted,
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
        # Through the batch writer's fast path when plain (see ``persist``).
        await group_commit().transaction_event_201(
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
