from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from evdms.accounts.models import (
    Admin,
    AdminStatus,
    ApiKey,
    Grant,
    ListPreference,
    Organisation,
    Role,
    User,
    managing_role,
)

if TYPE_CHECKING:
    from evdms.connections.models import Connection


def admins_of(organisation: Organisation) -> QuerySet[Admin]:
    """With ``two_factor``: whether the admin logs in with an authenticator app."""
    return (
        Admin.objects.filter(organisation=organisation)
        .select_related("user")
        .prefetch_related("connections")
        .annotate(
            two_factor=Exists(TOTPDevice.objects.filter(user=OuterRef("user"), confirmed=True))
        )
        .order_by("full_name", "email")
    )


def account_with_address(email: str) -> User | None:
    """The account of an address, for its owner only: log-in, sign-up and the invitation
    link ask about the address the person themselves gave or received mail at. Never use
    it to find someone for an organisation (see the ``access`` modules)."""
    return User.objects.filter(email=email.strip().lower()).first()


def active_network_managers(organisation: Organisation) -> QuerySet[Admin]:
    """The active admins who manage the organisation: its Network Managers, or an
    installer company's installer managers."""
    return Admin.objects.filter(
        organisation=organisation,
        role=managing_role(organisation.kind),
        status=AdminStatus.ACTIVE,
    )


def api_keys_of(organisation: Organisation) -> QuerySet[ApiKey]:
    return (
        ApiKey.objects.filter(organisation=organisation)
        .prefetch_related("connections")
        .order_by("revoked_at", "-created_at")
    )


# --- connection scope of admins and API keys -----------------------------------------


def connections_actable_by(organisation: Organisation) -> QuerySet[Connection]:
    """The connections an admin or API key of ``organisation`` may be limited to: its own,
    and those of organisations that granted it rights (every connection of the grantor
    under a grant on all connections, else the grant's chosen ones), whatever the right.
    What each role then does on them is ``evdms.accounts.scope``'s to say."""
    from evdms.connections.models import Connection

    grants = Grant.objects.filter(grantee=organisation, revoked_at__isnull=True)
    whole = grants.filter(all_connections=True).values("grantor_id")
    chosen = Grant.connections.through.objects.filter(
        grant__in=grants.filter(all_connections=False)
    ).values("connection_id")
    return (
        Connection.objects.filter(
            Q(organisation=organisation) | Q(organisation__in=whole) | Q(pk__in=chosen)
        )
        .select_related("organisation")
        .order_by("organisation__name", "name", "pk")
    )


def connection_label(connection: Connection, organisation: Organisation) -> str:
    """A connection as a list of choices names it: another organisation's with that
    organisation's name, so two connections of one name can be told apart."""
    if connection.organisation_id == organisation.pk:
        return connection.name
    return f"{connection.name} ({connection.organisation.name})"


def has_all_connections(holder: Admin | ApiKey) -> bool:
    """Whether an admin or API key acts on all connections (a Network Manager always)."""
    return holder.all_connections or holder.role == Role.NETWORK_MANAGER


SCOPE_NAMES_SHOWN = 3


def scope_label(holder: Admin | ApiKey) -> str:
    """ "All" or the chosen connections' names, the first few and how many more, for a
    list's column (reads ``connections`` prefetched by ``admins_of`` / ``api_keys_of``)."""
    if has_all_connections(holder):
        return "All"
    names = sorted(c.name for c in holder.connections.all())
    if not names:
        return "None"
    shown = ", ".join(names[:SCOPE_NAMES_SHOWN])
    more = len(names) - SCOPE_NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def list_columns(user: User, list_name: str, default: list[str]) -> list[str]:
    preference = ListPreference.objects.filter(user=user, list_name=list_name).first()
    return list(preference.columns) if preference and preference.columns else list(default)


# --- two-factor authentication ------------------------------------------------------


def authenticator_of(user: User, *, confirmed: bool = True) -> TOTPDevice | None:
    """The user's authenticator app (TOTP device): confirmed, or the one being set up."""
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).first()


def has_two_factor(user: User) -> bool:
    """Two-factor is on once an authenticator app is confirmed; recovery codes only
    stand in for it."""
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def recovery_codes_left(user: User) -> int:
    return int(StaticToken.objects.filter(device__user=user, device__confirmed=True).count())


def two_factor_required(user: User) -> bool:
    """Whether the user may not work without a second factor: a platform operator where
    operators need one (always in production), or an admin of an organisation that
    requires it. Costs no query for a user loaded with their admin and organisation."""
    if user.is_staff and settings.OPERATORS_NEED_TWO_FACTOR:
        return True
    admin = user.admin_or_none
    return (
        admin is not None
        and admin.status == AdminStatus.ACTIVE
        and admin.organisation.require_two_factor
    )


def may_use_two_factor(user: User) -> bool:
    """Admins and platform operators; drivers log in with their password alone."""
    admin = user.admin_or_none
    return user.is_staff or (admin is not None and admin.status == AdminStatus.ACTIVE)
