"""People and organisations: users (e-mail login), organisations, admin accounts,
admin invitations, grants between organisations and API keys."""

from __future__ import annotations

import secrets
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from evdms.ui.time_zones import validate_time_zone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)  # None leaves an unusable password
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who logs in: a driver, an organisation's admin or a platform operator.

    What a user may do comes from elsewhere: an ``Admin`` row makes them an admin of one
    organisation (an account is an admin of one organisation at most, and only after
    accepting that organisation's invitation); ``is_staff`` makes them a platform
    operator (Django admin); memberships make them a driver.
    """

    # Stored lower-cased (the manager and clean() do it), so unique means unique
    # whatever the case the person types.
    email = models.EmailField(_("e-mail address"), max_length=254, unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("platform operator"), default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Drivers confirm their address before they can ask to join a connection.
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    # The sign-up page's for a driver, then chosen on the Account page; blank: the
    # browser's (pages) or the organisation's default (e-mails). evdms.ui.language.
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True, default=""
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["full_name"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.email.strip().lower()

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return (self.full_name.split(" ")[0] if self.full_name else "") or self.email

    @property
    def admin_or_none(self) -> Admin | None:
        try:
            return self.admin
        except Admin.DoesNotExist:
            return None


class OrganisationKind(models.TextChoices):
    LEASING_COMPANY = "leasing_company", _("Leasing company")
    CUSTOMER = "customer", _("Customer organisation")
    INSTALLER = "installer", _("Installer company")
    OPERATOR = "operator", _("Platform operator")


# Crockford's base32 without I, L, O, U: read aloud and typed without confusion.
_PUBLIC_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_organisation_public_id() -> str:
    """``ORG-`` and 10 random characters (50 bits): an Organisation ID that another
    organisation types to grant it rights, and that cannot be guessed or enumerated."""
    body = "".join(secrets.choice(_PUBLIC_ID_ALPHABET) for _ in range(10))
    return f"ORG-{body[:5]}-{body[5:]}"


def default_time_zone() -> str:
    return settings.TIME_ZONE


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200)
    # Shown on the Settings page; how another organisation finds this one to grant it
    # rights (evdms.accounts.services.grants). Never the primary key: not enumerable.
    public_id = models.CharField(
        _("Organisation ID"), max_length=20, unique=True, default=new_organisation_public_id
    )
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=OrganisationKind.choices)
    currency = models.CharField(
        _("currency"), max_length=3, default="EUR", help_text=_("ISO 4217 code")
    )
    accounts_payable_email = models.EmailField(_("accounts payable e-mail"), blank=True)
    # Who the platform's invoices are addressed to (evdms.invoicing), set by a Network
    # Manager. Each invoice keeps a copy of them as they were when it was issued.
    billing_name = models.CharField(_("billing name"), max_length=200, blank=True)
    billing_address = models.CharField(_("billing address"), max_length=200, blank=True)
    billing_postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    billing_city = models.CharField(_("city"), max_length=100, blank=True)
    billing_country = models.CharField(
        _("country"), max_length=2, blank=True, help_text=_("ISO 3166-1 alpha-2")
    )
    # Compact, with its country prefix, checksum-valid (python-stdnum); blank if none.
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    purchase_order_reference = models.CharField(
        _("purchase order reference"), max_length=100, blank=True
    )
    # A customer organisation invoiced through the lease company it granted rights to;
    # null: invoiced itself.
    invoice_payer = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pays_invoices_of",
        verbose_name=_("invoices paid by"),
    )
    # What an e-mail to someone without a language of their own is written in (a driver
    # invited by address), and the zone the organisation's pages and e-mails show
    # times in. Set by a Network Manager on the Settings page.
    default_language = models.CharField(
        _("default language"), max_length=10, choices=settings.LANGUAGES, default="en-gb"
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default=default_time_zone,
        validators=[validate_time_zone],
    )
    # Set by a Network Manager: every admin must log in with a second factor.
    require_two_factor = models.BooleanField(
        _("require two-factor authentication for admins"), default=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["name"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="organisation_currency_iso"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    NETWORK_MANAGER = "network_manager", _("Network Manager")
    CONNECTIONS_OFFICER = "connections_officer", _("Connections Officer")
    ANALYST = "analyst", _("Analyst")
    # Admins of an installer company (the installer portal).
    INSTALLER_MANAGER = "installer_manager", _("Installer manager")
    INSTALLER_TECHNICIAN = "installer_technician", _("Installer technician")


# Which roles an organisation's admins and API keys may have, by its kind.
INSTALLER_ROLES = (Role.INSTALLER_MANAGER, Role.INSTALLER_TECHNICIAN)
ORGANISATION_ROLES = (Role.NETWORK_MANAGER, Role.CONNECTIONS_OFFICER, Role.ANALYST)


def roles_for_kind(kind: str) -> tuple[Role, ...]:
    """The roles an organisation of this kind gives its admins and API keys: an installer
    company only the installer roles, every other organisation only the organisation's."""
    return INSTALLER_ROLES if kind == OrganisationKind.INSTALLER else ORGANISATION_ROLES


def managing_role(kind: str) -> Role:
    """The role that manages an organisation of this kind (its admins, its settings)."""
    return Role.INSTALLER_MANAGER if kind == OrganisationKind.INSTALLER else Role.NETWORK_MANAGER


class ConnectionAlerts(models.TextChoices):
    """Whether an admin is e-mailed about connection requests waiting for a decision."""

    OFF = "off", _("Off")
    IMMEDIATE = "immediate", _("Immediately, for each request")
    DAILY = "daily", _("A daily digest")


class AdminStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INVITED = "invited", _("Invited")
    DISABLED = "disabled", _("Disabled")


class Admin(models.Model):
    """An admin place in one organisation, with one role: first an invitation to an
    address, then, once its owner accepts, that user's admin account.

    Until then ``user`` is empty and nothing of any account with that address is read
    or touched: the inviting organisation sees only what it typed (``email``,
    ``full_name``), whether or not the address has an account.
    """

    user = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="admin"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="admins")
    # The invited address, lower-cased; the account that accepted has this address.
    email = models.EmailField(_("e-mail address"), max_length=254)
    # As the inviter typed it; the accepting user's own name once they accept.
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=AdminStatus.choices, default=AdminStatus.INVITED
    )
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Which connections the admin acts on: all, present and future, or the chosen ones
    # (evdms.accounts.scope). A Network Manager always has all: they manage the admins.
    all_connections = models.BooleanField(_("all connections, present and future"), default=True)
    connections = models.ManyToManyField(
        "connections.Connection", blank=True, related_name="+", verbose_name=_("connections")
    )
    connection_alerts = models.CharField(
        _("connection alerts"),
        max_length=10,
        choices=ConnectionAlerts.choices,
        default=ConnectionAlerts.OFF,
    )

    class Meta:
        ordering: ClassVar = ["full_name", "email"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["organisation", "email"], name="admin_one_per_address_and_organisation"
            ),
            # Only an accepted invitation gives an account admin rights.
            models.CheckConstraint(
                condition=~models.Q(status="active") | models.Q(user__isnull=False),
                name="admin_active_has_account",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name or self.email} ({self.get_role_display()}, {self.organisation})"

    @property
    def last_login(self) -> Any:
        return self.user.last_login if self.user is not None else None


