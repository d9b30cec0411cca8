"""Every rule of the New Connection page, table by table."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from evdms.connections.rules import clean_connection_input

BASE = {
    "name_for_drivers": "ABC Drivers",
    "name": "ABC Company_Public",
    "connection_type": "leasing_company",
    "support_email": "support@abc.example",
    "approval_type": "auto",
}

HOME = {
    "provide_home_charger": "yes",
    "installation_handled_by": "certified_installer",
    "installation_payment_model": "direct",
    "installation_standard_price": "1200",
}


def errors_of(data: dict) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        clean_connection_input(data)
    return caught.value.message_dict


@pytest.mark.parametrize(
    "missing", ["name_for_drivers", "name", "connection_type", "support_email", "approval_type"]
)
def test_each_mandatory_field_is_required(missing):
    data = {**BASE, missing: ""}
    assert errors_of(data) == {missing: ["This field is required."]}


def test_only_leasing_company_can_be_selected():
    assert errors_of({**BASE, "connection_type": "employer"}) == {
        "connection_type": ["Select Leasing Company as the type."]
    }
    assert (
        "is not one of the choices"
        in errors_of({**BASE, "connection_type": "spaceship"})["connection_type"][0]
    )


# (given, field, stored value) — a field that does not apply is ignored and stored empty.
IGNORED_WHEN_NOT_APPLICABLE = [
    (
        {"provide_home_charger": "no", "home_warranty_and_labour": "yes"},
        "home_warranty_and_labour",
        False,
    ),
    (
        {"provide_home_charger": "no", "installation_handled_by": "certified_installer"},
        "installation_handled_by",
        "",
    ),
    (
        {"provide_home_charger": "no", "installation_payment_model": "budget"},
        "installation_payment_model",
        "",
    ),
    ({"provide_home_charger": "no", "installation_budget": "900"}, "installation_budget", None),
    (
        {
            "provide_home_charger": "yes",
            "installation_handled_by": "",
            "installation_payment_model": "direct",
        },
        "installation_payment_model",
        "",
    ),
    ({**HOME, "installation_budget": "900"}, "installation_budget", None),  # not Budget Model
    (
        {**HOME, "installation_payment_model": "budget", "installation_budget": "900"},
        "installation_standard_price",
        None,  # the standard price is for the Direct Model only
    ),
    (
        {"provide_home_charger": "no", "installation_standard_price": "900"},
        "installation_standard_price",
        None,
    ),
    (
        {**HOME, "home_warranty_and_labour": "no", "installation_warranty_months": "24"},
        "installation_warranty_months",
        None,  # only with Home warranty and labour
    ),
    (
        {"provide_home_charger": "no", "installation_warranty_months": "nonsense"},
        "installation_warranty_months",
        None,
    ),
    (
        {"provide_home_charger": "no", "reimburse_home_charging": "yes"},
        "reimburse_home_charging",
        False,
    ),
    (
        {
            "provide_home_charger": "no",
            "reimburse_home_charging": "yes",
            "max_price_per_kwh": "0.3",
        },
        "max_price_per_kwh",
        None,
    ),
    (
        {**HOME, "reimburse_home_charging": "no", "max_price_per_kwh": "0.3"},
        "max_price_per_kwh",
        None,
    ),
    ({"pay_for_public_charging": "no", "payment_via": "direct_invoice_service"}, "payment_via", ""),
    ({"custom_terms_enabled": "no", "terms_text": "Terms"}, "terms_text", ""),
    (
        {"custom_terms_enabled": "no", "signed_terms_recipients": "hr@abc.example"},
        "signed_terms_recipients",
        [],
    ),
    ({"custom_terms_enabled": "no", "terms_text": "<b>not checked</b>"}, "terms_text", ""),
    ({"pay_for_public_charging": "no", "payment_via": "bitcoin"}, "payment_via", ""),
]


@pytest.mark.parametrize(("given", "field", "stored"), IGNORED_WHEN_NOT_APPLICABLE)
def test_a_field_that_does_not_apply_is_stored_empty(given, field, stored):
    assert clean_connection_input({**BASE, **given})[field] == stored


# (given, field that applies and is required but missing)
REQUIRED_WHEN_APPLICABLE = [
    (
        {"provide_home_charger": "yes", "installation_handled_by": "certified_installer"},
        "installation_payment_model",
    ),
    ({**HOME, "installation_payment_model": "budget"}, "installation_budget"),
    ({**HOME, "installation_standard_price": ""}, "installation_standard_price"),
    ({**HOME, "reimburse_home_charging": "yes"}, "max_price_per_kwh"),
    ({"pay_for_public_charging": "yes"}, "payment_via"),
    ({"custom_terms_enabled": "yes"}, "terms_text"),
    ({"custom_terms_enabled": "yes", "terms_text": "   \n  "}, "terms_text"),
]


@pytest.mark.parametrize(("given", "field"), REQUIRED_WHEN_APPLICABLE)
def test_a_field_that_applies_and_is_required_is_an_error_when_missing(given, field):
    assert errors_of({**BASE, **given}) == {field: ["This field is required."]}


def test_optional_dependent_fields_may_stay_empty():
    values = clean_connection_input(
        {**BASE, **HOME, "custom_terms_enabled": "yes", "terms_text": "Agree."}
    )
    assert values["home_warranty_and_labour"] is False
    assert values["signed_terms_recipients"] == []


def test_a_full_connection_keeps_every_applicable_value():
    values = clean_connection_input(
        {
            **BASE,
            **HOME,
            "installation_payment_model": "budget",
            "installation_budget": "1250.50",
            "home_warranty_and_labour": "yes",
            "reimburse_home_charging": "yes",
            "max_price_per_kwh": "0,2975",
            "pay_for_public_charging": "yes",
            "payment_via": "direct_invoice_service",
            "custom_terms_enabled": "yes",
            "signed_terms_recipients": "HR@abc.example, hr@abc.example ,legal@abc.example,",
            "terms_text": "Line one\r\nLine two",
        }
    )
    assert values["installation_budget"] == Decimal("1250.50")
    assert values["max_price_per_kwh"] == Decimal("0.2975")
    assert values["signed_terms_recipients"] == ["HR@abc.example", "legal@abc.example"]
    assert values["terms_text"] == "Line one\nLine two"
    assert values["payment_via"] == "direct_invoice_service"


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("abc", "Enter a number, e.g. 0.29."),
        ("NaN", "Enter a number, e.g. 0.29."),
        ("0", "Enter a price greater than 0."),
        ("-0.10", "Enter a price greater than 0."),
        ("0.12345", "Use at most 4 decimal places."),
        ("100.01", "Enter a price of at most 100."),
    ],
)
def test_max_price_rules(price, message):
    data = {**BASE, **HOME, "reimburse_home_charging": "yes", "max_price_per_kwh": price}
    assert errors_of(data) == {"max_price_per_kwh": [message]}


def test_max_price_accepts_up_to_four_decimals_and_json_numbers():
    data = {**BASE, **HOME, "reimburse_home_charging": True}
    assert clean_connection_input({**data, "max_price_per_kwh": "0.2999"})[
        "max_price_per_kwh"
    ] == Decimal("0.2999")
    assert clean_connection_input({**data, "max_price_per_kwh": Decimal("0.29")})[
        "max_price_per_kwh"
    ] == Decimal("0.29")


@pytest.mark.parametrize("address", ["not-an-address", "a@", "a b@example.com", "a@@example.com"])
def test_support_email_is_validated(address):
    message = errors_of({**BASE, "support_email": address})["support_email"][0]
    assert message.startswith(f"“{address}” is not a valid e-mail address")


def test_each_signed_terms_address_is_validated():
    data = {
        **BASE,
        "custom_terms_enabled": "yes",
        "terms_text": "T",
        "signed_terms_recipients": "ok@abc.example, nope, also@bad",
    }
    messages = errors_of(data)["signed_terms_recipients"]
    assert len(messages) == 2
    assert messages[0].startswith("“nope” is not a valid e-mail address")
    assert messages[1].startswith("“also@bad” is not a valid e-mail address")


def test_long_text_is_refused():
    assert errors_of({**BASE, "name": "x" * 121}) == {"name": ["Use at most 120 characters."]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Hello <b>world</b>", "“<b>” at line 1, column 7 looks like an HTML tag"),
        ("Fish &amp; chips", "“&amp;” at line 1, column 6 looks like an HTML entity"),
        ("See &#169; here", "“&#169;” at line 1, column 5 looks like an HTML entity"),
        (
            "ok\n[terms](http://x.example)",
            "“[terms](http://x.example)” at line 2, column 1 looks like a Markdown link",
        ),
        ("Caf\u00e9 rules", "The character “é” at line 1, column 4 is not plain ASCII"),
        ("Tab\there", "The character '\\t' at line 1, column 4 is a control character"),
        ("bell\x07", "The character '\\x07' at line 1, column 5 is a control character"),
        (
            "line\nline2 \u201cquoted\u201d",
            "The character “\u201c” at line 2, column 7 is not plain ASCII",
        ),
        ("<script>alert(1)</script>", "“<script>” at line 1, column 1 looks like an HTML tag"),
        ("Read <A HREF='x'>this</A>", "“<A HREF='x'>” at line 1, column 6 looks like an HTML tag"),
        ("a <br/> b", "“<br/>” at line 1, column 3 looks like an HTML tag"),
        ("x <my-widget>", "“<my-widget>” at line 1, column 3 looks like an HTML tag"),
        ("hidden <!-- note -->", "“<!--” at line 1, column 8 looks like an HTML tag"),
    ],
)
def test_terms_must_be_plain_ascii_without_markup(text, message):
    data = {**BASE, "custom_terms_enabled": "yes", "terms_text": text}
    assert errors_of(data)["terms_text"][0].startswith(message)


def test_plain_ascii_terms_with_symbols_are_accepted():
    text = (
        "1. Drivers must charge at home.\n2. Costs < 10 EUR & > 0 are fine (see 3).\n"
        "3. [Note] done.\n4. If a < b and c > d, or x<y and z>w, or <10 kWh>, it holds."
    )
    data = {**BASE, "custom_terms_enabled": "yes", "terms_text": text}
    assert clean_connection_input(data)["terms_text"] == text


def test_terms_have_a_maximum_length():
    data = {**BASE, "custom_terms_enabled": "yes", "terms_text": "a" * 20_001}
    assert errors_of(data)["terms_text"] == [
        "Use at most 20,000 characters (this text has 20,001)."
    ]


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("abc", "Enter a number, e.g. 0.29."),
        ("0", "Enter a price greater than 0."),
        ("-5", "Enter a price greater than 0."),
        ("1200.123", "Use at most 2 decimal places."),
        ("100000.01", "Enter a price of at most 100000."),
    ],
)
def test_standard_price_rules(price, message):
    assert errors_of({**BASE, **HOME, "installation_standard_price": price}) == {
        "installation_standard_price": [message]
    }


def test_standard_price_is_kept_for_the_direct_model():
    values = clean_connection_input({**BASE, **HOME, "installation_standard_price": "1249,50"})
    assert values["installation_standard_price"] == Decimal("1249.50")
    assert values["installation_warranty_months"] is None  # no warranty asked for


@pytest.mark.parametrize("months", ["0", "121", "12.5", "-3", "two", True])
def test_warranty_months_rules(months):
    data = {
        **BASE,
        **HOME,
        "home_warranty_and_labour": "yes",
        "installation_warranty_months": months,
    }
    assert errors_of(data) == {
        "installation_warranty_months": ["Enter a whole number of months from 1 to 120."]
    }


@pytest.mark.parametrize(("months", "stored"), [("", None), ("1", 1), ("120", 120), (36, 36)])
def test_warranty_months_is_optional_and_kept_with_warranty(months, stored):
    data = {
        **BASE,
        **HOME,
        "home_warranty_and_labour": "yes",
        "installation_warranty_months": months,
    }
    assert clean_connection_input(data)["installation_warranty_months"] == stored
