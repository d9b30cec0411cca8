"""Numbers as people read and type them in form fields, in the active language: the
initial value of a field ("0,325" in Dutch, German and French) and what a person typed
back ("0,27" there, "0.27" in English).

A typed number has no thousands separators (prices and budgets are short): a "," or "."
is read as the decimal mark, unless it could be a thousands separator of the language
("1.500" in Dutch, "1,500" in English), which is refused rather than guessed.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import translation
from django.utils.formats import get_format


class AmbiguousNumber(ValueError):
    """Typed with what may be a thousands separator: "1.500" in Dutch is 1500 or 1.5."""


def decimal_mark() -> str:
    """The active language's decimal separator: "." in English, "," in the others."""
    return str(get_format("DECIMAL_SEPARATOR", translation.get_language(), use_l10n=True))


def input_text(value: Decimal) -> str:
    """``value`` as a person would type it back: its digits, the language's decimal mark,
    no grouping ("1500,00", "0,2975")."""
    return f"{value:f}".replace(".", decimal_mark())


def price_text(value: Any) -> str:
    """A price per kWh as people write it: 0.32, 0.325, 0.3275 — up to the four decimals
    it is stored with, never trailing zeros beyond two ("0.3200" is 0.32); the decimal
    mark the active language's ("0,325" in Dutch)."""
    if value in (None, ""):
        return ""
    number = Decimal(str(value)).normalize()
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # prices are finite ("n", "N", "F" are for NaN, ∞)
    if exponent > -2:
        number = number.quantize(Decimal("0.01"))
    return input_text(number)


def typed_decimal(raw: Any) -> Decimal:
    """The number a person typed, with the language's decimal mark or the other one
    ("0,27" or "0.27" anywhere). Raises ``AmbiguousNumber`` for digits grouped in threes
    by the language's other mark ("1,500" in English, "0.275" in Dutch) and ValueError for
    anything else that is not a finite number."""
    text = "" if raw is None else str(raw).strip()
    mark = decimal_mark()
    other = "," if mark == "." else "."
    if mark in text and other in text:
        raise AmbiguousNumber(text)  # grouped: "1.500,25"
    if other in text and re.fullmatch(rf"[-+]?\d{{1,3}}(?:{re.escape(other)}\d{{3}})+", text):
        raise AmbiguousNumber(text)
    try:
        number = Decimal(text.replace(",", "."))
    except InvalidOperation as exc:
        raise ValueError(text) from exc
    if not number.is_finite():
        raise ValueError(text)
    return number


def typed_decimal_or_error(raw: Any, *, example: Decimal) -> Decimal:
    """``typed_decimal`` for a form field: a message in the reader's language that shows
    ``example`` as the language writes it ("e.g. 0,27") when the number is not one."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    from evdms.ui.formatting import price

    try:
        return typed_decimal(raw)
    except AmbiguousNumber as exc:
        raise ValidationError(
            _(
                "“%(typed)s” could be read two ways: write it without thousands separators,"
                " with “%(mark)s” before the decimals, e.g. %(example)s."
            )
            % {"typed": exc.args[0], "mark": decimal_mark(), "example": price(example)}
        ) from exc
    except ValueError as exc:
        raise ValidationError(
            _("Enter a number, e.g. %(example)s.") % {"example": price(example)}
        ) from exc
