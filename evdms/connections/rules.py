"""The rules of the New Connection page, in one place for the form and the API.

``clean_connection_input`` takes what a person typed or a program sent (strings, numbers
or booleans) and returns the values to store, or raises a ValidationError naming each
field that is wrong. Which fields apply is declared once in ``SHOW_WHEN``; the form's
script reads the same declaration, so the page hides exactly what the server ignores.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from email_validator import EmailNotValidError, validate_email

from evdms.connections.models import (
    SELECTABLE_CONNECTION_TYPES,
    ApprovalType,
    ConnectionType,
    InstallationHandledBy,
    InstallationPaymentModel,
    PaymentVia,
)
from evdms.ui.numbers import typed_decimal_or_error

REQUIRED = gettext_lazy("This field is required.")

# Every field of the New Connection page, in the page's order.
PAGE_ORDER = [
    "organisation",
    "name_for_drivers",
    "name",
    "connection_type",
    "customer_id",
    "enabled",
    "logo",
    "verification_1_label",
    "verification_2_label",
    "support_email",
    "provide_home_charger",
    "home_warranty_and_labour",
    "installation_warranty_months",
    "installation_handled_by",
    "installation_payment_model",
    "installation_standard_price",
    "installation_budget",
    "reimburse_home_charging",
    "max_price_per_kwh",
    "home_charging_data_sharing",
    "pay_for_public_charging",
    "payment_via",
    "approval_type",
    "notify_on_connect",
    "web_only",
    "custom_terms_enabled",
    "signed_terms_recipients",
    "terms_text",
]


YES_NO_FIELDS = [
    "provide_home_charger",
    "home_warranty_and_labour",
    "reimburse_home_charging",
    "home_charging_data_sharing",
    "pay_for_public_charging",
    "notify_on_connect",
    "web_only",
    "custom_terms_enabled",
]
TEXT_FIELDS = {
    "name_for_drivers": 120,
    "name": 120,
    "customer_id": 100,
    "verification_1_label": 100,
    "verification_2_label": 100,
}
CHOICE_FIELDS: dict[str, Any] = {
    "connection_type": ConnectionType,
    "installation_handled_by": InstallationHandledBy,
    "installation_payment_model": InstallationPaymentModel,
    "payment_via": PaymentVia,
    "approval_type": ApprovalType,
}

# field → the (controlling field, value) pairs that must all hold for it to apply.
SHOW_WHEN: dict[str, list[tuple[str, str]]] = {
    "home_warranty_and_labour": [("provide_home_charger", "yes")],
    "installation_warranty_months": [
        ("provide_home_charger", "yes"),
        ("home_warranty_and_labour", "yes"),
    ],
    "installation_handled_by": [("provide_home_charger", "yes")],
    "installation_payment_model": [
        ("provide_home_charger", "yes"),
        ("installation_handled_by", InstallationHandledBy.CERTIFIED_INSTALLER),
    ],
    "installation_standard_price": [
        ("provide_home_charger", "yes"),
        ("installation_handled_by", InstallationHandledBy.CERTIFIED_INSTALLER),
        ("installation_payment_model", InstallationPaymentModel.DIRECT),
    ],
    "installation_budget": [
        ("provide_home_charger", "yes"),
        ("installation_handled_by", InstallationHandledBy.CERTIFIED_INSTALLER),
        ("installation_payment_model", InstallationPaymentModel.BUDGET),
    ],
    "reimburse_home_charging": [("provide_home_charger", "yes")],
    "max_price_per_kwh": [("provide_home_charger", "yes"), ("reimburse_home_charging", "yes")],
    "payment_via": [("pay_for_public_charging", "yes")],
    "signed_terms_recipients": [("custom_terms_enabled", "yes")],
    "terms_text": [("custom_terms_enabled", "yes")],
}
# Required whenever they apply (fields in SHOW_WHEN not listed here are optional).
# Installation Handled By is optional: left empty, the organisation or the driver arranges
# the installation, and no installation payment model applies.
REQUIRED_WHEN_SHOWN = {
    "installation_payment_model",
    "installation_standard_price",
    "installation_budget",
    "max_price_per_kwh",
    "payment_via",
    "terms_text",
}
# The benefits drivers signed up for; changing them with drivers connected needs a
# confirmation (or Revise Benefits).
BENEFIT_FIELDS = [
    "provide_home_charger",
    "home_warranty_and_labour",
    "installation_warranty_months",
    "installation_handled_by",
    "installation_payment_model",
    "installation_standard_price",
    "installation_budget",
    "reimburse_home_charging",
    "max_price_per_kwh",
    "home_charging_data_sharing",
    "pay_for_public_charging",
    "payment_via",
]

MAX_PRICE_LIMIT = Decimal("100")
# The example in the price field's placeholder and messages (as the reader writes it).
PRICE_EXAMPLE = Decimal("0.29")
MAX_BUDGET_LIMIT = Decimal("100000")
WARRANTY_MONTHS_RANGE = (1, 120)
TERMS_MAX_LENGTH = 20_000
LOGO_MAX_BYTES = 524_288
LOGO_SIZE = (60, 30)


def as_yes_no(value: Any) -> str:
    """'yes' or 'no' from a checkbox, a select, JSON true/false or nothing."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value or "").strip().lower()
    return "yes" if text in {"yes", "true", "on", "1", "enabled", "enable"} else "no"


