"""How an invoice's amounts and units read on its page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from evdms.invoicing.invoice_pdf import unit_text
from evdms.ui import formatting

register = template.Library()


@register.filter
def money(amount: Any, currency: str = "") -> str:
    """An amount with its currency and two decimals, as the active language writes it:
    €1,815.00, 1.815,00 € (the one format of every page, evdms/ui/formatting.py)."""
    return formatting.money(amount, currency)


@register.filter
def unit_label(code: str, quantity: Any = 2) -> str:
    """A UN/ECE recommendation 20 code as the PDF says it, in the active language:
    "months", "Monate"; one or many as ``quantity`` is."""
    return unit_text(Decimal(str(quantity)), code)
