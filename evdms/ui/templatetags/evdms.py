from __future__ import annotations

from typing import Any

from django import template

from evdms.ui import formatting
from evdms.ui.time_ago import time_ago

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


# Numbers, one way on every page (evdms/ui/formatting.py): grouped, rounded half-up.


@register.filter
def price(value: Any, currency: str = "") -> str:
    """A price per kWh: 0.29, 0.2975 (at least two decimals, at most four); with its
    currency, ``price:currency``: €0.2975, 0,2975 € (as ``money`` writes it)."""
    return formatting.price(value, currency)


@register.filter
def kwh(value: Any) -> str:
    """Integer Wh shown as kWh with three decimals: 10,429.451 (exact: no float)."""
    return formatting.kwh_from_wh(value)


@register.filter
def kwh_value(value: Any) -> str:
    """A number already in kWh (a Decimal), with three decimals: 10,429.451."""
    return formatting.kwh(value)


@register.filter
def count(value: Any) -> str:
    """A whole number with thousands separators: 2,981 (text is left as it is)."""
    return formatting.count(value)


@register.filter
def amount(value: Any, places: int = 2) -> str:
    """Money where the heading names the currency: 1,815.00, 1.815,00 (``amount:4``:
    1.2963)."""
    return formatting.amount(value, int(places))


@register.filter
def money(value: Any, currency: str = "") -> str:
    """Money with its currency, as the active language writes it: €1,815.00 (en-gb),
    € 1.815,00 (nl), 1.815,00 € (de), 1 815,00 € (fr)."""
    return formatting.money(value, currency)


@register.filter
def exact_money(value: Any, currency: str = "") -> str:
    """Money with its currency and four decimals: an exact line amount before the
    total's rounding to the cent, €2.5000."""
    return formatting.money(value, currency, 4)


@register.filter
def ago(moment: Any) -> str:
    """How long ago, as a whole phrase in the reader's language: "2 days ago", "vor 2
    Tagen" (evdms/ui/time_ago.py; not ``timesince`` inside an "… ago" sentence)."""
    return time_ago(moment)


@register.filter
def country(code: str | None) -> str:
    """A stored two-letter country code by its name: NL → Netherlands."""
    from evdms.ui.countries import country_name

    return country_name(code)


@register.filter
def connections_scope(holder: Any) -> str:
    """An admin's or API key's connections for a list: "All" or the names, shortened."""
    from evdms.accounts.selectors import scope_label

    return scope_label(holder)