def applies(field: str, values: Mapping[str, Any]) -> bool:
    return all(str(values.get(ctrl, "")) == want for ctrl, want in SHOW_WHEN.get(field, []))


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _decimal(value: Any, *, places: int, limit: Decimal, what: str) -> Decimal:
    """``what``: "price" or "budget" (the messages name it)."""
    # Typed text with the reader's decimal mark ("0,29" in Dutch); JSON numbers as sent.
    number = typed_decimal_or_error(
        _text(value) if isinstance(value, str) else value, example=PRICE_EXAMPLE
    )
    if number <= 0:
        raise ValidationError(
            _("Enter a budget greater than 0.")
            if what == "budget"
            else _("Enter a price greater than 0.")
        )
    if number > limit:
        message = (
            _("Enter a budget of at most %(limit)s.")
            if what == "budget"
            else _("Enter a price of at most %(limit)s.")
        )
        raise ValidationError(message % {"limit": limit})
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # a finite number's ("n", "N", "F" are for NaN, ∞)
    if -exponent > places:
        raise ValidationError(_("Use at most %(places)s decimal places.") % {"places": places})
    return number


def _months(value: Any) -> int:
    low, high = WARRANTY_MONTHS_RANGE
    text = _text(value)
    message = _("Enter a whole number of months from %(low)s to %(high)s.") % {
        "low": low,
        "high": high,
    }
    if isinstance(value, bool) or not re.fullmatch(r"\d{1,4}", text):
        raise ValidationError(message)
    months = int(text)
    if not low <= months <= high:
        raise ValidationError(message)
    return months


# What can be wrong with an address, in our own words: the address checker
# (email_validator) explains in English only, and at length. Kept in English where a
# record keeps it (a refused invitation line), told in the reader's language by
# ``email_problem``.
_EMAIL_PROBLEMS = {
    "no_at": gettext_noop("An e-mail address needs an @."),
    "before_at": gettext_noop("Something must come before the @."),
    "after_at": gettext_noop("Something must come after the @."),
    "too_long": gettext_noop("This e-mail address is too long."),
    "domain": gettext_noop("The part after the @ is not a valid domain name."),
    "undeliverable": gettext_noop("This domain does not exist or does not accept e-mail."),
    "syntax": gettext_noop("It is not written the way an e-mail address is."),
}
_EMAIL_PROBLEM_BY_TEXT = {text: kind for kind, text in _EMAIL_PROBLEMS.items()}


def _email_problem_kind(explanation: str) -> str:
    """The kind of problem the checker's English explanation (or one of ours) names."""
    if explanation in _EMAIL_PROBLEM_BY_TEXT:
        return _EMAIL_PROBLEM_BY_TEXT[explanation]
    text = explanation.lower()
    if any(p in text for p in ("does not exist", "does not accept email", "does not send email")):
        return "undeliverable"
    if "must have an @-sign" in text or "instead of a regular at-sign" in text:
        return "no_at"
    if "something before the @-sign" in text:
        return "before_at"
    if "something after the @-sign" in text:
        return "after_at"
    if "too long" in text:
        return "too_long"
    if "after the @-sign" in text:
        return "domain"
    return "syntax"


def email_problem_english(exc: EmailNotValidError | str) -> str:
    """What is wrong with an address, in English, as a record keeps it."""
    return _EMAIL_PROBLEMS[_email_problem_kind(str(exc))]


