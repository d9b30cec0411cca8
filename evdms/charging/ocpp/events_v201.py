"""OCPP 2.0.1 TransactionEvent translated into the session core's ``session_event``.

Apart from the handlers so the gateway's batch writer (``persist``) can run it for the
events its fast path does not take, and check fields the same way for those it does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from evdms.charging import bounds
from evdms.charging.models import ChargingSession
from evdms.charging.ocpp.meter import parse_meter_values
from evdms.charging.services import sessions

EVENTS = {
    "Started": sessions.SessionEvent.STARTED,
    "Updated": sessions.SessionEvent.UPDATED,
    "Ended": sessions.SessionEvent.ENDED,
}


class CheckedEvent(NamedTuple):
    key: str
    sequence: int
    connector: int
    token: str


# Read once: the batch writer checks every ``Updated`` (``persist``).
_TRANSACTION_ID_MAX = ChargingSession._meta.get_field("transaction_id").max_length or 0
_ID_TAG_MAX = ChargingSession._meta.get_field("id_tag").max_length or 0


def _evse_connector(evse: dict[str, Any] | None) -> int:
    evse = evse or {}
    for field in ("id", "connector_id"):
        if evse.get(field) is not None:
            bounds.check_int(f"evse.{field}", evse[field], 0, bounds.CONNECTOR_ID_MAX)
    return int(evse.get("connector_id") or evse.get("id") or 1)


def check_transaction_event(
    seq_no: int,
    transaction_info: dict[str, Any],
    id_token: dict[str, Any] | None,
    evse: dict[str, Any] | None,
) -> CheckedEvent:
    """The fields under their OCPP names (the schemas leave ranges and sizes open), so a
    refusal names what the charger sent; ``bounds.Unstorable`` for one no column holds."""
    transaction_id = bounds.check_text(
        "transactionInfo.transactionId", transaction_info.get("transaction_id"), _TRANSACTION_ID_MAX
    )
    bounds.check_int("seqNo", seq_no, 0, bounds.INT_STORABLE)
    connector_id = _evse_connector(evse)
    id_tag = bounds.check_text("idToken.idToken", (id_token or {}).get("id_token", ""), _ID_TAG_MAX)
    return CheckedEvent(transaction_id, seq_no, connector_id, id_tag)


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
    """Started / Updated / Ended, in any order and any number of times: one session."""
    checked = check_transaction_event(seq_no, transaction_info, id_token, evse)
    sessions.session_event(
        charger_id=charger_id,
        key=checked.key,
        event=EVENTS[event_type],
        at=timestamp,
        sequence=checked.sequence,
        connector=checked.connector,
        token=checked.token,
        report=parse_meter_values(meter_value),
        stop_reason=str(transaction_info.get("stopped_reason") or "Local"),
        early_flag=f"{event_type} arrived before Started",
    )
