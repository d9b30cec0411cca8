"""The CALLs nearly all of a connection's traffic is (1.6 MeterValues, 2.0.1
TransactionEvent), handled without the ocpp package's generic routing, with its answers.

For each CALL the package parses the frame (again: ``RecordingMixin`` parsed it to
tell junk from OCPP), checks the payload, renames its keys, reads the handler's
signature with ``inspect.signature`` (to see whether it wants the message id), calls
it, turns the answer's dataclass into a dict (``dataclasses.asdict``, then removing the
``None`` fields and renaming keys back), checks the answer against its schema and
serialises it. Measured in one process, that generic part cost more for a 2.0.1
TransactionEvent (whose answer dataclass has five optional fields) than the
gateway's own work on it, and is what kept 2.0.1 behind 1.6 (``docs/benchmarks.md``).

Here, for a hot action whose payload the (compiled) schema check accepts: the frame
parsed once, the keys renamed as the package renames them, the handler called with
them, and an answer with no field set (what these handlers return but for a 2.0.1
idToken's status) written as the package writes it, ``[3,"<id>",{}]``. Any other
answer goes through the package's own functions. Everything else (another action, a
payload the check refuses, a handler wanting the message id or an ``@after`` hook)
goes to the package unchanged, so what a charger gets back is the same in every case:
``charging/tests/test_hot_calls.py`` compares the two, frame by frame.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ocpp.charge_point
import ocpp.messages
from ocpp.messages import Call, MessageType

from evdms.charging.ocpp import package_speed

if TYPE_CHECKING:
    from ocpp.charge_point import ChargePoint

# ``CallResult.to_json``'s separators. Its encoder differs from the default only for
# values JSON cannot hold (Decimals, objects), which a parsed message id never is.
_COMPACT = json.JSONEncoder(separators=(",", ":"))


def handler_for(central: ChargePoint, msg: Any, hot_actions: frozenset[str]) -> Any:
    """The handler to call for ``msg`` directly, or ``None``: the package's route."""
    if type(msg) is not Call:
        return None
    action = msg.action
    if type(action) is not str or action not in hot_actions:
        return None
    handlers = central.route_map.get(action)
    if (
        handlers is None
        or handlers.get("_skip_schema_validation", False)
        or "_after_action" in handlers
        or "_on_action" not in handlers
    ):
        return None
    handler = handlers["_on_action"]
    if _takes_unique_id(getattr(handler, "__func__", handler)):
        return None
    version = central._ocpp_version
    if not package_speed.compiled_validator(MessageType.Call, action, version).is_valid(
        msg.payload
    ):
        return None  # the package answers with its CallError
    return handler


@functools.cache
def _takes_unique_id(function: Callable[..., Any]) -> bool:
    # What the package reads from the signature at every call, read once per handler.
    return "call_unique_id" in inspect.signature(function).parameters


async def handle(central: ChargePoint, msg: Any, handler: Any) -> None:
    """The package's ``_handle_call`` for a hot CALL ``handler_for`` accepted.

    As there, an exception of the handler is answered with its CallError; an answer
    the schema refuses raises the package's OCPPError (for the caller to answer)."""
    payload = package_speed.camel_to_snake_case(msg.payload)
    try:
        response = handler(**payload)
        if inspect.isawaitable(response):
            response = await response
    except Exception as e:
        central.logger.exception("Error while handling request '%s'", msg)
        await central._send(msg.create_call_error(e).to_json())
        return
    await central._send(await answer_frame(msg, response, central._ocpp_version))


async def answer_frame(msg: Any, response: Any, version: str) -> str:
    """The CallResult frame the package sends for ``response``, the handler's answer."""
    if _nothing_set(response) and _empty_answer_valid(msg.action, version):
        return _COMPACT.encode([MessageType.CallResult, msg.unique_id, {}])
    # As the package does it (``ChargePoint._handle_call``), with its own functions.
    payload = ocpp.charge_point.remove_nones(ocpp.charge_point.serialize_as_dict(response))
    result = msg.create_call_result(ocpp.charge_point.snake_to_camel_case(payload))
    await ocpp.messages.validate_payload(result, version)
    return str(result.to_json())


def _nothing_set(response: Any) -> bool:
    """A dataclass instance whose fields are all ``None``: the package makes it ``{}``."""
    cls: Any = type(response)  # (a class is hashable; the stubs say not)
    names = _field_names(cls)
    return names is not None and all(getattr(response, name) is None for name in names)


@functools.cache
def _field_names(cls: Any) -> tuple[str, ...] | None:
    if not dataclasses.is_dataclass(cls):
        return None
    return tuple(field.name for field in dataclasses.fields(cls))


@functools.cache
def _empty_answer_valid(action: str, version: str) -> bool:
    return package_speed.compiled_validator(MessageType.CallResult, action, version).is_valid({})