def email_problem(exc: EmailNotValidError | str) -> str:
    """What is wrong with an address, in the active language: from the checker's error,
    its English explanation, or one of ``email_problem_english``'s texts."""
    return _(_EMAIL_PROBLEMS[_email_problem_kind(str(exc))])


def check_email(address: str) -> str:
    """A valid address, normalised (domain lower-cased), or ValidationError."""
    try:
        result = validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(
            _("“%(address)s” is not a valid e-mail address: %(reason)s")
            % {"address": address, "reason": email_problem(exc)}
        ) from exc
    return str(result.normalized)


def clean_email_list(value: Any) -> list[str]:
    """Comma-separated (or a JSON list of) addresses: each valid, duplicates removed."""
    items = value if isinstance(value, list | tuple) else _text(value).split(",")
    seen: dict[str, str] = {}
    errors = []
    for raw in items:
        address = _text(raw)
        if not address:
            continue
        try:
            normalised = check_email(address)
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        seen.setdefault(normalised.lower(), normalised)
    if errors:
        raise ValidationError(errors)
    return list(seen.values())


# The terms are shown escaped on our pages and written as text into the signed PDF, so
# markup could do no harm there; it is refused because it would show as typed (a driver
# would read "<b>") and because partners' apps that read the terms over the API may put
# them into HTML. What counts is what a browser would read as markup: an element of HTML
# (or a custom one, with a hyphen) right after "<", a comment, a declaration. A
# comparison ("a < b and c > d", "x<y") is text to a browser, and here.
_HTML_ELEMENTS = (
    "a|abbr|address|area|article|aside|audio|b|base|bdi|bdo|big|blink|blockquote|"
    "body|br|button|canvas|caption|center|cite|code|col|colgroup|data|datalist|dd|"
    "del|details|dfn|dialog|dir|div|dl|dt|em|embed|fieldset|figcaption|figure|font|"
    "footer|form|frame|frameset|h1|h2|h3|h4|h5|h6|head|header|hgroup|hr|html|i|"
    "iframe|img|input|ins|kbd|label|legend|li|link|main|map|mark|marquee|math|menu|"
    "meta|meter|nav|nobr|noscript|object|ol|optgroup|option|output|p|param|picture|"
    "plaintext|pre|progress|q|rp|rt|ruby|s|samp|script|search|section|select|slot|"
    "small|source|span|strike|strong|style|sub|summary|sup|svg|table|tbody|td|"
    "template|textarea|tfoot|th|thead|time|title|tr|track|tt|u|ul|var|video|wbr|xmp"
)
_HTML_TAG = re.compile(
    r"</?(?:" + _HTML_ELEMENTS + r"|[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9-]*)"
    r"(?=[\s/>])[^<>]*>"
    r"|<!--|<![A-Za-z]|<\?[A-Za-z]",
    re.IGNORECASE,
)
_MARKUP = [
    (
        _HTML_TAG,
        gettext_lazy(
            "“%(found)s” at %(position)s looks like an HTML tag. Use plain text, no HTML or "
            "other markup."
        ),
    ),
    (
        re.compile(r"&(#\d+|#x[0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);"),
        gettext_lazy(
            "“%(found)s” at %(position)s looks like an HTML entity. Use plain text, no HTML "
            "or other markup."
        ),
    ),
    (
        re.compile(r"\[[^\]\n]*\]\([^)\n]*\)"),
        gettext_lazy(
            "“%(found)s” at %(position)s looks like a Markdown link. Use plain text, no HTML "
            "or other markup."
        ),
    ),
]


