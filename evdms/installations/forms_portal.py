"""The installer portal's forms, one per step of a job, and the driver's. They parse
what was typed; every rule about the job (its status, who may act, the upload's content,
the quote's lines) is the step service's, whose errors are put next to these fields."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from evdms.installations.models import ContactChannel, ContactOutcome, LineKind

_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ContactForm(forms.Form):
    at = forms.DateTimeField(label=_("When"), widget=_DATETIME)
    channel = forms.ChoiceField(label=_("Channel"), choices=ContactChannel.choices)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ContactOutcome.choices)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class SurveyForm(forms.Form):
    notes = forms.CharField(
        label=_("Survey notes"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text=_("What you found on site: the wall, the fuse box, the cable route."),
    )


class PhotoForm(forms.Form):
    photo = forms.FileField(
        label=_("Photo"),
        help_text=_("JPEG or PNG, at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
    )


class AppointmentForm(forms.Form):
    appointment_at = forms.DateTimeField(label=_("Appointment"), widget=_DATETIME)


class InstalledForm(forms.Form):
    identity = forms.CharField(
        label=_("OCPP identity"),
        max_length=48,
        help_text=_("The charge point id the charger uses in ws://…/ocpp/<identity>."),
    )
    serial = forms.CharField(label=_("Charger serial number"), max_length=50)
    vendor = forms.CharField(label=_("Vendor"), max_length=50)
    model = forms.CharField(label=_("Model"), max_length=50)
    mid_certificate = forms.CharField(label=_("Meter's MID certificate number"), max_length=60)


class DeclarationForm(forms.Form):
    declaration = forms.FileField(
        label=_("Installer declaration (PDF)"),
        help_text=_("A PDF, at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class MoveRequestForm(forms.Form):
    note = forms.CharField(
        label=_("Why, and which days suit you"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


LINE_FIELDS = ("kind", "description", "quantity", "unit_price", "vat_rate")
LINE_KINDS = LineKind.choices
_ROW_KEY = re.compile(r"^lines-(\d+)-kind$")
MAX_ROWS = 50


class QuoteRow:
    """One line of the quote form as typed, with the errors to show next to its fields.
    The rows are named ``lines-<index>-<field>``, as the quote service names its
    errors, so each message lands next to the field it is about."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.values = {name: "" for name in LINE_FIELDS} | (values or {})
        self.errors: dict[str, list[str]] = {}


def quote_rows_from(data: Mapping[str, str]) -> list[QuoteRow]:
    """The rows a posted quote form holds, in their order, renumbered from 0 (rows removed
    in between leave gaps in the numbers)."""
    indices = sorted(
        {int(m.group(1)) for key in data if (m := _ROW_KEY.match(key)) and len(m.group(1)) < 4}
    )[:MAX_ROWS]
    return [
        QuoteRow({name: str(data.get(f"lines-{i}-{name}", "")).strip() for name in LINE_FIELDS})
        for i in indices
    ]


def row_is_empty(row: QuoteRow) -> bool:
    return not any(row.values[name] for name in ("description", "quantity", "unit_price"))


def parse_decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text.replace(",", ".")) if text else None
    except InvalidOperation:
        return None
    return value if value is not None and value.is_finite() else None
