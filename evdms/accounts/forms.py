from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from evdms.accounts.models import (
    ConnectionAlerts,
    GrantRight,
    Organisation,
    OrganisationKind,
    Role,
    roles_for_kind,
)
from evdms.accounts.selectors import connection_label, connections_actable_by
from evdms.notifications.services import email_send
from evdms.ui.countries import country_choices
from evdms.ui.language import user_language
from evdms.ui.time_zones import time_zone_choices


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail address"), widget=forms.EmailInput(attrs={"autocomplete": "username"})
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("That e-mail address and password do not match an account."),
        "inactive": _("This account is disabled. Ask a Network Manager of your organisation."),
    }


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form, delivering through our outbox and worker."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        user = context["user"]
        admin = user.admin_or_none
        organisation = admin.organisation if admin is not None else None
        email_send(
            to=[to_email],
            template="password_reset",
            context={
                "user": user,
                "uid": context["uid"],
                "token": context["token"],
            },
            language=user_language(user, organisation),
        )


ROLE_HELP = {
    OrganisationKind.INSTALLER: _(
        "Installer manager: the jobs, quotes, cancelling, declarations, admins and API keys. "
        "Installer technician: the jobs' contact, survey, appointment and installation."
    ),
    "": _(
        "Network Manager: everything, including admins. Connections Officer: connections "
        "and drivers. Analyst: reports only."
    ),
}


class RoleChoicesForm(forms.Form):
    """A form with a ``role`` field offering only the roles of the organisation's kind
    (installer roles for an installer company, the organisation roles for the others)."""

    role: forms.ChoiceField

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["role"]
        assert isinstance(field, forms.ChoiceField)
        roles = roles_for_kind(organisation.kind)
        field.choices = [(r.value, r.label) for r in roles]
        # A new admin or key starts with the least powerful role (the last): more is a
        # choice the Network Manager makes, not a default they overlook.
        self.initial.setdefault("role", roles[-1].value)
        if field.help_text:
            field.help_text = ROLE_HELP.get(organisation.kind, ROLE_HELP[""])


SCOPE_ALL, SCOPE_CHOSEN = "all", "chosen"
NETWORK_MANAGER_HAS_ALL = _(
    "A Network Manager always has all connections: they manage the admins, the API keys "
    "and the grants."
)


class ConnectionScopeForm(RoleChoicesForm):
    """Adds "Connections: all, present and future, or only these" with a box for each
    connection the organisation may act on (its own and those granted to it). The form
    only shapes the answer; the service checks it (``connection_scope_clean``), so the
    page and the API refuse alike."""

    all_connections = forms.ChoiceField(
        label=_("Connections"),
        choices=[
            (SCOPE_ALL, _("All connections, present and future")),
            (SCOPE_CHOSEN, _("Only these:")),
        ],
        # Not answered (a client that predates the choice): all, as before.
        required=False,
        initial=SCOPE_ALL,
        widget=forms.RadioSelect,
        help_text=NETWORK_MANAGER_HAS_ALL,
    )
    connection_ids = forms.TypedMultipleChoiceField(
        label=_("Only these connections"),
        choices=(),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        # A connection not in the list, whether another's or none at all, is one answer.
        error_messages={"invalid_choice": _("Choose connections from the list.")},
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, organisation=organisation, **kwargs)
        field = self.fields["connection_ids"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [
            (c.pk, connection_label(c, organisation)) for c in connections_actable_by(organisation)
        ]
        if not field.choices:
            field.help_text = _("Your organisation has no connections yet.")
        if organisation.kind == OrganisationKind.INSTALLER:
            # An installer company's admins work on jobs, not on connections.
            del self.fields["all_connections"]
            del self.fields["connection_ids"]

    def clean_all_connections(self) -> bool:
        return bool(self.cleaned_data.get("all_connections") != SCOPE_CHOSEN)


class AdminInviteForm(ConnectionScopeForm):
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, help_text=ROLE_HELP[""])
    field_order = ["full_name", "email", "role", "all_connections", "connection_ids"]


