"""How an invoice's amounts and units read on its page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

register = template.Library()

# UN/ECE recommendation 20 codes the lines use, as a person says them.
UNITS = {"C62": "", "KWH": "kWh", "DAY": "days", "MON": "months", "HUR": "hours"}


@register.filter
def money(amount: Any, currency: str = "") -> str:
    """An amount with its currency and two decimals (exact: Decimal, never float)."""
    if amount in (None, ""):
        return "—"
    value = Decimal(str(amount)).quantize(Decimal("0.01"))
    return f"{currency} {value:f}".strip()


@register.filter
def unit_label(code: str) -> str:
    return UNITS.get(code, code)
