"""An organisation's billing details: who the platform's invoices are addressed to.

Set by the organisation's Network Manager (``Permission.MANAGE_SETTINGS``) on the
Settings page or through ``PATCH /api/v1/organisation/billing``; both call
``billing_details_update``, so the rules below are the only ones.

Each issued invoice keeps a copy of these details as they were (``invoicing``), so a
change here never alters an invoice already sent.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import pycountry
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import InvalidChecksum
from stdnum.exceptions import ValidationError as StdnumError

from evdms.accounts.models import Organisation
from evdms.accounts.permissions import Actor, Permission, require
from evdms.audit.models import AuditAction
from evdms.audit.services import audit_record, diff, snapshot

# The text fields and the most characters each may hold (the model's columns).
TEXT_LIMITS: dict[str, int] = {
    "billing_name": 200,
    "billing_address": 200,
    "billing_postcode": 20,
    "billing_city": 100,
    "purchase_order_reference": 100,
}
EMAIL_MAX = 254
# What a person may type, spaces, dots and dashes included; the compact form is at most
# 14 characters for every member state, the column holds 20.
VAT_INPUT_MAX = 40
BILLING_FIELDS = (
    *TEXT_LIMITS,
    "billing_country",
    "vat_number",
    "accounts_payable_email",
    "invoice_payer",
)
# Separators other than the space (line and paragraph breaks) and every "other"
# category: controls, format characters (e.g. right-to-left overrides, which would make
# a name or a number read differently on the invoice than it is), surrogates, unassigned.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
NO_SUCH_PAYER = gettext_lazy(
    "There is no such organisation among those your organisation granted rights to."
)


def _clean_text(value: Any, limit: int) -> str:
    """One line of text, NFC, other spaces (e.g. a non-breaking space pasted from a
    letterhead) made plain, trimmed; a ValidationError for a control character or too
    many characters."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(_("Enter text."))
    text = unicodedata.normalize("NFC", value)
    for char in text:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            message = _("Remove the control character %(char)s: use one line of plain text.")
            raise ValidationError(message % {"char": repr(char)})
    text = "".join(" " if unicodedata.category(c) == "Zs" else c for c in text).strip()
    if len(text) > limit:
        message = _("Use at most %(limit)s characters (this has %(length)s).")
        raise ValidationError(message % {"limit": limit, "length": len(text)})
    return text


def clean_country(value: Any) -> str:
    """An ISO 3166-1 alpha-2 code, upper-cased; blank for none."""
    code = _clean_text(value, 10).upper()
    if code and (len(code) != 2 or pycountry.countries.get(alpha_2=code) is None):
        raise ValidationError(
            _("Enter a two-letter ISO 3166 country code, e.g. NL, DE or BE."), code="country"
        )
    return code


def vat_country(compact: str) -> str:
    """The ISO country of a compact EU VAT number: Greece writes EL, Northern Ireland's
    traders (XI) are in GB."""
    prefix = compact[:2]
    return {"EL": "GR", "XI": "GB"}.get(prefix, prefix)


def clean_vat_number(value: Any, country: str) -> str:
    """An EU VAT number, compact with its country prefix and a valid checksum
    (python-stdnum); blank for none. Typed without a prefix, the billing country's is
    assumed. With a billing country, the number must be of that country: a number of
    another state would give the invoice the wrong VAT treatment (reverse charge)."""
    raw = _clean_text(value, VAT_INPUT_MAX)
    if not raw:
        return ""
    compact = "".join(ch for ch in raw.upper() if ch not in " -./,:")
    if country and compact[:1].isdigit():
        compact = {"GR": "EL"}.get(country, country) + compact
    try:
        compact = eu_vat.validate(compact)
    except InvalidChecksum as exc:
        raise ValidationError(
            _("This VAT number's check digits are wrong: check it for a typing error."),
            code="vat_checksum",
        ) from exc
    except StdnumError as exc:
        raise ValidationError(
            _("Enter an EU VAT number with its country prefix, e.g. NL004495445B01."),
            code="vat_invalid",
        ) from exc
    if country and vat_country(compact) != country:
        raise ValidationError(
            _(
                "This is a VAT number of %(vat_country)s, but the billing country is "
                "%(country)s: enter the VAT number of the billing address's country."
            )
            % {"vat_country": vat_country(compact), "country": country},
            code="vat_country",
        )
    return compact


