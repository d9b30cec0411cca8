"""The New / Edit Connection form. It only renders and carries input: every rule is in
``rules.py`` and is applied by the service, exactly as for the API."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from evdms.connections.models import (
    SELECTABLE_CONNECTION_TYPES,
    ApprovalType,
    Connection,
    ConnectionType,
    InstallationHandledBy,
    InstallationPaymentModel,
    PaymentVia,
)
from evdms.connections.rules import PAGE_ORDER, PRICE_EXAMPLE, REQUIRED_WHEN_SHOWN, SHOW_WHEN
from evdms.ui.forms import PLACEHOLDER, preselect_single_choices
from evdms.ui.numbers import input_text, price_text

YES_NO = [("no", _("No")), ("yes", _("Yes"))]
ENABLED_DISABLED = [("no", _("Disabled")), ("yes", _("Enabled"))]
# Marked with * : always required, and those required whenever they are shown.
MANDATORY = {
    "organisation",
    "name_for_drivers",
    "name",
    "connection_type",
    "support_email",
    "approval_type",
    *REQUIRED_WHEN_SHOWN,
}
# The page's order, defined once with the rules.
FIELD_ORDER = PAGE_ORDER
# The page in titled sections, in the reference page's order, each dependent field in
# the section of the field it depends on. The support address is for "notifications and
# approvals" (the reference's words), so it opens that section rather than trailing the
# verification questions it follows on the reference page.
SECTIONS: list[tuple[str, Any, list[str]]] = [
    (
        "organisation",
        _("Organisation"),
        [
            "organisation",
            "name_for_drivers",
            "name",
            "connection_type",
            "customer_id",
            "enabled",
            "logo",
            "remove_logo",
        ],
    ),
    (
        "driver-verification",
        _("Driver verification"),
        ["verification_1_label", "verification_2_label"],
    ),
    (
        "home-charger",
        _("Home charger"),
        [
            "provide_home_charger",
            "home_warranty_and_labour",
            "installation_warranty_months",
            "installation_handled_by",
            "installation_payment_model",
            "installation_standard_price",
            "installation_budget",
        ],
    ),
    (
        "reimbursement",
        _("Reimbursement"),
        ["reimburse_home_charging", "max_price_per_kwh", "home_charging_data_sharing"],
    ),
    ("public-charging", _("Public charging"), ["pay_for_public_charging", "payment_via"]),
    (
        "approval-and-notifications",
        _("Approval and notifications"),
        ["support_email", "approval_type", "notify_on_connect", "web_only"],
    ),
    (
        "terms-and-conditions",
        _("Terms and conditions"),
        ["custom_terms_enabled", "signed_terms_recipients", "terms_text"],
    ),
]
SECTIONED = [name for _slug, _title, names in SECTIONS for name in names]


@dataclass(frozen=True)
class Section:
    title: Any  # a lazily translated text
    slug: str
    fields: list[forms.BoundField]


class TypeSelect(forms.Select):
    """Shows every connection type, as the reference does; only selectable ones can be chosen."""

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        if value and value not in SELECTABLE_CONNECTION_TYPES:
            option["attrs"]["disabled"] = True
        return option


def _meta(field: str) -> tuple[str, str]:
    model_field = Connection._meta.get_field(field)
    return str(getattr(model_field, "verbose_name", field)), str(
        getattr(model_field, "help_text", "")
    )


def _choice(
    field: str, choices: list[tuple[str, Any]], widget: type[forms.Select] = forms.Select
) -> forms.CharField:
    """A select whose value the rules check (not the form), so messages match the API's."""
    label, help_text = _meta(field)
    return forms.CharField(
        label=label, help_text=help_text, required=False, widget=widget(choices=choices)
    )


def _text(field: str, widget: forms.Widget | None = None) -> forms.CharField:
    label, help_text = _meta(field)
    return forms.CharField(label=label, help_text=help_text, required=False, widget=widget)


def _blank(choices: Any) -> list[tuple[str, Any]]:
    return [("", PLACEHOLDER), *[(str(v), str(lbl)) for v, lbl in choices.choices]]


