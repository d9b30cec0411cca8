from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from evdms.accounts.who import who_shown


class AuditAction(models.TextChoices):
    """Every kind of change the audit log records. The values are what the rows store
    (and what a history or report filters on), so a value never changes once used."""

    ADMIN_INVITE = "admin.invite", _("Admin invited")
    ADMIN_INVITATION_RESEND = "admin.invitation_resend", _("Admin invitation sent again")
    ADMIN_ACTIVATE = "admin.activate", _("Admin account activated")
    ADMIN_CHANGE_ROLE = "admin.change_role", _("Admin role changed")
    ADMIN_DISABLE = "admin.disable", _("Admin disabled")
    ADMIN_ENABLE = "admin.enable", _("Admin enabled")
    ADMIN_CHANGE_CONNECTIONS = "admin.change_connections", _("Admin connections changed")
    ADMIN_CHANGE_CONNECTION_ALERTS = (
        "admin.change_connection_alerts",
        _("Admin connection alerts changed"),
    )
    ORGANISATION_UPDATE = "organisation.update", _("Organisation updated")
    API_KEY_CREATE = "api_key.create", _("API key created")
    API_KEY_REVOKE = "api_key.revoke", _("API key revoked")
    GRANT_CREATE = "grant.create", _("Rights granted to another organisation")
    GRANT_REVOKE = "grant.revoke", _("Rights granted to another organisation revoked")
    OPERATOR_API_KEY_CREATE = "operator_api_key.create", _("Operator API key created")
    TWO_FACTOR_ENABLE = "two_factor.enable", _("Two-factor authentication turned on")
    TWO_FACTOR_RECOVERY_CODES_RENEW = (
        "two_factor.recovery_codes_renew",
        _("Two-factor recovery codes renewed"),
    )
    TWO_FACTOR_DISABLE = "two_factor.disable", _("Two-factor authentication turned off")

    CHARGER_REGISTER = "charger.register", _("Charger registered")
    CHARGER_LINK = "charger.link", _("Charger linked to a driver")
    CHARGER_UNLINK = "charger.unlink", _("Charger unlinked from its driver")
    CHARGING_SESSION_HOLD = "charging_session.hold", _("Charging session held for review")
    CHARGING_SESSION_ACCEPT = "charging_session.accept", _("Held charging session accepted")
    CHARGING_SESSION_REJECT = "charging_session.reject", _("Held charging session rejected")
    CHARGING_SESSION_PURPOSE = (
        "charging_session.purpose",
        _("Public charging session marked business or personal"),
    )

    CONNECTION_CREATE = "connection.create", _("Connection created")
    CONNECTION_UPDATE = "connection.update", _("Connection updated")
    CONNECTION_ENABLE = "connection.enable", _("Connection enabled")
    CONNECTION_DISABLE = "connection.disable", _("Connection disabled")

    INVITATION_BATCH_CREATE = "invitation_batch.create", _("Drivers invited")
    MEMBERSHIP_REQUEST = "membership.request", _("Connection requested")
    MEMBERSHIP_AUTO_APPROVE = "membership.auto_approve", _("Request approved automatically")
    MEMBERSHIP_APPROVE = "membership.approve", _("Request approved")
    MEMBERSHIP_DENY = "membership.deny", _("Request denied")
    MEMBERSHIP_REMOVE = "membership.remove", _("Driver removed")
    MEMBERSHIP_WITHDRAW = "membership.withdraw", _("Request withdrawn by the driver")
    MEMBERSHIP_LEAVE = "membership.leave", _("Connection left by the driver")
    MEMBERSHIP_MOVE = "membership.move", _("Driver moved to revised benefits")

    BANK_ACCOUNT_SET = "bank_account.set", _("Bank details set")
    HOME_PRICE_SET = "home_price.set", _("Home electricity price set")
    PAYOUT_BATCH_CREATE = "payout_batch.create", _("Payout batch created")
    PAYOUT_BATCH_EXPORT = "payout_batch.export", _("Payout batch exported")
    PAYOUT_BATCH_LINES_PAID = "payout_batch.lines_paid", _("Payout batch lines paid")
    PAYOUT_BATCH_PAID = "payout_batch.paid", _("Payout batch paid")
    PAYOUT_LINE_PAID = "payout_line.paid", _("Payout line paid")
    PAYOUT_LINE_FAIL = "payout_line.fail", _("Payout line failed")
    INSTALLER_CERTIFY = "installer.certify", _("Installer company certified")
    INSTALLER_UPDATE = "installer.update", _("Installer company updated")
    INSTALLATION_CREATE = "installation.create", _("Installation job created")
    INSTALLATION_ASSIGN = "installation.assign", _("Installation job assigned")
    INSTALLATION_MOVE = "installation.move", _("Installation job moved to revised benefits")
    INSTALLATION_TRANSITION = "installation.transition", _("Installation job status changed")
    INSTALLATION_CONTACT = "installation.contact", _("Installation contact attempt recorded")
    INSTALLATION_DOCUMENT = "installation.document", _("Installation document uploaded")
    INSTALLATION_APPOINTMENT = "installation.appointment", _("Installation appointment changed")
    QUOTE_SUBMIT = "quote.submit", _("Installation quote submitted")
    QUOTE_DECIDE = "quote.decide", _("Installation quote decided")

    OCPI_PARTNER_ADD = "ocpi_partner.add", _("OCPI partner added")
    OCPI_PARTNER_REGISTER = "ocpi_partner.register", _("OCPI partner registered with us")
    OCPI_PARTNER_CONNECT = "ocpi_partner.connect", _("Registered with an OCPI partner")
    OCPI_PARTNER_UPDATE = "ocpi_partner.update", _("OCPI partner credentials updated")
    OCPI_PARTNER_UNREGISTER = "ocpi_partner.unregister", _("OCPI partner unregistered")
    OCPI_PARTNER_SUSPEND = "ocpi_partner.suspend", _("OCPI partner suspended")
    OCPI_PARTNER_REACTIVATE = "ocpi_partner.reactivate", _("OCPI partner reactivated")
    OCPI_CDR_RESOLVE = "ocpi_cdr.resolve", _("OCPI CDR needing attention resolved")

    CHARGING_TOKEN_ISSUE = "charging_token.issue", _("Charging token issued")
    CHARGING_TOKEN_BLOCK = "charging_token.block", _("Charging card blocked")
    CHARGING_TOKEN_UNBLOCK = "charging_token.unblock", _("Charging card unblocked")
    CHARGING_TOKEN_LOST = "charging_token.lost", _("Charging card reported lost by the driver")
    CHARGING_TOKEN_VALIDITY = "charging_token.validity", _("Charging token validity changed")
    BILLING_DETAILS_UPDATE = "organisation.billing_update", _("Billing details updated")
    FEE_SCHEDULE_SET = "fee_schedule.set", _("Fee schedule set")
    INVOICE_ISSUE = "invoice.issue", _("Invoice issued")
    INVOICE_SEND = "invoice.send", _("Invoice e-mailed")
    INVOICE_PAID = "invoice.paid", _("Invoice paid")
    INVOICE_OVERDUE = "invoice.overdue", _("Invoice overdue")
    CREDIT_NOTE_ISSUE = "credit_note.issue", _("Credit note issued")


class AuditEvent(models.Model):
    """One change a person, an API key or the system made: who, when, what, old → new."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text too, so the record still says who acted after a user is deleted.
    actor_label = models.CharField(max_length=300)
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=100, choices=AuditAction.choices)
    target_type = models.CharField(max_length=100)
    target_id = models.CharField(max_length=64)
    target_label = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering: ClassVar = ["-at", "-id"]
        indexes: ClassVar = [models.Index(fields=["target_type", "target_id", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_label}"

    @property
    def actor_shown(self) -> str:
        """Who acted, in the reader's language (``actor_label`` keeps a code)."""
        return who_shown(self.actor_label)
