from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from evdms.connections.models import Connection
from evdms.enrolment.rules import CONTACT_FIELDS, VERIFICATION_FIELDS, join_answers_clean
from evdms.ui.countries import country_choices

# What a driver must answer whenever it is asked.
MANDATORY = {*VERIFICATION_FIELDS, *(field[0] for field in CONTACT_FIELDS), "agree_terms"}


class SignupForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    email = forms.EmailField(label=_("E-mail address"))
    password = forms.CharField(
        label=_("Choose a password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters, not a common password, not only digits."),
    )


class JoinForm(forms.Form):
    """The request page: only the questions this connection asks are shown. The fields
    hold no limits of their own: ``join_answers_clean`` checks them as it does for the
    service, so the page and a program get the same messages."""

    use_required_attribute = False

    def __init__(self, *args: Any, connection: Connection, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connection = connection
        if connection.verification_1_label:
            self.fields["verification_1"] = forms.CharField(
                label=connection.verification_1_label, required=False
            )
        if connection.verification_2_label:
            self.fields["verification_2"] = forms.CharField(
                label=connection.verification_2_label, required=False
            )
        if connection.provide_home_charger:
            self.fields["phone"] = forms.CharField(label=_("Phone number"), required=False)
            self.fields["address"] = forms.CharField(
                label=_("Installation address"), required=False, help_text=_("Street and number.")
            )
            self.fields["postcode"] = forms.CharField(label=_("Postcode"), required=False)
            self.fields["city"] = forms.CharField(label=_("Town or city"), required=False)
            self.fields["country"] = forms.CharField(
                label=_("Country"), required=False, widget=forms.Select(choices=country_choices())
            )
        if connection.custom_terms_enabled:
            self.fields["agree_terms"] = forms.BooleanField(
                label=_("I have read and agree to the terms and conditions above"), required=False
            )
        # Marked with * (the rules, not the fields, require them: see the class docstring).
        # Django's Field declares no such attribute, hence the ignore.
        for name, field in self.fields.items():
            field.mandatory = name in MANDATORY  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            cleaned.update(join_answers_clean(connection=self.connection, answers=self.data))
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return cleaned
