"""Amounts in e-mails read as on the pages (issues #18, #19): grouped, two decimals, with
their currency as the e-mail's language writes it — "€1,815.50" in English, "1.815,50 €"
in German, never "EUR 1815.5" or "€1815.5000000"."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from evdms.notifications.services import email_render
from evdms.notifications.tests.test_text_not_escaped import Anything, _context

AMOUNT = Decimal("1815.5")
AMOUNTS = {"total", "total_incl_vat", "organisation_share", "driver_share", "unit_price"}
AMOUNTS |= {"amount", "amount_due"}


class WithAmounts(Anything):
    """Any object a template walks into, with every amount 1815.5 and currency EUR."""

    def __getattr__(self, name: str) -> Any:
        if name in AMOUNTS:
            return AMOUNT
        if name == "currency":
            return "EUR"
        return super().__getattr__(name)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):  # a template's ``a.b`` tries ``a["b"]`` first
            raise KeyError(key)
        return WithAmounts()

    def __iter__(self) -> Any:
        return iter([WithAmounts()])


KINDS = [
    "quote_for_approval",
    "quote_approved",
    "quote_driver_part",
    "reimbursement_statement",
    "payout_failed",
    "invoice_reminder",
]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("language", "expected"), [("en-gb", "€1,815.50"), ("de", "1.815,50\xa0€")]
)
def test_amounts_are_grouped_with_two_decimals_and_their_currency(kind, language, expected):
    context: dict[str, Any] = {name: WithAmounts() for name in _context(kind)}
    if "amount_due" in context:
        context["amount_due"] = AMOUNT
    email = email_render(to=["x@example.com"], template=kind, context=context, language=language)
    for part in (email.text_body, email.html_body):
        assert expected in part, (kind, part[:600])
        assert "1815.5" not in part and "EUR" not in part
