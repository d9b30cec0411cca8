"""Input of the token pages. The rules (uid form, uniqueness, who may get a card) live in
``services.tokens``, which the API calls too; the form only bounds what it accepts."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from evdms.public_charging.services.tokens import UID_MAX, VISUAL_NUMBER_MAX


class CardIssueForm(forms.Form):
    # Plain text fields with outer bounds only: the service checks each value and says
    # what is wrong next to every field at once.
    driver_email = forms.CharField(
        label=_("Driver's e-mail address"),
        max_length=254,
        help_text=_("A driver connected to one of your connections that pays for public charging."),
    )
    uid = forms.CharField(
        label=_("Card uid"),
        # Room for a reader's "04:A1:B2…" form; the service strips the separators.
        max_length=UID_MAX * 3,
        help_text=_(
            "4 to 36 hexadecimal characters, as the card reader shows it "
            "(spaces and colons are fine)."
        ),
    )
    visual_number = forms.CharField(
        label=_("Number printed on the card"),
        max_length=VISUAL_NUMBER_MAX * 3,
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["visual_number"].help_text = gettext("Up to %(limit)d characters.") % {
            "limit": VISUAL_NUMBER_MAX
        }


class TokenFilterForm(forms.Form):
    driver = forms.CharField(label=_("Driver"), max_length=200, required=False)