def clean_email(value: Any) -> str:
    address = _clean_text(value, EMAIL_MAX).lower()
    if address:
        try:
            validate_email(address)  # Django's validator, not a regex of ours
        except ValidationError as exc:
            raise ValidationError(
                _("Enter a valid e-mail address, e.g. invoices@example.com."), code="email"
            ) from exc
    return address


def payer_candidates(organisation: Organisation) -> QuerySet[Organisation]:
    """The organisations ``organisation`` may name as the payer of its invoices: those
    it has granted rights to (a customer's lease company), grants not revoked."""
    return (
        Organisation.objects.filter(
            grants_received__grantor=organisation, grants_received__revoked_at__isnull=True
        )
        .exclude(pk=organisation.pk)
        .distinct()
        .order_by("name", "pk")
    )


def _clean_payer(value: Any, organisation: Organisation) -> Organisation | None:
    """The named payer, or None (invoiced itself). An organisation without a grant from
    this one is refused with the words for a missing one: nobody learns from this form
    which organisations exist."""
    if value is None or value == "":
        return None
    if isinstance(value, Organisation):
        value = value.pk
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationError(NO_SUCH_PAYER, code="no_such_organisation")
    try:
        payer_id = int(value)
    except ValueError as exc:
        raise ValidationError(NO_SUCH_PAYER, code="no_such_organisation") from exc
    payer = payer_candidates(organisation).filter(pk=payer_id).first()
    if payer is None:
        raise ValidationError(NO_SUCH_PAYER, code="no_such_organisation")
    return payer


def billing_details_clean(organisation: Organisation, fields: dict[str, Any]) -> dict[str, Any]:
    """The values to store for the given fields, or one ValidationError naming every
    wrong field. Fields not given keep their value (the country a VAT number must match
    is then the stored one)."""
    unknown = set(fields) - set(BILLING_FIELDS)
    if unknown:
        raise TypeError(f"Not billing details: {sorted(unknown)}")
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}

    def check(name: str, clean: Any) -> None:
        try:
            values[name] = clean()
        except ValidationError as exc:
            errors[name] = exc.messages

    for name, limit in TEXT_LIMITS.items():
        if name in fields:
            check(name, lambda n=name, lim=limit: _clean_text(fields[n], lim))
    if "billing_country" in fields:
        check("billing_country", lambda: clean_country(fields["billing_country"]))
    country = values.get("billing_country", organisation.billing_country)
    if "billing_country" in errors:
        country = ""  # no second message about the VAT number's country
    if "vat_number" in fields:
        check("vat_number", lambda: clean_vat_number(fields["vat_number"], country))
    elif "billing_country" in values and organisation.vat_number and country:
        # The country changed under a stored VAT number: they must still agree.
        try:
            clean_vat_number(organisation.vat_number, country)
        except ValidationError as exc:
            errors["vat_number"] = exc.messages
    if "accounts_payable_email" in fields:
        check("accounts_payable_email", lambda: clean_email(fields["accounts_payable_email"]))
    if "invoice_payer" in fields:
        check("invoice_payer", lambda: _clean_payer(fields["invoice_payer"], organisation))
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
def billing_details_update(
    *, actor: Actor, organisation: Organisation, **fields: Any
) -> Organisation:
    """Change the given billing details (the others stay), audited with old and new
    values. All or nothing: one wrong field and nothing is written."""
    require(actor, Permission.MANAGE_SETTINGS)
    if organisation.pk != actor.organisation.pk:
        # Pages and the API only ever pass the actor's own; this is the last guard.
        raise PermissionDenied(_("Only your own organisation's billing details."))
    # The row lock: two managers saving at once each see the other's result as "before".
    locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
    values = billing_details_clean(locked, fields)
    before = snapshot(locked, BILLING_FIELDS)
    for name, value in values.items():
        setattr(locked, name, value)
    locked.full_clean()
    if values:
        locked.save(update_fields=list(values))
    changes = diff(before, snapshot(locked, BILLING_FIELDS))
    if changes:
        audit_record(
            actor=actor,
            action=AuditAction.ORGANISATION_UPDATE,
            target=locked,
            changes=changes,
        )
    return locked
