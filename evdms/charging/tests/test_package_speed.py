"""The gateway's speed-ups of the ocpp package answer as the package does: the compiled
schema checks accept exactly what the package's own checks accept, and refuse the rest
with the package's own error (so chargers get the same CallError); keys are renamed
exactly as the package renames them."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import ocpp.messages
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evdms.charging.ocpp import package_speed

# Values a charger might put anywhere in a payload.
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=60),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=3),
)

AT = "2026-11-25T00:00:00Z"
# What chargers send most: a start, then energy readings (as the gateway benchmark does).
FRAMES: list[list[Any]] = [
    [
        2,
        "1",
        "StartTransaction",
        {"connectorId": 1, "idTag": "HOME", "meterStart": 0, "timestamp": AT},
    ],
    [
        2,
        "2",
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": 7,
            "meterValue": [{"timestamp": AT, "sampledValue": [{"value": "30", "unit": "Wh"}]}],
        },
    ],
    [
        2,
        "3",
        "TransactionEvent",
        {
            "eventType": "Started",
            "timestamp": AT,
            "triggerReason": "Authorized",
            "seqNo": 0,
            "transactionInfo": {"transactionId": "TX-7"},
            "evse": {"id": 1, "connectorId": 1},
        },
    ],
    [
        2,
        "4",
        "TransactionEvent",
        {
            "eventType": "Updated",
            "timestamp": AT,
            "triggerReason": "MeterValuePeriodic",
            "seqNo": 4,
            "transactionInfo": {"transactionId": "TX-7"},
            "meterValue": [
                {"timestamp": AT, "sampledValue": [{"value": 30, "unitOfMeasure": {"unit": "Wh"}}]}
            ],
        },
    ],
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*prefix, i))
    return found


def _replaced(payload: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copied = copy.deepcopy(payload)
    target = copied
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return copied


def _outcome(validator: Any, payload: Any) -> str | None:
    try:
        validator.validate(payload)
    except jsonschema.ValidationError as error:
        return f"{error.validator}: {error.message}"
    return None


@pytest.mark.parametrize("frame", FRAMES, ids=lambda f: f"{f[2]}-{f[3].get('eventType', '')}")
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_compiled_checks_answer_as_the_package_does(frame: list[Any], data: Any) -> None:
    version = "2.0.1" if frame[2] == "TransactionEvent" else "1.6"
    slow = package_speed._original_get_validator(2, frame[2], version)
    fast = package_speed.get_validator(2, frame[2], version)
    payload = frame[3]
    path = data.draw(st.sampled_from(_paths(payload)))
    mutated = _replaced(payload, path, data.draw(JUNK))
    assert _outcome(fast, mutated) == _outcome(slow, mutated)


def test_valid_frames_pass_and_the_package_uses_the_compiled_checks() -> None:
    package_speed.install()
    for frame in FRAMES:
        version = "2.0.1" if frame[2] == "TransactionEvent" else "1.6"
        validator = ocpp.messages.get_validator(2, frame[2], version)
        assert isinstance(validator, package_speed.CompiledValidator)
        validator.validate(json.loads(json.dumps(frame[3])))  # raises if refused
    # The 1.6 schedules the package checks with Decimal floats stay the package's.
    decimal_validator = ocpp.messages.get_validator(
        2, "SetChargingProfile", "1.6", parse_float=__import__("decimal").Decimal
    )
    assert not isinstance(decimal_validator, package_speed.CompiledValidator)


# Keys as chargers send them, and as they might: OCPP's own, acronyms, digits, junk.
KEYS = st.one_of(
    st.sampled_from(
        [
            "transactionId",
            "meterValue",
            "sampledValue",
            "unitOfMeasure",
            "ocppCSMSURL",
            "evseId",
            "SoC",
            "chargingStationV2X",
            "V2GCertificate",
            "idTag",
            "",
        ]
    ),
    st.text(max_size=12),
    st.text(min_size=60, max_size=80, alphabet="aAbB1_"),
)
NESTED = st.recursive(
    st.one_of(st.none(), st.integers(), st.text(max_size=5)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(data=NESTED)
def test_keys_are_renamed_as_the_package_renames_them(data: Any) -> None:
    assert package_speed.camel_to_snake_case(data) == package_speed._original_camel_to_snake_case(
        data
    )
