"""The rules of a driver's join request, in one place for the join page and the service.

``join_answers_clean`` takes what a driver typed (or a program sent) and returns the
values to store, or raises a ValidationError naming each field that is wrong. Which
questions apply follows the connection: its verification labels, whether it provides a
home charger (contact details) and whether it has custom terms.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from evdms.connections.models import Connection
from evdms.enrolment.models import Membership
from evdms.ui.countries import is_country


def _limit(name: str) -> int:
    field = Membership._meta.get_field(name)
    assert isinstance(field, models.CharField) and field.max_length
    return field.max_length


# The stored columns set the limits: the product promises no other, and a longer answer
# could not be kept whole.
ANSWER_MAX = _limit("verification_1")
VERIFICATION_FIELDS = ["verification_1", "verification_2"]
# (field, the message when it is missing, most characters)
CONTACT_FIELDS = [
    ("phone", gettext_lazy("Enter your phone number."), _limit("phone")),
    ("address", gettext_lazy("Enter your installation address."), _limit("address")),
    ("postcode", gettext_lazy("Enter your postcode."), _limit("postcode")),
    ("city", gettext_lazy("Enter your town or city."), _limit("city")),
]
PHONE_CHARACTERS = set("0123456789+ -()")
# A ticked box arrives as "on" from a page and as a word or a boolean from a program.
AGREED = {"on", "yes", "true", "True"}


def _text(answers: Mapping[str, Any], field: str) -> str:
    return " ".join(str(answers.get(field) or "").split())


def _too_long(limit: int) -> str:
    return _("Use at most %(limit)s characters.") % {"limit": limit}


def _required_text(
    answers: Mapping[str, Any], field: str, missing: Any, limit: int, errors: dict[str, list[str]]
) -> str:
    text = _text(answers, field)
    if not text:
        errors.setdefault(field, []).append(str(missing))
    elif len(text) > limit:
        errors.setdefault(field, []).append(_too_long(limit))
    return text


def _contact(answers: Mapping[str, Any], errors: dict[str, list[str]]) -> dict[str, str]:
    contact = {
        field: _required_text(answers, field, missing, limit, errors)
        for field, missing, limit in CONTACT_FIELDS
    }
    if contact["phone"] and not set(contact["phone"]) <= PHONE_CHARACTERS:
        errors.setdefault("phone", []).append(_("Enter a phone number of digits, spaces and +."))
    country = str(answers.get("country") or "").strip().upper()
    if country and not is_country(country):
        errors.setdefault("country", []).append(
            _("Choose a country from the list (an ISO 3166 two-letter code, e.g. NL).")
        )
    contact["country"] = country
    return contact


def terms_agreed(answers: Mapping[str, Any]) -> bool:
    return str(answers.get("agree_terms") or "") in AGREED


def join_answers_clean(*, connection: Connection, answers: Mapping[str, Any]) -> dict[str, str]:
    """The membership's answer fields to store (verification and contact details)."""
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    for field in VERIFICATION_FIELDS:
        label = getattr(connection, f"{field}_label")
        text = _text(answers, field)
        if label and not text:
            # The label is the organisation's own words ("Employee ID"), kept as written.
            errors.setdefault(field, []).append(_("Enter your %(label)s.") % {"label": label})
        elif len(text) > ANSWER_MAX:
            errors.setdefault(field, []).append(_too_long(ANSWER_MAX))
        # A question the connection does not ask is not stored, whatever was sent.
        values[field] = text if label else ""
    if connection.provide_home_charger:
        values.update(_contact(answers, errors))
    if connection.custom_terms_enabled and not terms_agreed(answers):
        errors.setdefault("agree_terms", []).append(
            _("Tick the box to agree to the terms and conditions.")
        )
    if errors:
        raise ValidationError(errors)
    return values