class ConnectionForm(forms.Form):
    use_required_attribute = False  # the server's messages, next to each field, decide

    def __init__(
        self,
        *args: Any,
        organisations: list[tuple[int, str]],
        currency: str,
        editing: bool = False,
        connected_drivers: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        f = self.fields
        f["organisation"] = _choice(
            "organisation", [("", PLACEHOLDER), *[(str(pk), name) for pk, name in organisations]]
        )
        if editing:
            f["organisation"].disabled = True
            f["organisation"].help_text = _("The organisation of a connection does not change.")
        f["name_for_drivers"] = _text("name_for_drivers")
        f["name"] = _text("name")
        f["name"].widget.attrs["placeholder"] = _("ABC Company_Public")
        f["connection_type"] = _choice(
            "connection_type",
            [(str(v), str(lbl)) for v, lbl in ConnectionType.choices],
            widget=TypeSelect,
        )
        f["customer_id"] = _text("customer_id")
        _label, help_text = _meta("enabled")
        f["enabled"] = forms.BooleanField(
            label=_("Enable"), help_text=help_text, required=False, widget=forms.CheckboxInput
        )
        f["logo"] = forms.FileField(
            label=_("Connection Logo"),
            required=False,
            help_text=_("A .gif, .jpg or .png image of exactly 60 × 30 pixels, at most 0.5 MB."),
            widget=forms.ClearableFileInput(attrs={"accept": "image/gif,image/jpeg,image/png"}),
        )
        f["verification_1_label"] = _text("verification_1_label")
        f["verification_1_label"].widget.attrs["placeholder"] = _("Employee ID")
        f["verification_2_label"] = _text("verification_2_label")
        f["verification_2_label"].widget.attrs["placeholder"] = _("Licence plate")
        f["support_email"] = _text("support_email", forms.EmailInput())
        for yes_no in (
            "provide_home_charger",
            "home_warranty_and_labour",
            "reimburse_home_charging",
            "home_charging_data_sharing",
            "pay_for_public_charging",
            "notify_on_connect",
            "web_only",
        ):
            f[yes_no] = _choice(yes_no, YES_NO)
        f["installation_handled_by"] = _choice(
            "installation_handled_by",
            [
                ("", _("Not by the platform (arranged by you or the driver)")),
                *_blank(InstallationHandledBy)[1:],
            ],
        )
        f["installation_payment_model"] = _choice(
            "installation_payment_model", _blank(InstallationPaymentModel)
        )
        f["installation_warranty_months"] = _text("installation_warranty_months")
        f["installation_warranty_months"].widget.attrs.update(
            {"inputmode": "numeric", "placeholder": "24"}
        )
        f["installation_standard_price"] = _text("installation_standard_price")
        f["installation_standard_price"].label = _(
            "Standard installation package price (%(currency)s, incl. VAT)"
        ) % {"currency": currency}
        f["installation_standard_price"].widget.attrs["inputmode"] = "decimal"
        f["installation_budget"] = _text("installation_budget")
        f["installation_budget"].label = _("Installation budget (%(currency)s)") % {
            "currency": currency
        }
        f["installation_budget"].widget.attrs["inputmode"] = "decimal"
        f["max_price_per_kwh"] = _text("max_price_per_kwh")
        f["max_price_per_kwh"].label = _("Max Price For Reimbursement (%(currency)s per kWh)") % {
            "currency": currency
        }
        f["max_price_per_kwh"].widget.attrs.update(
            {"inputmode": "decimal", "placeholder": price_text(PRICE_EXAMPLE)}
        )
        f["payment_via"] = _choice("payment_via", _blank(PaymentVia))
        f["approval_type"] = _choice("approval_type", _blank(ApprovalType))
        f["custom_terms_enabled"] = _choice("custom_terms_enabled", ENABLED_DISABLED)
        f["signed_terms_recipients"] = _text("signed_terms_recipients")
        f["signed_terms_recipients"].widget.attrs["placeholder"] = (
            "hr@example.com, legal@example.com"
        )
        f["terms_text"] = _text("terms_text", forms.Textarea(attrs={"rows": 10}))
        if editing:
            f["remove_logo"] = forms.BooleanField(label=_("Remove the logo"), required=False)
        if connected_drivers:
            f["confirm_benefit_change"] = forms.BooleanField(
                label=ngettext_lazy(
                    "I understand that changing benefits affects the %(count)d connected driver",
                    "I understand that changing benefits affects the %(count)d connected drivers",
                    "count",
                )
                % {"count": connected_drivers},
                required=False,
            )
        self.order_fields(SECTIONED)
        preselect_single_choices(self)
        # Hints the field template reads (field.field.mandatory, .show_when): Django's Field
        # declares no such attributes, so these two ignores stay.
        for name, field in self.fields.items():
            field.mandatory = name in MANDATORY  # type: ignore[attr-defined]
            if name in SHOW_WHEN:
                field.show_when = json.dumps(SHOW_WHEN[name])  # type: ignore[attr-defined]

    def sections(self) -> list[Section]:
        """The fields in their titled sections (the page renders one fieldset each)."""
        return [
            Section(
                title=title,
                slug=slug,
                fields=[self[name] for name in names if name in self.fields],
            )
            for slug, title, names in SECTIONS
        ]

    def unsectioned(self) -> list[forms.BoundField]:
        """Fields of no section (the benefit-change confirmation), after the sections."""
        return [self[name] for name in self.fields if name not in SECTIONED]


def initial_from(connection: Connection) -> dict[str, Any]:
    from evdms.connections.services import current_values

    values = current_values(connection)
    values["organisation"] = connection.organisation_id
    values["enabled"] = connection.enabled
    values["signed_terms_recipients"] = ", ".join(connection.signed_terms_recipients)
    for field in ("installation_budget", "installation_standard_price"):
        value = values.get(field)
        # As the admin would type it back, in their language's decimal mark ("1500,00").
        values[field] = "" if value is None else input_text(Decimal(str(value)))
    warranty = values.get("installation_warranty_months")
    values["installation_warranty_months"] = "" if warranty is None else str(warranty)
    # Stored with four decimals; shown as typed (0.32, not 0.3200).
    values["max_price_per_kwh"] = price_text(values.get("max_price_per_kwh"))
    return values


def submitted(data: Any) -> dict[str, Any]:
    """The raw values the service validates: exactly what the person sent."""
    values = {name: data.get(name) for name in FIELD_ORDER if name not in ("logo", "organisation")}
    values["organisation"] = data.get("organisation")
    values["enabled"] = "yes" if data.get("enabled") in ("on", "yes", "true", "1") else "no"
    return values
