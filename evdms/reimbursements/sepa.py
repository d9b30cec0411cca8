"""SEPA credit transfer files (pain.001.001.09) for payout batches, made and validated
against the XSD by the kept ``sepaxml`` library; we only map our payments onto it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from sepaxml import SepaTransfer

SCHEMA = "pain.001.001.09"


@dataclass(frozen=True)
class Payment:
    end_to_end_id: str  # unique per statement: the bank reports failures with it
    holder: str
    iban: str
    bic: str
    amount: Decimal  # in the currency's major unit, already rounded to cents
    description: str


def to_cents(amount: Decimal) -> int:
    cents = (amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    if cents != amount * 100:
        raise ValueError(f"{amount} is not a whole number of cents")
    return int(cents)


def credit_transfer_xml(
    *, payments: Sequence[Payment], execution_date: date, currency: str = "EUR"
) -> tuple[bytes, str]:
    """The pain.001 file paying ``payments`` from the platform's account (settings), and
    its message id (the bank's reference for the whole file)."""
    if currency != "EUR":
        raise ValueError("SEPA credit transfers are in euro")
    config = {
        "name": settings.SEPA_DEBTOR_NAME,
        "IBAN": settings.SEPA_DEBTOR_IBAN,
        "batch": True,
        "currency": currency,
    }
    if settings.SEPA_DEBTOR_BIC:
        config["BIC"] = settings.SEPA_DEBTOR_BIC
    transfer = SepaTransfer(config, schema=SCHEMA, clean=True)
    for payment in payments:
        item = {
            "name": payment.holder[:70],
            "IBAN": payment.iban,
            "amount": to_cents(payment.amount),
            "execution_date": execution_date,
            "description": payment.description[:140],
            "endtoend_id": payment.end_to_end_id[:35],
        }
        if payment.bic:
            item["BIC"] = payment.bic
        transfer.add_payment(item)
    return bytes(transfer.export(validate=True, pretty_print=True)), str(transfer.msg_id)
