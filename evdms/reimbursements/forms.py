from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from evdms.reimbursements.services import PRICE_EXAMPLE
from evdms.ui import formatting
from evdms.ui.numbers import input_text, price_text


class BankAccountForm(forms.Form):
    use_required_attribute = False
    holder = forms.CharField(label=_("Account holder name"), required=False, max_length=200)
    iban = forms.CharField(
        label="IBAN",
        required=False,
        max_length=64,
        help_text=_("As on your bank card or statement; spaces and lower case are fine."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    bic = forms.CharField(label=_("BIC (optional)"), required=False, max_length=20)


class HomePriceForm(forms.Form):
    use_required_attribute = False
    price_per_kwh = forms.CharField(
        label=_("Average home price per kWh"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("What you pay your energy supplier per kWh, taxes included."),
    )
    valid_from = forms.DateField(
        label=_("Applies from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a date such as 2026-11-01.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # An example as the driver's language writes it ("0,27" in Dutch).
        self.fields["price_per_kwh"].widget.attrs["placeholder"] = price_text(PRICE_EXAMPLE)

    # No "Yes, this price is right" box here: it is offered only once a price was found
    # unusually high (ask_confirmation), so it cannot be ticked ahead of any warning.

    def ask_confirmation(self, price: Decimal, *, ticked: bool = False) -> None:
        """Offer the box for ``price``, the one the service found unusually high
        (``ticked`` when the driver already confirmed that price and the form came back
        for another field)."""
        self.fields["confirm"] = forms.BooleanField(
            label=gettext("Yes, %(price)s per kWh is right") % {"price": formatting.price(price)},
            required=False,
        )
        self.fields["confirmed_price"] = forms.CharField(required=False, widget=forms.HiddenInput)
        # Unticked, and for the price just typed: a tick from an earlier post with
        # another price does not carry over.
        data = QueryDict(mutable=True)
        data.update(self.data)
        data["confirmed_price"] = input_text(price)  # read back as the driver's typing
        if ticked:
            data["confirm"] = "on"
        else:
            data.pop("confirm", None)
        self.data = data
