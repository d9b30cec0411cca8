"""Numbers as people read and type them, shared by templates and form initial values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def price_text(value: Any) -> str:
    """A price per kWh as people write it: 0.32, 0.325, 0.3275 — up to the four decimals
    it is stored with, never trailing zeros beyond two ("0.3200" is 0.32)."""
    if value in (None, ""):
        return ""
    number = Decimal(str(value)).normalize()
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # prices are finite ("n", "N", "F" are for NaN, ∞)
    if exponent > -2:
        number = number.quantize(Decimal("0.01"))
    return f"{number:f}"
