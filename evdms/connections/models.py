"""A connection: one set of benefits an organisation offers its drivers (the reference
"Create a New Connection" page, field by field, in its order)."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ConnectionType(models.TextChoices):
    LEASING_COMPANY = "leasing_company", _("Leasing Company")
    EMPLOYER = "employer", _("Employer")
    FLEET = "fleet", _("Fleet")
    HOSPITALITY = "hospitality", _("Hospitality")
    RESIDENTIAL = "residential", _("Residential")


# Shown in the form, as the reference shows them, but only Leasing Company is selectable.
SELECTABLE_CONNECTION_TYPES = {ConnectionType.LEASING_COMPANY}


class InstallationHandledBy(models.TextChoices):
    CERTIFIED_INSTALLER = "certified_installer", _("Certified installer")


class InstallationPaymentModel(models.TextChoices):
    DIRECT = "direct", _("Direct Model")
    EMPLOYEE_PROGRAMME = "employee_programme", _("Employee Programme")
    BUDGET = "budget", _("Budget Model")
    CUSTOMISED_QUOTING = "customised_quoting", _("Customised Quoting")


class PaymentVia(models.TextChoices):
    DIRECT_INVOICE_SERVICE = "direct_invoice_service", _("Direct Invoice Service")


class ApprovalType(models.TextChoices):
    AUTO = "auto", _("Auto")
    MANUAL = "manual", _("Manual")


class Connection(models.Model):
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="connections",
        verbose_name=_("Organisation Name"),
        help_text=_("The organisation the connection belongs to."),
    )
    name_for_drivers = models.CharField(
        _("Organisation Name for Drivers"),
        max_length=120,
        help_text=_("A friendly name drivers see when they are invited and connect."),
    )
    name = models.CharField(
        _("Connection Name"),
        max_length=120,
        help_text=_(
            "Company name and benefit, e.g. ABC Company_Public. Unique within the organisation."
        ),
    )
    connection_type = models.CharField(
        _("Connection Type"),
        max_length=20,
        choices=ConnectionType.choices,
        default=ConnectionType.LEASING_COMPANY,
        help_text=_("Leasing Company is the type to select."),
    )
    customer_id = models.CharField(
        _("Customer ID"),
        max_length=100,
        blank=True,
        help_text=_(
            "The customer's number in your CRM. Reports can be filtered by it to see this "
            "customer's transactions."
        ),
    )
    enabled = models.BooleanField(
        _("Status"),
        default=True,
        help_text=_(
            "Only an enabled connection is visible to drivers and can be used to invite. "
            "Disabling keeps connected drivers but refuses new invitations and requests."
        ),
    )
    # The logo is kept re-encoded as PNG in the database, so every web process serves the
    # same bytes without shared file storage.
    logo_png = models.BinaryField(null=True, blank=True, editable=False)
    logo_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    verification_1_label = models.CharField(
        _("Verify drivers by"),
        max_length=100,
        blank=True,
        help_text=_(
            "What drivers must give when they ask to connect, e.g. Employee ID, loyalty "
            "card number or account number. Shown as Driver verification 1 in reports."
        ),
    )
    verification_2_label = models.CharField(
        _("Request Additional Info"),
        max_length=100,
        blank=True,
        help_text=_(
            "A second question, e.g. licence plate or VIN, to identify the leased EV. "
            "Shown as Driver verification 2 in reports."
        ),
    )
    support_email = models.EmailField(
        _("Customer Support Email"),
        help_text=_(
            "Receives notifications about installations, quotes for approval and installer "
            "declaration documents."
        ),
    )
    provide_home_charger = models.BooleanField(
        _("Provide Home Charger"),
        default=False,
        help_text=_("Yes to provide drivers with a home charger linked to the platform."),
    )
    home_warranty_and_labour = models.BooleanField(
        _("Home warranty and labour"),
        default=False,
        help_text=_("Yes to include warranty and labour for the home charger."),
    )
    installation_handled_by = models.CharField(
        _("Installation Handled By"),
        max_length=30,
        choices=InstallationHandledBy.choices,
        blank=True,
        help_text=_(
            "A certified installer contacts drivers, who give their contact details when "
            "they sign up, and installs the charger. Follow it in the installation report."
        ),
    )
    installation_payment_model = models.CharField(
        _("Installation Payment Model"),
        max_length=30,
        choices=InstallationPaymentModel.choices,
        blank=True,
        help_text=_(
            "Direct: you pay a standard package, the driver pays extras. Employee Programme: "
            "the driver pays. Budget: you pay up to a budget per installation. Customised "
            "Quoting: you approve a quote for every installation."
        ),
    )
    installation_budget = models.DecimalField(
        _("Installation budget"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_(
            "Budget Model: what you pay at most per installation; the rest is quoted to the driver."
        ),
    )
    # Direct Model: the organisation pays this for the standard package (incl. VAT).
    installation_standard_price = models.DecimalField(
        _("Standard installation package price"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_(
            "Direct Model: what you pay for the standard installation package, incl. VAT; "
            "extra work is quoted to the driver."
        ),
    )
    # With Home warranty and labour; empty: the installer's own terms.
    installation_warranty_months = models.PositiveSmallIntegerField(
        _("Warranty length (months)"),
        null=True,
        blank=True,
        help_text=_("Home warranty and labour: from commissioning. Empty: the installer's terms."),
    )
    reimburse_home_charging = models.BooleanField(
        _("Reimburse Home Charging"),
        default=False,
        help_text=_(
            "Yes to reimburse home charging to the driver's bank account. Drivers are asked "
            "for their bank details and average home price per kWh."
        ),
    )
    max_price_per_kwh = models.DecimalField(
        _("Max Price For Reimbursement"),
        max_digits=8,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_(
            "The most reimbursed per kWh. A driver who enters more is told this maximum and "
            "reimbursed at it. Tip: the EU household average in the first half of 2024 was "
            "0.29 EUR per kWh."
        ),
    )
    currency = models.CharField(_("Currency"), max_length=3, default="EUR")
    home_charging_data_sharing = models.BooleanField(
        _("Home Charging Data Sharing"),
        default=False,
        help_text=_("Yes to see the details of drivers' home charging sessions."),
    )
    pay_for_public_charging = models.BooleanField(
        _("Pay For Public Charging"),
        default=False,
        help_text=_("Yes to pay for drivers' public charging and be invoiced for it."),
    )
    payment_via = models.CharField(
        _("Payment via"),
        max_length=30,
        choices=PaymentVia.choices,
        blank=True,
        help_text=_("How public charging is paid: Direct Invoice Service."),
    )
    approval_type = models.CharField(
        _("Approval type"),
        max_length=10,
        choices=ApprovalType.choices,
        default=ApprovalType.MANUAL,
        help_text=_(
            "Auto approves every connection request at once. Manual lets you check each "
            "request comes from a driver you invited."
        ),
    )
    notify_on_connect = models.BooleanField(
        _("Send notifications when a driver connects"),
        default=False,
        help_text=_("Yes to e-mail the customer support address whenever a driver connects."),
    )
    web_only = models.BooleanField(
        _("Web Only"),
        default=False,
        help_text=_("The invite link always opens in a web browser, never in an app."),
    )
    custom_terms_enabled = models.BooleanField(
        _("Custom terms and conditions"),
        default=False,
        help_text=_("Drivers must agree to your terms and conditions to connect."),
    )
    signed_terms_recipients = models.JSONField(
        _("Send signed Ts and Cs to"),
        default=list,
        blank=True,
        help_text=_(
            "Comma-separated e-mail addresses that receive a signed copy each time a driver "
            "agrees, e.g. your HR department."
        ),
    )
    terms_text = models.TextField(
        _("Terms and Conditions"),
        blank=True,
        help_text=_("Plain text only (ASCII): no HTML or other markup."),
    )
    invite_token = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["name"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                "organisation",
                Lower("name"),
                name="connection_name_unique_in_organisation",
                violation_error_message="A connection with this name exists in this organisation.",
            ),
            models.CheckConstraint(
                condition=Q(connection_type="leasing_company"),
                name="connection_type_leasing_company",
            ),
            # A field that does not apply is stored empty.
            models.CheckConstraint(
                condition=Q(provide_home_charger=True)
                | Q(
                    home_warranty_and_labour=False,
                    installation_handled_by="",
                    installation_payment_model="",
                    reimburse_home_charging=False,
                ),
                name="connection_home_fields_only_with_home_charger",
            ),
            models.CheckConstraint(
                condition=Q(reimburse_home_charging=True, max_price_per_kwh__gt=Decimal(0))
                | Q(reimburse_home_charging=False, max_price_per_kwh__isnull=True),
                name="connection_max_price_iff_reimbursing",
            ),
            models.CheckConstraint(
                condition=Q(installation_payment_model="budget", installation_budget__gt=0)
                | (~Q(installation_payment_model="budget") & Q(installation_budget__isnull=True)),
                name="connection_budget_iff_budget_model",
            ),
            # Stored only for the Direct Model, and then above 0 (connections made before
            # the field was in the form may lack it: a quote for one is refused clearly).
            models.CheckConstraint(
                condition=Q(installation_standard_price__isnull=True)
                | Q(installation_payment_model="direct", installation_standard_price__gt=0),
                name="connection_standard_price_only_direct_model",
            ),
            models.CheckConstraint(
                condition=Q(installation_warranty_months__isnull=True)
                | Q(
                    home_warranty_and_labour=True,
                    installation_warranty_months__gte=1,
                    installation_warranty_months__lte=120,
                ),
                name="connection_warranty_months_only_with_warranty",
            ),
            models.CheckConstraint(
                condition=Q(pay_for_public_charging=True, payment_via="direct_invoice_service")
                | Q(pay_for_public_charging=False, payment_via=""),
                name="connection_payment_via_iff_public",
            ),
            models.CheckConstraint(
                condition=Q(custom_terms_enabled=True) & ~Q(terms_text="")
                | Q(custom_terms_enabled=False, terms_text=""),
                name="connection_terms_iff_enabled",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_logo(self) -> bool:
        return bool(self.logo_sha256)

    def benefits(self) -> list[str]:
        """The benefits in words, as drivers and the list show them."""
        from django.utils.translation import gettext

        from evdms.ui import formatting

        items = []
        if self.provide_home_charger:
            text = (
                gettext("Home charger with warranty and labour")
                if self.home_warranty_and_labour
                else gettext("Home charger")
            )
            if self.installation_payment_model:
                text += f" ({self.get_installation_payment_model_display()})"
            items.append(text)
        if self.reimburse_home_charging and self.max_price_per_kwh is not None:
            items.append(
                gettext("Home charging reimbursed (up to %(price)s per kWh)")
                % {"price": formatting.price(self.max_price_per_kwh, self.currency)}
            )
        if self.pay_for_public_charging:
            items.append(gettext("Public charging paid"))
        return items


class MaxPriceChange(models.Model):
    """The connection's Max Price For Reimbursement from a moment on.

    Statements reimburse each session at the cap in force when it started, so a change
    made mid-month must not reach back to the sessions before it. Written by the
    connection services whenever the maximum changes; an empty maximum means the
    connection did not reimburse home charging from then on.
    """

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="max_price_changes"
    )
    max_price_per_kwh = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    valid_from = models.DateTimeField()

    class Meta:
        ordering: ClassVar = ["connection", "valid_from"]
        constraints: ClassVar = [
            # One value per moment, so "the cap in force at t" has one answer.
            models.UniqueConstraint(
                fields=["connection", "valid_from"], name="max_price_change_once_per_moment"
            ),
            models.CheckConstraint(
                condition=Q(max_price_per_kwh__isnull=True) | Q(max_price_per_kwh__gt=0),
                name="max_price_change_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.connection_id}: {self.max_price_per_kwh} from {self.valid_from}"
