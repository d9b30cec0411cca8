"""A simulated home charger, built on the ``ocpp`` package's charge-point side. Used by
``manage.py simulate_chargers``, the tests and the benchmark."""

from __future__ import annotations

import asyncio
import base64
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class SimulatedSession:
    start: datetime
    meter_start_wh: int
    steps_wh: list[int] = field(default_factory=lambda: [1500, 1500, 1500, 1500])
    minutes_per_step: int = 15

    @property
    def meter_stop_wh(self) -> int:
        return self.meter_start_wh + sum(self.steps_wh)


async def open_connection(
    url: str, identity: str, password: str, protocol: str
) -> ClientConnection:
    token = base64.b64encode(f"{identity}:{password}".encode()).decode()
    return await connect(
        f"{url.rstrip('/')}/{identity}",
        subprotocols=[Subprotocol(f"ocpp{protocol}")],
        additional_headers={"Authorization": f"Basic {token}"},
        open_timeout=10,
    )


class Charger16(ChargePoint16):
    async def boot(self) -> Any:
        return await self.call(
            call16.BootNotification(
                charge_point_vendor="evdms-sim",
                charge_point_model="Home 11",
                firmware_version="1.0.0",
            )
        )

    async def run_session(self, session: SimulatedSession, id_tag: str = "HOME") -> int:
        await self.call(call16.Authorize(id_tag=id_tag))
        started = await self.call(
            call16.StartTransaction(
                connector_id=1,
                id_tag=id_tag,
                meter_start=session.meter_start_wh,
                timestamp=_iso(session.start),
            )
        )
        transaction_id = started.transaction_id
        register = session.meter_start_wh
        for i, step in enumerate(session.steps_wh, start=1):
            register += step
            at = session.start + timedelta(minutes=session.minutes_per_step * i)
            await self.call(
                call16.MeterValues(
                    connector_id=1,
                    transaction_id=transaction_id,
                    meter_value=[
                        {
                            "timestamp": _iso(at),
                            "sampledValue": [
                                {
                                    "value": str(register),
                                    "measurand": "Energy.Active.Import.Register",
                                    "unit": "Wh",
                                }
                            ],
                        }
                    ],
                )
            )
        end = session.start + timedelta(minutes=session.minutes_per_step * len(session.steps_wh))
        await self.call(
            call16.StopTransaction(
                meter_stop=session.meter_stop_wh,
                timestamp=_iso(end),
                transaction_id=transaction_id,
                reason="EVDisconnected",
            )
        )
        return int(transaction_id)


class Charger201(ChargePoint201):
    async def boot(self) -> Any:
        return await self.call(
            call201.BootNotification(
                charging_station={
                    "model": "Home 22",
                    "vendor_name": "evdms-sim",
                    "firmware_version": "2.0.0",
                },
                reason="PowerUp",
            )
        )

    def event(
        self,
        event_type: str,
        at: datetime,
        seq_no: int,
        transaction_id: str,
        register: int,
        **extra: Any,
    ) -> Any:
        return call201.TransactionEvent(
            event_type=event_type,
            timestamp=_iso(at),
            trigger_reason="MeterValuePeriodic"
            if event_type == "Updated"
            else ("CablePluggedIn" if event_type == "Started" else "EVCommunicationLost"),
            seq_no=seq_no,
            transaction_info={
                "transactionId": transaction_id,
                **({"stoppedReason": "EVDisconnected"} if event_type == "Ended" else {}),
            },
            meter_value=[
                {
                    "timestamp": _iso(at),
                    "sampledValue": [
                        {
                            "value": register / 1000,
                            "measurand": "Energy.Active.Import.Register",
                            "unitOfMeasure": {"unit": "kWh"},
                        }
                    ],
                }
            ],
            **extra,
        )

    def session_events(
        self, session: SimulatedSession, transaction_id: str | None = None
    ) -> list[Any]:
        transaction_id = transaction_id or uuid.uuid4().hex[:20]
        events = [
            self.event(
                "Started",
                session.start,
                0,
                transaction_id,
                session.meter_start_wh,
                id_token={"idToken": "HOME", "type": "Local"},
                evse={"id": 1, "connectorId": 1},
            )
        ]
        register = session.meter_start_wh
        for i, step in enumerate(session.steps_wh[:-1], start=1):
            register += step
            events.append(
                self.event(
                    "Updated",
                    session.start + timedelta(minutes=session.minutes_per_step * i),
                    i,
                    transaction_id,
                    register,
                )
            )
        end = session.start + timedelta(minutes=session.minutes_per_step * len(session.steps_wh))
        events.append(
            self.event("Ended", end, len(session.steps_wh), transaction_id, session.meter_stop_wh)
        )
        return events

    async def run_session(self, session: SimulatedSession) -> str:
        await self.call(call201.Authorize(id_token={"idToken": "HOME", "type": "Local"}))
        events = self.session_events(session)
        for event in events:
            await self.call(event)
        return str(events[0].transaction_info["transactionId"])


async def run_charger(
    url: str, identity: str, password: str, protocol: str, sessions: list[SimulatedSession]
) -> list[Any]:
    """Connect, boot, run the sessions one after another, disconnect."""
    connection = await open_connection(url, identity, password, protocol)
    charger: Any = (Charger16 if protocol == "1.6" else Charger201)(identity, connection)
    listener = asyncio.create_task(charger.start())
    try:
        await charger.boot()
        return [await charger.run_session(s) for s in sessions]
    finally:
        listener.cancel()
        await connection.close()
