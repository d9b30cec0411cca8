from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: dict[str, Any] | None, key: str) -> Any:
    return (mapping or {}).get(key, "")


@register.filter
def audit_value(value: Any) -> str:
    """A recorded value as a person reads it."""
    if value is None or value == "" or value == []:
        return "—"
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


@register.filter
def price(value: Any) -> str:
    """A price per kWh as people write it: 0.29, 0.2975 (at least two decimals)."""
    from decimal import Decimal

    if value in (None, ""):
        return ""
    number = Decimal(str(value)).normalize()
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # prices are finite ("n", "N", "F" are for NaN, ∞)
    if exponent > -2:
        number = number.quantize(Decimal("0.01"))
    return f"{number:f}"


@register.filter
def kwh(value: Any) -> str:
    """Integer Wh shown as kWh with three decimals (exact: no float)."""
    if value in (None, ""):
        return "—"
    from decimal import Decimal

    return f"{Decimal(int(value)) / 1000:.3f}"


@register.filter
def connections_scope(holder: Any) -> str:
    """An admin's or API key's connections for a list: "All" or the names, shortened."""
    from evdms.accounts.selectors import scope_label

    return scope_label(holder)