class AdminRoleForm(ConnectionScopeForm):
    """The admin's page: role, connections (not shown for a Network Manager) and alerts."""

    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    connection_alerts = forms.ChoiceField(
        label=_("Connection alerts"),
        choices=ConnectionAlerts.choices,
        required=False,  # not sent: left as it is
        help_text=_(
            "E-mail about connection requests waiting for a decision, on the connections "
            "the admin may approve. Only roles that approve drivers receive them."
        ),
    )

    def __init__(self, *args: Any, organisation: Organisation, network_manager: bool, **kw: Any):
        super().__init__(*args, organisation=organisation, **kw)
        if organisation.kind == OrganisationKind.INSTALLER:
            del self.fields["connection_alerts"]
        elif network_manager:
            # Changing the role away from Network Manager keeps all connections; they
            # can be narrowed once the new role is saved.
            del self.fields["all_connections"]
            del self.fields["connection_ids"]
        else:
            self.fields["all_connections"].help_text = ""


class ConnectionAlertsForm(forms.Form):
    """An admin's own choice of connection alerts."""

    connection_alerts = forms.ChoiceField(
        label=_("E-mail me about connection requests waiting for a decision"),
        choices=ConnectionAlerts.choices,
        widget=forms.RadioSelect,
        help_text=_("For the connections you may approve drivers of."),
    )


class AdminSetupForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    password = forms.CharField(
        label=_("Choose a password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters, not a common password, not only digits."),
    )
    password_again = forms.CharField(
        label=_("Password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", gettext("The two passwords differ."))
        return data


class AccountForm(forms.Form):
    """What every user sets for themselves: their name and the language they read."""

    full_name = forms.CharField(label=_("Full name"), max_length=150)
    language = forms.ChoiceField(
        label=_("Language"),
        choices=[("", _("As my browser asks")), *settings.LANGUAGES],
        required=False,
        help_text=_("Pages and the e-mails we send you are in this language."),
    )


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("Organisation name"), max_length=200)
    currency = forms.RegexField(
        label=_("Currency"),
        regex=r"^[A-Za-z]{3}$",
        max_length=3,
        help_text=_("ISO 4217 code, e.g. EUR, GBP."),
        error_messages={"invalid": _("Enter a three-letter ISO currency code such as EUR.")},
    )
    # Not required: a client that leaves them out (an older form, a script) keeps them.
    default_language = forms.ChoiceField(
        label=_("Default language"),
        choices=settings.LANGUAGES,
        required=False,
        help_text=_(
            "What e-mails to people without a language of their own are written in, "
            "e.g. invitations to drivers."
        ),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=time_zone_choices,
        required=False,
        help_text=_("Times on your pages, e-mails and statements are shown in it."),
    )
    require_two_factor = forms.BooleanField(
        label=_("Require two-factor authentication for every admin"),
        required=False,
        help_text=_(
            "Admins without it are asked to set it up at their next page and can do "
            "nothing else until they have."
        ),
    )

    def clean_default_language(self) -> str | None:
        return self.cleaned_data.get("default_language") or None

    def clean_time_zone(self) -> str | None:
        return self.cleaned_data.get("time_zone") or None


