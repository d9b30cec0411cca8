"""Meter values as chargers send them (OCPP 1.6 and 2.0.1), turned into the session
core's readings in integer Wh."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, DecimalException
from typing import Any

from evdms.charging.bounds import (
    REGISTER_WH_STORABLE,
    OutOfWindow,
    Unstorable,
    check_time,
    parse_time,
)
from evdms.charging.models import ENERGY_REGISTER
from evdms.charging.services.sessions import MeterReport, Reading

# 2.0.1's unitOfMeasure.multiplier: a power of ten; real meters use -3 … 6.
MULTIPLIER_RANGE = range(-9, 10)
# An OCMF document is one to two thousand characters; what the session core keeps per
# session is bounded too (``sessions.SIGNED_SESSION_MAX``).
SIGNED_VALUE_MAX = 10_000

__all__ = ["MeterReport", "Reading", "Unstorable", "parse_meter_values", "parse_time"]


def to_wh(value: Any, unit: str, multiplier: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(f"{type(value).__name__} is not a number")
    if multiplier not in MULTIPLIER_RANGE:
        raise ValueError(f"multiplier {multiplier} outside {MULTIPLIER_RANGE.start} … 9")
    if len(str(value)) > 100:
        raise ValueError("more than 100 characters")
    try:
        number = Decimal(str(value)) * (Decimal(10) ** multiplier)
        if unit == "kWh":
            number *= 1000
        elif unit not in ("Wh", ""):
            raise ValueError(f"unit {unit!r} is not an energy unit")
        if not number.is_finite():
            raise ValueError(f"{value!r} is not a finite number")
        if abs(number) > REGISTER_WH_STORABLE:
            raise Unstorable("value", f"meter value {value} {unit or 'Wh'} cannot be stored")
        return int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except DecimalException as exc:
        raise ValueError(f"{value!r} is not a decimal number") from exc


def parse_meter_values(
    meter_value: list[dict[str, Any]] | None, *, limits: tuple[datetime, datetime] | None = None
) -> MeterReport:
    """Energy register readings (other measurands are ignored), signed data kept verbatim.

    Works for both versions: 1.6 has ``unit`` and string values, 2.0.1 has
    ``unit_of_measure`` and numbers. Keys are snake_case, as the ocpp package gives them.
    A reading dated outside the accepted window is left out with a problem (its time
    cannot be trusted, so neither can its place in the session); one too large for any
    column raises ``Unstorable``. ``limits``: the window, if the caller took it already.
    """
    result = MeterReport()
    for entry in meter_value or []:
        try:
            at = check_time(parse_time(entry["timestamp"]), limits=limits)
        except (KeyError, ValueError) as exc:  # OutOfWindow is a ValueError too
            kind = "outside the time window" if isinstance(exc, OutOfWindow) else "bad timestamp"
            result.problems.append(f"{kind}: {exc}")
            continue
        for sample in entry.get("sampled_value", []):
            signed = sample.get("signed_meter_value")
            if signed:  # 2.0.1
                _keep_signed(signed.get("signed_meter_data", ""), result)
            if sample.get("format") == "SignedData":  # 1.6: the value itself is OCMF
                _keep_signed(sample.get("value", ""), result)
                continue
            measurand = sample.get("measurand") or ENERGY_REGISTER
            if measurand != ENERGY_REGISTER:
                continue
            unit_of_measure = sample.get("unit_of_measure") or {}
            unit = unit_of_measure.get("unit") or sample.get("unit") or "Wh"
            try:
                multiplier = int(unit_of_measure.get("multiplier") or 0)
                wh = to_wh(sample["value"], unit, multiplier)
            except Unstorable:
                raise
            except (KeyError, ValueError, TypeError) as exc:
                result.problems.append(f"bad meter value {sample.get('value')!r}: {exc}")
                continue
            if wh < 0:
                result.problems.append(f"negative meter reading {wh} Wh")
                continue
            result.readings.append(Reading(at, wh, measurand))
    return result


def _keep_signed(value: Any, result: MeterReport) -> None:
    text = str(value)
    if len(text) > SIGNED_VALUE_MAX:
        result.problems.append(f"signed meter data of {len(text)} characters not kept")
    else:
        result.signed_data.append(text)
