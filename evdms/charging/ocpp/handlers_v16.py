"""OCPP 1.6J: the central system's side of each message a home charger sends, and its
transactions translated into the session core's calls."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.utils import timezone
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action, AuthorizationStatus, DataTransferStatus, RegistrationStatus

from evdms.charging import bounds, services
from evdms.charging.models import ChargingSession
from evdms.charging.ocpp.common import (
    RecordingMixin,
    Superseded,
    charger_time,
    check_register_value,
    refusing,
)
from evdms.charging.ocpp.meter import parse_meter_values
from evdms.charging.ocpp.persist import check_transaction_id_v16, group_commit
from evdms.charging.services import sessions

HEARTBEAT_INTERVAL = 300
_ID_TAG_MAX = ChargingSession._meta.get_field("id_tag").max_length or 0


# The gateway checks the type of each field (the ocpp package's JSON schemas); these
# check what the schemas leave open (ranges, sizes) under the fields' OCPP names before
# the session core, raising ``bounds.Unstorable`` for a value no column can hold.


def start_transaction_v16(
    charger_id: int, connector_id: int, id_tag: str, meter_start: int, timestamp: datetime
) -> int:
    """The transaction id for this start: a repeated StartTransaction gets the same one."""
    bounds.check_int("connectorId", connector_id, 0, bounds.CONNECTOR_ID_MAX)
    bounds.check_text("idTag", id_tag, _ID_TAG_MAX)
    check_register_value("meterStart", meter_start)
    key = sessions.session_start(
        charger_id=charger_id,
        connector=connector_id,
        started_at=timestamp,
        meter_start_wh=meter_start,
        token=id_tag,
    )
    return int(key)


def stop_transaction_v16(
    charger_id: int,
    transaction_id: int,
    meter_stop: int,
    timestamp: datetime,
    reason: str = "",
    transaction_data: list[dict[str, Any]] | None = None,
) -> None:
    """Close the session. A stop for an unknown transaction is kept as a flagged session."""
    check_transaction_id_v16(transaction_id)
    check_register_value("meterStop", meter_stop)
    sessions.session_finish(
        charger_id=charger_id,
        key=str(transaction_id),
        ended_at=timestamp,
        meter_stop_wh=meter_stop,
        reason=reason or "Local",
        report=parse_meter_values(transaction_data),
        unknown_flag="StopTransaction for an unknown transaction",
    )


def _now() -> str:
    return timezone.now().isoformat()


class CentralSystem16(RecordingMixin, ChargePoint):
    hot_actions = frozenset({"MeterValues"})  # energy readings: see ``hot_calls``

    @on(Action.boot_notification)
    @refusing
    async def on_boot(self, charge_point_vendor: str, charge_point_model: str, **kw: Any) -> Any:
        # With the other writes of the moment (see ``persist``): a restarted gateway has
        # the whole fleet booting within seconds.
        seen = await group_commit().run(
            functools.partial(
                services.charger_booted,
                vendor=charge_point_vendor[:50],
                model=charge_point_model[:50],
                firmware=str(kw.get("firmware_version", ""))[:50],
            ),
            self.charger_id,
            self.epoch,
        )
        if not seen:
            raise Superseded  # closed by ``refusing``
        return call_result.BootNotification(
            current_time=_now(), interval=HEARTBEAT_INTERVAL, status=RegistrationStatus.accepted
        )

    @on(Action.heartbeat)
    @refusing
    async def on_heartbeat(self) -> Any:
        if not await sync_to_async(services.charger_seen)(
            self.charger_id, self.epoch, last_heartbeat_at=timezone.now()
        ):
            raise Superseded  # closed by ``refusing``
        return call_result.Heartbeat(current_time=_now())

    @on(Action.status_notification)
    @refusing
    async def on_status(self, connector_id: int, error_code: str, status: str, **kw: Any) -> Any:
        if not await sync_to_async(services.charger_connector_status)(
            self.charger_id, connector_id, status, self.epoch
        ):
            raise Superseded  # closed by ``refusing``
        return call_result.StatusNotification()

    @on(Action.authorize)
    @refusing
    async def on_authorize(self, id_tag: str) -> Any:
        # A home charger serves its household: any tag is accepted and recorded with the
        # session; the driver is the charger's driver.
        return call_result.Authorize(id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.start_transaction)
    @refusing
    async def on_start(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **kw: Any
    ) -> Any:
        transaction_id = await group_commit().run(
            start_transaction_v16,
            self.charger_id,
            connector_id,
            id_tag,
            meter_start,
            charger_time("timestamp", timestamp),
            epoch=self.epoch,
        )
        return call_result.StartTransaction(
            transaction_id=transaction_id, id_tag_info={"status": AuthorizationStatus.accepted}
        )

    @on(Action.meter_values)
    @refusing
    async def on_meter_values(self, connector_id: int, meter_value: list[Any], **kw: Any) -> Any:
        await group_commit().meter_values_16(
            self.charger_id, kw.get("transaction_id"), meter_value, epoch=self.epoch
        )
        return call_result.MeterValues()

    @on(Action.stop_transaction)
    @refusing
    async def on_stop(self, meter_stop: int, timestamp: str, transaction_id: int, **kw: Any) -> Any:
        await group_commit().run(
            stop_transaction_v16,
            self.charger_id,
            transaction_id,
            meter_stop,
            charger_time("timestamp", timestamp),
            str(kw.get("reason", "")),
            kw.get("transaction_data"),
            epoch=self.epoch,
        )
        return call_result.StopTransaction(id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.data_transfer)
    @refusing
    async def on_data_transfer(self, vendor_id: str, **kw: Any) -> Any:
        # Not kept from a connection a newer one took over (here or in another process).
        if not await sync_to_async(services.charger_seen)(self.charger_id, self.epoch):
            raise Superseded  # closed by ``refusing``
        # No vendor extensions are understood; say so instead of pretending.
        await sync_to_async(services.protocol_issue)(
            self.charger_id, "DataTransfer", f"vendor {vendor_id}: {kw}"
        )
        return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)
