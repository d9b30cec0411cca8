"""How numbers read on every page: counts, energy, amounts and prices per kWh, one way.

Everything goes through Django's ``number_format`` with grouping forced, so the
separators come from the active language's formats (``en-gb``: "10,429.451"); when the
product is translated, activating another language changes them here and nowhere else.
Rounding is half-up, to the places a kind of number shows, done here in Decimal before
formatting (``number_format`` itself cuts digits off rather than rounding them).

- counts: whole numbers, "2,981";
- energy: kWh with three decimals, from integer Wh or a kWh Decimal, "10,429.451";
- amounts: two decimals, "1,815.00", with the currency when asked, "EUR 1,815.00";
- prices per kWh: at least two decimals and at most four, "0.29", "0.2975".
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.formats import get_format, number_format
from django.utils.translation import get_language

EMPTY = "—"

# Per language: its decimal and thousand separators, or None where its grouping is not
# plain threes (then Django's number_format does it). A page like the dashboard formats
# some 1,600 numbers, and number_format looks its three formats up again for each one
# (a third of the page's time at 200 connections); the formats of a language never
# change while the process runs (FORMAT_MODULE_PATH, no per-request override).
_SEPARATORS: dict[str | None, tuple[str, str] | None] = {}


def _separators() -> tuple[str, str] | None:
    language = get_language()
    try:
        return _SEPARATORS[language]
    except KeyError:
        pass
    decimal = str(get_format("DECIMAL_SEPARATOR", language, use_l10n=True))
    thousand = str(get_format("THOUSAND_SEPARATOR", language, use_l10n=True))
    grouping = get_format("NUMBER_GROUPING", language, use_l10n=True)
    found = (decimal, thousand) if grouping == 3 else None
    _SEPARATORS[language] = found
    return found


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def number(value: Any, places: int = 0) -> str:
    """``value`` rounded half-up to ``places`` decimals, grouped; text that is not a
    number is given back as it is (a figure may be "3 of 5"), nothing as "—"."""
    found = _decimal(value)
    if found is None:
        return EMPTY if value is None or value == "" else str(value)
    exponent = Decimal(1).scaleb(-places)
    rounded = found.quantize(exponent, ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)  # no "-0.00"
    separators = _separators()
    if separators is None:
        return number_format(rounded, places, use_l10n=True, force_grouping=True)
    # The same text as number_format gives (a test compares them in every language):
    # Python groups by threes with "," and "." and each is swapped for the language's.
    decimal, thousand = separators
    return f"{rounded:,.{places}f}".translate({44: thousand, 46: decimal})


def count(value: Any) -> str:
    return number(value, 0)


def kwh_from_wh(wh: Any) -> str:
    """Integer Wh as kWh with three decimals (exact: 1 Wh is 0.001 kWh)."""
    found = _decimal(wh)
    if found is None:
        return EMPTY
    return number(found / 1000, 3)


def kwh(value: Any) -> str:
    """A kWh Decimal with three decimals."""
    return number(value, 3)


def amount(value: Any, places: int = 2) -> str:
    """Money without its currency (where a heading names it), two decimals; an exact
    line amount before the total's rounding may ask for more."""
    return EMPTY if _decimal(value) is None else number(value, places)


def money(value: Any, currency: str = "") -> str:
    """Money with its ISO currency before it, two decimals: "EUR 1,815.00"."""
    if _decimal(value) is None:
        return EMPTY
    return f"{currency} {number(value, 2)}".strip()


def price(value: Any) -> str:
    """A price per kWh: as many decimals as it has, at least two, at most four."""
    found = _decimal(value)
    if found is None:
        return "" if value is None or value == "" else str(value)
    exponent = found.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) else 2
    return number(found, min(max(places, 2), 4))
