"""Meter values as chargers send them (OCPP 1.6 and 2.0.1), turned into integer Wh."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

ENERGY_REGISTER = "Energy.Active.Import.Register"


@dataclass(frozen=True)
class Reading:
    at: datetime
    measurand: str
    value_wh: int


@dataclass
class ParsedMeterValues:
    readings: list[Reading]
    signed_data: list[str]
    problems: list[str]


def parse_time(value: str) -> datetime:
    """An OCPP timestamp (RFC 3339), aware."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {value}")
    return parsed


def to_wh(value: Any, unit: str, multiplier: int = 0) -> int:
    number = Decimal(str(value)) * (Decimal(10) ** multiplier)
    if unit == "kWh":
        number *= 1000
    elif unit not in ("Wh", ""):
        raise ValueError(f"unit {unit!r} is not an energy unit")
    return int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_meter_values(meter_value: list[dict[str, Any]] | None) -> ParsedMeterValues:
    """Energy register readings (other measurands are ignored), signed data kept verbatim.

    Works for both versions: 1.6 has ``unit`` and string values, 2.0.1 has
    ``unit_of_measure`` and numbers. Keys are snake_case, as the ocpp package gives them.
    """
    result = ParsedMeterValues([], [], [])
    for entry in meter_value or []:
        try:
            at = parse_time(entry["timestamp"])
        except (KeyError, ValueError) as exc:
            result.problems.append(f"bad timestamp: {exc}")
            continue
        for sample in entry.get("sampled_value", []):
            signed = sample.get("signed_meter_value")
            if signed:  # 2.0.1
                result.signed_data.append(str(signed.get("signed_meter_data", "")))
            if sample.get("format") == "SignedData":  # 1.6: the value itself is OCMF
                result.signed_data.append(str(sample.get("value", "")))
                continue
            measurand = sample.get("measurand") or ENERGY_REGISTER
            if measurand != ENERGY_REGISTER:
                continue
            unit_of_measure = sample.get("unit_of_measure") or {}
            unit = unit_of_measure.get("unit") or sample.get("unit") or "Wh"
            multiplier = int(unit_of_measure.get("multiplier") or 0)
            try:
                wh = to_wh(sample["value"], unit, multiplier)
            except (KeyError, ValueError, InvalidOperation) as exc:
                result.problems.append(f"bad meter value {sample.get('value')!r}: {exc}")
                continue
            if wh < 0:
                result.problems.append(f"negative meter reading {wh} Wh")
                continue
            result.readings.append(Reading(at, measurand, wh))
    return result
