"""How an invoice's amounts and units read on its page."""

from __future__ import annotations

from typing import Any

from django import template

from evdms.ui import formatting

register = template.Library()

# UN/ECE recommendation 20 codes the lines use, as a person says them.
UNITS = {"C62": "", "KWH": "kWh", "DAY": "days", "MON": "months", "HUR": "hours"}


@register.filter
def money(amount: Any, currency: str = "") -> str:
    """An amount with its currency and two decimals, grouped: EUR 1,815.00 (the one
    format of every page, evdms/ui/formatting.py)."""
    return formatting.money(amount, currency)


@register.filter
def unit_label(code: str) -> str:
    return UNITS.get(code, code)
