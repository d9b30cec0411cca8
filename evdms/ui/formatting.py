"""How numbers read wherever a person reads them (pages, e-mails, PDFs): counts, energy,
amounts and prices per kWh, one way.

Counts and energy go through Django's ``number_format`` with grouping forced, so the
separators come from the active language's formats (``en-gb``: "10,429.451"). Money goes
through Babel (CLDR) in the active language's locale (``LOCALES``), which also knows
where the currency goes: "€1,815.00" in British English, "€ 1.815,00" in Dutch,
"1.815,00 €" in German, "1 815,00 €" in French (the spaces non-breaking ones; French
groups digits with a narrow one, U+202F, counts and energy too: ``evdms.formats.fr``).
An amount without its currency (where a heading names it) has the very same figures. Rounding is
half-up, to the places a kind of number shows, done here in Decimal before formatting
(``number_format`` cuts digits off, Babel rounds half-even).

- counts: whole numbers, "2,981";
- energy: kWh with three decimals, from integer Wh or a kWh Decimal, "10,429.451";
- amounts: two decimals, "1,815.00", with the currency when asked, "€1,815.00";
- prices per kWh: at least two decimals and at most four, "0.29", "0.2975", with the
  currency when asked, "€0.2975".

CSV and XLSX files keep machine formats ('.' decimals, typed cells) and never come here.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.numbers import NumberPattern, format_currency, format_decimal, parse_pattern
from django.conf import settings
from django.utils import translation
from django.utils.formats import get_format, number_format

EMPTY = "—"
# The Babel (CLDR) locale of each language the product speaks (settings.LANGUAGES).
LOCALES = {"en-gb": "en_GB", "nl": "nl_NL", "de": "de_DE", "fr": "fr_FR"}

# Per language: its decimal and thousand separators, or None where its grouping is not
# plain threes (then Django's number_format does it). A page like the dashboard formats
# some 1,600 numbers, and number_format looks its three formats up again for each one
# (a third of the page's time at 200 connections); the formats of a language never
# change while the process runs (FORMAT_MODULE_PATH, no per-request override).
_SEPARATORS: dict[str | None, tuple[str, str] | None] = {}


def _separators() -> tuple[str, str] | None:
    language = translation.get_language()
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
    rounded = _rounded(found, places)
    separators = _separators()
    if separators is None:
        return number_format(rounded, places, use_l10n=True, force_grouping=True)
    # The same text as number_format gives (a test compares them in every language):
    # Python groups by threes with "," and "." and each is swapped for the language's.
    decimal, thousand = separators
    return f"{rounded:,.{places}f}".translate({44: thousand, 46: decimal})


def _rounded(found: Decimal, places: int) -> Decimal:
    rounded = found.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    return abs(rounded) if rounded == 0 else rounded  # no "-0.00"


@lru_cache(maxsize=16)
def _babel_locale(language: str) -> Locale:
    code = LOCALES.get(language.lower())
    if code is None:
        try:
            return Locale.parse(translation.to_locale(language))
        except (ValueError, UnknownLocaleError):
            code = LOCALES[settings.LANGUAGE_CODE]
    return Locale.parse(code)


def babel_locale() -> Locale:
    """The Babel locale of the active language (the platform's when none is active)."""
    return _babel_locale(translation.get_language() or settings.LANGUAGE_CODE)


@lru_cache(maxsize=64)
def _fixed(pattern: str, places: int) -> NumberPattern:
    """A CLDR number pattern ("#,##0.00 ¤") showing exactly ``places`` decimals, parsed
    once (a 2,000-line invoice PDF formats 4,000 amounts)."""
    decimals = "." + "0" * places if places else ""
    return parse_pattern(pattern.replace(".00", decimals))


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
    """Money without its currency (where a heading names it), two decimals, the figures
    of ``money``: "1,815.00", "1.815,00"; an exact line amount before the total's
    rounding may ask for more."""
    found = _decimal(value)
    if found is None:
        return EMPTY
    pattern = _fixed("#,##0.00", places)
    return format_decimal(_rounded(found, places), pattern, locale=babel_locale())


def money(value: Any, currency: str = "", places: int = 2) -> str:
    """Money with its ISO 4217 currency, as the active language writes it: "€1,815.00",
    "€ 1.815,00", "1.815,00 €", "-£0.50"; two decimals (an exact line amount before the
    total's rounding may ask for more). Without a currency, the amount alone."""
    found = _decimal(value)
    if found is None:
        return EMPTY
    if not currency:
        return amount(found, places)
    return _with_currency(_rounded(found, places), currency, places)


def _with_currency(rounded: Decimal, currency: str, places: int) -> str:
    locale = babel_locale()
    pattern = _fixed(locale.currency_formats["standard"].pattern, places)
    # ``currency_digits=False``: the places asked for, not the currency's (JPY has none).
    return format_currency(rounded, currency, pattern, locale=locale, currency_digits=False)


def price(value: Any, currency: str = "") -> str:
    """A price per kWh: as many decimals as it has, at least two, at most four; with
    its currency when given, as ``money`` writes it: "€0.2975", "0,29 €"."""
    found = _decimal(value)
    if found is None:
        return "" if value is None or value == "" else str(value)
    exponent = found.normalize().as_tuple().exponent
    places = min(max(-exponent if isinstance(exponent, int) else 2, 2), 4)
    if currency:
        return _with_currency(_rounded(found, places), currency, places)
    return number(found, places)