class BillingForm(forms.Form):
    """Who the platform's invoices are addressed to. The form only shapes the input; the
    rules (VAT number, country, payer, control characters) are the service's
    (``services.billing``), so the page and the API give the same messages."""

    billing_name = forms.CharField(
        label=_("Billing name"),
        max_length=200,
        required=False,
        help_text=_("The legal name on the invoices; the organisation name if left blank."),
    )
    billing_address = forms.CharField(label=_("Street and number"), max_length=200, required=False)
    billing_postcode = forms.CharField(label=_("Postcode"), max_length=20, required=False)
    billing_city = forms.CharField(label=_("City"), max_length=100, required=False)
    billing_country = forms.ChoiceField(label=_("Country"), required=False, choices=())
    vat_number = forms.CharField(
        label=_("VAT number"),
        max_length=40,
        required=False,
        help_text=_("An EU VAT number, e.g. NL004495445B01; it must be of the billing country."),
    )
    accounts_payable_email = forms.CharField(
        label=_("Accounts payable e-mail"),
        max_length=254,
        required=False,
        widget=forms.EmailInput,
        help_text=_("Invoices of the Direct Invoice Service are sent here."),
    )
    purchase_order_reference = forms.CharField(
        label=_("Purchase order reference"),
        max_length=100,
        required=False,
        help_text=_("Quoted on every invoice, if your accounts payable need one."),
    )
    invoice_payer = forms.ChoiceField(
        label=_("Invoices are paid by"),
        required=False,
        choices=(),
        help_text=_(
            "Your organisation, or a lease company you granted rights to. If that grant is "
            "revoked, your organisation is invoiced itself again."
        ),
    )

    def __init__(
        self, *args: Any, payers: list[Organisation], organisation_name: str, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        country = self.fields["billing_country"]
        payer = self.fields["invoice_payer"]
        assert isinstance(country, forms.ChoiceField) and isinstance(payer, forms.ChoiceField)
        country.choices = country_choices(
            "—", stored=str(self.initial.get("billing_country") or "")
        )
        payer.choices = [
            ("", gettext("%(name)s (invoiced itself)") % {"name": organisation_name}),
            *((str(o.pk), o.name) for o in payers),
        ]


class ApiKeyForm(ConnectionScopeForm):
    name = forms.CharField(
        label=_("Key name"), max_length=100, help_text=_("What uses it, e.g. CRM sync.")
    )
    role = forms.ChoiceField(label=_("Role of the key"), choices=Role.choices)
    field_order = ["name", "role", "all_connections", "connection_ids"]

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, organisation=organisation, **kwargs)
        if "all_connections" in self.fields:
            self.fields["all_connections"].help_text = _(
                "A key with the Network Manager role always has all connections."
            )


class TwoFactorCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}
        ),
        help_text=_(
            "The 6-digit code your authenticator app shows, or one of your recovery codes."
        ),
    )


class AuthenticatorCodeForm(forms.Form):
    code = forms.RegexField(
        label=_("Code from the app"),
        regex=r"^\s*\d{3}\s?\d{3}\s*$",
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text=_("The 6 digits the app shows for evdms."),
        error_messages={"invalid": _("Enter the 6 digits the app shows.")},
    )


class ReauthenticateForm(forms.Form):
    proof = forms.CharField(
        label=_("Your password, or a code from your app"),
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("To be sure it is you."),
    )


class _ChosenIdsField(forms.MultipleChoiceField):
    """Checkboxes of the organisation's connections whose values are passed on as
    typed: the service judges them, so a connection of another organisation gets the
    same words on the page as in the API."""

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")


class GrantForm(forms.Form):
    """The Grant Rights page's form. It only shapes the input: every rule (who can
    receive a grant, a right given twice, the connections) is ``services.grants``'s."""

    ALL = "all"
    CHOSEN = "chosen"

    grantee = forms.CharField(
        label=_("Organisation ID or name"),
        max_length=200,
        help_text=_(
            "The Organisation ID the other organisation finds on its Settings page, e.g. "
            "ORG-7K3QD-X2M9P; or its name, if it has granted your organisation rights."
        ),
    )
    rights = forms.MultipleChoiceField(
        label=_("Rights"),
        choices=GrantRight.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    scope = forms.ChoiceField(
        label=pgettext_lazy("what a grant is on", "On"),
        choices=[
            (ALL, _("All connections, present and future")),
            (CHOSEN, _("Chosen connections")),
        ],
        widget=forms.RadioSelect,
        initial=ALL,
    )
    connections = _ChosenIdsField(
        label=_("Chosen connections"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Only with Chosen connections."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the rights are granted, e.g. the lease contract they belong to."),
    )

    def __init__(self, *args: Any, connections: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["connections"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(str(pk), name) for pk, name in connections]

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        every = data["scope"] == self.ALL
        return {
            "grantee": data["grantee"],
            "rights": data["rights"],
            "all_connections": every,
            # Ticked boxes stay ticked (hidden) when All is chosen after them.
            "connections": [] if every else data["connections"],
            "description": data["description"],
        }