def _position(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return _("line %(line)s, column %(column)s") % {"line": line, "column": column}


def clean_terms_text(value: Any) -> str:
    """Printable ASCII and newlines only; no markup. Errors say where the problem is."""
    text = _text(value).replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > TERMS_MAX_LENGTH:
        raise ValidationError(
            _("Use at most %(limit)s characters (this text has %(length)s).")
            % {
                "limit": number_format(TERMS_MAX_LENGTH, force_grouping=True),
                "length": number_format(len(text), force_grouping=True),
            }
        )
    for index, char in enumerate(text):
        if char == "\n" or " " <= char <= "~":
            continue
        where = {"position": _position(text, index)}
        if not char.isprintable():
            raise ValidationError(
                _(
                    "The character %(character)s at %(position)s is a control character. "
                    "Use plain ASCII text only."
                )
                % {"character": repr(char), **where}
            )
        raise ValidationError(
            _(
                "The character “%(character)s” at %(position)s is not plain ASCII. "
                "Use plain ASCII text only."
            )
            % {"character": char, **where}
        )
    for pattern, message in _MARKUP:
        found = pattern.search(text)
        if found:
            raise ValidationError(
                message % {"found": found.group(0)[:40], "position": _position(text, found.start())}
            )
    return text


def clean_connection_input(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Values to store for a connection, or a ValidationError with a message per field.

    ``raw`` holds every field (for an update: the current values with the changes laid
    over them). Organisation, logo and uniqueness are checked by the service.
    """
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}

    for field in YES_NO_FIELDS:
        values[field] = as_yes_no(raw.get(field))
    for field, length in TEXT_FIELDS.items():
        text = _text(raw.get(field))
        if len(text) > length:
            errors.setdefault(field, []).append(
                _("Use at most %(length)s characters.") % {"length": length}
            )
        values[field] = text
    for field in ("name_for_drivers", "name"):
        if not values[field]:
            errors.setdefault(field, []).append(str(REQUIRED))
    bad_choices: dict[str, str] = {}
    for field, choices in CHOICE_FIELDS.items():
        value = _text(raw.get(field))
        if value and value not in choices.values:
            bad_choices[field] = _("“%(value)s” is not one of the choices.") % {"value": value}
            value = ""
        values[field] = value
    values["enabled"] = as_yes_no(raw.get("enabled"))

    if not values["connection_type"]:
        errors.setdefault("connection_type", []).append(str(REQUIRED))
    elif values["connection_type"] not in SELECTABLE_CONNECTION_TYPES:
        errors.setdefault("connection_type", []).append(_("Select Leasing Company as the type."))
    if not values["approval_type"]:
        errors.setdefault("approval_type", []).append(str(REQUIRED))

    support = _text(raw.get("support_email"))
    if not support:
        errors.setdefault("support_email", []).append(str(REQUIRED))
    else:
        try:
            support = check_email(support)
        except ValidationError as exc:
            errors.setdefault("support_email", []).extend(exc.messages)
    values["support_email"] = support

    # Dependent fields: ignored (stored empty) unless they apply; required where marked.
    empty = {
        "installation_budget": None,
        "installation_standard_price": None,
        "installation_warranty_months": None,
        "max_price_per_kwh": None,
    }
    for field in SHOW_WHEN:
        if not applies(field, values):
            if field in YES_NO_FIELDS:
                values[field] = "no"
            else:
                values[field] = empty.get(field, [] if field == "signed_terms_recipients" else "")
            continue
        given = raw.get(field)
        blank = given is None or (isinstance(given, str) and not given.strip()) or given == []
        if blank and field in REQUIRED_WHEN_SHOWN and field not in YES_NO_FIELDS:
            errors.setdefault(field, []).append(str(REQUIRED))
            values[field] = empty.get(field, "")
            continue
        if blank and field == "installation_warranty_months":  # optional: the installer's terms
            values[field] = None
            continue
        try:
            if field == "max_price_per_kwh":
                values[field] = _decimal(given, places=4, limit=MAX_PRICE_LIMIT, what="price")
            elif field == "installation_budget":
                values[field] = _decimal(given, places=2, limit=MAX_BUDGET_LIMIT, what="budget")
            elif field == "installation_standard_price":
                values[field] = _decimal(given, places=2, limit=MAX_BUDGET_LIMIT, what="price")
            elif field == "installation_warranty_months":
                values[field] = _months(given)
            elif field == "signed_terms_recipients":
                values[field] = clean_email_list(given)
            elif field == "terms_text":
                values[field] = clean_terms_text(given)
                if not values[field]:
                    raise ValidationError(str(REQUIRED))
        except ValidationError as exc:
            errors.setdefault(field, []).extend(exc.messages)
            values[field] = empty.get(field, "")

    for field, message in bad_choices.items():
        if field not in SHOW_WHEN or applies(field, values):
            errors[field] = [message]  # replaces "required": the value was there, just wrong
    if errors:
        raise ValidationError(errors)
    stored = dict(values)
    for field in [*YES_NO_FIELDS, "enabled"]:
        stored[field] = values[field] == "yes"
    return stored
