"""Numbers read one way on every page: grouped by the active language's separators,
rounded half-up, energy from integer Wh, amounts to the cent, prices to four places."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from evdms.ui import formatting


@pytest.mark.parametrize(
    ("function", "value", "expected"),
    [
        (formatting.count, 2981, "2,981"),
        (formatting.count, 1_000_000, "1,000,000"),
        (formatting.count, 7, "7"),
        (formatting.count, "3 of 5", "3 of 5"),  # a figure in words stays as it is
        (formatting.kwh_from_wh, 10_429_451, "10,429.451"),
        (formatting.kwh_from_wh, 0, "0.000"),
        (formatting.kwh_from_wh, None, "—"),
        (formatting.kwh, Decimal("10429.451"), "10,429.451"),
        (formatting.amount, Decimal("1815"), "1,815.00"),
        (formatting.amount, Decimal("2.005"), "2.01"),  # half-up, not banker's
        (formatting.amount, Decimal("-0.001"), "0.00"),  # no "-0.00"
        (formatting.amount, None, "—"),
        (formatting.price, Decimal("0.29"), "0.29"),
        (formatting.price, Decimal("0.2"), "0.20"),
        (formatting.price, Decimal("0.2975"), "0.2975"),
        (formatting.price, Decimal("0.297549"), "0.2975"),  # at most four
        (formatting.price, Decimal("1234.5"), "1,234.50"),
        (formatting.price, "0.3100", "0.31"),
    ],
)
def test_each_kind_of_number_reads_one_way(function, value, expected):
    assert function(value) == expected


NBSP = "\N{NO-BREAK SPACE}"
NNBSP = "\N{NARROW NO-BREAK SPACE}"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en-gb",
            ["€1,815.00", "-€1,815.51", "£0.01", "€0.00", "€1,234,567.80", "—", "£1,815.00"],
        ),
        (
            "nl",
            [
                f"€{NBSP}1.815,00",
                f"€{NBSP}-1.815,51",
                f"£{NBSP}0,01",
                f"€{NBSP}0,00",
                f"€{NBSP}1.234.567,80",
                "—",
                f"£{NBSP}1.815,00",
            ],
        ),
        (
            "de",
            [
                f"1.815,00{NBSP}€",
                f"-1.815,51{NBSP}€",
                f"0,01{NBSP}£",
                f"0,00{NBSP}€",
                f"1.234.567,80{NBSP}€",
                "—",
                f"1.815,00{NBSP}£",
            ],
        ),
        (
            "fr",
            [
                f"1{NNBSP}815,00{NBSP}€",
                f"-1{NNBSP}815,51{NBSP}€",
                f"0,01{NBSP}£GB",  # CLDR's French sign of the pound
                f"0,00{NBSP}€",
                f"1{NNBSP}234{NNBSP}567,80{NBSP}€",
                "—",
                f"1{NNBSP}815,00{NBSP}£GB",
            ],
        ),
    ],
)
def test_money_reads_as_the_active_language_writes_it(language, expected):
    """One format of money in every language (CLDR's, through Babel): the sign where the
    language puts it, its separators, half-up to the cent (0.005 is 0.01, where Babel
    alone would round half-even to 0.00), negative amounts, other currencies."""
    with translation.override(language):
        assert [
            formatting.money(Decimal("1815"), "EUR"),
            formatting.money(Decimal("-1815.505"), "EUR"),
            formatting.money(Decimal("0.005"), "GBP"),
            formatting.money(Decimal("-0.001"), "EUR"),  # no "-0.00"
            formatting.money(Decimal("1234567.8"), "EUR"),
            formatting.money(None, "EUR"),
            formatting.money("1815", "GBP"),
        ] == expected


@pytest.mark.parametrize(
    ("language", "amount", "exact", "price", "short_price"),
    [
        ("en-gb", "1,815.01", "€2.5000", "€0.2975", "€0.29"),
        ("nl", "1.815,01", f"€{NBSP}2,5000", f"€{NBSP}0,2975", f"€{NBSP}0,29"),
        ("de", "1.815,01", f"2,5000{NBSP}€", f"0,2975{NBSP}€", f"0,29{NBSP}€"),
        ("fr", f"1{NNBSP}815,01", f"2,5000{NBSP}€", f"0,2975{NBSP}€", f"0,29{NBSP}€"),
    ],
)
def test_amounts_and_prices_have_the_figures_of_money(language, amount, exact, price, short_price):
    """An amount without its currency (a heading names it) has the same figures as
    money; an exact line amount keeps four decimals; a price per kWh with its currency
    follows money's pattern with its own two to four decimals, rounded half-up."""
    with translation.override(language):
        assert formatting.amount(Decimal("1815.005")) == amount
        assert formatting.money(Decimal("2.5"), "EUR", 4) == exact
        assert formatting.price(Decimal("0.297549"), "EUR") == price
        assert formatting.price(Decimal("0.2900"), "EUR") == short_price
        assert formatting.price(None, "EUR") == ""


def test_money_without_a_currency_is_the_amount_alone():
    assert formatting.money(Decimal("1815"), "") == "1,815.00"
    assert formatting.money(Decimal("1815")) == "1,815.00"


def test_outside_any_language_money_is_the_platforms():
    """In the worker no language is active: the platform's, British English."""
    with translation.override(None):
        assert formatting.money(Decimal("1815"), "EUR") == "€1,815.00"


def test_another_language_brings_its_own_separators():
    """Localisation plugs in through Django's formats: nothing else changes."""
    with translation.override("de"):
        assert formatting.kwh_from_wh(10_429_451) == "10.429,451"
        assert formatting.amount(Decimal("1815")) == "1.815,00"


def test_the_template_filters_are_the_same_functions():
    template = Template(
        "{% load evdms %}{{ wh|kwh }} | {{ n|count }} | {{ a|money:'EUR' }} | "
        "{{ a|amount }} | {{ p|price }} | {{ k|kwh_value }} | {{ x|amount:4 }} | "
        "{{ p|price:'EUR' }} | {{ x|exact_money:'GBP' }}"
    )
    rendered = template.render(
        Context(
            {
                "wh": 10_429_451,
                "n": 2981,
                "a": Decimal("1815"),
                "p": Decimal("0.2975"),
                "k": Decimal("10429.451"),
                "x": Decimal("1.29630"),
            }
        )
    )
    assert rendered == (
        "10,429.451 | 2,981 | €1,815.00 | 1,815.00 | 0.2975 | 10,429.451 | 1.2963 | "
        "€0.2975 | £1.2963"
    )


@pytest.mark.parametrize("language", ["en-gb", "nl", "de", "fr", "en"])
def test_the_fast_grouping_reads_as_djangos_number_format(language):
    """Numbers are grouped without number_format where a language groups by threes:
    the text must be the same as number_format's, to the character."""
    from django.utils.formats import number_format

    values = [
        Decimal("0"),
        Decimal("7"),
        Decimal("-7.5"),
        Decimal("999.999"),
        Decimal("1000"),
        Decimal("-1234567.891"),
        Decimal("12345678901234.5678"),
        Decimal("0.0001"),
    ]
    with translation.override(language):
        for value in values:
            for places in (0, 2, 3, 4):
                rounded = value.quantize(Decimal(1).scaleb(-places), rounding="ROUND_HALF_UP")
                expected = number_format(rounded, places, use_l10n=True, force_grouping=True)
                assert formatting.number(value, places) == expected, (value, places)


def test_french_groups_every_kind_of_number_with_one_separator_the_pdf_font_has():
    """Counts and energy (Django's formats) and money (Babel's CLDR) group French digits
    with the same narrow no-break space, so "12 345 kWh" and "1 815,00 €" match on a
    page, in an e-mail and in a PDF, whose font draws it."""
    from pathlib import Path

    from django.utils.formats import number_format
    from fontTools.ttLib import TTFont

    with translation.override("fr"):
        figures = [
            formatting.count(12345),
            formatting.kwh(Decimal("12345.678")),
            formatting.amount(Decimal("12345")),
            formatting.money(Decimal("12345"), "EUR"),
            formatting.price(Decimal("1234.5")),
            formatting.price(Decimal("1234.5"), "EUR"),
            number_format(12345, use_l10n=True, force_grouping=True),
            Template("{% load evdms %}{{ n|count }}").render(Context({"n": 12345})),
        ]
    assert figures == [
        f"12{NNBSP}345",
        f"12{NNBSP}345,678",
        f"12{NNBSP}345,00",
        f"12{NNBSP}345,00{NBSP}€",
        f"1{NNBSP}234,50",
        f"1{NNBSP}234,50{NBSP}€",
        f"12{NNBSP}345",
        f"12{NNBSP}345",
    ]
    fonts = Path(formatting.__file__).parent / "fonts"
    for font in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        assert ord(NNBSP) in TTFont(fonts / font).getBestCmap(), font
