"""A driver's bank details and home price: validated, encrypted, masked, audited."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection as db_connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evdms.accounts import field_crypto as crypto
from evdms.accounts.models import User
from evdms.audit.models import AuditEvent
from evdms.reimbursements.models import BankAccount, HomePrice
from evdms.reimbursements.selectors import price_in_force
from evdms.testing.fixtures import make_connection, make_membership

pytestmark = pytest.mark.django_db

GOOD_IBAN = "NL91ABNA0417164300"


@pytest.fixture
def dan(world):
    user = User.objects.create_user(
        "dan@example.com",
        "dan's long passphrase",
        full_name="Dan Driver",
        email_confirmed_at=timezone.now(),
    )
    make_membership(make_connection(world.org_a, max_price_per_kwh="0.29"), user)
    return user


@pytest.fixture
def dan_client(dan):
    client = Client()
    client.force_login(dan, backend="evdms.accounts.backends.EmailBackend")
    return client


def save_bank(client, iban, holder="Dan Driver", bic=""):
    return client.post(
        reverse("reimbursements:bank_account"), {"holder": holder, "iban": iban, "bic": bic}
    )


def test_bank_details_are_normalised_encrypted_and_shown_masked(
    dan, dan_client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = save_bank(dan_client, "nl91 abna 0417 1643 00", bic="abnanl2a")
    assert response.status_code == 302
    account = BankAccount.objects.get()
    assert (
        account.iban == GOOD_IBAN and account.holder == "Dan Driver" and account.bic == "ABNANL2A"
    )
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT holder_encrypted, iban_encrypted FROM reimbursements_bankaccount")
        raw = " ".join(cursor.fetchone())
    assert GOOD_IBAN not in raw and "Dan Driver" not in raw and "1643" not in raw
    page = dan_client.get(reverse("reimbursements:mine")).content.decode()
    assert "NL•• •••• 4300" in page and GOOD_IBAN not in page and "0417" not in page
    assert mailoutbox[-1].to == ["dan@example.com"] and "ending 4300" in mailoutbox[-1].body
    event = AuditEvent.objects.get(action="bank_account.set")
    assert event.actor_user == dan and event.changes == {"iban": [None, "NL•• •••• 4300"]}


def national_checksum_broken() -> str:
    """A Belgian IBAN whose ISO check digits are right but whose account number fails the
    Belgian mod-97 check (built here, so only the national check can catch it)."""
    bban = "539007547035"  # the real account ends 34
    number = int("".join(str(int(c, 36)) for c in bban + "BE00"))
    return f"BE{98 - number % 97:02d}{bban}"


@pytest.mark.parametrize(
    ("iban", "message"),
    [
        ("NL91ABNA0417164301", "check digits are wrong"),
        ("XX91ABNA0417164300", "is not a country that uses IBANs"),
        ("NL91ABNA041716430", "wrong length"),
        ("", "This field is required."),
    ],
)
def test_invalid_ibans_get_a_clear_message(dan_client, iban, message):
    response = save_bank(dan_client, iban)
    assert response.status_code == 422
    assert message in response.content.decode().replace("&#x27;", "'")
    assert BankAccount.objects.count() == 0


def test_the_national_checksum_is_checked_too(dan_client):
    iban = national_checksum_broken()
    response = save_bank(dan_client, iban)
    assert response.status_code == 422
    assert "national check" in response.content.decode()


def test_a_change_keeps_the_old_account_retired(dan, dan_client):
    save_bank(dan_client, GOOD_IBAN)
    save_bank(dan_client, "DE89370400440532013000")
    assert BankAccount.objects.filter(driver=dan, retired_at=None).get().iban_last4 == "3000"
    assert BankAccount.objects.filter(driver=dan).count() == 2


def test_keys_rotate_without_losing_data(dan, dan_client, settings):
    from cryptography.fernet import Fernet

    old = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    save_bank(dan_client, GOOD_IBAN)
    new = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    call_command("rotate_encryption_keys")
    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert BankAccount.objects.get().iban == GOOD_IBAN
    settings.FIELD_ENCRYPTION_KEYS = [old]
    with pytest.raises(RuntimeError, match="Cannot decrypt"):
        _ = BankAccount.objects.get().iban
    assert crypto.keys() == (old,)


def price(client, value, **extra):
    return client.post(reverse("reimbursements:home_price"), {"price_per_kwh": value, **extra})


def test_a_price_above_the_maximum_is_kept_as_given_and_the_driver_is_told(dan, dan_client):
    page = dan_client.get(reverse("reimbursements:mine")).content.decode()
    assert 'data-max-price="0.2900"' in page  # the page warns while typing
    assert price(dan_client, "0,35").status_code == 302
    assert str(HomePrice.objects.get().price_per_kwh) == "0.3500"
    page = dan_client.get(reverse("reimbursements:mine")).content.decode()
    assert "Home price saved: €0.35 per kWh." in page  # the price with its currency (#19)
    assert "above the maximum" in page and "€0.29 per kWh" in page
    assert "EUR" not in page.split("<main", 1)[1]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "Enter a price greater than 0."),
        ("-1", "Enter a price greater than 0."),
        ("cheap", "Enter a number, e.g. 0.27."),
        ("0.123456", "Use at most 4 decimal places."),
        ("", "This field is required."),
    ],
)
def test_bad_prices_are_refused(dan_client, value, message):
    response = price(dan_client, value)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert HomePrice.objects.count() == 0


def test_an_absurd_price_needs_confirmation(dan_client):
    refused = price(dan_client, "27")
    assert refused.status_code == 422
    assert "unusually high" in refused.content.decode()
    assert price(dan_client, "27", confirm="on", confirmed_price="27").status_code == 302


def test_the_price_in_force_follows_its_dates(dan, dan_client):
    # Dan joined before the first price applies (no price applies before joining).
    dan.memberships.update(connected_at=timezone.now().replace(year=2025, month=12, day=1))
    price(dan_client, "0.25", valid_from="2026-01-01")
    price(dan_client, "0.31", valid_from="2026-07-01")
    from datetime import date

    assert price_in_force(dan, date(2025, 12, 31)) is None
    march, july = price_in_force(dan, date(2026, 3, 1)), price_in_force(dan, date(2026, 7, 1))
    assert march is not None and str(march.price_per_kwh) == "0.2500"
    assert july is not None and str(july.price_per_kwh) == "0.3100"
