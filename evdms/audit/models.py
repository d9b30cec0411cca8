from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditAction(models.TextChoices):
    """Every kind of change the audit log records. The values are what the rows store
    (and what a history or report filters on), so a value never changes once used."""

    ADMIN_INVITE = "admin.invite", "Admin invited"
    ADMIN_INVITATION_RESEND = "admin.invitation_resend", "Admin invitation sent again"
    ADMIN_ACTIVATE = "admin.activate", "Admin account activated"
    ADMIN_CHANGE_ROLE = "admin.change_role", "Admin role changed"
    ADMIN_DISABLE = "admin.disable", "Admin disabled"
    ADMIN_ENABLE = "admin.enable", "Admin enabled"
    ADMIN_CHANGE_CONNECTIONS = "admin.change_connections", "Admin connections changed"
    ADMIN_CHANGE_CONNECTION_ALERTS = (
        "admin.change_connection_alerts",
        "Admin connection alerts changed",
    )
    ORGANISATION_UPDATE = "organisation.update", "Organisation updated"
    API_KEY_CREATE = "api_key.create", "API key created"
    API_KEY_REVOKE = "api_key.revoke", "API key revoked"
    GRANT_CREATE = "grant.create", "Rights granted to another organisation"
    GRANT_REVOKE = "grant.revoke", "Rights granted to another organisation revoked"
    OPERATOR_API_KEY_CREATE = "operator_api_key.create", "Operator API key created"
    TWO_FACTOR_ENABLE = "two_factor.enable", "Two-factor authentication turned on"
    TWO_FACTOR_RECOVERY_CODES_RENEW = (
        "two_factor.recovery_codes_renew",
        "Two-factor recovery codes renewed",
    )
    TWO_FACTOR_DISABLE = "two_factor.disable", "Two-factor authentication turned off"

    CHARGER_REGISTER = "charger.register", "Charger registered"
    CHARGER_LINK = "charger.link", "Charger linked to a driver"
    CHARGER_UNLINK = "charger.unlink", "Charger unlinked from its driver"
    CHARGING_SESSION_HOLD = "charging_session.hold", "Charging session held for review"
    CHARGING_SESSION_ACCEPT = "charging_session.accept", "Held charging session accepted"
    CHARGING_SESSION_REJECT = "charging_session.reject", "Held charging session rejected"
    CHARGING_SESSION_PURPOSE = (
        "charging_session.purpose",
        "Public charging session marked business or personal",
    )

    CONNECTION_CREATE = "connection.create", "Connection created"
    CONNECTION_UPDATE = "connection.update", "Connection updated"
    CONNECTION_ENABLE = "connection.enable", "Connection enabled"
    CONNECTION_DISABLE = "connection.disable", "Connection disabled"

    INVITATION_BATCH_CREATE = "invitation_batch.create", "Drivers invited"
    MEMBERSHIP_REQUEST = "membership.request", "Connection requested"
    MEMBERSHIP_AUTO_APPROVE = "membership.auto_approve", "Request approved automatically"
    MEMBERSHIP_APPROVE = "membership.approve", "Request approved"
    MEMBERSHIP_DENY = "membership.deny", "Request denied"
    MEMBERSHIP_REMOVE = "membership.remove", "Driver removed"
    MEMBERSHIP_WITHDRAW = "membership.withdraw", "Request withdrawn by the driver"
    MEMBERSHIP_LEAVE = "membership.leave", "Connection left by the driver"
    MEMBERSHIP_MOVE = "membership.move", "Driver moved to revised benefits"

    BANK_ACCOUNT_SET = "bank_account.set", "Bank details set"
    HOME_PRICE_SET = "home_price.set", "Home electricity price set"
    PAYOUT_BATCH_CREATE = "payout_batch.create", "Payout batch created"
    PAYOUT_BATCH_EXPORT = "payout_batch.export", "Payout batch exported"
    PAYOUT_BATCH_LINES_PAID = "payout_batch.lines_paid", "Payout batch lines paid"
    PAYOUT_BATCH_PAID = "payout_batch.paid", "Payout batch paid"
    PAYOUT_LINE_PAID = "payout_line.paid", "Payout line paid"
    PAYOUT_LINE_FAIL = "payout_line.fail", "Payout line failed"
    INSTALLER_CERTIFY = "installer.certify", "Installer company certified"
    INSTALLER_UPDATE = "installer.update", "Installer company updated"
    INSTALLATION_CREATE = "installation.create", "Installation job created"
    INSTALLATION_ASSIGN = "installation.assign", "Installation job assigned"
    INSTALLATION_MOVE = "installation.move", "Installation job moved to revised benefits"
    INSTALLATION_TRANSITION = "installation.transition", "Installation job status changed"
    INSTALLATION_CONTACT = "installation.contact", "Installation contact attempt recorded"
    INSTALLATION_DOCUMENT = "installation.document", "Installation document uploaded"
    INSTALLATION_APPOINTMENT = "installation.appointment", "Installation appointment changed"
    QUOTE_SUBMIT = "quote.submit", "Installation quote submitted"
    QUOTE_DECIDE = "quote.decide", "Installation quote decided"

    OCPI_PARTNER_ADD = "ocpi_partner.add", "OCPI partner added"
    OCPI_PARTNER_REGISTER = "ocpi_partner.register", "OCPI partner registered with us"
    OCPI_PARTNER_CONNECT = "ocpi_partner.connect", "Registered with an OCPI partner"
    OCPI_PARTNER_UPDATE = "ocpi_partner.update", "OCPI partner credentials updated"
    OCPI_PARTNER_UNREGISTER = "ocpi_partner.unregister", "OCPI partner unregistered"
    OCPI_PARTNER_SUSPEND = "ocpi_partner.suspend", "OCPI partner suspended"
    OCPI_PARTNER_REACTIVATE = "ocpi_partner.reactivate", "OCPI partner reactivated"
    OCPI_CDR_RESOLVE = "ocpi_cdr.resolve", "OCPI CDR needing attention resolved"

    CHARGING_TOKEN_ISSUE = "charging_token.issue", "Charging token issued"
    CHARGING_TOKEN_BLOCK = "charging_token.block", "Charging card blocked"
    CHARGING_TOKEN_UNBLOCK = "charging_token.unblock", "Charging card unblocked"
    CHARGING_TOKEN_LOST = "charging_token.lost", "Charging card reported lost by the driver"
    CHARGING_TOKEN_VALIDITY = "charging_token.validity", "Charging token validity changed"
    BILLING_DETAILS_UPDATE = "organisation.billing_update", "Billing details updated"
    FEE_SCHEDULE_SET = "fee_schedule.set", "Fee schedule set"
    INVOICE_ISSUE = "invoice.issue", "Invoice issued"
    INVOICE_SEND = "invoice.send", "Invoice e-mailed"
    INVOICE_PAID = "invoice.paid", "Invoice paid"
    INVOICE_OVERDUE = "invoice.overdue", "Invoice overdue"
    CREDIT_NOTE_ISSUE = "credit_note.issue", "Credit note issued"


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
