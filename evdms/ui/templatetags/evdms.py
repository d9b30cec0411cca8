from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: dict[str, Any] | None, key: str) -> Any:
    return (mapping or {}).get(key, "")


@register.filter
def sort_toggle(key: str, current: str | None) -> str:
    """The ``sort`` a column header links to: its key, or the key descending when the
    list is already sorted by it. Use with Django's querystring tag, which replaces the
    ``sort`` of the current address and keeps the filters:
    ``{% querystring sort=key|sort_toggle:query.sort page=None %}``."""
    return f"-{key}" if current == key else key


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
    from evdms.ui.numbers import price_text

    return price_text(value)


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
