"""Writes about reimbursement: here bank details and home prices; the monthly statement
run (``statements``), payout batches (``payouts``) and bank returns (``bank_returns``)
are modules of this package, each imported by its own path."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from schwifty import BIC, IBAN
from schwifty.exceptions import (
    InvalidChecksumDigits,
    InvalidCountryCode,
    InvalidLength,
    SchwiftyException,
)

from evdms.accounts import field_crypto as crypto
from evdms.accounts.models import User
from evdms.audit.models import AuditAction
from evdms.audit.services import audit_record
from evdms.charging.bounds import EARLIEST, OutOfWindow, check_day
from evdms.notifications.services import email_send
from evdms.reimbursements.models import (
    NO_BANK_DETAILS,
    BankAccount,
    HomePrice,
    Statement,
    StatementStatus,
)
from evdms.reimbursements.selectors import (
    price_earliest_day,
    reimbursing_memberships,
    reimbursing_organisation,
)
from evdms.ui.formatting import price as price_shown
from evdms.ui.language import user_language
from evdms.ui.numbers import typed_decimal_or_error

PRICE_CONFIRM_ABOVE = Decimal("10")
# A new contract's price may be entered ahead of time, but not for a far future.
PRICE_DAYS_AHEAD = timedelta(days=366)
PRICE_LIMIT = Decimal("100")
# The example of a price per kWh in placeholders and messages (written as the reader's
# language writes it).
PRICE_EXAMPLE = Decimal("0.27")


def clean_iban(raw: str) -> IBAN:
    """An IBAN checked with its national checksum too; spaces and lower case are fine."""
    text = "".join(str(raw or "").split()).upper()
    if not text:
        raise ValidationError(_("This field is required."))
    try:
        return IBAN(text, validate_bban=True)
    except InvalidCountryCode as exc:
        raise ValidationError(
            _("“%(country)s” is not a country that uses IBANs.") % {"country": text[:2]}
        ) from exc
    except InvalidLength as exc:
        raise ValidationError(_("This IBAN has the wrong length for its country.")) from exc
    except InvalidChecksumDigits as exc:
        raise ValidationError(
            _("This IBAN's check digits are wrong: look for a typing error.")
        ) from exc
    except SchwiftyException as exc:
        raise ValidationError(
            _("This IBAN does not pass its bank's national check: look for a typing error.")
        ) from exc


def clean_bic(raw: str) -> str:
    text = "".join(str(raw or "").split()).upper()
    if not text:
        return ""
    try:
        return str(BIC(text).compact)
    except SchwiftyException as exc:
        raise ValidationError(_("This BIC is not valid (8 or 11 letters and digits).")) from exc


@transaction.atomic
def bank_account_set(*, driver: User, holder: str, iban: str, bic: str = "") -> BankAccount:
    errors: dict[str, list[str]] = {}
    holder = " ".join(str(holder or "").split())
    if not holder:
        errors["holder"] = [_("This field is required.")]
    elif len(holder) > 70:  # the SEPA limit for a creditor name
        errors["holder"] = [_("Use at most 70 characters.")]
    checked: IBAN | None = None
    try:
        checked = clean_iban(iban)
    except ValidationError as exc:
        errors["iban"] = exc.messages
    try:
        bic = clean_bic(bic)
    except ValidationError as exc:
        errors["bic"] = exc.messages
    if errors:
        raise ValidationError(errors)
    assert checked is not None
    current = BankAccount.objects.select_for_update().filter(driver=driver, retired_at=None).first()
    if current is not None:
        current.retired_at = timezone.now()
        current.save(update_fields=["retired_at"])
    account = BankAccount.objects.create(
        driver=driver,
        holder_encrypted=crypto.encrypt(holder),
        iban_encrypted=crypto.encrypt(checked.compact),
        iban_country=checked.country_code,
        iban_last4=checked.compact[-4:],
        bic=bic,
    )
    released = _statements_to_account(driver, account)
    # Only the masked form goes into the log: the log is not encrypted.
    audit_record(
        actor=None,
        by_user=driver,
        action=AuditAction.BANK_ACCOUNT_SET,
        target=account,
        changes={
            "iban": [current.masked_iban if current else None, account.masked_iban],
            **({"statements released": [None, released]} if released else {}),
        },
    )
    # The driver's language, else their organisation's default, like their other
    # e-mails (a driver who never chose one reads their employer's language).
    organisation = reimbursing_organisation(driver)
    email_send(
        to=[driver.email],
        template="bank_account_changed",
        context={"driver": driver, "account": account, "had_account": current is not None},
        organisation=organisation,
        language=user_language(driver, organisation),
    )
    return account


def _statements_to_account(driver: User, account: BankAccount) -> int:
    """Statements not yet taken by a payout batch are paid to the driver's new account.
    Those held only for want of bank details become ready (the statement e-mail told the
    driver so); those also missing a home price stay held for that. Returns how many were
    released."""
    Statement.objects.filter(
        driver=driver, status=StatementStatus.READY, payout__isnull=True
    ).update(bank_account=account)
    released = 0
    for statement in Statement.objects.select_for_update().filter(
        driver=driver, status=StatementStatus.HELD
    ):
        reasons = [r for r in statement.held_reason.split("; ") if r and r != NO_BANK_DETAILS]
        statement.bank_account = account
        statement.held_reason = "; ".join(reasons)
        if not reasons:
            statement.status = StatementStatus.READY
            released += 1
        statement.save(update_fields=["bank_account", "held_reason", "status"])
    return released


@transaction.atomic
def bank_accounts_reencrypt() -> int:
    """Every bank account encrypted again with the newest of EVDMS_FIELD_ENCRYPTION_KEYS,
    in one transaction (an interrupted rotation leaves every row as it was): after a key
    is added in front, so the old one can be retired. Answers how many were done."""
    done = 0
    for account in BankAccount.objects.select_for_update().iterator(chunk_size=500):
        account.holder_encrypted = crypto.rotate(account.holder_encrypted)
        account.iban_encrypted = crypto.rotate(account.iban_encrypted)
        account.save(update_fields=["holder_encrypted", "iban_encrypted"])
        done += 1
    return done


def parse_price(raw: Any) -> Decimal:
    """A price per kWh as the driver typed it, with their language's decimal mark
    ("0,27" in Dutch) or a point."""
    if not str(raw or "").strip():
        raise ValidationError(_("This field is required."))
    price = typed_decimal_or_error(raw, example=PRICE_EXAMPLE)
    if price <= 0:
        raise ValidationError(_("Enter a price greater than 0."))
    if price > PRICE_LIMIT:
        raise ValidationError(
            _("Enter a price of at most %(limit)s per kWh.") % {"limit": PRICE_LIMIT}
        )
    exponent = price.as_tuple().exponent
    assert isinstance(exponent, int)  # a finite number's ("n", "N", "F" are for NaN, ∞)
    if -exponent > 4:
        raise ValidationError(_("Use at most 4 decimal places."))
    return price


@transaction.atomic
def home_price_set(
    *,
    driver: User,
    price: Any,
    valid_from: date | None = None,
    confirmed_price: Any = None,
) -> HomePrice:
    """Keep the driver's price as given (the connection's cap applies when reimbursing).

    A price above 10 per kWh is probably a typing error (cents for euros): it is kept
    only when ``confirmed_price`` is that same price, i.e. the driver was shown this
    price as unusually high and confirmed it. A tick carried over from another price
    (or ticked before any warning) confirms nothing.

    The first day may be ahead (a new contract) but not before
    ``price_earliest_day``: not before the driver joined, nor inside a month whose
    statement is already made.
    """
    try:
        value = parse_price(price)
    except ValidationError as exc:
        raise ValidationError({"price_per_kwh": exc.messages}) from exc
    if value > PRICE_CONFIRM_ABOVE and price_or_none(confirmed_price) != value:
        raise ValidationError(
            {
                "confirm": [
                    _("%(price)s per kWh is unusually high. Tick the box to confirm it is right.")
                    % {"price": price_shown(value)}
                ]
            }
        )
    valid_from = valid_from or timezone.localdate()
    try:
        check_day(valid_from, ahead=PRICE_DAYS_AHEAD)
    except OutOfWindow as exc:
        latest = timezone.localdate() + PRICE_DAYS_AHEAD
        raise ValidationError(
            {
                "valid_from": [
                    _("Use a date from %(first)s to %(last)s.")
                    % {
                        "first": date_format(EARLIEST.date(), "DATE_FORMAT"),
                        "last": date_format(latest, "DATE_FORMAT"),
                    }
                ]
            }
        ) from exc
    earliest = price_earliest_day(driver)
    if valid_from < earliest.day:
        raise ValidationError(
            {
                "valid_from": [
                    _("Use a date from %(day)s on: %(why)s.")
                    % {"day": date_format(earliest.day, "DATE_FORMAT"), "why": earliest.why}
                ]
            }
        )
    membership = reimbursing_memberships(driver).select_related("connection").first()
    currency = membership.connection.currency if membership else "EUR"
    price_row = HomePrice.objects.create(
        driver=driver, price_per_kwh=value, currency=currency, valid_from=valid_from
    )
    audit_record(
        actor=None,
        by_user=driver,
        action=AuditAction.HOME_PRICE_SET,
        target=price_row,
        changes={"price_per_kwh": [None, str(value)], "valid_from": [None, valid_from.isoformat()]},
    )
    return price_row


def price_or_none(raw: Any) -> Decimal | None:
    try:
        return parse_price(raw)
    except ValidationError:
        return None
