"""The one place that says what each admin role may do (the role matrix of the spec).

Pages, the API and services all ask ``require(actor, Permission.X)``; nothing else
compares roles.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from evdms.accounts import who
from evdms.accounts.models import Admin, AdminStatus, ApiKey, Organisation, Role, User


class Permission(StrEnum):
    VIEW_DASHBOARD = "view_dashboard"
    MANAGE_ADMINS = "manage_admins"
    MANAGE_SETTINGS = "manage_settings"  # organisation settings and API keys
    # Granting rights to another organisation and revoking them (the Grant Rights page).
    MANAGE_GRANTS = "manage_grants"
    VIEW_AUDIT = "view_audit"
    VIEW_CONNECTIONS = "view_connections"
    EDIT_CONNECTIONS = "edit_connections"
    MANAGE_DRIVERS = "manage_drivers"  # invite, approve, remove
    VIEW_REPORTS = "view_reports"  # view and export
    # Installations, organisation side: the report and the jobs; deciding on quotes.
    VIEW_INSTALLATIONS = "view_installations"
    APPROVE_QUOTES = "approve_quotes"
    # Installations, installer side (the installer portal): their own company's jobs.
    WORK_INSTALLATION_JOBS = "work_installation_jobs"  # contact, survey, schedule, install
    QUOTE_INSTALLATION_JOBS = "quote_installation_jobs"  # quotes, cancelling, declarations
    # The platform's invoices to the organisation (evdms.invoicing): list, read, download.
    VIEW_INVOICES = "view_invoices"


# What only an installer company's admins do; an organisation's roles never get these.
INSTALLER_PERMISSIONS = frozenset(
    {Permission.WORK_INSTALLATION_JOBS, Permission.QUOTE_INSTALLATION_JOBS}
)


ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.NETWORK_MANAGER: frozenset(Permission) - INSTALLER_PERMISSIONS,
    Role.CONNECTIONS_OFFICER: frozenset(
        {
            Permission.VIEW_DASHBOARD,
            Permission.VIEW_CONNECTIONS,
            Permission.EDIT_CONNECTIONS,
            Permission.MANAGE_DRIVERS,
            Permission.VIEW_INSTALLATIONS,
            Permission.APPROVE_QUOTES,
        }
    ),
    Role.ANALYST: frozenset(
        {
            Permission.VIEW_DASHBOARD,
            Permission.VIEW_CONNECTIONS,
            Permission.VIEW_REPORTS,
            Permission.VIEW_INSTALLATIONS,
            Permission.VIEW_INVOICES,
        }
    ),
    # An installer company's manager also manages its admins and API keys.
    # No VIEW_DASHBOARD: that opens the organisation's pages (chargers, sessions); the
    # installer portal has its own.
    Role.INSTALLER_MANAGER: frozenset(
        {
            Permission.MANAGE_ADMINS,
            Permission.MANAGE_SETTINGS,
            Permission.VIEW_AUDIT,
            *INSTALLER_PERMISSIONS,
        }
    ),
    Role.INSTALLER_TECHNICIAN: frozenset({Permission.WORK_INSTALLATION_JOBS}),
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: an admin through the pages, or an API key through the API.

    Both act for exactly one organisation with exactly one role, on all its connections
    (``connection_ids`` None) or on chosen ones (``evdms.accounts.scope``).
    """

    organisation: Organisation
    role: str
    user: User | None = None
    api_key: ApiKey | None = None
    connection_ids: frozenset[int] | None = None
    # The permission of the page or API operation being served (set by its gate): what
    # the tenant-scoped look-ups reach for unless a call names another.
    acting_as: Permission | None = None
    # What evdms.accounts.scope.reach computed for this actor, by permission.
    reach_cache: dict[Permission, Any] = field(
        default_factory=dict, compare=False, repr=False, hash=False
    )

    @classmethod
    def for_user(cls, user: User | AnonymousUser) -> Actor | None:
        """The actor for a logged-in user, or None when they are not an active admin."""
        if not user.is_authenticated:
            return None
        admin: Admin | None = user.admin_or_none
        if admin is None or admin.status != AdminStatus.ACTIVE:
            return None
        return cls(
            organisation=admin.organisation,
            role=admin.role,
            user=user,
            connection_ids=chosen_connections(admin),
        )

    @classmethod
    def for_api_key(cls, key: ApiKey) -> Actor:
        return cls(
            organisation=key.organisation,
            role=key.role,
            api_key=key,
            connection_ids=chosen_connections(key),
        )

    @property
    def limited(self) -> bool:
        """Whether the actor acts on chosen connections only."""
        return self.connection_ids is not None

    @property
    def label_code(self) -> str:
        """Who this actor is, as records keep it (``evdms.accounts.who``): the user's
        e-mail address, or a code shown in each reader's language."""
        if self.user is not None:
            return self.user.email
        if self.api_key is not None:
            return who.api_key(self.api_key.name)
        return who.SYSTEM

    @property
    def label(self) -> str:
        """Who this actor is, as people read it: lazy, so an e-mail or a page reads it
        in its own language. Records keep ``label_code`` instead."""
        return who.who_lazy(self.label_code)

    @property
    def role_label(self) -> str:
        return str(Role(self.role).label)

    def serving(self, permission: Permission) -> Actor:
        """This actor, serving a page or operation that needs ``permission``."""
        return replace(self, acting_as=permission, reach_cache={})

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS.get(self.role, frozenset())


def chosen_connections(holder: Admin | ApiKey) -> frozenset[int] | None:
    """The connections an admin or API key is limited to; None for all, present and
    future. A Network Manager always has all: they manage the admins and the grants."""
    if holder.all_connections or holder.role == Role.NETWORK_MANAGER:
        return None
    return frozenset(holder.connections.values_list("pk", flat=True))


def require(actor: Actor, permission: Permission) -> None:
    """Raise PermissionDenied unless the actor's role allows ``permission``."""
    if not actor.can(permission):
        raise PermissionDenied(
            _("Your role does not allow this (%(permission)s).") % {"permission": permission.value}
        )