class AdminInvitation(models.Model):
    """The link e-mailed to an invited admin. Only the token's hash is kept."""

    admin = models.ForeignKey(Admin, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.admin.email}"

    def is_usable(self, now: Any = None) -> bool:
        now = now or timezone.now()
        return self.used_at is None and self.revoked_at is None and self.expires_at > now


class GrantRight(models.TextChoices):
    """What a grant lets the grantee do with the grantor's connections (each a field of
    ``Grant``, so the database filters on it)."""

    MANAGE_DRIVERS = "manage_drivers", _("Invite and approve drivers")
    VIEW_TRANSACTIONS = "view_transactions", _("View transactions")
    VIEW_INSTALLATIONS = "view_installations", _("View installation details")
    EDIT_CONNECTIONS = "edit_connections", _("Create and edit connections")


class Grant(models.Model):
    """Rights an organisation gives to another (e.g. a customer to its lease company) on
    all its connections, present and future, or on chosen ones. Explicit and revocable;
    a revoked grant is kept (who, when) and never reactivated: grant again instead.
    Admins, API keys, settings and invoices are never shared through a grant."""

    grantor = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="grants_given")
    grantee = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="grants_received"
    )
    can_manage_drivers = models.BooleanField(GrantRight.MANAGE_DRIVERS.label, default=False)
    can_view_transactions = models.BooleanField(GrantRight.VIEW_TRANSACTIONS.label, default=False)
    can_view_installations = models.BooleanField(GrantRight.VIEW_INSTALLATIONS.label, default=False)
    can_edit_connections = models.BooleanField(GrantRight.EDIT_CONNECTIONS.label, default=False)
    all_connections = models.BooleanField(_("all connections, present and future"), default=True)
    connections = models.ManyToManyField(
        "connections.Connection", blank=True, related_name="+", verbose_name=_("connections")
    )
    description = models.CharField(_("description"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=~models.Q(grantor=models.F("grantee")), name="grant_not_to_self"
            ),
            models.CheckConstraint(
                condition=models.Q(can_manage_drivers=True)
                | models.Q(can_view_transactions=True)
                | models.Q(can_view_installations=True)
                | models.Q(can_edit_connections=True),
                name="grant_gives_a_right",
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["grantee", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.grantor} → {self.grantee}"

    @staticmethod
    def field_of(right: str) -> str:
        return f"can_{right}"

    @property
    def rights(self) -> list[GrantRight]:
        return [r for r in GrantRight if getattr(self, self.field_of(r))]


class ApiKey(models.Model):
    """A key for the JSON API, acting for one organisation with one role.

    The key is shown once; we keep its prefix (to find it) and the SHA-256 of the whole
    key (random 256-bit secrets need no slow hash: there is nothing to brute-force).
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(_("name"), max_length=100)
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # As for admins (evdms.accounts.scope): all connections or the chosen ones.
    all_connections = models.BooleanField(_("all connections, present and future"), default=True)
    connections = models.ManyToManyField(
        "connections.Connection", blank=True, related_name="+", verbose_name=_("connections")
    )

    class Meta:
        ordering: ClassVar = ["-created_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["organisation", "name"],
                condition=models.Q(revoked_at__isnull=True),
                name="api_key_name_unique_per_organisation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class ListPreference(models.Model):
    """Which columns a user shows in a list (e.g. the Connections list)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="list_preferences")
    list_name = models.CharField(max_length=50)
    columns = models.JSONField(default=list)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "list_name"], name="list_preference_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.list_name}"


class PasswordResetRequest(models.Model):
    """One request for a password-reset link, kept an hour or so to throttle them per
    address and per client. Only keyed digests are kept: whoever types an address
    (an account's or not) leaves no readable trace of it or of their IP address."""

    address_digest = models.CharField(max_length=64)
    client_digest = models.CharField(max_length=64)
    requested_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["address_digest", "requested_at"]),
            models.Index(fields=["client_digest", "requested_at"]),
        ]

    def __str__(self) -> str:
        return f"Password reset request at {self.requested_at:%Y-%m-%d %H:%M}"


class OperatorApiKey(models.Model):
    """A key for the platform operators' API operations (payout batches), acting as one
    platform operator (a staff user). Kept apart from organisation API keys on purpose:
    an organisation key can never be given an operator's power by a role or a flag, and
    an operator key reaches no organisation's endpoints. Shown once; only its prefix and
    SHA-256 are kept, as for organisation keys."""

    operator = models.ForeignKey(User, on_delete=models.CASCADE, related_name="operator_api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
